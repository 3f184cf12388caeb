"""Digest parsing: every shape digests come in, in several languages."""

from __future__ import annotations

from ingest.digests import parse_digest
from tests.digest_texts import FRENCH, JAPANESE, KOREAN

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
