"""The checks a model's text must pass before a user sees it as an answer
(docs/answers.md, "The flow"):

- `citations`: [n] markers and sentences; markers to no given passage removed.
- `language`: the text is in the asked language, script and words.
- `support`: each sentence is supported by the passage it cites; a translation
  says what its draft said.
- `figures`: numbers a sentence states that its passage does not.
- `writing_systems`: which scripts a language is written in; stray letters.
- `lexicon`: word lists: is a word a word of its language (Hindi).

`assistant/checked_generation.py` runs them; `assistant/repair.py` mends a draft
that fails the language check.
"""
