"""Digest parsing: every shape digests come in, in several languages."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from paperlens.index.ingestion import SourceOutcome, describe
from paperlens.ingest.config import Settings
from paperlens.ingest.digests import name_some, parse_digest, read_digest
from paperlens.ingest.errors import IngestError
from paperlens.ingest.sources import RawSource, parse_raw
from tests.fixtures import digest_shapes as shapes
from tests.fixtures.corpus import CORPUS
from tests.fixtures.digest_texts import FRENCH, JAPANESE, KOREAN

ROOT = Path(__file__).resolve().parents[1]
REAL = CORPUS / "real"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="no ../shared/corpus/real here")

HINDI = """[2024/06/03 ~ 06/09] इस सप्ताह के प्रमुख ML पेपर
DAIR.AI के साप्ताहिक चयन पर आधारित लेख।
-
ध्यान ही सब कुछ है / Attention Is All You Need
पेपर परिचय
यह पेपर Transformer प्रस्तुत करता है, जो केवल attention पर आधारित है और recurrence का उपयोग नहीं करता।
> Introduces the Transformer, built only from attention without recurrence.
पेपर सारांश(Abstract)
मशीन अनुवाद के कार्यों में यह मॉडल बेहतर गुणवत्ता और तेज़ training दिखाता है।
पेपर लिंक
https://arxiv.org/abs/1706.03762
आगे पढ़ें
https://github.com/tensorflow/tensor2tensor
GPT-4 से concepts निकालना / Extracting Concepts from GPT-4
शोध परिचय
sparse autoencoders की मदद से GPT-4 के भीतर लाखों interpretable features खोजे गए।
शोध और पेपर लिंक
https://openai.com/index/extracting-concepts-from-gpt-4/
"""

DAIR_TABLE = """# ML Papers of the Week

