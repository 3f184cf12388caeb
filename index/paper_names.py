"""The name a paper gives what it proposes, read from its abstract.

Readers ask about "the Transformer", not "Attention Is All You Need". A paper
whose title does not say the name it is known by loses such questions to
papers whose titles merely use the word (ViT's "...Transformers for Image
Recognition", RWKV's "...for the Transformer Era"). Its abstract usually
states the name in the sentence where the authors propose it ("We propose a
new simple network architecture, the Transformer"; "Reptile, a new algorithm
that we introduce"; "which we call Pathways Language Model (PaLM)"). The name
found there joins the paper's titles in every passage's header, so it is
embedded with each passage as the title is. Measured in
docs/retrieval-pages.md#own-name.

Only the first sentence in which the authors propose, introduce, present or
name something is read, and only its proposed name: an abstract goes on to
name datasets and baselines ("We also present analysis on CIFAR-10").
English abstracts only; another language finds no name, and nothing changes.
"""

from __future__ import annotations

import re

from paperlens.index.lexical import fold

_NAME = r"[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*\+*"  # V-JEPA, GPT-4.5, RAG+
_NAMING_VERB = r"(?:propose|introduce|present|call|name|term|dub)"
_PROPOSING = re.compile(rf"\bwe\s+(?:\w+\s+)?{_NAMING_VERB}\w*\b", re.I)
_ACRONYM = re.compile(rf"\(\s*({_NAME})\s*\)")
_CALLED = re.compile(rf"\b(?:call|called|named|dubbed|termed|coined)\s+({_NAME})")
_AFTER_VERB = re.compile(rf"\b(?:propose|introduce|present)s?\s+({_NAME})")
_APPOSITIVE = re.compile(rf",\s+the\s+({_NAME})\s*[,.(]")
_NEW_THING = re.compile(rf"\b({_NAME}),\s+an?\s+(?:new|novel)\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_NAMING = re.compile(rf"\b(?:{_NAMING_VERB}|coin)\w*\b", re.I)
# An acronym this many words or fewer after the naming verb is what the authors
# name; further on, the sentence is defining a measure or a prior method.
_ACRONYM_REACH = 12
# Words an expanded name may hold in lower case ("Steering via Reinforcement Learning").
_CONNECTORS = {"via", "of", "for", "and", "with", "in", "on", "the", "to", "a", "from"}
# Capitalised words that name a field or an article, never one paper's method.
_GENERIC = {"the", "a", "an", "our", "this", "these", "its", "ai", "ml", "llm", "llms"}
_GENERIC |= {"nlp", "rl", "gpu", "gpus", "api", "sota"}
_ADJECTIVE_ENDINGS = ("-based", "-like", "-style", "-free", "-aware", "-driven", "-level")


def own_name(abstract: str | None, titles: str) -> str | None:
    """The name the abstract proposes, unless the titles already say it."""
    if not abstract:
        return None
    sentence = _proposing_sentence(" ".join(abstract.split()))
    name = sentence and _proposed_name(sentence)
    if not name or not _could_be_a_name(name) or _says(titles, name):
        return None
    return name


def _could_be_a_name(word: str) -> bool:
    short = len(word) < 3 and not any(ch.isdigit() for ch in word)
    folded = fold(word)
    return not (short or folded in _GENERIC or folded.endswith(_ADJECTIVE_ENDINGS))


def _proposing_sentence(abstract: str) -> str | None:
    return next((s for s in _SENTENCE_END.split(abstract) if _PROPOSING.search(s)), None)


def _proposed_name(sentence: str) -> str | None:
    named = _defined_acronym(sentence)
    if named:
        return named
    for pattern in (_AFTER_VERB, _CALLED, _APPOSITIVE, _NEW_THING):
        found = pattern.search(sentence)
        if found and not _starts_longer_name(sentence, found.end(1)):
            return found.group(1)
    return None


def _starts_longer_name(sentence: str, end: int) -> bool:
    """True when capitalised words follow ("The AI CUDA Engineer"): one of them is
    not the name."""
    rest = sentence[end:].split(maxsplit=1)
    return bool(rest) and rest[0][:1].isupper()


def _defined_acronym(sentence: str) -> str | None:
    """An acronym in parentheses after the capitalised words it stands for:
    "Receptance Weighted Key Value (RWKV)", not "high bandwidth memory (HBM)"."""
    verbs = [m.end() for m in _NAMING.finditer(sentence)]
    for found in _ACRONYM.finditer(sentence):
        before = sentence[: found.start()]
        if not any(
            0 <= len(before[v:].split()) <= _ACRONYM_REACH for v in verbs if v <= found.start()
        ):
            continue
        expansion = _expansion(before.split()[-8:])
        acronym = found.group(1)
        if len(expansion) >= 2 and expansion[0][0].lower() == acronym[0].lower():
            return acronym
    return None


def _expansion(words: list[str]) -> list[str]:
    """The capitalised words (and connectors between them) that end `words`."""
    taken: list[str] = []
    for word in reversed(words):
        if word[:1].isupper() or word.lower() in _CONNECTORS and taken:
            taken.insert(0, word)
        else:
            break
    while taken and not taken[0][:1].isupper():
        taken.pop(0)
    return taken


def _says(titles: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(fold(name))}(?!\w)", fold(titles)) is not None
