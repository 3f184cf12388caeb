"""Errors a user can cause. Caught at the edges (CLI, UI) and shown in one line."""


class PaperlensError(Exception):
    """Base class: the message is written for a person, not a developer."""


class IngestError(PaperlensError):
    """A source could not be fetched or parsed."""


class FetchError(IngestError):
    """An http(s) download failed or was refused."""


class NetworkUnreachable(FetchError):
    """DNS or connection failure: the network (or that host) is down."""


class DiskFull(PaperlensError):
    """The disk (or the user's quota) is full; nothing was half-written."""


class AccessProblem(PaperlensError):
    """The data directory cannot be written (read-only disk, permissions)."""


def user_error(exc: BaseException) -> PaperlensError | None:
    """A one-line error for a fault of the machine a user can fix (a full disk, a
    read-only data directory), or None for anything else (a bug: let it surface).

    SQLite rolls back and the index files are replaced atomically, so the library
    is as it was before the command: the message says so.
    """
    import errno
    import sqlite3

    if isinstance(exc, PaperlensError):
        return exc
    full = "the disk is full: nothing was changed; free some space and run it again"
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if "disk is full" in text:
            return DiskFull(full)
        if "readonly" in text or "read-only" in text:
            return AccessProblem("the library is on a read-only disk or folder")
        if "locked" in text:
            return PaperlensError("the library is busy (another process holds it); try again")
        return None
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return DiskFull(full)
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            where = f" ({exc.filename})" if exc.filename else ""
            return AccessProblem(f"cannot write the library{where}: {exc.strerror}")
    return None
