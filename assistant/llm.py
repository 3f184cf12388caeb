"""One interface for generation: any OpenAI-compatible chat endpoint.

OpenAI, vLLM, a llama.cpp server, Ollama... all speak the same chat
completions API; paperlens talks to them through the `openai` client. With no
endpoint configured there is no generator, and answers fall back to quoting
the retrieved passages (see rag.py) — said so to the user, never disguised.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import openai

from ingest.config import Settings
from ingest.errors import PaperlensError


class LLMError(PaperlensError):
    """The generator could not answer (endpoint down, timeout, HTTP error)."""


class LLM(Protocol):
    name: str

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int, temperature: float = 0.2
    ) -> Iterator[str]: ...


class OpenAICompatibleLLM:
    """Streams chat completions from an OpenAI-compatible endpoint."""

    def __init__(self, base_url: str, *, model: str, api_key: str | None, timeout: float):
        self.name = model
        self.base_url = base_url
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=1
        )

    def stream_chat(
        self, messages: list[dict], *, max_tokens: int, temperature: float = 0.2
    ) -> Iterator[str]:
        try:
            stream = self._client.chat.completions.create(
                model=self.name,
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
            )
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        except openai.APITimeoutError as exc:
            raise LLMError(f"the model at {self.base_url} timed out") from exc
        except openai.APIConnectionError as exc:
            raise LLMError(f"cannot reach the model at {self.base_url}") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"the model at {self.base_url} answered HTTP {exc.status_code}") from exc
        except openai.OpenAIError as exc:
            raise LLMError(f"the model at {self.base_url} failed: {exc}") from exc


def get_llm(settings: Settings) -> LLM | None:
    """The configured generator, or None (answers are then extractive)."""
    if not settings.llm_base_url:
        return None
    return OpenAICompatibleLLM(
        settings.llm_base_url,
        model=settings.llm_model or "default",
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout,
    )
