"""Trustworthy answers: language and script checks with one retry, sentence support
(wrong citations moved, unsupported sentences removed), abstention."""

from __future__ import annotations

import numpy as np
import pytest

from paperlens.assistant.checks.citations import markers_to_sentence_ends, without_labels
from paperlens.assistant.checks.figures import cell_rows, from_cells, rows_named, unstated
from paperlens.assistant.checks.language import language_problem
from paperlens.assistant.checks.names import lost_names
from paperlens.assistant.checks.support import SupportChecker
from paperlens.assistant.checks.writing_systems import foreign_letters, native_share, script_purity
from paperlens.assistant.llm import OpenAICompatibleLLM
from paperlens.assistant.rag import answer
from paperlens.index.hits import Hit
from paperlens.ingest.config import Settings
from tests.fixtures.fake_openai import FakeOpenAI


def hit(n: int, title: str, text: str, lang: str = "en") -> Hit:
    return Hit(
        n,
        f"arxiv:000{n}",
        f"000{n}",
        title,
        0.7,
        text,
        n,
        None,
        lang,
        "digest",
        "test://",
        f"https://arxiv.org/abs/000{n}",
    )


HITS = [
    hit(1, "Ring Attention", "Ring Attention splits long sequences into blocks across devices."),
    hit(2, "StreamingLLM", "Keeping the first tokens as attention sinks lets models stream text."),
]


def keyword_similarity(sentences, given):
    """A stand-in for the embedding model: 1.0 when a sentence names the passage's topic."""
    topics = {"Ring Attention": ("블록", "block", "device"), "StreamingLLM": ("싱크", "sink")}
    return np.array(
        [[float(any(w in s.lower() for w in topics[h.title])) for h in given] for s in sentences]
    )


@pytest.fixture
def settings(tmp_path):
    return Settings(home=tmp_path, abstain_below=0.42)


def ask_korean(replies: list[str], settings: Settings, hits=HITS, **options):
    """(answer, the fake server that gave `replies`): the Korean question about attention
    sinks answered over `hits`; the server's `requests` show what the model was asked."""
    with FakeOpenAI(replies=replies) as server:
        result = answer(
            "어텐션 싱크란?", hits, llm_for(server), lang="ko", settings=settings, **options
        )
    return result, server


def llm_for(server: FakeOpenAI) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(server.base_url, model="fake", api_key=None, timeout=5)


@pytest.mark.parametrize(
    ("text", "lang", "purity"),
    [
        ("어텐션 싱크는 처음 토큰을 캐시에 남깁니다.", "ko", 1.0),
        ("LoRA는 저랭크 행렬만 학습합니다.", "ko", 1.0),  # Latin terms are fine
        ("400万 토크ン 이상으로 확장합니다", "ko", 1 - 2 / 13),  # a kanji and a katakana
        ("トークンを保持する", "ja", 1.0),
    ],
)
def test_script_purity_counts_letters_from_other_scripts(text, lang, purity):
    assert script_purity(text, lang) == pytest.approx(purity)


def test_a_hindi_answer_written_in_english_is_not_hindi():
    assert foreign_letters("This answer is in English.", "hi") == []
    assert native_share("This answer is in English.", "hi") == 0.0
    assert "Latin" in language_problem("यह उत्तर LoRA, RLHF, PPO, DPO, KV cache, GPU memory", "hi")


def test_names_and_the_questions_own_terms_do_not_make_an_answer_english():
    assert language_problem("BERT 在 GLUE 上得了 80.5 分。[1]", "zh") is None
    question = "Llama 2 के मॉडल कितने tokens पर pretrain किए गए?"
    answer = "Llama 2 के मॉडल 2 trillion tokens पर pretrain किए गए थे [1]।"
    assert language_problem(answer, "hi", question) is None
    english = "The Llama 2 models were pretrained on two trillion tokens of public data [1]."
    assert language_problem(english, "hi", question) is not None
    assert native_share(english, "hi", [question]) < 0.5


def test_one_stray_letter_from_another_script_is_a_problem_but_a_quoted_title_is_not():
    assert "兆" in language_problem("Qwen2.5-Coder는 5.5兆의 토큰으로 학습되었습니다 [1].", "ko")
    assert language_problem("「注意機構」라는 제목의 논문은 어텐션만 씁니다 [1].", "ko") is None


def test_chinese_number_units_in_a_korean_answer_are_written_in_hangul(settings):
    with FakeOpenAI("Qwen2.5-Coder는 5.5兆 개의 토큰으로 학습되었습니다 [2].") as server:
        result = answer("몇 개의 토큰?", HITS, llm_for(server), lang="ko", settings=settings)
    assert len(server.requests) == 1  # replaced, not re-asked
    assert result.mode == "llm" and "5.5조 개의 토큰" in result.text


def test_a_word_that_switches_from_hangul_to_latin_is_broken_but_a_name_with_a_particle_is_not():
    assert "네ural" in language_problem("이 모델은 커널 네ural 네트워크를 씁니다 [1].", "ko")
    assert language_problem("LoRA는 Transformer의 가중치를 고정합니다 [1].", "ko") is None
    assert language_problem("本論文のTransformerは注意機構だけを使う[1]。", "ja") is None


