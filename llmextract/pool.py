"""Bounded, ordered concurrency over a stream: what batch extraction and eval both run on."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar

__all__ = ["ordered_map"]

T = TypeVar("T")
R = TypeVar("R")


async def ordered_map(
    items: Iterable[T], work: Callable[[T], Awaitable[R]], *, window: int
) -> AsyncIterator[R]:
    """``work(item)`` for every item, yielded in input order, at most ``window`` at once.

    ``items`` is read lazily and at most ``window`` results are held, so memory stays flat
    however long the stream. A finished result waits only for those before it; a slow item
    holds back new work once ``window`` items have started after it. An exception from
    ``work`` propagates when its turn comes, and the work still running is cancelled.
    """
    if window < 1:
        raise ValueError("window must be at least 1")
    running: deque[asyncio.Task[R]] = deque()
    try:
        for item in items:
            if len(running) >= window:
                yield await running.popleft()
            running.append(asyncio.ensure_future(work(item)))
        while running:
            yield await running.popleft()
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
