"""ordered_map: input order, a bounded window, lazy input, failures that cancel the rest."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import pytest

from llmextract.pool import ordered_map


def test_results_come_in_input_order_whatever_finishes_first() -> None:
    delays = [random.Random(7).random() / 100 for _ in range(40)]

    async def work(i: int) -> int:
        await asyncio.sleep(delays[i])
        return i * i

    async def main() -> list[int]:
        return [r async for r in ordered_map(range(40), work, window=8)]

    assert asyncio.run(main()) == [i * i for i in range(40)]


def test_at_most_window_items_run_and_the_input_is_read_lazily() -> None:
    running = peak = pulled = 0

    def items() -> Iterator[int]:
        nonlocal pulled
        for i in range(100):
            pulled += 1
            yield i

    async def work(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001)
        running -= 1
        return i

    async def main() -> list[int]:
        seen = []
        async for result in ordered_map(items(), work, window=5):
            seen.append(result)
            assert pulled <= len(seen) + 5
        return seen

    assert asyncio.run(main()) == list(range(100))
    assert peak == 5


def test_a_failure_propagates_and_cancels_the_work_still_running() -> None:
    cancelled = []

    async def work(i: int) -> int:
        if i == 0:
            await asyncio.sleep(0.01)
            raise RuntimeError("boom")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(i)
            raise
        return i

    async def main() -> None:
        async for _ in ordered_map(range(4), work, window=4):
            pass

    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(main())
    assert sorted(cancelled) == [1, 2, 3]
