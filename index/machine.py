"""What this machine offers, read at run time (never assumed from the build machine):
CPU feature flags, memory available now, cores this process may use."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux reports them (empty when unknown)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def available_memory() -> int | None:
    """Bytes of memory available now (MemAvailable), or None when unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def available_cores() -> int:
    """Cores this process may run on (a container's share, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
