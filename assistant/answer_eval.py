"""Answer evaluation: does `ask` cite the right paper, in the asked language and
script, with the required facts, every sentence supported, and abstain when the
library cannot answer?

A question line: {"id", "lang", "question", "expect_arxiv"?, "expect_title"?,
"must": [["80.5", "80,5"], ...]?, "expect_none"?: true}. `must` lists groups of
alternatives; a group is present when any of its strings is in the answer.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from paperlens.assistant.answers import Answer
from paperlens.assistant.chat import ask_stream
from paperlens.assistant.checks.citations import MARKER
from paperlens.assistant.checks.writing_systems import LETTER, foreign_letters
from paperlens.index.evaluate import EvalQuery, matches, read_jsonl
from paperlens.index.library import Library
from paperlens.ingest.langid import detect_language


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    question: str
    expect_arxiv: str | None = None
    expect_title: str | None = None
    must: tuple[tuple[str, ...], ...] = ()
    expect_none: bool = False


@dataclass
class Outcome:
    """What one question's answer got right, for the report."""

    question: Question
    answer: Answer
    first_token_s: float
    total_s: float
    cited_expected: bool = False
    language_ok: bool = False
    letters: int = 0
    foreign: int = 0
    facts: float = 0.0
    abstained: bool = False

    def to_json(self) -> dict:
        return {
            "id": self.question.id,
            "lang": self.question.lang,
            "expect_none": self.question.expect_none,
            "abstained": self.abstained,
            "cited_expected": self.cited_expected,
            "markers_valid": self.answer.removed_markers == 0,
            "language_ok": self.language_ok,
            "script_purity": round(1 - self.foreign / self.letters, 4) if self.letters else 1.0,
            "facts": round(self.facts, 3),
            "sentences": self.answer.sentences,
            "supported": self.answer.supported,
            "figures_from_tables": self.answer.figures_from_tables,
            "first_token_s": round(self.first_token_s, 2),
            "total_s": round(self.total_s, 2),
            "mode": self.answer.mode,
            "answer": self.answer.text,
        }


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL file of question lines (see the module docstring)."""

    def build(number: int, row: dict) -> Question:
        return Question(
            id=str(row.get("id", number)),
            lang=row.get("lang") or "?",
            question=row["question"],
            expect_arxiv=row.get("expect_arxiv"),
            expect_title=row.get("expect_title"),
            must=tuple(tuple(group) for group in row.get("must") or ()),
            expect_none=bool(row.get("expect_none")),
        )

    return read_jsonl(path, build, "question")


def run_question(library: Library, question: Question, llm) -> Outcome:
    """Ask as a user would (answer language detected from the question) and grade it."""
    started = time.perf_counter()
    first = None
    final: Answer | None = None
    for item in ask_stream(library, question.question, llm=llm):
        if isinstance(item, Answer):
            final = item
        elif first is None and item.strip():
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    outcome = Outcome(question, final, first or total, total)
    grade(outcome, library)
    return outcome


def grade(outcome: Outcome, library: Library) -> None:
    answer, question = outcome.answer, outcome.question
    body = MARKER.sub("", answer.text)
    expected = EvalQuery(
        question.id, "", question.lang, question.expect_arxiv, question.expect_title
    )
    outcome.cited_expected = any(
        matches(library.store.paper(c.paper_id), expected) for c in answer.citations
    )
    outcome.language_ok = detect_language(body) == question.lang
    outcome.letters = len(LETTER.findall(body))
    outcome.foreign = len(foreign_letters(body, question.lang))
    if question.must:
        present = [any(alt in body for alt in group) for group in question.must]
        outcome.facts = sum(present) / len(present)
    else:
        outcome.facts = 1.0
    outcome.abstained = answer.mode == "no-results" or (answer.abstained and not answer.citations)


def summarize(outcomes: list[Outcome]) -> dict[str, dict]:
    """Rates overall and per language."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        groups["all"].append(outcome)
        groups[outcome.question.lang].append(outcome)
    return {lang: _rates(items) for lang, items in sorted(groups.items())}


def _rates(items: list[Outcome]) -> dict:
    answerable = [o for o in items if not o.question.expect_none]
    unanswerable = [o for o in items if o.question.expect_none]
    answered = [o for o in answerable if not o.abstained]
    letters = sum(o.letters for o in answered)
    sentences = sum(o.answer.sentences for o in answered)
    return {
        "n": len(items),
        "answerable": len(answerable),
        "cited_expected": _share(o.cited_expected for o in answerable),
        "markers_valid": _share(o.answer.removed_markers == 0 for o in answered),
        "language_ok": _share(o.language_ok for o in answered),
        "script_purity": round(1 - sum(o.foreign for o in answered) / letters, 4)
        if letters
        else None,
        "facts": _share(o.facts == 1.0 for o in answerable if o.question.must),
        "supported_sentences": round(sum(o.answer.supported for o in answered) / sentences, 3)
        if sentences
        else None,
        "abstained_when_none": f"{sum(o.abstained for o in unanswerable)}/{len(unanswerable)}",
        "abstained_wrongly": f"{sum(o.abstained for o in answerable)}/{len(answerable)}",
        # the model's answers that miss a needed fact (a wrong figure, mostly) and warn of
        # nothing: those a reader would trust wrongly
        "wrong_unwarned": f"{sum(_wrong_unwarned(o) for o in answered)}/{len(answered)}",
        "first_token_p50_s": _median([o.first_token_s for o in answered]),
        "total_p50_s": _median([o.total_s for o in answered]),
    }


def _wrong_unwarned(outcome: Outcome) -> bool:
    """The model's answer misses a fact the question needs, with no table warning."""
    answer = outcome.answer
    return (
        answer.mode == "llm"
        and bool(outcome.question.must)
        and outcome.facts < 1.0
        and not answer.figures_from_tables
    )


def format_report(rates: dict[str, dict], title: str) -> str:
    columns = [
        ("cited_expected", "paper"),
        ("markers_valid", "markers"),
        ("language_ok", "lang"),
        ("script_purity", "script"),
        ("facts", "facts"),
        ("supported_sentences", "support"),
        ("abstained_when_none", "abst.none"),
        ("abstained_wrongly", "abst.bad"),
        ("wrong_unwarned", "unwarned"),
        ("first_token_p50_s", "ttft"),
        ("total_p50_s", "total"),
    ]
    head = f"{'lang':<5}{'n':>3} " + "".join(f"{label:>10}" for _, label in columns)
    lines = [title, head, "-" * len(head)]
    for lang, row in rates.items():
        cells = "".join(f"{_cell(row[key]):>10}" for key, _ in columns)
        lines.append(f"{lang:<5}{row['n']:>3} {cells}")
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _share(values) -> float | None:
    values = list(values)
    return round(sum(values) / len(values), 3) if values else None


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[len(ordered) // 2], 2)


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "summary": summarize(self.outcomes),
            "questions": [o.to_json() for o in self.outcomes],
        }
