"""Passages per second and time left, for progress displays that have no tqdm."""

from __future__ import annotations

import time


class Throughput:
    """Rate and ETA of one job from (done, total) reports; the app's Library tab
    shows the same figures as the CLI's tqdm bar."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._started = clock()

    def describe(self, done: int, total: int, unit: str = "passages") -> str:
        """E.g. "120/400 passages, 9.8/s, about 29 s left"."""
        line = f"{done}/{total} {unit}"
        left = self.time_left(done, total)
        if left is None:
            return line
        rate = done / (self._clock() - self._started)
        return f"{line}, {rate:.1f}/s, about {left} left"

    def time_left(self, done: int, total: int) -> str | None:
        """E.g. "1 min 20 s", at the rate so far; None before anything is done."""
        elapsed = self._clock() - self._started
        if done <= 0 or elapsed <= 0:
            return None
        return _duration(max(total - done, 0) * elapsed / done)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
