"""Errors a user can cause. Caught at the edges (CLI, UI) and shown in one line."""


class PaperlensError(Exception):
    """Base class: the message is written for a person, not a developer."""


class IngestError(PaperlensError):
    """A source could not be fetched or parsed."""


class FetchError(IngestError):
    """An http(s) download failed or was refused."""


class NetworkUnreachable(FetchError):
    """DNS or connection failure: the network (or that host) is down."""
