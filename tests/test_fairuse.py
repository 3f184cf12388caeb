"""Fair use of the generator: per-person limits, order, timeouts, stale places."""

from __future__ import annotations

import time

import pytest

from paperlens.assistant import fairuse
from paperlens.assistant.fairuse import Busy, GeneratorGate, TimedOut


def test_one_person_may_not_have_more_than_their_share_running_or_waiting():
    gate = GeneratorGate(slots=1, per_user=2)
    gate.admit("ann")
    gate.admit("ann")
    with pytest.raises(Busy, match="already have 2"):
        gate.admit("ann")
    gate.admit("bob")  # others are not affected
    assert gate.load() == (0, 3)


def test_requests_get_the_slot_in_arrival_order_and_are_told_their_place():
    gate = GeneratorGate(slots=1, per_user=2)
    first, second = gate.admit("ann"), gate.admit("bob")
    assert list(first.wait()) == []  # the slot was free
    places = second.wait(poll=0.01)
    assert next(places) == 1
    first.release()
    assert list(places) == []  # now it holds the slot
    assert gate.load() == (1, 0)


def test_waiting_too_long_is_a_one_line_error():
    gate = GeneratorGate(slots=1, queue_timeout=0.05)
    gate.admit("ann").wait().close()  # holds the slot
    waiter = gate.admit("bob")
    with pytest.raises(TimedOut, match="busy"):
        for _ in waiter.wait(poll=0.01):
            pass


def test_an_answer_running_past_its_time_is_stopped_and_its_slot_given_back():
    gate = GeneratorGate(slots=1, run_timeout=0.05)
    holder = gate.admit("ann")
    list(holder.wait())
    holder.check()  # within its time
    time.sleep(0.08)
    # The next person gets the slot even if the holder's page never reads again.
    assert list(gate.admit("bob").wait(poll=0.01)) == []
    with pytest.raises(TimedOut, match="stopped"):
        holder.check()


def test_a_waiter_that_stopped_polling_loses_its_place(monkeypatch):
    monkeypatch.setattr(fairuse, "STALE_WAITER", 0.05)
    gate = GeneratorGate(slots=1)
    holder = gate.admit("ann")
    list(holder.wait())
    gone = gate.admit("bob")
    next(gone.wait(poll=0.01))  # polled once, then its page went away
    time.sleep(0.08)
    later = gate.admit("cy")
    places = later.wait(poll=0.01)
    assert next(places) == 1  # only the holder is ahead: bob lost his place
    holder.release()
    assert list(places) == []
    assert gate.load() == (1, 0)
