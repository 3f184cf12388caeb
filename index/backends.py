"""Which storage a library uses: the data directory (default) or Milvus
(`PAPERLENS_INDEX_URL`), both behind index/storage.py's `LibraryStore`."""

from __future__ import annotations

from paperlens.index.storage import LibraryStore
from paperlens.index.store import Store
from paperlens.ingest.config import Settings


def open_store(settings: Settings, *, model_name: str, dim: int) -> LibraryStore:
    """The library's storage for an embedder of `model_name` / `dim`; a mismatch with
    what the storage was built with is a one-line `IndexMismatchError`."""
    if not settings.index_url:
        return Store(
            settings.home,
            model_name=model_name,
            dim=dim,
            center_languages=settings.center_languages,
        )
    return open_milvus(settings, settings.index_url, model_name=model_name, dim=dim)


def open_for_reindex(settings: Settings) -> LibraryStore:
    """The storage as built (whatever model), to re-embed it."""
    if not settings.index_url:
        return Store.open_for_reindex(settings.home)
    return open_milvus(settings, settings.index_url, model_name="", dim=0, verify=False)


def open_milvus(
    settings: Settings, url_text: str, *, model_name: str, dim: int, verify: bool = True
) -> LibraryStore:
    from paperlens.index.milvus_connect import connect, parse_index_url
    from paperlens.index.milvus_store import MilvusStore

    url = parse_index_url(url_text)
    client = connect(url, settings)
    try:
        return MilvusStore(
            client,
            url,
            prefix=settings.milvus_prefix,
            model_name=model_name,
            dim=dim,
            center_languages=settings.center_languages,
            verify=verify,
        )
    except BaseException:
        client.close()
        raise
