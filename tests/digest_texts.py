"""Digest files for CLI tests, in the shapes the real digests use (our own sentences)."""

from __future__ import annotations

from pathlib import Path

KOREAN = """[2023/10/09 ~ 10/15] 이번 주의 주요 ML 논문 (Top ML Papers of the Week)

소개

이번 주에는 효율적인 미세조정과 정규화에 관한 논문을 골랐습니다.


저랭크 적응으로 대규모 언어 모델 미세조정 / LoRA: Low-Rank Adaptation of Large Language Models

논문 소개

  • 사전학습된 가중치는 고정하고 각 층에 작은 저랭크 행렬만 추가로 학습해서 학습 파라미터 수를 크게 줄입니다.

    Freezes the pretrained weights and trains small low-rank matrices added to each layer.

논문 링크

https://arxiv.org/abs/2106.09685


레이어 정규화 / Layer Normalization

논문 소개

  • 배치 통계 대신 한 샘플 안의 모든 뉴런에 대해 평균과 분산을 계산하여 정규화합니다.

    Normalizes with the mean and variance over the neurons of one example instead of the batch.

논문 링크

https://arxiv.org/abs/1607.06450
"""

JAPANESE = """[2023/10/02 ~ 10/08] 今週の主要ML論文(Top ML Papers of the Week)

概要

  • 今週はストリーミング推論と注意機構の論文を紹介します。


アテンションシンクを備えた効率的なストリーミング言語モデル / Efficient Streaming Language Models with Attention Sinks

論文紹介

  • 先頭トークンのキーと値をキャッシュに残しておくだけで、追加学習なしに非常に長い入力を安定して処理できることを示しました。

    Keeping the first tokens' keys and values in the cache lets models stream very long inputs without fine-tuning.

論文リンク

https://arxiv.org/abs/2309.17453


アテンションこそすべて / Attention Is All You Need

論文紹介

  • 再帰も畳み込みも使わず、注意機構だけで構成された翻訳モデル Transformer を提案しました。

    Proposes the Transformer, a translation model built only from attention, without recurrence or convolution.

論文リンク

https://arxiv.org/abs/1706.03762
"""

FRENCH = """Liste de lecture : les articles fondateurs

Papier pionnier sur les transformateurs

PPO : algorithmes d'optimisation de politique proximale

Algorithmes d'optimisation de politique proximale

*auteur:OpenAI

*original:https://arxiv.org/abs/1707.06347

Cette méthode d'apprentissage par renforcement limite l'ampleur de chaque mise à jour de la politique grâce à un objectif tronqué, ce qui la rend simple et stable.
"""


def write_digests(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "ko": folder / "weekly_ko.txt",
        "ja": folder / "weekly_ja.txt",
        "fr": folder / "liste_fr.txt",
    }
    files["ko"].write_text(KOREAN, encoding="utf-8")
    files["ja"].write_text(JAPANESE, encoding="utf-8")
    files["fr"].write_text(FRENCH, encoding="utf-8")
    return files


def big_korean_digest(papers: int) -> str:
    """A long digest (made-up papers, no links) that takes a while to embed."""
    blocks = ["[2024/01/01 ~ 01/07] 이번 주의 주요 ML 논문\n"]
    for i in range(papers):
        blocks.append(
            f"\n합성 연구 {i}번 / Synthetic Study Number {i}\n\n논문 소개\n\n"
            f"  • 이 합성 논문 {i}번은 테스트를 위해 만들어졌으며 긴 문장으로 모델의 처리 시간을 "
            f"늘립니다. 실험 {i}에서는 여러 가지 설정을 비교하고 결과를 자세히 보고합니다. "
            "각 설정은 서로 다른 데이터와 하이퍼파라미터를 사용합니다.\n\n"
            f"    Synthetic paper {i} exists to make ingest take a measurable amount of time; "
            "it compares several settings and reports the results in detail.\n"
        )
    return "".join(blocks)
