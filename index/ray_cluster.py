"""A Ray cluster for the length of one ingest: connect to a running one, or start one here.

Ray is optional (`pip install paperlens[cluster]`); everything that can go wrong
before the first source is parsed (Ray missing, an address nobody answers at)
is a `ClusterError` with one line for a person.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError

LOCAL = "local"
CONNECT_TIMEOUT = 5.0  # seconds; Ray itself retries an unreachable head for minutes
START_ATTEMPTS = 2  # a local cluster's starts (see _connect)
STOP_GRACE = 5.0  # seconds a failed start's processes get to exit before SIGKILL

log = logging.getLogger(__name__)


class ClusterError(PaperlensError):
    """Ray is missing or the cluster cannot be reached."""


@dataclass(frozen=True)
class ClusterOptions:
    """Where to run and how wide: see the `ray_*` settings (docs/settings.md)."""

    address: str | None = None  # None or "local": start a cluster on this machine
    num_cpus: int = 0  # a local cluster's CPUs; 0 = every core
    workers: int = 0  # embedding workers; 0 = one per CPU (or per GPU share)
    gpus_per_worker: float = 0.0

    @classmethod
    def from_settings(
        cls, settings: Settings, *, address: str | None = None, workers: int | None = None
    ) -> ClusterOptions:
        return cls(
            address=address or settings.ray_address,
            num_cpus=settings.ray_num_cpus,
            workers=settings.ray_workers if workers is None else workers,
            gpus_per_worker=settings.ray_gpus_per_worker,
        )

    @property
    def is_local(self) -> bool:
        return not self.address or self.address == LOCAL


@dataclass(frozen=True)
class Cluster:
    """The resources an ingest may use, as the running cluster reports them."""

    cpus: float
    gpus: float
    workers: int  # embedding workers to start
    cpus_per_worker: float
    gpus_per_worker: float


def import_ray() -> ModuleType:
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data is the `data` extra of ray)
    except ImportError as exc:
        raise ClusterError(
            "ingest --ray needs Ray: pip install 'paperlens[cluster]' "
            f"(ray[data]); {type(exc).__name__}: {exc}"
        ) from exc
    return ray


def preflight(options: ClusterOptions) -> None:
    """The checks that need no cluster: Ray installed, the address answering."""
    import_ray()
    if not options.is_local:
        check_reachable(options.address or "")


@contextmanager
def ray_cluster(options: ClusterOptions) -> Iterator[Cluster]:
    """Connect (or start a local cluster), yield its size, disconnect (stopping what
    was started). A Ray connection the caller already holds is used and kept."""
    ray = import_ray()
    if ray.is_initialized():
        yield _size(ray, options)
        return
    preflight(options)
    _connect(ray, options)
    try:
        yield _size(ray, options)
    finally:
        ray.shutdown()  # stops the processes of a local cluster this call started


def _connect(ray: ModuleType, options: ClusterOptions) -> None:
    """`ray.init`, with a second try for a local start: Ray gives its raylet a fixed
    30 s to register, which a loaded machine can miss (docs/cluster.md)."""
    attempts = START_ATTEMPTS if options.is_local else 1
    for attempt in range(1, attempts + 1):
        before = _ray_children()
        try:
            ray.init(**_init_kwargs(options))
            return
        except Exception as exc:  # ConnectionError, timeouts, a version mismatch...
            # Ray keeps no handle on a node whose start failed (ray.shutdown cannot
            # stop it), so its GCS and raylet would run until this command ends.
            _stop(_ray_children() - before)
            if attempt < attempts and _is_start_timeout(exc):
                log.warning("the local Ray cluster did not start in time; trying again")
                continue
            where = "start a local Ray cluster" if options.is_local else f"reach {options.address}"
            raise ClusterError(f"cannot {where}: {_first_line(exc)}") from exc


def _ray_children() -> set[int]:
    """Ray's processes that this process started (Linux's /proc; none found elsewhere)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (name) state ppid ...": the name may hold spaces, so split after ")"
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
            if ppid == os.getpid() and b"ray" in (stat.parent / "cmdline").read_bytes():
                found.add(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not ours to read
    return found


def _stop(pids: set[int]) -> None:
    """SIGTERM, then SIGKILL for what is still running after STOP_GRACE seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + STOP_GRACE
        while pids and time.monotonic() < deadline:
            pids = {pid for pid in pids if not _reaped(pid)}
            time.sleep(0.05)
        if not pids:
            return


def _reaped(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True  # already reaped (by subprocess) or not a child any more


def _is_start_timeout(exc: BaseException) -> bool:
    return "timed out during startup" in str(exc)


def check_reachable(address: str) -> None:
    """Fail in seconds, in one line, where Ray would retry for minutes."""
    if address == "auto":
        return  # Ray finds a cluster started on this machine, or says it found none
    hostport = address.removeprefix("ray://").rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ClusterError(
            f"{address!r} is not a Ray address (ray://HOST:10001, HOST:6379, auto or local)"
        )
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {reason}") from exc


def _init_kwargs(options: ClusterOptions) -> dict:
    common = {
        "logging_level": logging.WARNING,
        "log_to_driver": False,  # workers' own logs stay in Ray's session folder
        "include_dashboard": False,
    }
    if options.is_local:
        cpus = options.num_cpus or os.cpu_count() or 1
        return {"address": LOCAL, "num_cpus": cpus, **common}
    return {"address": options.address, **common}


def _size(ray: ModuleType, options: ClusterOptions) -> Cluster:
    resources = ray.cluster_resources()
    cpus = float(resources.get("CPU", 1.0))
    gpus = float(resources.get("GPU", 0.0))
    share = options.gpus_per_worker
    if share > 0:
        if gpus < share:
            raise ClusterError(
                f"ray_gpus_per_worker is {share:g} but the cluster has {gpus:g} GPUs"
            )
        workers = options.workers or max(1, int(gpus // share))
        return Cluster(cpus, gpus, workers, 1.0, share)
    workers = options.workers or max(1, int(cpus))
    # Each worker gets an equal share of the CPUs, so Ray gives its model that many
    # threads (OMP_NUM_THREADS) and N workers never oversubscribe the cores.
    return Cluster(cpus, gpus, workers, cpus / workers, 0.0)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