def test_english_words_in_a_non_latin_answer_are_a_problem_but_terms_and_names_are_not():
    hindi = "बड़े मॉडल ने 28.4 BLEU for German और 41.8 BLEU for French पाया [1]।"
    assert "(for)" in language_problem(hindi, "hi")
    assert "compared, to" in language_problem("训练时间更短 compared to之前的方法[2]。", "zh")
    assert (
        language_problem(
            "该模型在成分句法分析（constituency parsing）任务上也表现得很好[7]。", "zh"
        )
        is None
    )
    assert (
        language_problem(
            "Mixture of Experts 구조에서는 토큰마다 전문가 두 개를 고릅니다 [1].", "ko"
        )
        is None
    )
    question = "chain of thought 프롬프트란 무엇인가요?"
    answer = "chain of thought 프롬프트는 중간 추론 단계를 먼저 쓰게 하는 방법입니다 [1]."
    assert language_problem(answer, "ko", question) is None  # the user's own words
    passage = "Aligns LLMs through model feedback and environment feedback."
    copied = (
        "このサーベイは、大規模言語モデルを人手に頼らずに整合させる方法を四つの方向に分けて整理し、"
        "その中で model feedback and environment feedback による整合も詳しく論じています[1]。"
    )
    assert language_problem(copied, "ja", "", [passage]) is None  # a phrase of the passage
    assert "(for)" in language_problem(hindi, "hi", "", ["Reports 28.4 BLEU on English-German."])


# The bundled 1.5B's Hindi for "The paper discusses a new architecture of neural network
# called Transformer ...": Devanagari, fluent-looking, made of non-words.
GARBLED_HINDI = (
    "पत्र नया तरीके में एक नाइन्यूल टेस्टरिक आधारित वर्णन को पसंदीत करता है, जो सबसे अच्छा "
    "उपयोगकरण और नियमित बहुत गुणाभीय टेस्टरिक आधारित वर्णन को स्थिर करता है [1]।"
)


def test_hindi_made_of_non_words_is_not_hindi_but_plain_hindi_and_borrowed_terms_are():
    assert "not Hindi: नाइन्यूल" in language_problem(GARBLED_HINDI, "hi")
    plain = (
        "यह पेपर एक नया मॉडल पेश करता है जो पुराने तरीकों से कम समय में प्रशिक्षित होता है "
        "और अनुवाद में बेहतर नतीजे देता है [1]।"
    )
    assert language_problem(plain, "hi") is None
    terms = (
        "यह शोधपत्र Transformer प्रस्तुत करता है, जो पूरी तरह अटेंशन पर आधारित है और "
        "रिकरेंस तथा कन्वोल्यूशन को हटा देता है [1]।"
    )
    assert language_problem(terms, "hi") is None  # borrowed ML terms are Hindi words
    formal = "यह शोधपत्र बड़े भाषा मॉडलों में अवधारणाओं की श्रेणीगत और पदानुक्रमिक ज्यामिति दिखाता है [1]।"
    assert "not Hindi" in language_problem(formal, "hi")  # rare words no list has
    passage = "अवधारणाओं की श्रेणीगत और पदानुक्रमिक ज्यामिति"
    assert language_problem(formal, "hi", "", [passage]) is None  # the passage's own words
    assert language_problem("यह मॉडल नाइन्यूल है [1]।", "hi") is None  # too short to judge


def test_garbled_hindi_falls_back_to_the_passages_with_the_reason(settings):
    with FakeOpenAI(GARBLED_HINDI) as server:
        result = answer("Transformer क्या है?", HITS, llm_for(server), lang="hi", settings=settings)
    assert result.mode == "extractive" and result.citations
    assert "नाइन्यूल" not in result.text
    assert any("not Hindi" in w for w in result.warnings)


def test_language_problems_are_named():
    assert language_problem("어텐션 싱크는 처음 토큰을 남깁니다 [1].", "ko") is None
    assert "English" in language_problem("Attention sinks keep the first tokens [1].", "ko")
    assert "mixed" in language_problem("어텐션 싱크는 400万 토크ン 이상을 처리합니다 [1].", "ko")
    # Labels alone say nothing (the 1.5B's "translation" of a summary's headings).
    assert language_problem("**हिंदी वर्णन:** **वास्मत:** [1]", "hi") == "the model wrote nothing"


def test_sentences_are_kept_recited_or_removed_by_support():
    checker = SupportChecker(keyword_similarity, threshold=0.5)
    text = (
        "어텐션 싱크는 처음 토큰을 남겨 스트리밍을 돕습니다 [1]. "  # cites the wrong passage
        "링 어텐션은 블록으로 나누어 계산합니다 [1]. "  # right
        "이 방법은 2025년 노벨상을 받았습니다 [2]."  # nothing supports it
    )
    checked = checker.check(text, HITS)
    assert checked.sentences == 3 and checked.supported == 2 and checked.recited == 1
    assert "[2]" in checked.text.split(".")[0] and "노벨상" not in checked.text
    assert checked.dropped == ["이 방법은 2025년 노벨상을 받았습니다 [2]."]


def test_a_moved_marker_leaves_no_empty_brackets_nor_words_that_read_through_it():
    checker = SupportChecker(keyword_similarity, threshold=0.5)
    text = (
        "Attention sinks let a model stream (passage [1]). Blocks go to devices (see the ring [2])."
    )
    checked = checker.check(text, HITS)
    assert (
        checked.text
        == "Attention sinks let a model stream [2]. Blocks go to devices (see the ring) [1]."
    )
    read_through = checker.check("[1]에 따르면 어텐션 싱크는 처음 토큰을 남깁니다.", HITS)
    assert read_through.text == "[2]에 따르면 어텐션 싱크는 처음 토큰을 남깁니다."


def test_a_sentence_whose_numbers_its_passage_does_not_state_is_not_supported_by_it():
    hits = [
        hit(
            1,
            "StreamingLLM",
            "Keeping the first four tokens as attention sinks lets models stream.",
        ),
        hit(
            2, "StreamingLLM", "The sink tokens cost 0.2% of the cache; 4 million tokens streamed."
        ),
    ]
    checker = SupportChecker(keyword_similarity, threshold=0.5)
    text = (
        "어텐션 싱크로 처음 토큰 4개를 남깁니다 [1]. "  # "four" in words
        "싱크 토큰은 캐시의 0.2%를 씁니다 [1]. "  # the number is in [2]: re-cited
        "싱크 덕분에 400만 토큰을 처리합니다 [2]. "  # 4 million, in Korean units
        "싱크 토큰은 캐시의 2.4%를 씁니다 [2]."  # no passage says 2.4%
    )
    checked = checker.check(text, hits)
    assert checked.supported == 3 and checked.recited == 1
    assert "0.2%를 씁니다 [2]" in checked.text and "2.4%" not in checked.text


