"""Request pacing: starts spread over the observed latency, never slower than the slots."""

from __future__ import annotations

import asyncio

import pytest

from llmextract import pacing
from llmextract.pacing import Pacer


class Clock:
    """A fake monotonic clock that asyncio.sleep advances, so no test waits."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(pacing.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(pacing.asyncio, "sleep", fake.sleep)
    return fake


def starts(pacer: Pacer, clock: Clock, count: int) -> list[float]:
    times = []

    async def run() -> None:
        for _ in range(count):
            await pacer.wait()
            times.append(round(clock.now - 100.0, 6))

    asyncio.run(run())
    return times


def test_no_pacing_before_any_answer_or_with_one_slot(clock: Clock) -> None:
    assert starts(Pacer(16), clock, 5) == [0.0] * 5
    single = Pacer(1)
    single.observe(0.2)
    assert starts(single, clock, 3) == [0.0] * 3


def test_a_burst_is_spread_over_the_latency(clock: Clock) -> None:
    pacer = Pacer(4)
    pacer.observe(0.2)  # gap: 0.8 x 0.2 / 4 = 0.04 s; the first three go at once
    assert starts(pacer, clock, 6) == [0.0, 0.0, 0.0, 0.04, 0.08, 0.12]


def test_idle_time_earns_at_most_two_immediate_starts(clock: Clock) -> None:
    pacer = Pacer(4)
    pacer.observe(0.2)
    starts(pacer, clock, 1)
    clock.now += 10  # a long pause
    begin = clock.now - 100.0
    assert [round(t - begin, 6) for t in starts(pacer, clock, 4)] == [0.0, 0.0, 0.0, 0.04]


def test_latency_is_a_moving_average() -> None:
    pacer = Pacer(2)
    pacer.observe(1.0)
    pacer.observe(2.0)
    assert pacer.latency == pytest.approx(1.2)
