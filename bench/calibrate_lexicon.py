"""Where `assistant/checks/lexicon.py KNOWN_SHARE["hi"]` comes from: the share of words a
Hindi sentence has in the Hindi word list, for real Hindi and for the bundled
1.5B's garbled Hindi.

    .venv/bin/python -m bench.calibrate_lexicon [MORE_HINDI_TEXT ...]

Real Hindi: our sample digest (samples/weekly_hi.txt), the faithful Hindi
translations of samples/fidelity_pairs.jsonl, technical Hindi full of borrowed
terms written for paperlens (bench/hindi_ml_sentences.txt), and any Hindi
text files given (e.g. ../shared/corpus/seeds/000_aca0ba8143f4c95f.txt, a
published digest).
Garbled: the model's outputs in samples/garbled_hi.jsonl and the unfaithful
Hindi of fidelity_pairs.jsonl that is not fluent Hindi with a wrong meaning
(that is the fidelity check's job). Sentences with fewer words than the check
judges are left out, as the check leaves them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import regex

from paperlens.assistant.checks.lexicon import KNOWN_SHARE, MIN_WORDS, known_share

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SENTENCE = regex.compile(r"(?<=[।.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE.split(text) if s.strip()]


def load(extra: list[Path]) -> tuple[list[tuple[str, str]], list[str]]:
    real = [("weekly_hi.txt", s) for s in sentences((SAMPLES / "weekly_hi.txt").read_text())]
    for path in [Path(__file__).parent / "hindi_ml_sentences.txt", *extra]:
        real += [(path.name, s) for s in sentences(path.read_text(encoding="utf-8"))]
    garbled = []
    for line in (SAMPLES / "fidelity_pairs.jsonl").read_text(encoding="utf-8").splitlines():
        pair = json.loads(line)
        if pair["lang"] == "hi" and pair["faithful"]:
            real.append(("fidelity_pairs", pair["translation"]))
        elif pair["lang"] == "hi" and not pair.get("fluent"):
            garbled.append(pair["translation"])
    for line in (SAMPLES / "garbled_hi.jsonl").read_text(encoding="utf-8").splitlines():
        garbled.append(json.loads(line)["text"])
    return real, garbled


def main(extra: list[Path]) -> None:
    real, garbled = load(extra)
    threshold = KNOWN_SHARE["hi"]
    scored_real = [(src, s, r) for src, s in real if (r := known_share(s, "hi"))]
    scored_garbled = [(s, r) for s in garbled if (r := known_share(s, "hi"))]
    for src, _, (share, unknown, n) in scored_real:
        if share < threshold:
            print(f"real, rejected   {share:.2f} ({n} words, {src}): unknown {unknown[:5]}")
    for _, (share, unknown, n) in scored_garbled:
        verdict = "passes" if share >= threshold else "rejected"
        print(f"garbled {verdict:<8} {share:.2f} ({n} words): unknown {unknown[:5]}")
    wrong_real = sum(r.share < threshold for *_, r in scored_real)
    passed = sum(r.share >= threshold for _, r in scored_garbled)
    print(f"\nthreshold {threshold} (sentences of >= {MIN_WORDS} Devanagari words)")
    print(f"real Hindi rejected:   {wrong_real}/{len(scored_real)}")
    print(f"garbled Hindi passing: {passed}/{len(scored_garbled)}")


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]])