@pytest.mark.parametrize(
    ("sentence", "missing"),
    [
        ("The large model reaches 24.8 BLEU [1].", ["24.8"]),
        ("Le grand modèle atteint 28,4 BLEU [1].", []),  # a decimal comma
        ("训练只需 3.5 天，使用 8 块 GPU[1]。", []),  # "eight GPUs"
        ("1.4조 개의 토큰으로 학습했습니다 [1].", []),  # 1.4T
        ("GPT-4 और Mamba-2 से तुलना [1]।", []),  # digits in names are names
        ("ViT-H/14 모델의 MLP 차원은 28.4입니다 [1].", []),  # a patch size in a name
        ("7/9 of the runs reached 28.4 BLEU [1].", ["7", "9"]),  # a ratio is a claim
        ("1. Trained in 2017 on 1.4T tokens.", ["2017"]),  # a list item's number is none
        ("네 개의 GPU로 3.5일 학습했습니다 [1].", ["네 개"]),  # a count in words, wrong
        ("आठ GPU पर 3.5 दिन [1]।", []),  # eight, in Hindi
        ("这是一个模型，用八块 GPU[1]。", []),  # "一个" is "a"
    ],
)
def test_numbers_are_compared_by_value_across_languages_and_scales(sentence, missing):
    passage = "The large model reaches 28.4 BLEU after 3.5 days on eight GPUs, on 1.4T tokens."
    assert unstated(sentence, [passage]) == missing


@pytest.mark.parametrize(
    ("sentence", "passage", "stated"),
    [
        ("GPT-3는 175억 개의 파라미터를 가집니다 [1].", "GPT-3 has 175 billion parameters.", False),
        ("The 13B model beats GPT-3 [1].", "LLaMA-13B outperforms GPT-3 (175B).", True),
        ("About 95% accuracy [1].", "It reaches 95.3% accuracy.", True),
        ("The learning rate is 1e-4 [1].", "We use a learning rate of 1e-5.", False),
        ("4K 토큰 컨텍스트 [1-3].", "A 4096-token context window.", True),
        ("10.000 Beispiele [1].", "Trained on 10,000 examples.", True),
        # a PDF's "10−4" is a power of ten whose superscript was lost, not 10 and 4
        ("JFT에는 10개의 이미지가 있습니다 [1].", "ViT-B/16 JFT-300M 7 8 · 10−4 linear", False),
        ("The learning rate is 4 [1].", "ViT-B/16 JFT-300M 7 8 · 10−4 linear", False),
        ("학습률은 8 · 10−4입니다 [1].", "ViT-B/16 JFT-300M 7 8 · 10−4 linear", True),
        ("The learning rate is 8e-4 [1].", "A learning rate of 8 × 10⁻⁴.", True),
        ("The learning rate is 0.0008 [1].", "A learning rate of 8·10^{-4}.", True),
        ("The learning rate is 3e-4 [1].", "A learning rate of 8 · 10−4.", False),
        ("Die maximale Lernrate ist 1.0e-4 [1].", "30B\t48\t56\t7168 1.0e−4\t4M", True),
        ("The peak learning rate is 0.0001 [1].", "30B\t48\t56\t7168 1.0e−4\t4M", True),
        # a passage's reference marker cites a paper: "[39]" states no BLEU of 39.0
        ("The base model scores 39.0 BLEU [1].", "Deep-Att + PosUnk [39]\t39.2", False),
        ("It cites works [4, 5] and [39] [1].", "As shown in [4, 5] and [39].", True),
    ],
)
def test_numbers_match_at_their_scale_rounding_and_in_names_of_the_passage(
    sentence, passage, stated
):
    assert (unstated(sentence, [passage]) == []) == stated


def test_an_echo_of_the_question_is_not_an_answer():
    checker = SupportChecker(keyword_similarity, threshold=0.5)
    checked = checker.check("어텐션 싱크는 무엇인가요 [2]? 처음 토큰을 싱크로 남깁니다 [2].", HITS)
    assert checked.text == "처음 토큰을 싱크로 남깁니다 [2]." and checked.supported == 1


@pytest.mark.parametrize(
    "comment",
    [
        "この回答は、attention sink の仕組みを明確に示しています[2]。",  # "this answer shows"
        "Passage [2] und Passage [1] unterstützen diese Aussage über die Sink-Token.",
        "Passage [2] cites the authors, who say sink tokens matter.",
        "Le passage 2 du document <passages> dit que les sink tokens comptent [2].",
        "Passage는 sink 토큰이 처음 토큰을 남긴다고 말한다 [2].",  # "Passage says"
        "パッセージは、sink トークンが重要だと述べています[2]。",
    ],
)
def test_a_comment_on_the_answer_or_its_passages_is_not_an_answer(comment):
    checker = SupportChecker(keyword_similarity, threshold=0.5)
    claim = "Ring Attention splits long passages into blocks across devices [1]."
    checked = checker.check(f"{claim} {comment}", HITS)
    assert checked.text == claim and checked.supported == 1
    assert checked.dropped == [comment]


def test_a_sentence_written_twice_is_kept_once_whatever_its_punctuation():
    checker = SupportChecker(keyword_similarity, threshold=0.5)
    checked = checker.check(
        "처음 토큰을 싱크로 남깁니다 [2]. 처음 토큰을, 싱크로 남깁니다 [2].", HITS
    )
    assert checked.text == "처음 토큰을 싱크로 남깁니다 [2]." and checked.supported == 1


