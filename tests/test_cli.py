"""The `paperlens` command line, end to end, as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.cli import run
from tests.fixtures.digest_texts import big_korean_digest, write_digests

HIT_FIELDS = {"rank", "paper_id", "arxiv_id", "title", "score", "passage", "page", "source"}


@pytest.fixture(scope="module")
def digests(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("digests")
    write_digests(folder)
    return folder


@pytest.fixture(scope="module")
def home(tmp_path_factory, digests) -> Path:
    home = tmp_path_factory.mktemp("home")
    run(home, "ingest", "--no-pdfs", str(digests))
    return home


def test_ingest_reports_each_source_and_a_summary(tmp_path, digests):
    proc = run(tmp_path, "ingest", "--no-pdfs", str(digests))
    assert proc.stdout.count("ingested: ") == 3
    assert "done: 3 ingested, 0 unchanged, 0 failed" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_a_bad_setting_is_named_in_one_line(home):
    proc = run(home, "stats", check=False, env={"PAPERLENS_FOCUS_OWN_TERMS_WEIGHT": "lots"})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: invalid setting PAPERLENS_FOCUS_OWN_TERMS_WEIGHT")
    proc = run(home, "stats", check=False, env={"PAPERLENS_PDF_CHUNK_CHARS": "200"})
    assert proc.returncode == 1 and "must not exceed pdf_chunk_chars (200)" in proc.stderr


def test_reingesting_unchanged_sources_is_a_no_op(home, digests):
    before = json.loads(run(home, "stats", "--json").stdout)
    proc = run(home, "ingest", "--no-pdfs", str(digests), "--json")
    report = json.loads(proc.stdout)
    assert report["unchanged"] == 3 and report["ingested"] == 0
    assert json.loads(run(home, "stats", "--json").stdout)["passages"] == before["passages"]


def test_bad_sources_get_one_line_each_and_the_rest_still_lands(tmp_path, digests):
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04 not a digest")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    proc = run(
        tmp_path / "home",
        "ingest",
        "--no-pdfs",
        str(digests / "weekly_ko.txt"),
        str(tmp_path / "notes.docx"),
        str(tmp_path / "empty.txt"),
        str(tmp_path / "binary.txt"),
        str(tmp_path / "missing.md"),
        "ftp://example.org/digest.txt",
    )
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 5, proc.stderr
    assert any("unsupported file type .docx" in e for e in errors)
    assert any("empty file" in e for e in errors)
    assert any("binary" in e for e in errors)
    assert any("no such file" in e for e in errors)
    assert any("only http(s)" in e for e in errors)
    assert "Traceback" not in proc.stderr
    assert "1 ingested" in proc.stdout


@pytest.mark.parametrize("missing", ["nope.txt", "~no-such-user-here/digest.md"])
def test_exit_code_is_one_only_when_nothing_was_ingested(tmp_path, missing):
    ref = missing if missing.startswith("~") else str(tmp_path / missing)
    proc = run(tmp_path / "home", "ingest", ref, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr


def test_an_empty_source_is_an_error_not_the_current_folder(tmp_path):
    # `paperlens ingest "$FILE"` with FILE unset: Path("") would be the folder it runs in.
    proc = run(tmp_path / "home", "ingest", "--no-pdfs", "", check=False)
    assert proc.returncode == 1 and "ingested:" not in proc.stdout
    assert proc.stderr.startswith("error: an empty source was given")


def test_help_shows_the_citation_marker_as_written(tmp_path):
    assert "citing passages as [n]." in run(tmp_path, "ask", "--help").stdout


def test_search_json_gives_one_hit_per_paper_with_documented_fields(home):
    proc = run(home, "search", "注意機構だけで作られた翻訳モデル", "-k", "3", "--json")
    hits = json.loads(proc.stdout)
    assert hits[0]["arxiv_id"] == "1706.03762"
    assert set(hits[0]) >= HIT_FIELDS
    assert len({h["paper_id"] for h in hits}) == len(hits)


def test_search_names_what_no_result_mentions(home):
    proc = run(home, "search", "MemGPT가 컨텍스트를 관리하는 방법", "-k", "3")
    assert "no result mentions MemGPT" in proc.stdout
    assert "no result mentions" not in run(home, "search", "Transformer attention").stdout


def test_search_batch_writes_one_json_line_per_query(home, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        json.dumps({"id": "a", "query": "정규화 평균 분산 샘플"})
        + "\n"
        + json.dumps({"id": "b", "query": "politique proximale renforcement"})
        + "\n",
        encoding="utf-8",
    )
    proc = run(home, "search", "--batch", str(queries), "-k", "2", "--json")
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["hits"][0]["arxiv_id"] == "1607.06450"
    assert rows[1]["hits"][0]["arxiv_id"] == "1707.06347"


def test_eval_reports_hybrid_next_to_bm25(home, tmp_path):
    queries = tmp_path / "dev.jsonl"
    lines = [
        {
            "id": "1",
            "lang": "de",
            "query": "Transformer nur mit Aufmerksamkeit",
            "expect_arxiv": "1706.03762",
        },
        {
            "id": "2",
            "lang": "zh",
            "query": "冻结预训练权重只训练低秩矩阵",
            "expect_title": "LoRA: Low-Rank Adaptation of Large Language Models",
        },
    ]
    queries.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    table = run(home, "eval", str(queries)).stdout
    assert "hybrid R@1/R@5/MRR" in table and "bm25 R@1/R@5/MRR" in table
    results = json.loads(run(home, "eval", str(queries), "--json").stdout)
    assert set(results) == {"hybrid", "dense", "bm25"}
    assert results["hybrid"]["all"]["n"] == 2
    assert results["hybrid"]["all"]["recall@5"] == 1.0


def test_stats_json(home):
    stats = json.loads(run(home, "stats", "--json").stdout)
    assert stats["papers"] == 5
    assert stats["sources"] == 3
    assert {"ko", "ja", "fr", "en"} <= set(stats["languages"])
    assert stats["model"] == "intfloat/multilingual-e5-small" and stats["dim"] == 384


def test_user_mistakes_are_one_line_errors(home, tmp_path):
    proc = run(home, "search", "", check=False)
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    proc = run(home, "eval", str(tmp_path / "missing.jsonl"), check=False)
    assert proc.returncode == 1 and "cannot read" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", [["ask", "What is LoRA?"], ["summarize", "2106.09685"]])
def test_an_unknown_answer_language_is_named_with_the_choices(home, command):
    proc = run(home, *command, "--lang", "kr", check=False, env={"PAPERLENS_LOCAL_LLM": "off"})
    assert proc.returncode == 1 and proc.stderr.startswith("error: unknown language 'kr'")
    assert "ko" in proc.stderr and "Traceback" not in proc.stderr
    answer = json.loads(
        run(home, *command, "--lang", "KO", "--json", env={"PAPERLENS_LOCAL_LLM": "off"}).stdout
    )
    assert answer["lang"] == "ko"


def test_ask_json_without_a_generator_cites_passages_and_says_so(home):
    proc = run(
        home, "ask", "LoRA는 무엇을 학습하나요?", "--json", env={"PAPERLENS_LOCAL_LLM": "off"}
    )
    answer = json.loads(proc.stdout)
    assert answer["mode"] == "extractive" and answer["lang"] == "ko"
    assert answer["text"].startswith("답변 생성기를 사용할 수 없습니다")
    assert answer["citations"][0]["arxiv_id"] == "2106.09685"
    assert {"n", "paper_id", "arxiv_id", "title", "page", "passage", "url"} <= set(
        answer["citations"][0]
    )


def endpoint_env(server) -> dict[str, str]:
    """The environment that points the CLI at a test's OpenAI-compatible server."""
    return {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k", "PAPERLENS_LLM_MODEL": "m"}


def test_ask_through_an_openai_compatible_endpoint(home):
    from tests.fixtures.fake_openai import FakeOpenAI

    with FakeOpenAI("Elle gèle les poids et apprend des matrices de faible rang [1][9].") as server:
        env = endpoint_env(server)
        proc = run(home, "ask", "Comment LoRA réduit-il les paramètres ?", "--json", env=env)
    answer = json.loads(proc.stdout)
    assert answer["mode"] == "llm" and answer["lang"] == "fr" and answer["model"] == "m"
    assert answer["removed_markers"] == 1 and [c["n"] for c in answer["citations"]] == [1]
    assert "Answer in French" in server.requests[0]["messages"][-1]["content"]


def test_similar_and_summarize_from_the_cli(home):
    similar = json.loads(run(home, "similar", "1706.03762", "-k", "2", "--json").stdout)
    assert similar and all(r["arxiv_id"] != "1706.03762" for r in similar)
    proc = run(
        home,
        "summarize",
        "2106.09685",
        "--lang",
        "hi",
        "--json",
        env={"PAPERLENS_LOCAL_LLM": "off"},
    )
    summary = json.loads(proc.stdout)
    assert summary["mode"] == "extractive" and summary["citations"]
    proc = run(home, "summarize", "Layer Normalisation", check=False)
    assert proc.returncode == 1 and "did you mean: Layer Normalization" in proc.stderr


def test_a_summary_read_in_parts_reports_each_part_on_stderr(home):
    from tests.fixtures.fake_openai import FakeOpenAI

    with FakeOpenAI("LoRA trains low-rank matrices [1].") as server:
        env = {**endpoint_env(server), "PAPERLENS_CONTEXT_TOKENS": "10"}
        proc = run(home, "summarize", "2106.09685", env=env)
    parts = len(server.requests) - 1
    assert parts > 1 and f"reading the paper: part 1 of {parts}" in proc.stderr
    assert f"part {parts} of {parts}, about" in proc.stderr and "reading" not in proc.stdout


@pytest.mark.slow
def test_kill_9_during_ingest_keeps_the_last_good_state_and_resumes(tmp_path, digests):
    home, big, proc = _ingest_midway(tmp_path, digests, stderr=subprocess.DEVNULL)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    stats = json.loads(run(home, "stats", "--json").stdout)
    assert stats["papers"] == 2  # the Korean digest only: nothing half-written
    hits = json.loads(run(home, "search", "layer normalization", "--json").stdout)
    assert hits[0]["arxiv_id"] == "1607.06450"

    run(home, "ingest", "--no-pdfs", str(big))
    assert json.loads(run(home, "stats", "--json").stdout)["papers"] == 82


@pytest.mark.slow
def test_ctrl_c_during_ingest_says_interrupted_and_the_same_command_resumes(tmp_path, digests):
    home, big, proc = _ingest_midway(
        tmp_path,
        digests,
        stderr=subprocess.PIPE,
        text=True,
        # A job started in the background (CI's, a shell's `&`) ignores SIGINT, and
        # so would the child: give it the default a terminal's Ctrl-C meets.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)

    assert proc.returncode == 130
    assert "interrupted: sources finished before are kept" in err and "Traceback" not in err
    assert json.loads(run(home, "stats", "--json").stdout)["papers"] == 2
    run(home, "ingest", "--no-pdfs", str(big))
    assert json.loads(run(home, "stats", "--json").stdout)["papers"] == 82


def _ingest_midway(
    tmp_path: Path, digests: Path, **popen_options
) -> tuple[Path, Path, subprocess.Popen]:
    """A library holding the Korean digest (2 papers), and an ingest of an 80-entry
    digest in its own process, caught once it has embedded a few batches of 4."""
    home = tmp_path / "home"
    run(home, "ingest", "--no-pdfs", str(digests / "weekly_ko.txt"))
    big = tmp_path / "big.txt"
    big.write_text(big_korean_digest(80), encoding="utf-8")
    env = {**os.environ, "PAPERLENS_HOME": str(home), "PAPERLENS_EMBED_BATCH_SIZE": "4"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperlens", "ingest", "--no-pdfs", str(big)],
        env=env,
        stdout=subprocess.DEVNULL,
        **popen_options,
    )
    _wait_for_cached_vectors(home / "catalog.sqlite", at_least=8, proc=proc)
    return home, big, proc


def _wait_for_cached_vectors(db: Path, at_least: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert proc.poll() is None, "ingest finished before it could be interrupted"
        try:
            with sqlite3.connect(db) as conn:
                if conn.execute("SELECT COUNT(*) FROM embed_cache").fetchone()[0] >= at_least:
                    return
        except sqlite3.OperationalError:
            pass
        time.sleep(0.2)
    raise AssertionError("ingest never started embedding")


def test_reindex_index_only_rebuilds_the_search_index_and_search_still_works(home):
    proc = run(home, "reindex", "--index-only")
    assert proc.stdout.startswith("rebuilt the search index")
    hits = json.loads(run(home, "search", "레이어 정규화", "--json").stdout)
    assert hits[0]["arxiv_id"] == "1607.06450"


def test_generators_lists_what_can_answer_with_retrieval_only_last(home):
    rows = json.loads(run(home, "generators", "--json").stdout)
    assert rows[-1]["key"] == "none" and all({"key", "label"} <= set(r) for r in rows)


def test_eval_answers_grades_each_question_and_reports_per_language(home, tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "a",
                "lang": "ko",
                "question": "LoRA는 무엇을 고정하나요?",
                "expect_arxiv": "2106.09685",
                "must": [["LoRA"]],
            },
            ensure_ascii=False,
        )
        + "\n"
        + json.dumps(
            {
                "id": "b",
                "lang": "fr",
                "question": "Quelle est la capitale de l'Australie ?",
                "expect_none": True,
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    data = json.loads(
        run(home, "eval-answers", str(questions), "--generator", "none", "--json").stdout
    )
    assert data["model"] is None and [q["id"] for q in data["questions"]] == ["a", "b"]
    first = data["questions"][0]
    assert first["cited_expected"] and first["markers_valid"] and first["mode"] == "extractive"
    assert set(data["summary"]) == {"all", "fr", "ko"}
    assert data["summary"]["all"]["cited_expected"] == 1.0
    assert data["summary"]["all"]["wrong_unwarned"] == "0/1"  # passages quoted: not the model's
    table = run(home, "eval-answers", str(questions), "--generator", "none").stdout
    assert "abst.none" in table and "generator: none" in table
