"""How fast requests start: spacing over the observed latency, and the per-minute limits.

- :class:`Pacer` spreads request starts over the typical latency instead of bursts.
- :class:`RateLimits` waits until the requests- and tokens-per-minute budgets allow a
  request (``settings.requests_per_minute``, ``settings.tokens_per_minute``).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiolimiter import AsyncLimiter

__all__ = ["Pacer", "RateLimits"]


class Pacer:
    """Spreads request starts over the typical latency instead of sending them in bursts.

    Requests that start together come back together and queue for the event loop (and the
    server) together, again and again: with 16 in flight at 200 ms each, that costs a
    third of the throughput. Spacing starts at least ``0.8 x latency / slots`` apart keeps
    them apart, and allows 1.25 x the rate the slots can reach, so it never slows a batch.
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.latency: float | None = None  # moving average of answered requests, seconds
        self.next_start = 0.0

    async def wait(self) -> None:
        if self.latency is None or self.slots == 1:
            return
        now = time.monotonic()
        gap = 0.8 * self.latency / self.slots
        # Starts missed while no request was waiting may be made up, two at most.
        due = max(self.next_start, now - 2 * gap)
        self.next_start = due + gap
        if due > now:
            await asyncio.sleep(due - now)

    def observe(self, seconds: float) -> None:
        self.latency = seconds if self.latency is None else 0.8 * self.latency + 0.2 * seconds


class RateLimits:
    """The requests- and tokens-per-minute budgets of one endpoint (None or 0: no limit)."""

    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None):
        self._rpm = _limiter(requests_per_minute)
        self._tpm = _limiter(tokens_per_minute)

    async def wait(self, body: dict[str, Any]) -> None:
        """Wait until the budgets allow the request ``body``."""
        if self._rpm is not None:
            await self._rpm.acquire()
        if self._tpm is not None:
            # Providers count max_tokens against the limit before the answer exists; the
            # prompt is estimated at four characters a token.
            tokens = len(json.dumps(body.get("messages", ""), default=str)) / 4
            tokens += float(body.get("max_tokens") or 0)
            await self._tpm.acquire(min(tokens, self._tpm.max_rate))


def _limiter(per_minute: float | None) -> AsyncLimiter | None:
    return None if not per_minute else AsyncLimiter(per_minute, 60)
