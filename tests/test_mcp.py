"""The MCP server, driven by the official SDK's client over stdio (`paperlens mcp`)
and streamable HTTP (`paperlens serve` with PAPERLENS_MCP_HTTP=true), on a real
small library."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from paperlens.index.library import Library
from paperlens.ingest.config import Settings
from tests.fixtures.digest_texts import write_digests
from tests.fixtures.fake_openai import FakeOpenAI
from tests.fixtures.live_app import running_app
from tests.fixtures.loopback import closed_port

ROOT = Path(__file__).resolve().parents[1]
READ_TOOLS = {"search", "ask", "similar", "summarize", "passage", "list_papers"}
KOREAN_REPLY = "LoRA는 사전학습된 가중치를 고정하고 각 층에 작은 저랭크 행렬만 학습합니다 [1]."
TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def home(tmp_path_factory, embedder) -> Path:
    """A library of three small digests (Korean, Japanese, French), five papers."""
    folder = tmp_path_factory.mktemp("digests")
    write_digests(folder)
    home = tmp_path_factory.mktemp("home")
    library = Library(Settings(home=home), show_progress=False)
    library.__dict__["embedder"] = embedder
    assert library.ingest([str(folder)], pdfs=False).succeeded
    library.store.close()
    return home


def server_env(home: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PAPERLENS_HOME": str(home),
        "PAPERLENS_LOCAL_LLM": "off",
        **extra,
    }


def openai_env(server: FakeOpenAI) -> dict[str, str]:
    return {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k", "PAPERLENS_LLM_MODEL": "m"}


@asynccontextmanager
async def stdio_session(home: Path, *args: str, **env: str):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "paperlens", "mcp", *args],
        env=server_env(home, **env),
        cwd=str(ROOT),
    )
    async with (
        stdio_client(params) as (read, write),
        ClientSession(read, write, read_timeout_seconds=120) as session,
    ):
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments) -> dict:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    # Structured JSON, and the same JSON as text for clients that read only text.
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


async def exercise_every_tool(session: ClientSession) -> None:
    """List the tools, call each one, and check that citations resolve with `passage`."""
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(tools) == READ_TOOLS
    for tool in tools.values():
        assert tool.output_schema and "Returns" in tool.description
        assert tool.annotations.read_only_hint

    hits = (await call(session, "search", query="注意機構だけで作られた翻訳モデル", k=3))["hits"]
    assert hits[0]["arxiv_id"] == "1706.03762" and len(hits) == 3
    korean = (await call(session, "search", query="normalization", k=5, lang="ko"))["hits"]
    assert korean and {h["lang"] for h in korean} == {"ko"}

    answer = await call(session, "ask", question="LoRA는 무엇을 학습하나요?")
    assert answer["lang"] == "ko" and answer["citations"]
    for citation in answer["citations"]:
        shown = await call(session, "passage", id=citation["passage_id"])
        assert shown["text"] == citation["passage"] and shown["paper_id"] == citation["paper_id"]

    similar = await call(session, "similar", paper_or_text="1706.03762", k=2)
    assert similar["query_paper"] == "arxiv:1706.03762"
    assert all(p["arxiv_id"] != "1706.03762" and p["why"] for p in similar["papers"])
    like_text = await call(session, "similar", paper_or_text="mean and variance per example", k=1)
    assert like_text["query_paper"] is None and like_text["papers"][0]["arxiv_id"] == "1607.06450"

    summary = await call(session, "summarize", paper="2106.09685", lang="ja")
    assert summary["lang"] == "ja" and summary["citations"]

    listed = await call(session, "list_papers")
    assert listed["total"] == 5
    french = await call(session, "list_papers", filter="PPO", lang="fr")
    assert [p["arxiv_id"] for p in french["papers"]] == ["1707.06347"]

    missing = await session.call_tool("summarize", {"paper": "Layer Normalisation"})
    assert missing.is_error and "did you mean: Layer Normalization" in missing.content[0].text


def test_every_tool_answers_over_stdio(home):
    async def scenario():
        async with stdio_session(home) as session:
            await exercise_every_tool(session)

    asyncio.run(scenario())


def test_a_korean_question_gets_the_same_korean_answer_as_the_cli(home):
    with FakeOpenAI(KOREAN_REPLY) as server:
        question = "LoRA는 어떻게 학습 파라미터 수를 줄이나요?"
        cli = subprocess.run(
            [sys.executable, "-m", "paperlens", "ask", question, "--json"],
            capture_output=True,
            text=True,
            env=server_env(home, **openai_env(server)),
            cwd=ROOT,
            timeout=300,
        )
        assert cli.returncode == 0, cli.stderr
        expected = json.loads(cli.stdout)

        async def scenario():
            async with stdio_session(home, **openai_env(server)) as session:
                answer = await call(session, "ask", question=question)
                shown = [
                    await call(session, "passage", id=c["passage_id"]) for c in answer["citations"]
                ]
                return answer, shown

        answer, shown = asyncio.run(scenario())
    assert answer["mode"] == "llm" and answer["lang"] == "ko" and answer["model"] == "m"
    assert "저랭크 행렬" in answer["text"] and "[1]" in answer["text"]
    assert answer["text"] == expected["text"]
    assert answer["citations"] == expected["citations"]
    assert answer["citations"][0]["arxiv_id"] == "2106.09685"
    assert [s["text"] for s in shown] == [c["passage"] for c in answer["citations"]]


def test_ingest_is_offered_only_when_allowed_and_never_reads_local_files(home, tmp_path):
    secret = tmp_path / "notes.txt"
    secret.write_text("Layer Normalization / private notes", encoding="utf-8")

    async def scenario():
        async with stdio_session(home, "--allow-ingest") as session:
            names = {tool.name for tool in (await session.list_tools()).tools}
            refused = await session.call_tool("ingest", {"sources": [str(secret)]})
            private = await call(
                session, "ingest", sources=[f"http://127.0.0.1:{closed_port()}/digest.md"]
            )
            return names, refused, private

    names, refused, private = asyncio.run(scenario())
    assert names == READ_TOOLS | {"ingest"}
    assert refused.is_error and "only http(s) URLs and arXiv ids" in refused.content[0].text
    # Loopback and private addresses stay refused, as for any fetch.
    assert private["failed"] == 1 and "refusing to fetch" in private["sources"][0]["error"]


# ---- streamable HTTP from `paperlens serve` -------------------------------------------


@pytest.fixture(scope="module")
def served(home):
    """`paperlens serve` on loopback with MCP over HTTP and a token; stopped afterwards."""
    env = {"PAPERLENS_MCP_HTTP": "true", "PAPERLENS_MCP_TOKEN": TOKEN}
    with running_app(home, env, command=("-m", "paperlens", "serve")) as url:
        yield url.rstrip("/")


@asynccontextmanager
async def http_session(url: str, token: str):
    client = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with (
        client,
        streamable_http_client(f"{url}/mcp", http_client=client) as (read, write),
        ClientSession(read, write, read_timeout_seconds=120) as session,
    ):
        await session.initialize()
        yield session


@pytest.mark.slow
def test_every_tool_answers_over_http_from_the_app_with_the_token(served):
    async def scenario():
        async with http_session(served, TOKEN) as session:
            await exercise_every_tool(session)

    asyncio.run(scenario())


@pytest.mark.slow
def test_http_without_the_token_is_refused_and_the_app_still_serves_its_pages(served):
    payload = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream"}
    assert httpx.post(f"{served}/mcp", json=payload, headers=headers).status_code == 401
    wrong = {**headers, "Authorization": "Bearer not-the-token"}
    assert httpx.post(f"{served}/mcp", json=payload, headers=wrong).status_code == 401
    assert httpx.get(served).status_code == 200


def test_serving_mcp_beyond_loopback_without_a_token_refuses_to_start(home):
    proc = subprocess.run(
        [sys.executable, "-m", "paperlens", "serve", "--host", "0.0.0.0", "--port", "1"]
        + ["--allow-anonymous"],  # the app itself may be open: MCP still needs its token
        capture_output=True,
        text=True,
        env=server_env(home, PAPERLENS_MCP_HTTP="true", PAPERLENS_MCP_TOKEN=""),
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "error: PAPERLENS_MCP_HTTP is on and the app listens on 0.0.0.0" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_mcp_over_http_needs_its_token_when_the_app_asks_people_to_sign_in():
    from paperlens.assistant.mcp_http import check_exposure
    from paperlens.ingest.config import Settings
    from paperlens.ingest.errors import PaperlensError

    with pytest.raises(PaperlensError, match="asks people to sign in: set PAPERLENS_MCP_TOKEN"):
        check_exposure(Settings(mcp_http=True), "127.0.0.1", login=True)
    check_exposure(Settings(mcp_http=True, mcp_token="s3cret"), "127.0.0.1", login=True)
    check_exposure(Settings(mcp_http=True), "127.0.0.1", login=False)


def test_mcp_over_http_is_off_unless_enabled_and_needs_a_token_beyond_loopback(tmp_path):
    from starlette.requests import Request

    from paperlens.assistant.api import Paperlens
    from paperlens.assistant.mcp_http import check_exposure, launch_options, request_allowed
    from paperlens.ingest.errors import PaperlensError

    off = Settings(home=tmp_path)
    assert launch_options(Paperlens(Library(off)), off, "0.0.0.0") == {}
    on = off.model_copy(update={"mcp_http": True})
    for host in ("127.0.0.1", "localhost", "::1", "[::1]"):
        check_exposure(on, host)
    for host in ("0.0.0.0", "192.168.1.5", "paperlens.lan"):
        with pytest.raises(PaperlensError, match="set PAPERLENS_MCP_TOKEN"):
            check_exposure(on, host)
    with_token = Settings(home=tmp_path, mcp_http=True, mcp_token=TOKEN)
    check_exposure(with_token, "0.0.0.0")

    def request(authorization: str | None) -> Request:
        headers = [(b"authorization", authorization.encode())] if authorization else []
        return Request({"type": "http", "method": "POST", "path": "/mcp", "headers": headers})

    assert request_allowed(request(f"Bearer {TOKEN}"), with_token)
    assert request_allowed(request(f"bearer {TOKEN}"), with_token)
    assert not request_allowed(request(None), with_token)
    assert not request_allowed(request(f"Basic {TOKEN}"), with_token)
    assert not request_allowed(request(f"Bearer {TOKEN}x"), with_token)
    assert request_allowed(request(None), on)  # loopback without a token
