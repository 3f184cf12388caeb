"""Starting a local Ray cluster, and the errors of a start that fails.

Ray runs for real; a fake `ray.init` stands in only for the failures.
"""

from __future__ import annotations

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