@pytest.mark.parametrize(
    ("sentence", "shown"),
    [
        (
            "The first tokens act as a sink, as stated in passage [2].",
            "The first tokens act as a sink [2].",
        ),
        (
            "Os primeiros tokens são um sink, conforme citado no passagem [2].",
            "Os primeiros tokens são um sink [2].",
        ),
        (
            "A sink keeps the first tokens, whereas passage [1] splits blocks [1][2].",
            None,
        ),  # says more
        ("The first tokens act as a sink (Passage [2]).", "The first tokens act as a sink [2]."),
        (
            "In questo passaggio, i primi token fanno da sink [2].",
            "I primi token fanno da sink [2].",
        ),
        ("이 구절에서, 처음 토큰이 싱크입니다 [2].", "처음 토큰이 싱크입니다 [2]."),
        ("このパッセージでは、最初のトークンが sink です[2]。", "最初のトークンが sink です[2]。"),
        (
            "Les premiers jetons servent de sink dans le passage [2].",
            "Les premiers jetons servent de sink [2].",
        ),
        (
            "The first tokens act as a sink, as described in passage [2].",
            "The first tokens act as a sink [2].",
        ),
        ("The first tokens act as a sink [2]. Passage [2]", "The first tokens act as a sink [2]."),
        ("Passeggio [2]: i primi token fanno da sink.", "I primi token fanno da sink [2]."),
        (
            "Sink [2]: sink tokens stay in the cache [2].",
            "Sink tokens stay in the cache [2].",
        ),
        ("In passage retrieval, sink tokens keep the first tokens [2].", None),  # a term
    ],
)
def test_a_clause_that_only_names_the_cited_passage_is_left_out(sentence, shown):
    checked = SupportChecker(keyword_similarity, 0.5).check(sentence, HITS)
    assert checked.text == (shown or sentence)


def test_a_wrong_language_draft_is_first_rewritten_in_the_asked_language(settings):
    replies = [
        "Attention sinks keep the first tokens [2].",
        "어텐션 싱크는 처음 토큰을 남깁니다 [2].",
    ]
    result, server = ask_korean(replies, settings)
    assert len(server.requests) == 2
    example, rewrite = server.requests[1]["messages"][1:3], server.requests[1]["messages"][-1]
    assert "Attention sinks keep the first tokens [2]." in rewrite["content"]  # the draft
    assert "Ring Attention splits" not in rewrite["content"]  # not the passages
    assert example[1]["role"] == "assistant" and "0.01%" in example[1]["content"]  # worked
    assert result.mode == "llm" and result.text == "어텐션 싱크는 처음 토큰을 남깁니다 [2]."


def test_a_draft_is_translated_one_sentence_at_a_time_and_a_broken_sentence_costs_only_itself(
    settings,
):
    replies = [
        "Attention sinks keep the first tokens [2]. Ring Attention splits blocks across devices [1].",
        "어텐션 싱크는 처음 토큰을 남깁니다 [2].",
        "링 어텐션은 블록을 デバイス에 나눕니다 [1].",  # katakana: this sentence is not Korean
        "링 어텐션은 ブロック을 나눕니다 [1].",  # its second, freer try: still not Korean
    ]
    result, server = ask_korean(replies, settings)
    assert len(server.requests) == 4
    first, second, again = (r["messages"][-1]["content"] for r in server.requests[1:])
    assert "Attention sinks" in first and "Ring Attention" not in first
    assert "Ring Attention" in second and "Attention sinks" not in second and again == second
    assert server.requests[3]["temperature"] > server.requests[2]["temperature"]
    assert result.mode == "llm" and result.text == "어텐션 싱크는 처음 토큰을 남깁니다 [2]."


def test_a_looping_draft_is_translated_once_per_sentence(settings):
    copied = "Attention sinks keep the first tokens"
    replies = [
        f"[2] {copied};\n\n[1][2] {copied};\n\n[2] {copied};",  # a small model's loop
        "어텐션 싱크는 처음 토큰을 남깁니다 [2].",
        "어텐션 싱크는 첫 토큰들을 유지합니다 [1][2].",  # never asked for
    ]
    result, server = ask_korean(replies, settings)
    assert len(server.requests) == 2
    assert result.mode == "llm" and result.text == "어텐션 싱크는 처음 토큰을 남깁니다 [2]."


def test_a_translation_that_loses_a_name_is_tried_again(settings):
    replies = [
        "StreamingLLM keeps the first tokens as attention sinks [2].",
        "스트리밍엘엘엠은 처음 토큰을 싱크로 남깁니다 [2].",  # the name itself translated
        "StreamingLLM은 처음 토큰을 싱크로 남깁니다 [2].",
    ]
    result, server = ask_korean(replies, settings)
    assert len(server.requests) == 3
    assert result.mode == "llm" and result.text == replies[2]


RESNET_SENTENCE = "ResNet-101 reaches 59.0% mAP on PASCAL VOC [2]."


@pytest.mark.parametrize(
    ("source", "translation", "lost"),
    [
        (RESNET_SENTENCE, "A ResNet-101 alcança 59,0% de mapa no PASCAL VOC [2].", ["mAP"]),
        (RESNET_SENTENCE, "A ResNet 101 alcança 59,0% de mAP no PASCAL VOC [2].", []),
        (RESNET_SENTENCE, "ResNet101은 ＰＡＳＣＡＬ VOC에서 mAP 59.0%입니다 [2].", []),
        ("It uses 8 A100 GPUs on PASCAL VOC [2].", "Ela usa 8 GPU A100 [2].", ["PASCAL", "VOC"]),
    ],
)
def test_names_a_translation_no_longer_writes_are_found(source, translation, lost):
    assert lost_names(source, translation) == lost


def test_sentences_already_in_the_asked_language_are_kept_and_lost_markers_come_back(settings):
    replies = [
        "어텐션 싱크는 처음 토큰을 남깁니다 [2]. Ring Attention splits blocks across devices [1].",
        "링 어텐션은 블록을 여러 기기에 나눕니다.",  # the model dropped the marker
    ]
    result, server = ask_korean(replies, settings)
    assert len(server.requests) == 2  # only the English sentence was sent
    assert "어텐션 싱크는" not in server.requests[1]["messages"][-1]["content"]
    assert result.text == (
        "어텐션 싱크는 처음 토큰을 남깁니다 [2]. 링 어텐션은 블록을 여러 기기에 나눕니다 [1]."
    )