## Top ML Papers of the Week (October 2 - October 8) - 2023
| **Paper**  | **Links** |
| ------------- | ------------- |
| 1) **Language Models Represent Space and Time** - finds linear representations of places and dates inside LLM activations; probes work across model sizes. | [Paper](https://arxiv.org/abs/2310.02207), [Tweet](https://x.com/example/status/1) |
| 2) **Efficient Streaming Language Models with Attention Sinks** - keeps the first tokens in the KV cache so generation can run on very long streams. | [Paper](https://arxiv.org/abs/2309.17453v2), [Code](https://github.com/mit-han-lab/streaming-llm) |
"""

HTML = """<!DOCTYPE html><html><head><title>週刊</title><script>alert(1)</script></head>
<body><nav>menu</nav>
<h2>今週の論文</h2>
<h3>低ランク適応 / LoRA: Low-Rank Adaptation of Large Language Models</h3>
<p>事前学習済みの重みを固定し、低ランクの行列だけを学習して微調整のコストを下げる手法です。</p>
<blockquote>Freezes pretrained weights and trains low-rank update matrices.</blockquote>
<p><a href="https://arxiv.org/abs/2106.09685">論文</a> · <a href="https://github.com/microsoft/LoRA">コード</a></p>
<h3>レイヤー正規化 / Layer Normalization</h3>
<p>バッチではなく一つのサンプル内のニューロンで平均と分散を計算して正規化します。</p>
<p><a href="https://arxiv.org/abs/1607.06450">論文</a></p>
</body></html>"""

MARKDOWN = """# 이번 주 논문

## 어텐션 싱크 / Efficient Streaming Language Models with Attention Sinks

**논문 소개**

- 첫 토큰들의 키와 값을 캐시에 남겨 두면 추가 학습 없이 긴 스트림을 처리할 수 있습니다.

> Keeping the first tokens' keys and values lets models stream long inputs.

**논문 링크**

https://arxiv.org/abs/2309.17453
"""


def by_arxiv(papers):
    return {p.arxiv_id: p for p in papers}


def test_korean_digest_with_bilingual_titles_and_english_originals():
    papers = parse_digest(KOREAN)
    assert [p.arxiv_id for p in papers] == ["2106.09685", "1607.06450"]
    lora = papers[0]
    assert lora.title == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert lora.titles["ko"] == "저랭크 적응으로 대규모 언어 모델 미세조정"
    assert {s.lang for s in lora.sections} == {"ko", "en"}
    assert lora.links["paper"] == "https://arxiv.org/abs/2106.09685"
    assert lora.paper_id == "arxiv:2106.09685"


def test_overview_paragraphs_before_the_first_paper_are_not_papers():
    titles = [p.title for p in parse_digest(KOREAN) + parse_digest(JAPANESE)]
    assert not any("이번 주" in t or "今週" in t for t in titles)


def test_japanese_digest():
    papers = by_arxiv(parse_digest(JAPANESE))
    assert set(papers) == {"2309.17453", "1706.03762"}
    assert papers["1706.03762"].title == "Attention Is All You Need"
    assert papers["1706.03762"].titles["ja"] == "アテンションこそすべて"


def test_hindi_digest_keeps_papers_without_arxiv_links():
    papers = parse_digest(HINDI)
    assert [p.title for p in papers] == [
        "Attention Is All You Need",
        "Extracting Concepts from GPT-4",
    ]
    attention, concepts = papers
    assert attention.arxiv_id == "1706.03762" and attention.links["code"].endswith("tensor2tensor")
    assert {s.lang for s in attention.sections} == {"hi", "en"}
    # Devanagari with English technical words is still Hindi.
    assert concepts.sections[0].lang == "hi"
    assert concepts.arxiv_id is None and concepts.paper_id.startswith("title:")
    assert concepts.links["paper"].startswith("https://openai.com/")


def test_french_reading_list():
    papers = parse_digest(FRENCH)
    assert len(papers) == 1
    ppo = papers[0]
    assert ppo.arxiv_id == "1707.06347"
    assert ppo.title.startswith("PPO : algorithmes")
    assert ppo.authors == ["OpenAI"]
    assert any("objectif tronqué" in s.text and s.lang == "fr" for s in ppo.sections)
    # the section header above the title is not part of the paper
    assert not any("Papier pionnier" in s.text for s in ppo.sections)


def test_reading_list_with_an_english_second_title_and_author_on_next_line():
    text = (
        "Lectures\n\nTRANSFORMER : l'attention suffit\n\nAttention Is All You Need\n\n"
        "*auteur:\nAshish Vaswani et al.\n\n*original:https://arxiv.org/abs/1706.03762\n\n"
        "Le Transformer remplace la récurrence par l'attention et s'entraîne bien plus vite.\n"
    )
    (paper,) = parse_digest(text)
    assert paper.title == "Attention Is All You Need"
    assert paper.titles["fr"] == "TRANSFORMER : l'attention suffit"
    assert paper.authors == ["Ashish Vaswani et al."]


def test_dair_ai_markdown_table():
    papers = parse_digest(DAIR_TABLE, content_type="text/markdown")
    assert [p.arxiv_id for p in papers] == ["2310.02207", "2309.17453"]
    assert papers[0].title == "Language Models Represent Space and Time"
    assert papers[0].sections[0].text.startswith("finds linear representations")
    assert papers[0].sections[0].lang == "en"
    assert papers[1].links["code"] == "https://github.com/mit-han-lab/streaming-llm"
    assert papers[0].links["tweet"].startswith("https://x.com/")


def test_html_page_with_headings_quotes_and_links():
    papers = parse_digest(HTML)
    assert [p.arxiv_id for p in papers] == ["2106.09685", "1607.06450"]
    lora = papers[0]
    assert lora.title == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert {s.lang for s in lora.sections} == {"ja", "en"}
    assert lora.links["code"] == "https://github.com/microsoft/LoRA"
    assert not any("alert" in s.text or "menu" in s.text for p in papers for s in p.sections)


def test_markdown_headings_with_bold_labels():
    (paper,) = parse_digest(MARKDOWN, content_type="text/markdown")
    assert paper.arxiv_id == "2309.17453"
    assert paper.title == "Efficient Streaming Language Models with Attention Sinks"
    assert [s.lang for s in paper.sections] == ["ko", "en"]


def test_crlf_bom_and_versioned_links():
    text = "\ufeff" + KOREAN.replace("\n", "\r\n").replace("2106.09685", "2106.09685v2")
    assert [p.arxiv_id for p in parse_digest(text)] == ["2106.09685", "1607.06450"]


def test_slashes_inside_titles_are_not_translations():
    text = KOREAN.replace(
        "레이어 정규화 / Layer Normalization", "TCP/IP 위의 학습 / Learning over TCP/IP"
    )
    titles = [p.title for p in parse_digest(text)]
    assert "Learning over TCP/IP" in titles


def test_texts_without_papers_yield_nothing():
    assert parse_digest("") == []
    assert parse_digest("   \n\n") == []
    assert parse_digest("Just a shopping list.\nMilk\nEggs\n") == []


# ---- the general path: real digest shapes, in several languages ----------------------


def read(text):
    return read_digest(text, content_type="text/markdown")


def test_dair_rows_in_every_style_with_week_description_and_links():
    result = read(shapes.DAIR_WEEKS)
    papers = {p.title: p for p in result.papers}
    assert list(papers) == [
        "Sparse Mixtures for Long Inputs",  # title and description split by two spaces
        "Does Reasoning Help Retrieval?",
        "Agent Safety Card",
        "Workflow Graphs for Agents",  # nothing between title and "This paper …"
        "Self-Adaptive LLMs",  # "Title - description"
        "Memory Layers at Scale",  # "**Title** - description"
        "Lab Blog on Interpretability",
        "1.58-bit Diffusion",
    ]
    sparse = papers["Sparse Mixtures for Long Inputs"]
    assert sparse.arxiv_id == "2506.01234" and sparse.titles == {"en": sparse.title}
    assert sparse.listed_under == "Top ML Papers of the Week (June 2 - June 8) - 2025"
    first = sparse.sections[0].text
    assert first.startswith("This paper routes") and "Training is stable" in first
    assert sparse.links["tweet"] == "https://x.com/example/status/11"
    # listed again the next week: one paper, both notes
    assert any("listed again" in s.text for s in sparse.sections) and result.merged == 1
    # rows without an arXiv link keep their own link
    assert papers["Agent Safety Card"].arxiv_id is None
    assert papers["Agent Safety Card"].links["paper"].endswith("agent-safety-card.pdf")
    assert papers["Lab Blog on Interpretability"].links["post"].endswith("/blog/circuits")
    assert papers["Self-Adaptive LLMs"].links["code"] == "https://github.com/example/adapt"
    assert result.entries == 10
    assert result.skipped == ["Subscribe to our newsletter for the weekly list."]


def test_korean_arxiv_bot_headings_with_links_in_parentheses():
    papers = read(shapes.ARXIVBOT_KO).papers
    assert [(p.title, p.arxiv_id) for p in papers] == [
        ("Hierarchical Answer Aggregation for Reasoning Chains", "2405.10001"),
        ("Code-Mixed Sentiment Models for Low-Resource Pairs", "2405.10002"),
    ]
    assert all(p.sections and p.sections[0].lang == "ko" for p in papers)
    assert "동적으로" in papers[0].sections[0].text


def test_chinese_index_tables_footnotes_and_several_papers_per_row():
    result = read(shapes.MLI_ZH)
    by_id = {p.arxiv_id: p for p in result.papers if p.arxiv_id}
    assert set(by_id) == {"2407.00001", "2005.00003", "2108.00004", "1911.00005"} | {
        "1512.00006",
        "1704.00007",
    }
    titles = [p.title for p in result.papers]
    assert {"GPT", "GPT-2", "GPT-3"} <= set(titles)  # one row, three papers
    assert titles.count("GPT") == 1 and by_id["2005.00003"].title == "GPT-3"
    resnet = by_id["1512.00006"]
    assert resnet.title == "ResNet" and resnet.listed_under == "计算机视觉"
    assert resnet.sections[0].text == "残差连接让很深的网络也能训练"
    assert resnet.sections[0].lang == "zh" and resnet.titles == {"en": "ResNet"}
    assert by_id["1911.00005"].title == "对归一化层的新研究"
    # the same paper in the recorded table and the index: one paper, two notes
    assert len([p for p in result.papers if p.arxiv_id == "2407.00001"]) == 1
    # a row with only a video link is reported, by name
    assert result.skipped == ["大模型训练流程 · 第五部分"]
    assert "大模型训练流程 · 第五部分" in result.warnings()[0]


def test_japanese_reading_list_keeps_papers_and_names_what_it_skips():
    result = read(shapes.ARXIVTIMES_JA)
    assert [(p.title, p.arxiv_id) for p in result.papers] == [
        ("A Survey of Deep Learning for Science", "2003.00008"),
        ("Deep Anomaly Detection: A Survey", "1901.00009"),
        ("Unifying Deep and Shallow Anomaly Detection", "2009.00010"),  # a nested item
    ]
    survey = result.papers[0]
    assert survey.sections[0].lang == "ja" and "ライブラリ" in survey.sections[0].text
    assert result.papers[2].sections[0].text.startswith("浅い手法")
    assert result.entries == 6
    assert result.skipped == [
        "Intro Course on Machine Learning",
        "深層学習の教科書",
        "A conference talk",
    ]


def test_korean_episode_lines_list_papers_as_short_names():
    result = read(shapes.EPISODES_KO)
    assert [(p.title, p.arxiv_id) for p in result.papers] == [
        ("SwinT", "2103.00011"),
        ("Gopher", None),
        ("SEER", "2103.00012"),
    ]
    assert result.papers[1].links["paper"] == "https://storage.example.com/papers/gopher.pdf"
    assert result.skipped == ["ep1:20210307"]


def test_papers_cited_in_prose_by_arxiv_id_url_or_doi():
    papers = read(shapes.PROSE_EN).papers
    assert [p.arxiv_id for p in papers] == ["1706.03762", "1607.06450", None]
    assert papers[0].title == "arXiv 1706.03762"  # the arXiv follow-up brings the real one
    assert papers[2].links["paper"].startswith("https://doi.org/10.1038/")
    assert "layer normalization" in papers[1].sections[0].text


@pytest.mark.parametrize(
    "text",
    [shapes.DAIR_WEEKS, shapes.ARXIVBOT_KO, shapes.MLI_ZH, shapes.ARXIVTIMES_JA]
    + [shapes.EPISODES_KO, shapes.PROSE_EN, KOREAN, JAPANESE, FRENCH, HINDI, HTML, MARKDOWN],
)
def test_every_linked_arxiv_paper_is_extracted_once(text):
    result = read_digest(text)
    ids = [p.arxiv_id for p in result.papers if p.arxiv_id]
    assert result.missing_arxiv == [] and len(ids) == len(set(ids))
    assert set(ids) == set(re.findall(r"(\d{4}\.\d{4,5})", text)) - {"0000.0000"}


# ---- every linked paper reaches the catalog -------------------------------------------


def test_table_rows_with_empty_first_cells_and_no_description_are_papers():
    result = read(shapes.INDEX_CONTINUED_ZH)
    assert [(p.title, p.arxiv_id) for p in result.papers] == [
        ("区域卷积网络", "1311.90001"),
        ("Quick Region Net", "1504.90002"),
        ("Speedy Region Net", "1506.90003"),
        ("Look Once Detector", "1506.90004"),
    ]
    assert all(p.listed_under == "检测" for p in result.papers)


def test_a_link_to_an_api_is_not_a_paper_even_on_a_paper_host():
    result = read(shapes.INDEX_CONTINUED_ZH)
    links = [url for p in result.papers for url in p.links.values()]
    assert len(result.papers) == 4 and not any("api.semanticscholar" in url for url in links)


@pytest.mark.parametrize(
    ("text", "bare"),
    [
        (shapes.INDEX_CONTINUED_ZH, ["1504.90002", "1506.90003", "1506.90004"]),
        (shapes.READING_BARE_JA, ["1801.90006"]),
    ],
)
def test_papers_a_digest_only_names_reach_the_catalog(ingestor, store, text, bare):
    doc = parse_raw(RawSource("mem://digest.md", text.encode(), "text/markdown"), Settings())
    assert {p.arxiv_id for p in doc.papers if not p.sections} == set(bare)
    ingestor.ingest_doc(doc)
    linked = set(re.findall(r"(\d{4}\.\d{5})", text))
    assert {p.arxiv_id for p in store.papers()} == linked
    for arxiv_id in bare:
        paper = store.find_paper(arxiv_id)
        (passage,) = store.paper_passages(paper.id)
        assert paper.title in passage.text  # the title is what there is to search


def test_a_paper_named_only_by_its_title_is_found_by_it(library, ingestor):
    raw = RawSource("mem://ja.md", shapes.READING_BARE_JA.encode(), "text/markdown")
    ingestor.ingest_doc(parse_raw(raw, Settings()))
    (hit, *_) = library.searcher.search("opinion mining survey", k=2)
    assert hit.arxiv_id == "1801.90006"


def test_the_bench_counts_catalog_papers_against_the_links_of_the_file(tmp_path, embedder):
    bench = _bench()
    path = tmp_path / "index.md"
    path.write_text(shapes.INDEX_CONTINUED_ZH + shapes.READING_BARE_JA, encoding="utf-8")
    linked = bench.linked_arxiv(path.read_text(encoding="utf-8"))
    assert len(linked) == 6
    assert bench.catalog_arxiv(path, tmp_path / "lib", embedder) == linked


# ---- reporting: no silent loss ---------------------------------------------------------


def test_skipped_entries_are_named_then_counted():
    assert name_some(["a", "b", "c", "d", "e"]) == "'a', 'b', 'c' and 2 more"
    assert name_some(["a"]) == "'a'"


def test_digest_sources_carry_entries_and_skipped_into_the_report():
    raw = RawSource("mem://ja.md", shapes.ARXIVTIMES_JA.encode(), "text/markdown")
    doc = parse_raw(raw, Settings())
    assert doc.entries == 6 and len(doc.papers) == 3
    assert doc.skipped == [
        "Intro Course on Machine Learning",
        "深層学習の教科書",
        "A conference talk",
    ]
    (warning,) = doc.warnings
    assert warning.startswith("3 of 6 entries link no paper and were skipped:")
    outcome = SourceOutcome(
        ref="ja.md",
        status="ingested",
        papers=3,
        passages=5,
        warnings=doc.warnings,
        entries=doc.entries,
        skipped=doc.skipped,
    )
    line = describe(outcome)
    assert line.startswith("ingested: ja.md (6 entries, 3 papers, 5 passages)")
    assert "\n  warning: 3 of 6 entries link no paper" in line and "'Intro Course" in line
    assert outcome.to_json()["entries"] == 6 and len(outcome.to_json()["skipped"]) == 3


def test_a_page_of_links_without_papers_says_what_it_saw():
    text = "# Links\n\n* [A course](https://example.org/course)\n* [A talk](https://youtu.be/x)\n"
    with pytest.raises(IngestError, match="no papers found .*2 linked entries, none to a paper"):
        parse_raw(RawSource("mem://links.md", text.encode(), "text/markdown"), Settings())


# ---- the real digests, as published (skipped where ../shared is absent) -----------------


def _bench():
    path = ROOT / "bench" / "bench_digests.py"
    spec = importlib.util.spec_from_file_location("bench_digests", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_digests"] = module
    spec.loader.exec_module(module)
    return module


@needs_real
@pytest.mark.slow
def test_real_dair_readme_rows_are_recovered():
    text = (REAL / "dair_ml_papers_of_the_week.md").read_text(encoding="utf-8")
    report = _bench().check_dair(text, read(text).papers)
    assert report["rows"] >= 1290
    assert report["ok_arxiv"] >= 0.99 * report["with_arxiv"]
    assert report["ok"] >= 0.97 * report["rows"]


@needs_real
@pytest.mark.parametrize(
    "name",
    [
        "ko_arxivbot_2024-05-22_cs.CL.md",
        "zh_mli_paper_reading_README.md",
        "ja_arxivtimes_materials_README.md",
        "ko_weeklyarxivtalk_README.md",
    ],
)
def test_real_digests_yield_their_linked_arxiv_papers(name):
    text = (REAL / "digests" / name).read_text(encoding="utf-8")
    linked = _bench().linked_arxiv(text)
    found = {p.arxiv_id for p in read(text).papers}
    assert linked and len(linked & found) >= 0.95 * len(linked)


@needs_real
@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["zh_mli_paper_reading_README.md", "ja_arxivtimes_materials_README.md"]
)
def test_real_digests_put_their_linked_arxiv_papers_in_the_catalog(tmp_path, embedder, name):
    path = REAL / "digests" / name
    bench = _bench()
    linked = bench.linked_arxiv(path.read_text(encoding="utf-8"))
    in_catalog = bench.catalog_arxiv(path, tmp_path / "lib", embedder)
    assert len(linked & in_catalog) >= 0.99 * len(linked)


@pytest.mark.skipif(not (CORPUS / "seeds").is_dir(), reason="no ../shared/corpus/seeds here")
def test_seed_digests_keep_their_paper_counts():
    seeds = sorted((CORPUS / "seeds").glob("*.txt"))
    counts = [len(parse_digest(p.read_text(encoding="utf-8"))) for p in seeds]
    assert counts == [10, 10, 10, 10, 43]


def test_html_list_of_linked_papers_with_descriptions():
    html = (
        "<html><body><h2>今週の論文</h2><ul>"
        '<li><a href="https://arxiv.org/abs/2401.00001">Tiny Experts</a> — 小さな専門家を組み合わせる。</li>'
        '<li><a href="https://openreview.net/forum?id=abc">Sparse Probing</a> — 表現を調べる。</li>'
        '<li><a href="https://example.com/jobs">求人</a></li></ul></body></html>'
    )
    result = read_digest(html)
    assert [(p.title, p.arxiv_id) for p in result.papers] == [
        ("Tiny Experts", "2401.00001"),
        ("Sparse Probing", None),
    ]
    assert (
        result.papers[0].sections[0].lang == "ja" and result.papers[0].listed_under == "今週の論文"
    )
    assert result.papers[1].links["paper"] == "https://openreview.net/forum?id=abc"
    assert result.skipped == ["求人"]


def test_labelled_digest_with_a_markdown_link_under_the_link_label():
    text = MARKDOWN.replace(
        "https://arxiv.org/abs/2309.17453", "[arXiv](https://arxiv.org/abs/2309.17453)"
    )
    (paper,) = parse_digest(text, content_type="text/markdown")
    assert paper.arxiv_id == "2309.17453"
    assert paper.title == "Efficient Streaming Language Models with Attention Sinks"


SAMPLE_PAPERS = {
    "liste_fr.txt": 7,
    "ml_papers_of_the_week.md": 8,
    "weekly_hi.txt": 6,
    "weekly_ja.md": 7,
    "weekly_ko.txt": 7,
    "weekly_zh.html": 6,
}


@pytest.mark.parametrize(("name", "count"), sorted(SAMPLE_PAPERS.items()))
def test_every_bundled_sample_digest_yields_its_papers_with_text(name, count):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "samples" / name
    kind = "text/html" if name.endswith(".html") else None
    papers = parse_digest(path.read_text(encoding="utf-8"), content_type=kind)
    assert len(papers) == count
    assert all(p.arxiv_id and p.sections for p in papers)
    assert not any(t in ("论文链接", "Paper") for p in papers for t in [p.title])
