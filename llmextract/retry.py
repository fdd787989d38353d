"""When to try a request again, and when to stop: the transport's time policy.

- :func:`retrying` is the tenacity policy of one request: transient faults only
  (:func:`is_transient`: connection errors, timeouts, 408/409/429, 5xx, and an HTTP 200 that
  holds no chat completion), exponential backoff with jitter, or the wait the server asked
  for (Retry-After, retry-after-ms), bounded.
- :class:`Breaker` fails requests at once while an endpoint that never answered keeps not
  answering.
- :func:`document_deadline` bounds the time of one document, not counting time spent
  waiting behind other documents (:func:`attempt_running`, :func:`waiting_for_a_slot`).
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar

import openai
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from llmextract.errors import EndpointUnavailableError
from llmextract.settings import Settings

__all__ = [
    "AttemptTimeout",
    "BadAnswer",
    "Breaker",
    "attempt_running",
    "document_deadline",
    "is_transient",
    "retrying",
    "waiting_for_a_slot",
]

_TRANSIENT_STATUS = frozenset({408, 409, 429})
# Attempts in a row that got no HTTP answer, from an endpoint that never gave one, before
# requests fail at once; and how often one is then let through to see if it is back.
_BREAKER_AFTER = 8
_BREAKER_PAUSE_S = 60.0


class BadAnswer(Exception):
    """An HTTP 200 that holds no chat completion (no choices, an HTML page, not JSON)."""


class AttemptTimeout(Exception):
    """An attempt outlasted ``timeout_s``; httpx alone times each read, not the whole."""


def is_transient(error: BaseException) -> bool:
    """True for a fault that another attempt may not meet."""
    # APIConnectionError includes APITimeoutError, and an answer that could not be decoded.
    if isinstance(error, BadAnswer | AttemptTimeout | openai.APIConnectionError):
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in _TRANSIENT_STATUS or error.status_code >= 500
    return False


def retrying(settings: Settings, on_retry: Callable[[], None]) -> AsyncRetrying:
    """The retries of one request: ``settings.transport_retries`` more attempts at most,
    after transient faults only; ``on_retry`` is called before each."""
    backoff = wait_random_exponential(
        multiplier=settings.retry_initial_wait_s, max=settings.retry_max_wait_s
    )

    def wait(state: RetryCallState) -> float:
        try:
            asked = _retry_after_s(state.outcome.exception() if state.outcome else None)
        except Exception:  # a header no parser foresaw must not end the retries
            asked = None
        if asked is not None:
            return min(asked, settings.retry_max_wait_s * 4)
        return float(backoff(state))

    return AsyncRetrying(
        stop=stop_after_attempt(settings.transport_retries + 1),
        wait=wait,
        retry=retry_if_exception(is_transient),
        before_sleep=lambda _: on_retry(),
        reraise=True,
    )


def _retry_after_s(error: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms / Retry-After), if it did so
    readably; a value that does not parse, or is not finite, counts as not sent."""
    headers = getattr(getattr(error, "response", None), "headers", None)
    if headers is None:
        return None
    readers: tuple[tuple[str, Callable[[str], float]], ...] = (
        ("retry-after-ms", lambda value: float(value) / 1000),
        ("retry-after", _seconds_or_date),
    )
    for name, read in readers:
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = read(value)
        except (TypeError, ValueError, OverflowError):
            continue
        if math.isfinite(seconds):
            return max(seconds, 0.0)
    return None


def _seconds_or_date(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return email.utils.parsedate_to_datetime(value).timestamp() - time.time()


class Breaker:
    """Fails requests at once while an endpoint that never answered keeps not answering.

    An endpoint that is down costs every attempt its whole ``timeout_s``, and with many
    documents under way the retries queue behind the first attempts: a batch would take
    hours to see it. Once ``_BREAKER_AFTER`` attempts in a row got no HTTP answer at all
    (no connection, a reset, a timeout) and none ever did, requests fail at once, so the
    documents fail fast and a batch stops on its run of unavailable documents; one request
    is let through every ``_BREAKER_PAUSE_S`` to see whether the endpoint is back. An
    endpoint that answered once stays trusted: its faults are retried request by request.
    """

    def __init__(self) -> None:
        self.answered = False
        self.unanswered = 0  # attempts in a row without an HTTP answer
        self.opened = 0.0  # when requests last started failing, or one was let through

    def allows(self) -> bool:
        if self.answered or self.unanswered < _BREAKER_AFTER:
            return True
        now = time.monotonic()
        if now - self.opened < _BREAKER_PAUSE_S:
            return False
        self.opened = now
        return True

    def record(self, *, answered: bool) -> None:
        if answered:
            self.answered = True
            return
        self.unanswered += 1
        if self.unanswered == _BREAKER_AFTER:
            self.opened = time.monotonic()


class _DocumentClock:
    """What is left of one document's time (see :func:`document_deadline`).

    It stands still while every request the document has under way waits for a request
    slot or the rate limits, since that is time spent on other documents.
    """

    def __init__(self, timeout: asyncio.Timeout, seconds: float) -> None:
        self._timeout = timeout
        self._left = seconds
        self._since: float | None = asyncio.get_running_loop().time()  # None: standing
        self._active = 0  # requests of the document under way
        self._waiting = 0  # of those, waiting for a slot or the rate limits
        self.closed = False

    @contextmanager
    def active(self) -> Iterator[None]:
        self._active += 1
        self._update()
        try:
            yield
        finally:
            self._active -= 1
            self._update()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        self._waiting += 1
        self._update()
        try:
            yield
        finally:
            self._waiting -= 1
            self._update()

    def _update(self) -> None:
        if self.closed or self._timeout.expired():
            return
        now = asyncio.get_running_loop().time()
        standing = self._active > 0 and self._waiting == self._active
        if standing and self._since is not None:
            self._left -= now - self._since
            self._since = None
            self._timeout.reschedule(None)
        elif not standing and self._since is None:
            self._since = now
            self._timeout.reschedule(now + self._left)


# The clock of the document whose requests run in this task (None: no deadline).
_clock: ContextVar[_DocumentClock | None] = ContextVar("llmextract_document_clock", default=None)


@asynccontextmanager
async def document_deadline(seconds: float | None) -> AsyncIterator[None]:
    """Fail the block with :class:`~llmextract.errors.EndpointUnavailableError` once it has
    taken ``seconds`` (None: never), not counting time when every request it has under way
    waits behind other documents' for a request slot or the rate limits."""
    if seconds is None:
        yield
        return
    try:
        async with asyncio.timeout(seconds) as timeout:
            clock = _DocumentClock(timeout, seconds)
            token = _clock.set(clock)
            try:
                yield
            finally:
                clock.closed = True
                _clock.reset(token)
    except TimeoutError:
        if not timeout.expired():
            raise
        raise EndpointUnavailableError(
            f"the document was not done within document_timeout_s={seconds:g} s (time spent "
            "waiting behind other documents not counted); raise document_timeout_s in the "
            "Settings, or set it to None for no limit, then retry the document (batch: rerun "
            "with --retry-errors)"
        ) from None


def attempt_running() -> AbstractContextManager[None]:
    """Around one request with its retries: the document's clock runs."""
    clock = _clock.get()
    return clock.active() if clock else nullcontext()


def waiting_for_a_slot() -> AbstractContextManager[None]:
    """Around a wait for a request slot or the rate limits: the clock may stand still."""
    clock = _clock.get()
    return clock.waiting() if clock else nullcontext()
