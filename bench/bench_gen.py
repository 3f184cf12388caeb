"""Local generator benchmark: load time, time to first token, tokens/s, total time.

    PYTHONPATH=. .venv/bin/python bench/bench_gen.py [--models K,K] [--configs N,N]
        [--questions ko,hi,ja] [--max-tokens 200] [--out answers.md]

Runs each bundled model (assistant/llm.py BUNDLED_MODELS) that is installed on
the prompt paperlens sends (prompts.answer_messages, six ~600-character
passages, about 1,150 prompt tokens), under a few llama.cpp settings, and
prints one row per question. The passages are rotated for each question, so
only the system prompt is shared with the previous call (as between two real
questions, which retrieve different passages): llama-cpp-python reuses that
prefix by itself. Answers go to --out for reading.

On a shared machine wall-clock times say more about the neighbours than the
model, so each row also prints the CPU seconds the process used: with one
thread on an idle core, wall time would be about that.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from assistant.llm import BUNDLED_MODELS, assemble
from assistant.prompts import answer_messages
from index.hits import Hit
from ingest.config import Settings

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

# name -> llama.cpp options. "2t" is LocalLLM's: a thread per core, waiting passively
# (importing assistant.llm sets OMP_WAIT_POLICY=PASSIVE unless it is set already).
CONFIGS = {
    "2t": {"n_threads": 2, "n_threads_batch": 2},
    "1t": {"n_threads": 1, "n_threads_batch": 1},
    "1t+fa": {"n_threads": 1, "n_threads_batch": 1, "flash_attn": True},
    "1t+fa+q8kv": {  # 8 = GGML_TYPE_Q8_0
        "n_threads": 1,
        "n_threads_batch": 1,
        "flash_attn": True,
        "type_k": 8,
        "type_v": 8,
    },
    "1t+fa+b256": {
        "n_threads": 1,
        "n_threads_batch": 1,
        "flash_attn": True,
        "n_batch": 256,
        "n_ubatch": 256,
    },
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


def run(model_key: str, path: Path, config: str, questions: list[str], max_tokens: int, out):
    from llama_cpp import Llama

    start = time.perf_counter()
    llama = Llama(model_path=str(path), n_ctx=4096, verbose=False, **CONFIGS[config])
    load = time.perf_counter() - start
    for rotation, lang in enumerate(questions):
        messages = answer_messages(QUESTIONS[lang], hits(rotation), lang)
        prompt_tokens = len(
            llama.tokenize(
                (messages[0]["content"] + messages[1]["content"]).encode(), add_bos=False
            )
        )
        start, cpu_start = time.perf_counter(), time.process_time()
        first, first_cpu, pieces = None, None, []
        for chunk in llama.create_chat_completion(
            messages=messages,
            max_tokens=max_tokens,
            temperature=0.2,
            repeat_penalty=1.15,
            stream=True,
        ):
            delta = chunk["choices"][0].get("delta", {}).get("content")
            if delta:
                if first is None:
                    first, first_cpu = time.perf_counter() - start, time.process_time() - cpu_start
                pieces.append(delta)
        total, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        text = "".join(pieces)
        generated = len(llama.tokenize(text.encode(), add_bos=False))
        rate = (generated - 1) / (total - first) if first and generated > 1 else 0.0
        runnable = Path("/proc/loadavg").read_text().split()[3]
        print(
            f"{model_key:<20} {config:<9} {lang}  load {load:5.1f} s  prompt {prompt_tokens:5d} tok"
            f"  first token {first or total:5.1f} s  {rate:5.1f} tok/s"
            f"  {generated:4d} tok in {total:5.1f} s"
            f"  | CPU s: first token {first_cpu or cpu:5.1f}, total {cpu:5.1f}"
            f"  | runnable {runnable}",
            flush=True,
        )
        if out:
            out.write(f"## {model_key} / {config} / {lang}: {QUESTIONS[lang]}\n\n{text}\n\n")
            out.flush()
        load = 0.0  # only the first row pays the load
    del llama


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default=",".join(BUNDLED_MODELS))
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--questions", default="ko,hi,ja")
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = Settings()
    out = open(args.out, "a", encoding="utf-8") if args.out else None  # noqa: SIM115
    for key in args.models.split(","):
        model = BUNDLED_MODELS[key]
        if model.part_paths() is None:
            print(f"{key}: not installed, skipped")
            continue
        path = assemble(model, settings.home / "models")
        for config in args.configs.split(","):
            run(key, path, config, args.questions.split(","), args.max_tokens, out)


if __name__ == "__main__":
    main()
