"""The Ask tab: a multi-turn chat whose answers cite passages, streamed through the
generator's queue, with the cited passages listed (and opened in context) below."""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr

from paperlens.assistant.answers import Answer
from paperlens.assistant.chat import ask_stream
from paperlens.assistant.markup import markdown_literal
from paperlens.assistant.ui.render import cite_links, error_line, sources_panel
from paperlens.assistant.ui.state import LLM_EVENTS, App, generator_turn, waiting_line
from paperlens.assistant.ui.widgets import clickable_panel
from paperlens.index.limits import check_query

EXAMPLES = [
    "LoRA는 어떻게 학습 파라미터 수를 줄이나요?",
    "アテンションシンクとは何ですか？",
    "Comment le Transformer remplace-t-il la récurrence ?",
    "DPR और BM25 में क्या अंतर है?",
    "What does Mamba change compared to attention?",
]


def ask_tab(app: App, languages: list[str]) -> None:
    """The tab's components and events (inside a `gr.Tab`)."""
    chatbot = gr.Chatbot(height=420, label="Answers cite passages as [n]")
    with gr.Row():
        question = gr.Textbox(placeholder="Ask in any language…", scale=5, label="Question")
        lang = gr.Dropdown(languages, value="auto", label="Answer language", scale=1)
    with gr.Row():
        ask_button = gr.Button("Ask", variant="primary", scale=4)
        ask_stop = gr.Button("Stop", variant="stop", scale=1)
    sources = clickable_panel(
        app, "ask", "<p><em>Cited passages appear here.</em></p>", "ask-sources-box"
    )
    gr.Examples(EXAMPLES, inputs=question)

    def on_ask(message: str, history: list, language: str, request: gr.Request) -> Iterator:
        history = list(history or [])
        pairs = _pairs(history)
        history.append({"role": "user", "content": markdown_literal(message[:2000])})
        history.append({"role": "assistant", "content": ""})
        try:
            check_query(message, app.settings, "question")
            app.wait()
            with generator_turn(app, request) as turn:
                for ahead in turn.wait():
                    history[-1]["content"] = waiting_line(ahead)
                    yield history, gr.skip(), gr.skip()
                history[-1]["content"] = ""
                text = ""
                stream = ask_stream(app.library, message, lang=language, history=pairs, llm=app.llm)
                for item in stream:
                    turn.check()
                    if isinstance(item, Answer):
                        history[-1]["content"] = cite_links(
                            item.text, "ask-sources", markdown_literal
                        )
                        yield history, "", sources_panel(item, "ask-sources")
                    else:
                        text += item
                        history[-1]["content"] = markdown_literal(text)
                        yield history, "", gr.skip()
        except Exception as exc:  # error_line re-raises what is not the user's
            history[-1]["content"] = error_line(exc)
            yield history, gr.skip(), gr.skip()

    ask_io = ([question, chatbot, lang], [chatbot, question, sources])
    # Gradio runs up to LLM_WORKERS of these at once; GeneratorGate inside
    # decides who generates (app.gate: per-person limits, order, timeouts).
    asked = ask_button.click(on_ask, *ask_io, **LLM_EVENTS)
    submitted = question.submit(on_ask, *ask_io, **LLM_EVENTS)
    ask_stop.click(None, cancels=[asked, submitted])


def _pairs(history: list[dict]) -> list[tuple[str, str]]:
    """Chatbot messages -> (question, answer) pairs for follow-up condensing."""
    pairs, question = [], None
    for message in history:
        if message.get("role") == "user":
            question = _message_text(message.get("content"))
        elif message.get("role") == "assistant" and question is not None:
            pairs.append((question, _message_text(message.get("content"))))
            question = None
    return pairs


def _message_text(content) -> str:
    """Gradio 6 sends message content as a list of typed parts; older as a string."""
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")
