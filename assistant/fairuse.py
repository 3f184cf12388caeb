"""Fair use of the generator: one person cannot fill the line or hold the slot.

Gradio's own queue is first come, first served with no notion of who asks.
`GeneratorGate` sits inside the Ask and Summarize handlers:
- each person may have at most `per_user` requests running or waiting
  (more is refused in one line, at once, instead of queueing);
- `slots` answers are generated at a time; the others wait in arrival order
  and are told their place, for at most `queue_timeout` seconds;
- a running answer is stopped after `run_timeout` seconds, and a slot whose
  holder stopped reading (closed tab, cancelled, disconnected) is taken back
  when its time is up even if its generator is never closed; a waiter that
  stopped polling for `STALE_WAITER` seconds loses its place.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from paperlens.ingest.errors import PaperlensError

# Waiters poll every second (and Gradio pulls each "your place" message from the
# handler): one silent this long has been cancelled or disconnected.
STALE_WAITER = 5.0


class Busy(PaperlensError):
    """This person already has the allowed number of requests running or waiting."""


class TimedOut(PaperlensError):
    """Waited too long for the generator, or generated for too long."""


@dataclass
class Ticket:
    """One request's place: waiting, then holding a slot until released or expired."""

    gate: GeneratorGate
    user: str
    number: int
    started: float | None = None  # when it got a slot
    done: bool = False
    deadline: float = field(default=float("inf"))
    last_seen: float = field(default_factory=time.monotonic)

    def wait(self, poll: float = 1.0) -> Iterator[int]:
        """Yield how many requests are ahead, every `poll` seconds, until this one holds
        a slot (then return). The caller passes each yield on to Gradio, so a waiter
        whose page went away stops being pulled and is dropped."""
        give_up = time.monotonic() + self.gate.queue_timeout
        while True:
            ahead = self.gate._try_acquire(self)
            if ahead is None:
                return
            if time.monotonic() > give_up:
                raise TimedOut(
                    f"the generator stayed busy for {self.gate.queue_timeout:g} s; try again later"
                )
            yield ahead
            with self.gate._changed:
                self.gate._changed.wait(timeout=poll)

    def check(self) -> None:
        """Raise TimedOut once this request has generated for longer than allowed."""
        if self.started is not None and time.monotonic() > self.deadline:
            self.release()
            raise TimedOut(f"stopped after {self.gate.run_timeout:g} s (the time limit per answer)")

    def release(self) -> None:
        self.gate._release(self)


class GeneratorGate:
    """Per-person limits on requests running or waiting, and timeouts on both."""

    def __init__(
        self,
        *,
        slots: int = 1,
        per_user: int = 2,
        run_timeout: float = 300.0,
        queue_timeout: float = 600.0,
    ) -> None:
        self.slots = max(1, slots)
        self.per_user = max(1, per_user)
        self.run_timeout = run_timeout
        self.queue_timeout = queue_timeout
        self._tickets: list[Ticket] = []  # arrival order
        self._numbers = itertools.count()
        self._changed = threading.Condition()

    def admit(self, user: str) -> Ticket:
        """A ticket for `user`'s next request, or Busy if they have too many already."""
        with self._changed:
            self._expire()
            mine = sum(1 for t in self._tickets if t.user == user)
            if mine >= self.per_user:
                raise Busy(
                    f"you already have {mine} question(s) or summaries running or waiting; "
                    "wait for one to finish (a stopped one frees its place within seconds)"
                )
            ticket = Ticket(self, user, next(self._numbers))
            self._tickets.append(ticket)
            return ticket

    def load(self) -> tuple[int, int]:
        """(running, waiting) requests right now."""
        with self._changed:
            self._expire()
            running = sum(1 for t in self._tickets if t.started is not None)
            return running, len(self._tickets) - running

    def _try_acquire(self, ticket: Ticket) -> int | None:
        """None if `ticket` now holds a slot, else how many are ahead of it."""
        with self._changed:
            self._expire()
            if ticket.done:
                raise TimedOut("this request was stopped")
            ticket.last_seen = time.monotonic()
            if ticket.started is not None:
                return None
            running = sum(1 for t in self._tickets if t.started is not None)
            waiting = [t for t in self._tickets if t.started is None]
            ahead = waiting.index(ticket)
            if running < self.slots and ahead == 0:
                ticket.started = time.monotonic()
                ticket.deadline = ticket.started + self.run_timeout
                return None
            return ahead + max(0, running - self.slots + 1)

    def _release(self, ticket: Ticket) -> None:
        with self._changed:
            if not ticket.done:
                ticket.done = True
                if ticket in self._tickets:
                    self._tickets.remove(ticket)
                self._changed.notify_all()

    def _expire(self) -> None:
        """Take back slots held past their deadline, and places of silent waiters."""
        now = time.monotonic()
        expired = [
            t
            for t in self._tickets
            if (t.started is not None and now > t.deadline)
            or (t.started is None and now - t.last_seen > STALE_WAITER)
        ]
        for ticket in expired:
            ticket.done = True
            self._tickets.remove(ticket)
            self._changed.notify_all()