def test_after_two_sentences_fail_with_none_translated_the_rest_are_not_tried(settings):
    draft = " ".join(f"Attention sinks keep the first {n} tokens [2]." for n in range(1, 6))
    with FakeOpenAI(replies=[draft, "पaper ने Transformer का प्रयास किया [2]।"]) as server:
        result = answer("अटेंशन सिंक क्या है?", HITS, llm_for(server), lang="hi", settings=settings)
    translations = [r for r in server.requests if "<text>" in r["messages"][-1]["content"]]
    assert len(translations) == 6  # two sentences, two tries each; two to mend the retry
    assert len(server.requests) == 8  # the draft, four tries, the stricter retry, two tries
    assert result.mode == "extractive"


def test_a_stray_word_in_the_stricter_answer_is_mended_not_the_answer_thrown_away(settings):
    replies = [
        "Attention sinks keep the first tokens [2].",
        "Attention sinks keep the first tokens [2].",
        "Attention sinks keep the first tokens [2].",
        "어텐션 싱크는 처음 토큰을 남깁니다 [2]. 링 어텐션은 ブロック을 나눕니다 [1].",
        "링 어텐션은 블록을 나눕니다 [1].",
    ]
    result, server = ask_korean(replies, settings)
    assert len(server.requests) == 5
    assert "ブロック" in server.requests[4]["messages"][-1]["content"]  # only that sentence
    assert "처음 토큰" not in server.requests[4]["messages"][-1]["content"]
    assert result.mode == "llm"
    assert result.text == "어텐션 싱크는 처음 토큰을 남깁니다 [2]. 링 어텐션은 블록을 나눕니다 [1]."


def meaning_similarity(sentences, others):
    """A stand-in for sentence similarity across languages: 1.0 when two sentences
    share a concept."""
    concepts = {"sink": ("sink", "싱크"), "block": ("block", "블록")}

    def about(text):
        return {c for c, words in concepts.items() if any(w in text.lower() for w in words)}

    return np.array([[float(bool(about(s) & about(o))) for o in others] for s in sentences])


def test_translated_sentences_that_lost_the_drafts_meaning_are_dropped():
    checker = SupportChecker(keyword_similarity, 0.5, sentence_similarity=meaning_similarity)
    draft = "Attention sinks keep the first tokens [2]. Ring Attention splits blocks [1]."
    translation = "어텐션 싱크는 처음 토큰을 남깁니다 [2]. 파티는 즐거운 행사입니다 [1]."
    kept, dropped = checker.faithful(translation, draft)
    assert kept == "어텐션 싱크는 처음 토큰을 남깁니다 [2]."
    assert dropped == ["파티는 즐거운 행사입니다 [1]."]
    draft = "Attention sinks keep the first 4 tokens [2]."
    kept, dropped = checker.faithful("어텐션 싱크는 처음 8개 토큰을 남깁니다 [2].", draft)
    assert kept == "" and dropped  # same meaning to similarity, another number


def test_a_sentence_the_translation_split_in_two_is_kept_with_its_neighbour():
    def joint(sentences, others):  # only "A, B" together says what the source said
        return np.array(
            [[1.0 if "싱크" in s and "캐시" in s else 0.3 for _ in others] for s in sentences]
        )

    checker = SupportChecker(keyword_similarity, 0.5, sentence_similarity=joint)
    kept, dropped = checker.faithful(
        "싱크를 둡니다 [2]. 캐시를 유지합니다 [2].", "Sinks stay cached [2]."
    )
    assert dropped == [] and "캐시" in kept


def test_a_garbled_translation_is_not_shown_the_question_is_asked_again(settings):
    checker = SupportChecker(keyword_similarity, 0.5, sentence_similarity=meaning_similarity)
    replies = [
        "Attention sinks keep the first tokens [2].",
        "파티는 즐거운 행사입니다 [2].",  # Korean, but not what the draft said
        "어텐션 싱크는 처음 토큰을 남깁니다 [2].",
    ]
    result, server = ask_korean(replies, settings, checker=checker)
    assert len(server.requests) == 3
    assert result.mode == "llm" and result.text == "어텐션 싱크는 처음 토큰을 남깁니다 [2]."


def test_when_no_translation_comes_near_the_draft_the_model_is_not_asked_to_write_it_unchecked(
    settings,
):
    checker = SupportChecker(keyword_similarity, 0.5, sentence_similarity=meaning_similarity)
    replies = ["Attention sinks keep the first tokens [2].", "파티는 즐거운 행사입니다 [2]."]
    result, server = ask_korean(replies, settings, checker=checker)
    assert len(server.requests) == 3  # the draft, two tries at translating; no stricter answer
    assert result.mode == "extractive"
    assert any("could not say its draft in Korean" in w for w in result.warnings)


def test_the_language_rule_echoed_back_is_not_an_answer(settings):
    replies = [
        "Attention sinks keep the first tokens [2].",
        "반드시 한국어로만 답하세요. 어텐션 싱크는 처음 토큰을 남깁니다 [2].",
    ]
    result, server = ask_korean(replies, settings)
    assert result.text == "어텐션 싱크는 처음 토큰을 남깁니다 [2]."


def test_a_sentence_written_again_and_again_is_kept_once():
    checker = SupportChecker(keyword_similarity, threshold=0.5)
    looped = "처음 토큰을 싱크로 남깁니다 [2]. 처음 토큰을 싱크로 남깁니다 [2]. 처음 토큰을 싱크로 남깁니다."
    checked = checker.check(looped, HITS)
    assert checked.text == "처음 토큰을 싱크로 남깁니다 [2]." and checked.sentences == 1


