"""arXiv ids and links -> metadata + PDF pages, against a loopback arXiv."""

from __future__ import annotations

import json

import pytest

from paperlens.ingest.arxiv import ArxivClient, parse_arxiv_ref
from paperlens.ingest.config import Settings
from paperlens.ingest.errors import IngestError
from tests.fixtures.cli import run
from tests.fixtures.digest_texts import KOREAN
from tests.fixtures.loopback import LoopbackServer, Route, closed_port
from tests.fixtures.pdfs import paper_pdf

ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <entry>
    <id>http://arxiv.org/abs/2309.17453v4</id>
    <published>2023-09-29T17:59:56Z</published>
    <title>Efficient Streaming Language Models
      with Attention Sinks</title>
    <summary>  Deploying LLMs in streaming applications is urgently needed.
      We introduce StreamingLLM, which keeps attention sinks.</summary>
    <author><name>Guangxuan Xiao</name></author>
    <author><name>Song Han</name></author>
  </entry>
</feed>"""
EMPTY_FEED = '<feed xmlns="http://www.w3.org/2005/Atom"></feed>'


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("2310.02207", ("2310.02207", None)),
        ("arXiv:2310.02207v2", ("2310.02207", "v2")),
        ("https://arxiv.org/abs/2310.02207v1", ("2310.02207", "v1")),
        ("https://arxiv.org/pdf/2310.02207", ("2310.02207", None)),
        ("https://arxiv.org/pdf/2310.02207v3.pdf", ("2310.02207", "v3")),
        ("cs/0112017", ("cs/0112017", None)),
        ("notes.txt", None),
        ("https://example.org/2310.02207", None),
    ],
)
def test_parse_arxiv_ref(ref, expected):
    assert parse_arxiv_ref(ref) == expected


@pytest.fixture
def arxiv():
    with LoopbackServer() as server:
        server.routes["/api/query"] = Route(
            body=ATOM.encode(), headers={"Content-Type": "application/atom+xml"}
        )
        server.routes["/pdf/2309.17453"] = Route(
            body=paper_pdf(), headers={"Content-Type": "application/pdf"}
        )
        yield server


def arxiv_settings(tmp_path, server) -> Settings:
    return Settings(
        home=tmp_path / "data",
        allow_private=True,
        arxiv_api_url=server.url("/api/query"),
        arxiv_pdf_url=server.url("/pdf"),
        arxiv_delay_seconds=0.05,
    )


def test_metadata_from_the_atom_feed(tmp_path, arxiv):
    paper = ArxivClient(arxiv_settings(tmp_path, arxiv)).metadata("2309.17453")
    assert paper.title == "Efficient Streaming Language Models with Attention Sinks"
    assert paper.authors == ["Guangxuan Xiao", "Song Han"]
    assert paper.published == "2023-09-29"
    assert paper.abstract.startswith("Deploying LLMs") and "  " not in paper.abstract
    assert arxiv.requests[0][0] == "/api/query?id_list=2309.17453"
    assert arxiv.requests[0][1]["User-Agent"].startswith("paperlens/")


def test_pdf_is_downloaded_once_then_served_from_the_cache(tmp_path, arxiv):
    client = ArxivClient(arxiv_settings(tmp_path, arxiv))
    first = client.pdf_path("2309.17453")
    second = client.pdf_path("2309.17453")
    assert first == second and first.read_bytes().startswith(b"%PDF-")
    assert [r[0] for r in arxiv.requests] == ["/pdf/2309.17453"]


def test_html_served_as_pdf_is_refused(tmp_path, arxiv):
    arxiv.routes["/pdf/2401.00001"] = Route(
        body=b"<html>rate limited</html>", headers={"Content-Type": "text/html"}
    )
    with pytest.raises(IngestError, match=r"not a PDF \(got text/html\)"):
        ArxivClient(arxiv_settings(tmp_path, arxiv)).pdf_path("2401.00001")
    assert not list((tmp_path / "data" / "cache" / "pdf").glob("*"))


def test_unknown_paper(tmp_path, arxiv):
    arxiv.routes["/api/query"] = Route(body=EMPTY_FEED.encode())
    with pytest.raises(IngestError, match="arXiv has no paper 2999.99999"):
        ArxivClient(arxiv_settings(tmp_path, arxiv)).metadata("2999.99999")


def test_politeness_delay_between_arxiv_requests(tmp_path, arxiv):
    settings = arxiv_settings(tmp_path, arxiv).model_copy(update={"arxiv_delay_seconds": 0.4})
    ArxivClient(settings).fetch_paper("2309.17453")
    times = [r[2] for r in arxiv.requests]
    assert len(times) == 2 and times[1] - times[0] >= 0.35


def test_ingest_an_arxiv_id_end_to_end(tmp_path, arxiv):
    env = arxiv_settings(tmp_path, arxiv)
    extra = {
        "PAPERLENS_ALLOW_PRIVATE": "1",
        "PAPERLENS_ARXIV_API_URL": env.arxiv_api_url,
        "PAPERLENS_ARXIV_PDF_URL": env.arxiv_pdf_url,
    }
    home = tmp_path / "home"
    out = run(home, "ingest", "https://arxiv.org/abs/2309.17453", "--json", env=extra).stdout
    report = json.loads(out)
    assert report["ingested"] == 1 and report["sources"][0]["passages"] >= 4
    stats = json.loads(run(home, "stats", "--json").stdout)
    assert stats["pdf_papers"] == 1 and stats["pdf_pages"] == 4
    hits = json.loads(
        run(home, "search", "rolling cache sink tokens rotary", "--json", env=extra).stdout
    )
    assert hits[0]["arxiv_id"] == "2309.17453" and hits[0]["page"] == 2
    assert hits[0]["url"].endswith("/pdf/2309.17453#page=2")


def test_digest_follows_arxiv_links_and_merges_into_one_paper(library, tmp_path, arxiv):
    settings = arxiv_settings(tmp_path, arxiv)
    library.settings = settings
    digest = tmp_path / "weekly.txt"
    digest.write_text(KOREAN.replace("2106.09685", "2309.17453"), encoding="utf-8")
    arxiv.routes["/api/query"] = lambda: Route(body=ATOM.encode())
    arxiv.routes["/pdf/1607.06450"] = Route(404, b"missing")
    report = library.ingest([str(digest)], pdfs=True)
    paper = library.store.find_paper("2309.17453")
    assert paper.has_pdf and set(paper.languages) >= {"ko", "en"}
    assert len(paper.sources) == 2  # the digest and the arXiv record
    assert any("PDF of 1607.06450 skipped" in w for o in report.outcomes for w in o.warnings)


def test_network_down_is_reported_once_and_digest_passages_stay(library, tmp_path):
    port = closed_port()
    library.settings = Settings(
        home=library.settings.home,
        allow_private=True,
        arxiv_delay_seconds=3.0,
        arxiv_api_url=f"http://127.0.0.1:{port}/api/query",
    )
    digest = tmp_path / "weekly.txt"
    digest.write_text(KOREAN, encoding="utf-8")
    report = library.ingest([str(digest)], pdfs=True)
    assert len(report.notes) == 1
    assert report.notes[0].startswith("2 PDFs skipped: network unreachable")
    assert library.store.stats()["papers"] == 2
