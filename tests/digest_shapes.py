"""Small digests in the shapes real ones are published in (our own sentences).

Each imitates the structure of a real source, not its text: DAIR.AI's weekly
tables in their three row styles, an arXiv bot's Korean daily digest, a
Chinese paper-reading index, a Japanese reading list and a Korean episode list.
"""

from __future__ import annotations

DAIR_WEEKS = """# ML Papers of The Week

[Subscribe to our newsletter](https://example.org/newsletter) for the weekly list.

## 2025
- [Top ML Papers of the Week (June 2 - June 8)](./#top-ml-papers-of-the-week-june-2---june-8---2025)

## Top ML Papers of the Week (June 2 - June 8) - 2025
| **Paper**  | **Links** |
| ------------- | ------------- |
| 1) Sparse Mixtures for Long Inputs  This paper routes each token to two of sixteen experts and keeps memory flat as inputs grow. <br>● Training is stable without auxiliary losses. <br>● Matches dense models at a third of the compute. | [Paper](https://arxiv.org/abs/2506.01234), [Tweet](https://x.com/example/status/11) |
| 2) Does Reasoning Help Retrieval?  A study asking whether chain-of-thought improves dense retrieval; it mostly does not. | [Paper](https://arxiv.org/abs/2506.02345) |
| 3) Agent Safety Card  An industry lab publishes a system card describing how its agent was evaluated before release. | [System Card](https://lab.example.com/agent-safety-card.pdf), [Tweet](https://x.com/example/status/12) |
| 4) Workflow Graphs for Agents This paper builds agents as directed graphs of prompts so that business rules are always followed. | [Paper](https://arxiv.org/abs/2506.03456) |

## Top ML Papers of the Week (May 26 - June 1) - 2025
| **Paper**  | **Links** |
| ------------- | ------------- |
| 1) Self-Adaptive LLMs - adapts a model to unseen tasks at inference time by rescaling singular values of its weights. | [Paper](https://arxiv.org/abs/2505.04321), [Code](https://github.com/example/adapt) |
| 2) **Memory Layers at Scale** - shows that trainable key-value memory layers beat dense models of twice the compute on factual questions. | [Paper](https://arxiv.org/abs/2505.05432) |
| 3) Lab Blog on Interpretability  A blog post tracing the circuits a model uses for arithmetic. | [Blog](https://lab.example.com/blog/circuits), [Tweet](https://x.com/example/status/13) |
| 4) **1.58-bit Diffusion** - quantizes an image generator's weights to three values with little loss in quality. | [Paper](https://arxiv.org/abs/2505.06543) |
| 5) **Sparse Mixtures for Long Inputs** - listed again a week later with a shorter note. | [Paper](https://arxiv.org/abs/2506.01234) |
"""

ARXIVBOT_KO = """### Hierarchical Answer Aggregation for Reasoning Chains (https://arxiv.org/abs/2405.10001)
Comments:
          12 pages, 5 figures

- **What's New**: 여러 추론 경로의 답을 계층적으로 모아 소수의 정답도 놓치지 않도록 하는 방법을 제안합니다.

- **Technical Details**: 각 추론 경로를 먼저 평가하고, 과제의 난이도에 따라 샘플 수를 동적으로 조절합니다.



### Code-Mixed Sentiment Models for Low-Resource Pairs (https://arxiv.org/abs/2405.10002)
- **What's New**: 영어와 다른 언어가 섞인 문장의 감정과 혐오 표현을 분류하는 이중 언어 모델을 공개합니다.

- **Performance Highlights**: 단일 언어 모델보다 혼합 문장에서 더 높은 정확도를 보였습니다.
"""