def test_stray_characters_are_named_in_the_rewrite_request(settings):
    replies = [
        "어텐션 싱크는 400만 토크ン까지 처리합니다 [2].",
        "어텐션 싱크는 400만 토큰까지 처리합니다 [2].",
    ]
    result, server = ask_korean(replies, settings)
    assert "ン" in server.requests[1]["messages"][-1]["content"].split("<text>")[0]
    assert result.mode == "llm" and "400만 토큰" in result.text


def test_when_the_rewrite_fails_the_question_is_answered_again_in_stricter_words(settings):
    replies = [
        "Attention sinks keep the first tokens [2].",
        "Attention sinks keep the first tokens [2].",  # two tries at translating it
        "Attention sinks keep the first tokens [2].",
        "어텐션 싱크는 처음 토큰을 남깁니다 [2].",
    ]
    result, server = ask_korean(replies, settings)
    assert len(server.requests) == 4
    assert "Ring Attention splits" in server.requests[3]["messages"][-1]["content"]
    assert "반드시 한국어로만" in server.requests[3]["messages"][-1]["content"]
    assert result.mode == "llm" and result.text == "어텐션 싱크는 처음 토큰을 남깁니다 [2]."


def test_the_stricter_retry_leaves_out_passages_in_a_script_the_answer_cannot_use(settings):
    hits = [
        hit(1, "StreamingLLM", "最初のトークンをアテンションシンクとして残す。", "ja"),
        hit(2, "StreamingLLM", "Keeping the first tokens as attention sinks lets models stream."),
    ]
    replies = [
        "어텐션 싱크는 最初のトークン을 남깁니다 [1].",  # copied from the Japanese passage
        "어텐션 싱크는 最初のトークン을 남깁니다 [1].",
        "어텐션 싱크는 最初のトークン을 남깁니다 [1].",
        "어텐션 싱크는 처음 토큰을 남깁니다 [2].",
    ]
    result, server = ask_korean(replies, settings, hits=hits)
    retry = server.requests[3]["messages"][-1]["content"]
    assert "最初" not in retry and "[2] (StreamingLLM)" in retry  # original numbering kept
    assert result.mode == "llm" and result.citations[0].passage.startswith("Keeping")


def test_a_draft_of_markers_alone_is_asked_again_to_write_the_answer_out(settings):
    replies = ["[1][2]", "어텐션 싱크는 처음 토큰을 남깁니다 [2]."]
    result, server = ask_korean(replies, settings)
    assert len(server.requests) == 2  # nothing to translate: asked again at once
    assert "full sentences" in server.requests[1]["messages"][-1]["content"]
    assert result.mode == "llm" and result.text == "어텐션 싱크는 처음 토큰을 남깁니다 [2]."


def test_twice_in_the_wrong_language_falls_back_to_cited_passages_with_the_reason(settings):
    with FakeOpenAI("Attention sinks keep the first tokens [2].") as server:
        result = answer("어텐션 싱크란?", HITS, llm_for(server), lang="ko", settings=settings)
    assert result.mode == "extractive" and result.citations
    assert result.text.startswith("생성된 답변이 검증을 통과하지 못했습니다")
    # Each quoted passage stays a block of its own, its marker first.
    assert "\n\n[1] Ring Attention: " in result.text and "\n\n[2] StreamingLLM: " in result.text
    assert any("English" in w for w in result.warnings)


def test_an_answer_no_passage_supports_is_not_shown_as_cited(settings):
    checker = SupportChecker(keyword_similarity, threshold=0.5)
    with FakeOpenAI("이 논문은 노벨상을 받은 단백질 구조 예측 방법입니다 [1].") as server:
        result = answer(
            "질문", HITS, llm_for(server), lang="ko", settings=settings, checker=checker
        )
    assert len(server.requests) == 1  # in the right language: nothing to translate
    assert result.mode == "extractive"
    assert "노벨상" not in result.text


def test_weak_evidence_means_abstaining_in_the_users_language(settings):
    with FakeOpenAI("should not be asked") as server:
        result = answer(
            "Quelle est la capitale de l'Australie ?",
            HITS,
            llm_for(server),
            lang="fr",
            settings=settings,
            relevance=0.2,
        )
    assert not server.requests
    assert result.abstained and result.mode == "no-results" and not result.citations
    assert result.text.startswith("Je n'ai rien trouvé")


def test_markers_standing_alone_are_dropped():
    checker = SupportChecker(keyword_similarity, threshold=0.5)
    checked = checker.check("처음 토큰을 싱크로 남깁니다 [2]. [1][2]", HITS)
    assert checked.text == "처음 토큰을 싱크로 남깁니다 [2]."
    checked = checker.check("[1] et [2]\n\nLes premiers jetons servent de sink [2].", HITS)
    assert checked.text == "Les premiers jetons servent de sink [2]."


def test_a_summary_in_the_wrong_language_twice_becomes_cited_passages_under_a_korean_notice(
    library, ingestor
):
    from paperlens.assistant.summarize import summarize_stream
    from tests.fixtures.papers import all_sources

    for source in all_sources():
        ingestor.ingest_doc(source)
    with FakeOpenAI("LoRA freezes the weights and trains low-rank matrices [1].") as server:
        final = list(summarize_stream(library, "2106.09685", lang="ko", llm=llm_for(server)))[-1]
    assert len(server.requests) == 4  # two tries at translating, then asked in stricter words
    assert final.mode == "extractive" and final.citations
    assert final.text.startswith("생성된 답변이 검증을 통과하지 못했습니다")
    assert any("English" in w for w in final.warnings)


