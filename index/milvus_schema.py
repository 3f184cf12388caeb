"""The Milvus collections one paperlens library uses, created together, and the
manifest check that refuses an older layout or another embedding model before
anything is written.

Collections (`<prefix>_<name>`): `meta` (manifest, centering, generation),
`sources` (one row per source: its record, committed version, language sums,
BM25 totals), `mentions` (what each source says about each paper),
`passages` (text, raw and centered vectors, term frequencies), `papers`
(paper-level vectors for similar papers), `cache` (the embedding cache).
Milvus wants a vector field in every collection: the small `_` field is that.
"""

from __future__ import annotations

from paperlens.index.records import IndexMismatchError

SCHEMA_VERSION = 1  # the layout below; bump it (and say how to move) when it changes
NAMES = ("meta", "sources", "mentions", "passages", "papers", "cache")
VARCHAR = 65_535


def collection_names(prefix: str) -> dict[str, str]:
    return {name: f"{prefix}_{name}" for name in NAMES}


def create_collections(
    client, names: dict[str, str], dim: int, *, lite: bool, only: tuple[str, ...] = NAMES
) -> None:
    """Create whichever of `only` are missing; another process creating the same
    collection at the same moment is fine."""
    from pymilvus import DataType, MilvusClient

    def schema(primary: tuple[str, DataType], *fields) -> object:
        s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        name, kind = primary
        extra = {"max_length": 512} if kind == DataType.VARCHAR else {}
        s.add_field(name, kind, is_primary=True, **extra)
        for field, kind, *options in fields:
            s.add_field(field, kind, **(options[0] if options else {}))
        return s

    text = {"max_length": VARCHAR}
    marker = ("_", DataType.FLOAT_VECTOR, {"dim": 2})
    # Exact search on Milvus Lite (it is for one machine; results match the default
    # backend's flat index), HNSW on a server, as the default backend switches at scale.
    dense_index = ("FLAT", {}) if lite else ("HNSW", {"M": 32, "efConstruction": 40})
    layouts = {
        "meta": (schema(("key", DataType.VARCHAR), ("value", DataType.JSON), marker), ["_"]),
        "sources": (
            schema(
                ("id", DataType.INT64),
                ("record", DataType.JSON),
                ("version", DataType.INT64),
                ("first_seen", DataType.INT64),
                ("stats", DataType.JSON),
                marker,
            ),
            ["_"],
        ),
        "mentions": (
            schema(
                ("id", DataType.INT64),
                ("paper_id", DataType.VARCHAR, {"max_length": 512}),
                ("source_id", DataType.INT64),
                ("version", DataType.INT64),
                ("arxiv_id", DataType.VARCHAR, {"max_length": 64}),
                ("title_key", DataType.VARCHAR, text),
                ("doc", DataType.JSON),
                marker,
            ),
            ["_"],
        ),
        "passages": (
            schema(
                ("id", DataType.INT64),
                ("source_id", DataType.INT64),
                ("version", DataType.INT64),
                ("ordinal", DataType.INT64),
                ("paper_id", DataType.VARCHAR, {"max_length": 512}),
                ("kind", DataType.VARCHAR, {"max_length": 16}),
                ("lang", DataType.VARCHAR, {"max_length": 16}),
                ("page", DataType.INT64),
                ("header", DataType.VARCHAR, text),
                ("text", DataType.VARCHAR, text),
                ("start", DataType.INT64),
                ("end", DataType.INT64),
                ("dl", DataType.INT64),
                ("raw", DataType.FLOAT_VECTOR, {"dim": dim}),
                ("dense", DataType.FLOAT_VECTOR, {"dim": dim}),
                ("tf", DataType.SPARSE_FLOAT_VECTOR),
            ),
            ["raw", "dense", "tf"],
        ),
        "papers": (
            schema(
                ("paper_id", DataType.VARCHAR),
                ("vector", DataType.FLOAT_VECTOR, {"dim": dim}),
            ),
            ["vector"],
        ),
        "cache": (
            schema(("key", DataType.VARCHAR), ("vector", DataType.VARCHAR, text), marker),
            ["_"],
        ),
    }
    existing = set(client.list_collections())
    for name, (layout, vector_fields) in layouts.items():
        if name not in only or names[name] in existing:
            continue
        params = client.prepare_index_params()
        for field in vector_fields:
            if field == "tf":
                params.add_index(field, index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
            elif field in ("dense", "vector"):
                params.add_index(
                    field, index_type=dense_index[0], metric_type="IP", params=dense_index[1]
                )
            else:
                params.add_index(field, index_type="FLAT", metric_type="IP")
        try:
            client.create_collection(
                names[name], schema=layout, index_params=params, consistency_level="Strong"
            )
        except Exception:
            if not client.has_collection(names[name]):  # not a race with another process
                raise


def check_manifest(manifest: dict | None, where: str, model_name: str, dim: int) -> None:
    """Refuse a layout of another version or another model, in one line."""
    if manifest is None:
        raise IndexMismatchError(
            f"{where} holds paperlens collections without a manifest (an interrupted setup?): "
            "drop them or choose another PAPERLENS_MILVUS_PREFIX"
        )
    version = int(manifest.get("schema_version", 0))
    if version < SCHEMA_VERSION:
        raise IndexMismatchError(
            f"the library at {where} has schema {version}, older than this paperlens "
            f"({SCHEMA_VERSION}): copy it again with `paperlens migrate --to URL` "
            "under another PAPERLENS_MILVUS_PREFIX"
        )
    if version > SCHEMA_VERSION:
        raise IndexMismatchError(
            f"the library at {where} has schema {version}, newer than this paperlens "
            f"({SCHEMA_VERSION}): upgrade paperlens"
        )
    if model_name and (
        manifest.get("embedding_model") != model_name or int(manifest.get("dim", 0)) != dim
    ):
        raise IndexMismatchError(
            f"the index at {where} was built with {manifest.get('embedding_model')} "
            f"({manifest.get('dim')} dims), not {model_name} ({dim} dims): "
            "run `paperlens reindex` to rebuild it with the current model"
        )