MLI_ZH = """# 论文精读

## 录制完成的论文

| 日期 | 标题 | 时长 | 视频 |
| --: | -- | --: | -- |
| 9/04/24 | 大模型训练流程 · 第五部分 | 10:41 | [![bilibili](https://img.shields.io/badge/bilibili-views-blue)](https://www.bilibili.com/video/BV1xx) |
| 8/05/24 | [大模型论文精读 · 预训练数据](https://arxiv.org/pdf/2407.00001) | 23:37 | [![bilibili](https://img.shields.io/badge/x)](https://www.bilibili.com/video/BV2xx) |
| 3/03/22 | [GPT](https://cdn.example.com/gpt1.pdf), [GPT-2](https://cdn.example.com/gpt2.pdf), [GPT-3](https://arxiv.org/abs/2005.00003) 精读 | 1:29:58 | [![bilibili](https://img.shields.io/badge/x)](https://www.bilibili.com/video/BV3xx) |

[^notes]: 1 [一篇两百页的综述](https://arxiv.org/abs/2108.00004)，2 [对归一化层的新研究](https://arxiv.org/pdf/1911.00005.pdf)

## 所有论文

### 计算机视觉

| 已录制 | 年份 | 名字 | 简介 | 引用 |
| ------ | ---- | ---- | ---- | ---- |
| ✅ | 2015 | [ResNet](https://arxiv.org/pdf/1512.00006.pdf) | 残差连接让很深的网络也能训练 | [![citation](https://img.shields.io/badge/citation-1-blue)](https://www.semanticscholar.org/paper/abc) |
|  | 2017 | [MobileNet](http://arxiv.org/abs/1704.00007v2) | 适合手机的小型卷积网络 | |
| ✅ | 2024 | [大模型](https://arxiv.org/pdf/2407.00001) | 开源的大语言模型 | |
"""

ARXIVTIMES_JA = """# Materials

機械学習を学ぶための教材

## Machine Learning

* [Intro Course on Machine Learning](https://www.coursera.org/learn/example)
  * 最初に受けるならこの講座。数式より直感を重視している。
* [A Survey of Deep Learning for Science](https://arxiv.org/abs/2003.00008)
  * 科学分野での深層学習の使い方を広く整理した資料。
  * 実装に使えるライブラリも紹介されている。
* [深層学習の教科書](https://www.example.co.jp/books/123)
  * 理論をしっかり学べる書籍。

### Anomaly Detection

* [Deep Anomaly Detection: A Survey](https://arxiv.org/abs/1901.00009)
  * 異常検知の手法を網羅的にまとめたサーベイ。
  * [Unifying Deep and Shallow Anomaly Detection](https://arxiv.org/abs/2009.00010)
    * 浅い手法と深い手法を統一的に見直したレビュー。
* [A conference talk](https://www.youtube.com/watch?v=abc)
"""

EPISODES_KO = """# Weekly Arxiv 만담

### 개요
* 매주 한 주간 공개된 AI 논문들을 가볍게 소개하는 방송입니다.

### 시즌 1 + 회차별 주요 논문
* [ep3:20210328](https://github.com/example/talk/issues/3): [SwinT](https://arxiv.org/abs/2103.00011), [Gopher](https://storage.example.com/papers/gopher.pdf) [다시듣기](https://www.clubhouse.com/room/abc)
* [ep2:20210314](https://github.com/example/talk/issues/2): [SEER](https://arxiv.org/abs/2103.00012v1), [Multimodal Neurons](https://openai.com/blog/multimodal-neurons/)
* [ep1:20210307](https://github.com/example/talk/issues/1)
"""

PROSE_EN = """Notes from our reading group

This week we read the attention paper (arXiv:1706.03762) and compared it with
the layer normalization paper, https://arxiv.org/abs/1607.06450, which it relies on.
We also looked at a journal article, https://doi.org/10.1038/s41586-000-00013-x.
"""

# An index table that continues a group on rows whose first cells are empty,
# some rows with no description at all; a footnote linking an API, not a paper.
INDEX_CONTINUED_ZH = """# 论文索引

## 检测

| 已读 | 年份 | 名字 | 简介 | 引用 |
| ---- | ---- | ---- | ---- | ---- |
| ✅ | 2013 | [区域卷积网络](https://arxiv.org/pdf/1311.90001v5.pdf) | 两阶段检测的起点 | [![citation](https://img.shields.io/badge/c-1-blue)](https://www.semanticscholar.org/paper/aaa) |
|        | 2015 | [Quick Region Net](http://arxiv.org/abs/1504.90002v2)   |                       | [![citation](https://img.shields.io/badge/c-2-blue)](https://www.semanticscholar.org/paper/bbb) |
|        | 2015 | [Speedy Region Net](http://arxiv.org/abs/1506.90003v3) |                       | |
| | | [Look Once Detector](https://arxiv.org/abs/1506.90004) | | |

（引用数来自一个公开的 [API](https://api.semanticscholar.org/api-docs/graph#operation/get_paper)，可以自动更新。）
"""

# A reading list whose last bullet has no note under it.
READING_BARE_JA = """# 教材

## サーベイ

* [A Survey of Graph Learning](https://arxiv.org/abs/1812.90005)
  * グラフ上の学習手法を広く整理している。
* [Deep Learning for Opinion Mining : A Survey](https://arxiv.org/abs/1801.90006)
"""