def test_markdown_labels_are_not_part_of_a_summary_or_an_answer(library, ingestor, settings):
    from paperlens.assistant.summarize import summarize_stream
    from tests.fixtures.papers import all_sources

    for source in all_sources():
        ingestor.ingest_doc(source)
    reply = (
        "**日本語での要約:**\n\nLoRAは重みを固定します[1]。\n**結果**\n学習する量が減ります[1]。"
    )
    with FakeOpenAI(reply) as server:
        final = list(summarize_stream(library, "2106.09685", lang="ja", llm=llm_for(server)))[-1]
    assert final.mode == "llm"
    assert final.text.split() == ["LoRAは重みを固定します[1]。", "学習する量が減ります[1]。"]
    with FakeOpenAI(
        "### Réponse\nLes puits d'attention gardent les premiers jetons [2]."
    ) as server:
        result = answer("Puits ?", HITS, llm_for(server), lang="fr", settings=settings)
    assert result.text == "Les puits d'attention gardent les premiers jetons [2]."
    assert without_labels("**Summary:** LoRA trains [1].") == "LoRA trains [1]."
    listed = "- **LoRA**: trains low-rank matrices [1].\nThe key is **rank**: small [1]."
    assert without_labels(listed) == listed  # bold terms inside lines are content


@pytest.mark.parametrize(
    ("reply", "mode"),
    [
        (  # what a generator that writes Hindi gives: shown, cited
            "LoRA पहले से प्रशिक्षित मॉडल के भारों को स्थिर रखता है और हर लेयर में केवल छोटे "
            "मैट्रिक्स को ट्रेन करता है [1]। इससे ट्रेन होने वाले पैरामीटर बहुत कम हो जाते हैं [1]।",
            "llm",
        ),
        (GARBLED_HINDI, "extractive"),  # what the bundled 1.5B gives: never shown
    ],
)
def test_a_hindi_summary_is_shown_only_when_it_is_hindi(library, ingestor, reply, mode):
    from paperlens.assistant.summarize import summarize_stream
    from tests.fixtures.papers import all_sources

    for source in all_sources():
        ingestor.ingest_doc(source)
    with FakeOpenAI(reply) as server:
        final = list(summarize_stream(library, "2106.09685", lang="hi", llm=llm_for(server)))[-1]
    assert final.mode == mode and final.citations
    assert ("LoRA पहले से" in final.text) == (mode == "llm") and "नाइन्यूल" not in final.text


def test_a_failed_summary_quotes_the_passages_in_the_users_language_first(library, ingestor):
    from paperlens.assistant.summarize import summarize_stream
    from paperlens.ingest.documents import SourceDoc
    from tests.fixtures.papers import all_sources, paper

    notes = [
        SourceDoc(
            uri=f"test://weekly-en-{i}",
            sha256=f"en-{i}",
            kind="digest",
            papers=[paper("LoRA", "2106.09685", "en", f"Week {i}: LoRA trains low-rank updates.")],
        )
        for i in range(3)
    ]
    for source in [*notes, *all_sources()]:  # three English notes come first
        ingestor.ingest_doc(source)
    with FakeOpenAI("LoRA freezes the weights and trains low-rank matrices [1].") as server:
        final = list(summarize_stream(library, "2106.09685", lang="ja", llm=llm_for(server)))[-1]
    assert final.mode == "extractive"
    assert "低ランク分解行列" in final.text  # the Japanese digest's note
    japanese = next(c for c in final.citations if "低ランク分解行列" in c.passage)
    assert f"[{japanese.n}] 事前学習済み" in final.text  # cited by its paper-wide number


@pytest.mark.parametrize(
    ("text", "moved"),
    [
        (
            "[1][2] Pause tokens से मॉडल को फायदा होता है।",
            "Pause tokens से मॉडल को फायदा होता है [1][2]।",
        ),
        (
            "[2] 링 어텐션은 컨텍스트를 늘립니다. 그렇습니다 [1].",
            "링 어텐션은 컨텍스트를 늘립니다 [2]. 그렇습니다 [1].",
        ),
        ("[1] 4Kの文脈で同等です。[3] 速いです。", "4Kの文脈で同等です[1]。速いです[3]。"),
        ("Sinks keep the first tokens [2].", "Sinks keep the first tokens [2]."),
        # read through ("according to [3]"): moved, it would leave "에 따르면" behind
        ("[3]에 따르면 링 어텐션은 길어집니다.", "[3]에 따르면 링 어텐션은 길어집니다."),
    ],
)
def test_markers_a_sentence_starts_with_move_to_its_end(text, moved):
    assert markers_to_sentence_ends(text) == moved


def test_moving_markers_and_citing_copied_sentences_keep_the_line_breaks():
    from paperlens.assistant.checks.citations import attribute_sentences

    listed = "[1] LoRA freezes the weights.\n- It trains low-rank matrices."
    assert markers_to_sentence_ends(listed) == (
        "LoRA freezes the weights [1].\n- It trains low-rank matrices."
    )
    cited, added = attribute_sentences(listed, ["x", "LoRA trains low-rank matrices."])
    assert (
        cited == "[1] LoRA freezes the weights.\n- It trains low-rank matrices [2]." and added == 1
    )


def test_a_translation_lead_in_line_is_not_part_of_the_answer(settings):
    replies = [
        "Attention sinks keep the first tokens [2].",
        "다음은 한국어 번역입니다:\n어텐션 싱크는 처음 토큰을 남깁니다 [2].",
    ]
    result, server = ask_korean(replies, settings)
    assert result.text == "어텐션 싱크는 처음 토큰을 남깁니다 [2]."


@pytest.mark.parametrize(
    ("reply", "mode"), [("V = 50277 [1].", "llm"), ("V = 50000 [1].", "extractive")]
)
def test_an_answer_of_one_short_figure_is_shown_only_if_a_passage_states_it(reply, mode, settings):
    hits = [hit(1, "RWKV", "The parameter count uses V = 50277, the vocabulary size.")]
    checker = SupportChecker(keyword_similarity, threshold=0.5)
    with FakeOpenAI(replies=[reply]) as server:
        result = answer(
            "What is V?", hits, llm_for(server), lang="en", settings=settings, checker=checker
        )
    assert result.mode == mode
    assert "50000" not in result.text


