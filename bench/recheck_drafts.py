"""What `ask`'s checks make of the same drafts: record the model's texts once, check
them again with today's code.

Generation is the slow, non-deterministic part of `ask` (~20 s a question on 2
cores); the checks after it are deterministic. `record` asks every question of the
given files with the library's generator and saves each text the checks were given
(the draft, its translations, a stricter retry) with the passages it was written
from. `check` runs today's checks on the saved texts and prints, for each, the
sentences kept and those dropped. Run `check` at two commits and diff the outputs
to see what a change to the checks does, on the same drafts, beside its baseline.

    PAPERLENS_HOME=<library> .venv/bin/python -m bench.recheck_drafts record \\
        drafts.json bench/pdf_answer_questions.jsonl
    PAPERLENS_HOME=<library> .venv/bin/python -m bench.recheck_drafts check drafts.json
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import paperlens.assistant.checked_generation as checked_generation
from paperlens.assistant.answers import Answer, Citation
from paperlens.assistant.chat import ask_stream
from paperlens.assistant.checked_generation import checked_answer, support_checker
from paperlens.assistant.llm import get_llm
from paperlens.index.library import Library
from paperlens.ingest.config import Settings


def record(library: Library, out: Path, question_files: list[Path]) -> None:
    texts: list[dict] = []
    asked = {"id": ""}
    check = checked_generation.checked_answer

    def recording(text, passages, lang, model, checker=None):
        entry = {"text": text, "lang": lang, "passages": [asdict(p) for p in passages]}
        texts.append({"id": asked["id"], **entry})
        return check(text, passages, lang, model, checker)

    checked_generation.checked_answer = recording  # every text the checks are given
    llm = get_llm(library.settings, None)
    for path in question_files:
        for line in path.read_text(encoding="utf-8").splitlines():
            question = json.loads(line)
            asked["id"] = question["id"]
            final = next(
                item
                for item in ask_stream(library, question["question"], llm=llm)
                if isinstance(item, Answer)
            )
            print(question["id"], final.mode, " ".join(final.text.split())[:100], flush=True)
    out.write_text(json.dumps(texts, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(texts)} texts of the model saved to {out}")


def check(library: Library, drafts: Path) -> None:
    checker = support_checker(library)
    for entry in json.loads(drafts.read_text(encoding="utf-8")):
        passages = [Citation(**p) for p in entry["passages"]]
        answer = checked_answer(entry["text"], passages, entry["lang"], None, checker)
        print(f"== {entry['id']}: {answer.supported}/{answer.sentences} supported")
        print("   kept:", " ".join(answer.text.split()) or "-")
        for warning in answer.warnings:
            print("   warning:", warning)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["record", "check"])
    parser.add_argument("drafts", type=Path, help="the JSON file of recorded texts")
    parser.add_argument("questions", type=Path, nargs="*", help="JSONL: id, question")
    args = parser.parse_args()
    library = Library(Settings(), show_progress=False)
    if args.action == "record":
        if not args.questions:
            parser.error("record needs question files")
        record(library, args.drafts, args.questions)
    else:
        check(library, args.drafts)


if __name__ == "__main__":
    main()
