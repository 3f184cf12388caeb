"""The answer prompt's material for generator benchmarks: six passages and three
questions written for paperlens (no corpus text), in several languages like a real
library."""

from __future__ import annotations

from paperlens.index.hits import Hit

# Written for this benchmark (no corpus text); mixed languages like a real library.
PASSAGES = [
    (
        "Low-rank adaptation",
        "Instead of updating every weight of a pretrained transformer, low-rank adaptation "
        "freezes the original matrices and learns a pair of small matrices A and B whose "
        "product is added to each attention projection. With a rank of 4 or 8, the number "
        "of trainable parameters falls by several orders of magnitude, optimizer state "
        "shrinks accordingly, and the learned update can be merged into the frozen weights "
        "after training so inference costs nothing extra. The authors report quality on par "
        "with full fine-tuning on language understanding and generation benchmarks.",
    ),
    (
        "Layer normalization",
        "Layer normalization computes the mean and variance over the features of a single "
        "example rather than over a mini-batch. Because the statistics do not depend on "
        "other examples, it behaves identically at training and test time and works for "
        "recurrent networks where batch statistics vary with sequence position. A learned "
        "gain and bias follow the normalization. Experiments show faster convergence for "
        "recurrent models and for attention models trained on long sequences, and the "
        "method is now a standard component of transformer blocks.",
    ),
    (
        "스파스 전문가 혼합",
        "전문가 혼합 모델은 각 토큰을 소수의 전문가 피드포워드 네트워크로만 보내는 라우터를 "
        "학습한다. 전체 매개변수 수는 크게 늘지만 토큰당 계산량은 거의 그대로 유지된다. "
        "라우터가 일부 전문가에게만 토큰을 몰아주는 문제를 막기 위해 부하 균형 손실을 추가하며, "
        "전문가 용량을 넘는 토큰은 버려지거나 다음 층으로 그대로 전달된다. 저자들은 같은 "
        "계산 예산에서 밀집 모델보다 사전학습이 몇 배 빨라졌다고 보고한다.",
    ),
    (
        "検索拡張生成",
        "検索拡張生成では、質問に関連する文書を外部の索引から取り出し、その文書を言語モデルの"
        "入力に加えて回答を生成する。モデルのパラメータに知識を詰め込む必要がないため、索引を"
        "差し替えるだけで知識を更新できる。検索器と生成器を一緒に学習させると、質問応答の"
        "正解率が向上し、根拠となる文書を示せるので事実誤りも減ったと報告されている。",
    ),
    (
        "मिश्रित परिशुद्धता प्रशिक्षण",
        "मिश्रित परिशुद्धता प्रशिक्षण में भार और सक्रियण 16-बिट फ़्लोटिंग पॉइंट में रखे जाते हैं, "
        "जबकि भारों की एक 32-बिट मुख्य प्रति अद्यतन के लिए रखी जाती है। छोटे ग्रेडिएंट शून्य न "
        "हो जाएँ, इसके लिए हानि को एक स्थिर गुणक से बढ़ाया जाता है। इससे स्मृति लगभग आधी हो "
        "जाती है और आधुनिक त्वरकों पर गति बढ़ती है, जबकि सटीकता पूर्ण परिशुद्धता के बराबर रहती है।",
    ),
    (
        "Knowledge distillation",
        "Knowledge distillation trains a small student network to match the softened output "
        "distribution of a large teacher rather than only the hard labels. Raising the "
        "softmax temperature exposes how the teacher ranks wrong classes, which carries "
        "information about similarity between classes. A weighted sum of the soft-target "
        "loss and the ordinary cross-entropy is minimized. Students distilled this way reach "
        "accuracy close to the teacher with a fraction of its parameters and run much faster "
        "at inference time, which makes the method popular for deployment on devices.",
    ),
]

QUESTIONS = {
    "ko": "LoRA는 어떻게 학습해야 하는 매개변수 수를 줄이나요?",
    "hi": "मिश्रित परिशुद्धता प्रशिक्षण स्मृति को कैसे कम करता है?",
    "ja": "検索拡張生成はどのように知識を更新できますか？",
}


def hits(rotation: int) -> list[Hit]:
    order = PASSAGES[rotation:] + PASSAGES[:rotation]
    return [
        Hit(
            rank=i,
            paper_id=f"p{i}",
            arxiv_id=None,
            title=title,
            score=1.0,
            passage=text,
            passage_id=i,
            page=None,
            lang=None,
            kind="digest",
            source="bench",
            url=None,
        )
        for i, (title, text) in enumerate(order, 1)
    ]