def test_a_figure_too_short_to_compare_is_checked_by_its_numbers():
    hits = [*HITS, hit(3, "RWKV", "The parameter count uses V = 50277, the vocabulary size.")]
    checker = SupportChecker(keyword_similarity, threshold=0.5)
    right = checker.check("V = 50277 [1]", hits)  # stated by [3], not by the [1] it cites
    assert (right.text, right.sentences, right.supported) == ("V = 50277 [3]", 1, 1)
    wrong = checker.check("V = 50000 [3]", hits)
    assert (wrong.text, wrong.sentences, wrong.supported) == ("", 1, 0)
    assert checker.check("Voir [1].", hits).sentences == 0  # no figure: nothing to check


SIZES = (
    "Model #L #H dmodel\n125M\t12\t12\t768\n30B\t48\t56\t7168\n175B\t96\t96\t12288\n"
    "Table 1: the models' sizes. All of them saw 180B tokens."
)


@pytest.mark.parametrize(
    ("sentence", "missing"),
    [
        ("OPT-30Bのアテンションヘッド数は56です[1]。", []),  # its row's figure
        ("OPT-30B has 96 heads [1].", ["96"]),  # another row's figure
        ("OPT-30B saw 180B tokens [1].", []),  # the passage's prose, for every row
        ("OPT-30B has 48 layers, OPT-175B 96 [1].", []),  # two rows named
        ("The largest model has 96 heads [1].", []),  # no row named: the whole passage
    ],
)
def test_a_sentence_naming_a_table_row_is_held_to_that_row(sentence, missing):
    assert unstated(sentence, [rows_named(sentence, SIZES)]) == missing


@pytest.mark.parametrize(
    ("sentence", "missing"),
    [
        ("PaLM 540B scores 39.6 on NQ (EM) [1].", []),  # the sizes' row is column names
        ("PaLM 540B scores 81.4 on NQ (EM) [1].", ["81.4"]),  # TriviaQA's
        ("SEAL (LM+FM) intersective reaches 74.5 [1].", []),  # a variant, in other words
    ],
)
def test_column_names_and_a_named_rows_variants_stay(sentence, missing):
    results = (
        "Task\t8B\t62B\t540B\nNQ (EM)\t14.6\t27.6\t39.6\nTriviaQA (EM)\t47.2\t70.1\t81.4\n"
        "SEAL (LM+FM)\t25.3\t72.0\nSEAL (LM+FM, intersect.)\t26.3\t74.5"
    )
    assert unstated(sentence, [rows_named(sentence, results)]) == missing


HYPERPARAMETERS = (
    "Table 3: Reptile's settings for Omniglot. Parameter 5-way 20-way\n"
    "Inner batch size\t10\t20\nOuter iterations\t100K\t200K\n"
    "Every run used a meta-batch of 5 tasks."
)


@pytest.mark.parametrize(
    ("sentence", "passage", "among_cells"),
    [
        ("20-way runs used 100K outer iterations [1].", HYPERPARAMETERS, True),  # which column?
        ("Each run used 5 tasks a meta-batch [1].", HYPERPARAMETERS, False),  # its prose
        ("MIMIC-III reaches 57.1 at 16K [1].", "MIMIC-III [47] 52.8 50.7 54.6 57.1", True),
        ("Pets: 97.56 [1].", "Oxford-IIIT Pets\t97.56 ± 0.03 97.32 ± 0.11\t94.67 ± 0.15", True),
        ("The vocabulary holds 50277 tokens [1].", "The vocabulary size is 50277.", False),
        ("It reaches 99.9 [1].", HYPERPARAMETERS, False),  # not stated at all: not this check's
    ],
)
def test_a_figure_stated_only_among_a_tables_cells_is_told_apart(sentence, passage, among_cells):
    assert from_cells(sentence, [passage]) is among_cells


@pytest.mark.parametrize(
    ("reply", "cautioned"),
    [
        ("For 20-way, Reptile ran 100K outer iterations [1].", True),  # the 5-way column's
        ("For 20-way, Reptile ran 200K outer iterations [1].", True),  # right, just as unchecked
        ("Reptile used a meta-batch of 5 tasks [1].", False),
    ],
)
def test_an_answer_with_figures_from_a_tables_cells_says_their_column_is_unchecked(
    reply, cautioned, settings
):
    hits = [hit(1, "Reptile", HYPERPARAMETERS)]
    checker = SupportChecker(lambda s, g: np.ones((len(s), len(g))), threshold=0.5)
    with FakeOpenAI(replies=[reply]) as server:
        result = answer(
            "How many outer iterations?",
            hits,
            llm_for(server),
            lang="en",
            settings=settings,
            checker=checker,
        )
    assert result.mode == "llm" and result.text == reply
    assert result.figures_from_tables == ([1] if cautioned else [])
    cautions = [w for w in result.warnings if "not under the column" in w]
    assert cautions == (
        [
            'figures read from a table ([1]: "Outer iterations 100K 200K"): the checks '
            "found them in the cited table, not under the column the answer names; "
            "compare them with the table"
        ]
        if cautioned
        else []
    )


@pytest.mark.parametrize(
    ("sentence", "passage", "rows"),
    [
        ("20-way used 200K [1].", HYPERPARAMETERS, ["Outer iterations 100K 200K"]),
        (
            "16K gives 57.1 [1].",
            "Table 5.\nMIMIC-III [47] 52.8 54.6 57.1\nECtHR 72.2 79.2",
            ["MIMIC-III [47] 52.8 54.6 57.1"],
        ),
        ("A meta-batch of 5 [1].", HYPERPARAMETERS, []),  # stated by the prose
    ],
)
def test_the_table_rows_that_hold_a_sentences_figures_are_found(sentence, passage, rows):
    assert cell_rows(sentence, passage) == rows
