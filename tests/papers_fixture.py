"""A tiny multilingual library written for the tests (our own sentences)."""

from ingest.models import PaperDoc, Section, SourceDoc


def paper(title, arxiv_id, lang, text, titles=None) -> PaperDoc:
    return PaperDoc(
        title=title,
        titles=titles or {lang: title},
        arxiv_id=arxiv_id,
        links={"paper": f"https://arxiv.org/abs/{arxiv_id}"} if arxiv_id else {},
        sections=[Section("digest", text, lang)],
    )


def korean_digest() -> SourceDoc:
    return SourceDoc(
        uri="test://weekly-ko",
        sha256="ko-1",
        kind="digest",
        papers=[
            paper(
                "Ring Attention with Blockwise Transformers",
                "2310.01889",
                "ko",
                "긴 시퀀스를 여러 장치에 블록 단위로 나누어 셀프 어텐션을 계산하는 방법입니다.",
                {
                    "ko": "블록형 트랜스포머를 이용한 링 어텐션",
                    "en": "Ring Attention with Blockwise Transformers",
                },
            ),
            paper(
                "Layer Normalization",
                "1607.06450",
                "ko",
                "배치가 아니라 한 샘플 안의 뉴런들에 대해 평균과 분산을 계산해 정규화합니다.",
                {"ko": "레이어 정규화", "en": "Layer Normalization"},
            ),
        ],
    )


def french_list() -> SourceDoc:
    return SourceDoc(
        uri="test://liste-fr",
        sha256="fr-1",
        kind="digest",
        papers=[
            paper(
                "LoRA : adaptation de bas rang des grands modèles de langage",
                "2106.09685",
                "fr",
                "On gèle les poids pré-entraînés et on n'entraîne que de petites matrices de "
                "rang faible ajoutées à chaque couche du Transformer.",
            ),
            paper(
                "PPO : algorithmes d'optimisation de politique proximale",
                "1707.06347",
                "fr",
                "Une méthode d'apprentissage par renforcement qui limite la taille de chaque "
                "mise à jour de la politique grâce à un objectif tronqué.",
            ),
        ],
    )


def japanese_digest() -> SourceDoc:
    return SourceDoc(
        uri="test://weekly-ja",
        sha256="ja-1",
        kind="digest",
        papers=[
            paper(
                "Efficient Streaming Language Models with Attention Sinks",
                "2309.17453",
                "ja",
                "最初のトークンのキーと値を保持するだけで、微調整なしに無限長のストリーミング生成が"
                "可能になることを示した StreamingLLM を提案。",
                {
                    "ja": "アテンションシンクを備えた効率的なストリーミング言語モデル",
                    "en": "Efficient Streaming Language Models with Attention Sinks",
                },
            ),
            paper(
                "LoRA: Low-Rank Adaptation of Large Language Models",
                "2106.09685",
                "ja",
                "事前学習済みの重みを凍結し、低ランク分解行列だけを学習する効率的な微調整手法。",
                {
                    "ja": "LoRA: 大規模言語モデルの低ランク適応",
                    "en": "LoRA: Low-Rank Adaptation of Large Language Models",
                },
            ),
        ],
    )


def all_sources() -> list[SourceDoc]:
    return [korean_digest(), french_list(), japanese_digest()]
