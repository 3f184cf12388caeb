"""Starting a local Ray cluster, and the errors of a start that fails.

Ray runs for real; a fake `ray.init` stands in only for the failures.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from paperlens.index.ray_cluster import ClusterError, ClusterOptions, ray_cluster

pytestmark = pytest.mark.slow


def start(options: ClusterOptions) -> None:
    with ray_cluster(options):
        pass


def test_a_local_start_that_times_out_is_tried_once_more(monkeypatch):
    """Ray gives a raylet a fixed 30 s to register; one start that missed it (seen in
    CI) must not fail the ingest."""
    ray = pytest.importorskip("ray")
    real_init, calls = ray.init, []

    def init_timing_out_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise Exception("The current node timed out during startup. (as Ray words it)")
        return real_init(**kwargs)

    monkeypatch.setattr(ray, "init", init_timing_out_once)
    with ray_cluster(ClusterOptions(num_cpus=1)) as cluster:
        assert ray.is_initialized() and cluster.cpus == 1
    assert not ray.is_initialized() and len(calls) == 2


def test_other_start_errors_and_remote_addresses_get_one_try_and_one_line(monkeypatch):
    ray = pytest.importorskip("ray")
    calls = []

    def init_failing(message: str):
        def init(**kwargs):
            calls.append(kwargs)
            raise RuntimeError(message)

        return init

    monkeypatch.setattr(ray, "init", init_failing("Version mismatch: 2.59.0 here\nmore"))
    with pytest.raises(ClusterError, match=r"^cannot start a local Ray cluster: Version mismatch"):
        start(ClusterOptions(num_cpus=1))
    assert len(calls) == 1

    monkeypatch.setattr(ray, "init", init_failing("The current node timed out during startup."))
    with pytest.raises(ClusterError, match=r"^cannot reach auto: The current node timed out"):
        start(ClusterOptions(address="auto"))
    assert len(calls) == 2


def test_the_processes_of_a_failed_start_are_stopped(monkeypatch):
    """Ray keeps no handle on a node whose start failed; its processes must not run
    on beside the second start (or after the error) until the command ends."""
    ray = pytest.importorskip("ray")
    started: list[subprocess.Popen] = []

    def init_leaving_a_node_behind(**kwargs):
        # stands in for the GCS server and raylet a timed-out start leaves running
        started.append(subprocess.Popen([sys.executable, "-c", SLEEPER, "ray-node"]))
        raise Exception("The current node timed out during startup.")

    monkeypatch.setattr(ray, "init", init_leaving_a_node_behind)
    with pytest.raises(ClusterError, match="timed out during startup"):
        start(ClusterOptions(num_cpus=1))
    assert len(started) == 2
    assert all(process.poll() is not None for process in started)  # not running


def test_a_failed_start_leaves_other_child_processes_alone(monkeypatch):
    ray = pytest.importorskip("ray")
    other = subprocess.Popen([sys.executable, "-c", SLEEPER])  # e.g. the generator
    try:

        def init_failing(**kwargs):
            raise RuntimeError("Version mismatch")

        monkeypatch.setattr(ray, "init", init_failing)
        with pytest.raises(ClusterError):
            start(ClusterOptions(num_cpus=1))
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


SLEEPER = "import time; time.sleep(120)"
