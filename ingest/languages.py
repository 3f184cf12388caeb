"""Every language paperlens knows, and what it knows about each: the one table the
language detector, the prompts, the checks and the app read.

Adding a language means adding its entry here. `ANSWER_LANGUAGES` (the ones the
app offers) are those with `Labels`: what paperlens says in that language.
Regular expressions are in the syntax of the `regex` module (\\p{Script}).
It lives in `ingest/` because the detector (ingest/langid.py) reads it and
`ingest` imports nothing from the layers above.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from paperlens.ingest.errors import PaperlensError


@dataclass(frozen=True)
class Labels:
    """What paperlens says in a language."""

    nothing_found: str  # the library holds nothing that answers the question
    # no paper found mentions a name the question asks about ({names}); the closest ({titles})
    nothing_on: str
    retrieval_only: str  # no generator ({why}): quoted passages follow
    checks_failed: str  # the model's text failed the checks: quoted passages follow
    # EXAMPLE_SOURCE (assistant/prompts.py) translated: the worked example of a translation
    example_translation: str | None = None
    # "Write only in <language>", in the language, for the stricter retry
    # (assistant/repair.py); without it the rule is said in English.
    write_only_in: str | None = None


@dataclass(frozen=True)
class CountWords:
    """Small counts written as words (assistant/checks/figures.py): "네 개의 GPU" is 4
    GPUs. Where `counters` is set, a word counts only before one of them (alone it
    may be a syllable of another word: 네트워크); else it counts as a word alone."""

    words: Mapping[str, float]
    counters: str = ""  # regex alternation of counter words
    not_after: str = ""  # regex class: a word right after one of these is not a count


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1
    name: str  # in English, as prompts name it
    detected: bool = True  # lingua tells it apart (ingest/langid.py)
    # Its own letters besides Latin (Latin is allowed in every language: names, terms).
    script: str | None = None
    # Unicode script names only this language writes here: seeing them decides detection.
    decisive_scripts: tuple[str, ...] = ()
    # Words are separated by spaces and never switch from its script to Latin
    # mid-word ("네ural" is a glitch; Japanese and Chinese run words together).
    spaced: bool = False
    # Large-number units small models borrow from Chinese ("400万 토큰"), as this
    # language writes them: replaced, not re-asked (assistant/checks/writing_systems.py).
    number_units: Mapping[str, str] = field(default_factory=dict)
    count_words: CountWords | None = None
    # Words that join citation markers standing alone ("[1] et [2]").
    connectors: tuple[str, ...] = ()
    # Share of known words below which an answer in it is not the language
    # (assistant/checks/lexicon.py; measured for Hindi only, docs/answers.md#thresholds).
    known_share: float | None = None
    # How a sentence speaks of the answer itself ("this answer clearly shows ...") and
    # the word for a numbered passage ("Passage [1] supports ..."): small generators
    # comment on their own answer, which says nothing about the papers
    # (assistant/checks/support.py drops such sentences).
    this_answer: tuple[str, ...] = ()
    passage_word: str | None = None
    labels: Labels | None = None  # set for the languages paperlens answers in


CJK_NUMERALS = {
    "二": 2.0,
    "三": 3.0,
    "四": 4.0,
    "五": 5.0,
    "六": 6.0,
    "七": 7.0,
    "八": 8.0,
    "九": 9.0,
    "十": 10.0,
}
NOT_AFTER_CJK_NUMERAL = "[一二三四五六七八九十百千]"  # part of a larger number: 二十, 三百

_LANGUAGES = (
    Language(
        "en",
        "English",
        connectors=("and", "or"),
        this_answer=("this answer", "the answer above", "the above answer"),
        passage_word="passage",
        labels=Labels(
            nothing_found="I found nothing relevant to this question in your library.",
            nothing_on="None of the papers found for this question mentions {names}, so your "
            "library does not seem to hold what you ask about. Closest papers: {titles}.",
            retrieval_only="No answer generator is available ({why}); "
            "here are the most relevant passages:",
            checks_failed="The generated answer did not pass paperlens' checks; "
            "here are the most relevant passages:",
        ),
    ),
    Language(
        "ko",
        "Korean",
        script=r"\p{Hangul}",
        decisive_scripts=("HANGUL",),
        spaced=True,
        number_units={"万": "만", "萬": "만", "億": "억", "兆": "조"},
        count_words=CountWords(
            {
                "두": 2.0,
                "세": 3.0,
                "네": 4.0,
                "다섯": 5.0,
                "여섯": 6.0,
                "일곱": 7.0,
                "여덟": 8.0,
                "아홉": 9.0,
                "열": 10.0,
            },
            counters="개|대|가지|명|번(?!째)|배|층|단계",
            not_after=r"[\p{Hangul}]",
        ),
        connectors=("및", "과", "와"),
        this_answer=("이 답변", "이 대답"),
        passage_word="구절",
        labels=Labels(
            nothing_found="라이브러리에서 이 질문과 관련된 내용을 찾지 못했습니다.",
            nothing_on="이 질문으로 찾은 논문 중 {names}을(를) 언급하는 논문이 없어, 라이브러리에 "
            "해당 내용이 없는 것 같습니다. 가장 가까운 논문: {titles}.",
            retrieval_only="답변 생성기를 사용할 수 없습니다 ({why}). 가장 관련 있는 구절입니다:",
            checks_failed="생성된 답변이 검증을 통과하지 못했습니다. 가장 관련 있는 구절입니다:",
            example_translation="LoRA는 사전학습된 가중치를 고정하고 작은 행렬 두 개만 "
            "학습하여, 학습할 매개변수를 0.01%로 줄인다 [2].",
            write_only_in="반드시 한국어로만 답하세요. 한자, 일본어 가나, 영어 문장을 쓰지 마세요.",
        ),
    ),
    Language(
        "ja",
        "Japanese",
        script=r"[\p{Han}\p{Hiragana}\p{Katakana}ー]",
        decisive_scripts=("HIRAGANA", "KATAKANA"),
        count_words=CountWords(
            CJK_NUMERALS, counters="個|種|塊|倍|層|次|つ|台|名", not_after=NOT_AFTER_CJK_NUMERAL
        ),
        connectors=("と",),
        this_answer=("この回答", "この答え"),
        passage_word="パッセージ",
        labels=Labels(
            nothing_found="ライブラリの中に、この質問に関係する内容は見つかりませんでした。",
            nothing_on="この質問で見つかった論文はどれも{names}に触れておらず、ライブラリには"
            "その内容がないようです。最も近い論文: {titles}。",
            retrieval_only="回答生成モデルが使えません ({why})。最も関連する箇所を示します:",
            checks_failed="生成された回答は検証を通過しませんでした。最も関連する箇所を示します:",
            example_translation="LoRAは事前学習済みの重みを固定し、小さな行列を2つだけ学習"
            "することで、学習するパラメータを0.01%に減らす[2]。",
            write_only_in="必ず日本語だけで答えてください。ハングルや英語の文を使わないでください。",
        ),
    ),
    Language(
        "zh",
        "Chinese",
        script=r"\p{Han}",
        count_words=CountWords(
            CJK_NUMERALS,
            counters="个|個|块|塊|种|種|倍|层|層|次|台|名|项|項|张|張",
            not_after=NOT_AFTER_CJK_NUMERAL,
        ),
        connectors=("和", "及"),
        this_answer=("这个回答", "这一回答", "本回答", "这个答案"),
        passage_word="段落",
        labels=Labels(
            nothing_found="在你的文库中没有找到与这个问题相关的内容。",
            nothing_on="为这个问题找到的论文都没有提到{names}，你的文库中似乎没有相关内容。"
            "最接近的论文：{titles}。",
            retrieval_only="没有可用的回答生成模型（{why}）。以下是最相关的段落：",
            checks_failed="生成的回答没有通过检查。以下是最相关的段落：",
            example_translation="LoRA冻结预训练权重，只训练两个小矩阵，从而把可训练参数减少"
            "到0.01%[2]。",
            write_only_in="请只用简体中文回答，不要使用日文假名、韩文或英文句子。",
        ),
    ),
    Language(
        "hi",
        "Hindi",
        script=r"\p{Devanagari}",
        decisive_scripts=("DEVANAGARI",),
        spaced=True,
        count_words=CountWords(
            {
                "तीन": 3.0,
                "चार": 4.0,
                "पाँच": 5.0,
                "पांच": 5.0,
                "छह": 6.0,
                "छः": 6.0,
                "सात": 7.0,
                "आठ": 8.0,
                "नौ": 9.0,
                "दस": 10.0,
            }
        ),
        connectors=("और",),
        this_answer=("यह उत्तर", "इस उत्तर", "यह जवाब"),
        passage_word="अंश",
        known_share=0.85,
        labels=Labels(
            nothing_found="आपकी लाइब्रेरी में इस प्रश्न से संबंधित कुछ नहीं मिला।",
            nothing_on="इस प्रश्न के लिए मिले किसी भी पेपर में {names} का उल्लेख नहीं है; लगता है "
            "आपकी लाइब्रेरी में यह नहीं है। सबसे निकट के पेपर: {titles}।",
            retrieval_only="उत्तर बनाने वाला मॉडल उपलब्ध नहीं है ({why}); सबसे प्रासंगिक अंश ये हैं:",
            checks_failed="बनाया गया उत्तर जाँच में सफल नहीं हुआ; सबसे प्रासंगिक अंश ये हैं:",
            example_translation="LoRA पहले से प्रशिक्षित भारों को स्थिर रखता है और केवल दो छोटे "
            "मैट्रिक्स को प्रशिक्षित करता है, जिससे प्रशिक्षित होने वाले पैरामीटर घटकर 0.01% "
            "रह जाते हैं [2]।",
            write_only_in="केवल हिंदी (देवनागरी लिपि) में उत्तर दें। अंग्रेज़ी वाक्य न लिखें।",
        ),
    ),
    Language(
        "fr",
        "French",
        connectors=("et", "ou"),
        this_answer=("cette réponse",),
        passage_word="passage",
        labels=Labels(
            nothing_found="Je n'ai rien trouvé de pertinent pour cette question dans votre "
            "bibliothèque.",
            nothing_on="Aucun des articles trouvés pour cette question ne mentionne {names} ; "
            "votre bibliothèque ne semble pas contenir ce que vous cherchez. Articles les "
            "plus proches : {titles}.",
            retrieval_only="Aucun générateur de réponses n'est disponible ({why}) ; "
            "voici les passages les plus pertinents :",
            checks_failed="La réponse générée n'a pas passé les vérifications ; voici les "
            "passages les plus pertinents :",
            example_translation="LoRA gèle les poids pré-entraînés et n'entraîne que deux "
            "petites matrices, ce qui réduit les paramètres entraînables à 0.01% [2].",
        ),
    ),
    Language(
        "de",
        "German",
        connectors=("und",),
        this_answer=("diese Antwort",),
        passage_word="Passage",
        labels=Labels(
            nothing_found="Ich habe in Ihrer Bibliothek nichts Passendes zu dieser Frage gefunden.",
            nothing_on="Keines der zu dieser Frage gefundenen Papers erwähnt {names}; Ihre "
            "Bibliothek scheint das Gesuchte nicht zu enthalten. Nächstliegende Papers: "
            "{titles}.",
            retrieval_only="Kein Antwortgenerator verfügbar ({why}); hier die relevantesten "
            "Passagen:",
            checks_failed="Die erzeugte Antwort hat die Prüfungen nicht bestanden; hier die "
            "relevantesten Passagen:",
            example_translation="LoRA friert die vortrainierten Gewichte ein und trainiert "
            "nur zwei kleine Matrizen, wodurch die trainierbaren Parameter auf 0.01% sinken [2].",
        ),
    ),
    Language(
        "es",
        "Spanish",
        connectors=("y", "e"),
        this_answer=("esta respuesta",),
        passage_word="pasaje",
        labels=Labels(
            nothing_found="No encontré nada relevante para esta pregunta en tu biblioteca.",
            nothing_on="Ninguno de los artículos encontrados para esta pregunta menciona {names}; "
            "tu biblioteca no parece contener lo que buscas. Artículos más cercanos: {titles}.",
            retrieval_only="No hay un generador de respuestas disponible ({why}); "
            "estos son los pasajes más relevantes:",
            checks_failed="La respuesta generada no superó las comprobaciones; estos son los "
            "pasajes más relevantes:",
            example_translation="LoRA congela los pesos preentrenados y solo entrena dos "
            "matrices pequeñas, lo que reduce los parámetros entrenables al 0.01% [2].",
        ),
    ),
    Language(
        "pt",
        "Portuguese",
        connectors=("e", "ou"),
        this_answer=("esta resposta",),
        passage_word="passagem",
        labels=Labels(
            nothing_found="Não encontrei nada relevante para esta pergunta na sua biblioteca.",
            nothing_on="Nenhum dos artigos encontrados para esta pergunta menciona {names}; "
            "sua biblioteca não parece conter o que você procura. Artigos mais próximos: "
            "{titles}.",
            retrieval_only="Nenhum gerador de respostas está disponível ({why}); estes são os "
            "trechos mais relevantes:",
            checks_failed="A resposta gerada não passou nas verificações; estes são os trechos "
            "mais relevantes:",
        ),
    ),
    Language(
        "it",
        "Italian",
        connectors=("e",),
        this_answer=("questa risposta",),
        passage_word="passaggio",
        labels=Labels(
            nothing_found="Non ho trovato nulla di pertinente a questa domanda nella tua "
            "biblioteca.",
            nothing_on="Nessuno degli articoli trovati per questa domanda menziona {names}; "
            "la tua biblioteca non sembra contenere ciò che cerchi. Articoli più vicini: "
            "{titles}.",
            retrieval_only="Nessun generatore di risposte è disponibile ({why}); ecco i "
            "passaggi più pertinenti:",
            checks_failed="La risposta generata non ha superato i controlli; ecco i passaggi "
            "più pertinenti:",
        ),
    ),
    Language(
        "ru",
        "Russian",
        script=r"\p{Cyrillic}",
        decisive_scripts=("CYRILLIC",),
        this_answer=("этот ответ", "данный ответ"),
        passage_word="фрагмент",
        labels=Labels(
            nothing_found="В вашей библиотеке не нашлось ничего, что относится к этому вопросу.",
            nothing_on="Ни одна из найденных по этому вопросу статей не упоминает {names}; "
            "похоже, в вашей библиотеке этого нет. Ближайшие статьи: {titles}.",
            retrieval_only="Генератор ответов недоступен ({why}); вот наиболее подходящие "
            "фрагменты:",
            checks_failed="Сгенерированный ответ не прошёл проверки; вот наиболее подходящие "
            "фрагменты:",
        ),
    ),
    Language("ar", "Arabic", script=r"\p{Arabic}", decisive_scripts=("ARABIC",)),
    Language("vi", "Vietnamese", detected=False),
    Language("tr", "Turkish", detected=False),
    Language("id", "Indonesian", detected=False),
)

LANGUAGES: Mapping[str, Language] = MappingProxyType({lang.code: lang for lang in _LANGUAGES})
ANSWER_LANGUAGES = [lang.code for lang in _LANGUAGES if lang.labels is not None]


def language(code: str | None) -> Language | None:
    """The table's entry for `code` (any case), or None for a language it lacks."""
    return LANGUAGES.get((code or "").lower())


def answer_language(code: str) -> str:
    """`code` (any case) as the language to write an answer or summary in. One the
    table lacks is a user's mistake ("xx", "kr"), named with the choices: the
    checks could not tell a draft in it from a draft in the wrong language."""
    known = language(code.strip())
    if known is None:
        raise PaperlensError(f"unknown language {code!r}: use one of {', '.join(LANGUAGES)}")
    return known.code


def language_name(code: str | None) -> str:
    """The language's English name ("Korean"); an unknown code is named by itself."""
    known = language(code or "en")
    return known.name if known else code or "English"


def labels(code: str | None) -> Labels:
    """What paperlens says in `code`, in English where it has no labels for it."""
    known = language(code)
    return known.labels if known and known.labels else LANGUAGES["en"].labels
