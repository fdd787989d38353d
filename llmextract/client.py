"""The one place that talks to a model: openai client + instructor + tenacity.

Layers, from the wire up:

- :func:`llmextract.transport.http_client` caps every answer's size, decoded
  (``max_response_bytes``).
- ``openai.AsyncOpenAI`` with its own retries off (``max_retries=0``): tenacity owns them.
- :meth:`ModelClient._sender` answers from the response cache when it can
  (:mod:`llmextract.cache`); keeps at most ``settings.in_flight`` requests in flight,
  within the requests- and tokens-per-minute limits; gives each attempt ``timeout_s`` in
  all, however slowly its answer trickles in; retries transient faults only (connection
  errors, timeouts, 408/409/429 honouring Retry-After, 5xx, and an HTTP 200 that holds no
  chat completion) with exponential backoff and jitter; fails at once while an endpoint
  that never answered keeps not answering (:class:`_Breaker`); records every request's
  token usage in the caller's :class:`~llmextract.schemas.Usage`; and bounds the
  conversation: instructor appends each failed answer plus the error before re-asking;
  only the original messages and the latest such round are sent (instructor issue #2056).
- instructor validates the answer against a draft schema whose validators ground every span
  and re-asks with the error, at most ``max_reasks`` times.
- What still fails is salvaged (grounded items kept, the rest recorded as dropped), unless
  the last answer is not the task's JSON at all: then the task has no answer, and
  :class:`~llmextract.errors.EndpointAnswerError` fails the document.
- Answers are cached once the request they belong to ended in a usable answer, so a rerun
  replays what succeeded and asks again what failed.
- :func:`document_deadline` bounds the time of one document (``document_timeout_s``).

Every error message goes through :func:`~llmextract.transport.redact` with the endpoint's
secrets, and names the endpoint by its display URL, never the URL with credentials.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, cast

import httpx2
import instructor
import openai
from aiolimiter import AsyncLimiter
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from openai.types.chat import ChatCompletion
from pydantic import BaseModel
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from llmextract.cache import ResponseCache, request_key
from llmextract.drafts import DraftList, grounding_scope, salvage, usable_answer
from llmextract.errors import (
    EndpointAnswerError,
    EndpointAuthError,
    EndpointError,
    EndpointRequestError,
    EndpointUnavailableError,
    LLMExtractError,
)
from llmextract.schemas import Usage
from llmextract.settings import Mode, Settings
from llmextract.transport import http_client, redact, secrets_in

__all__ = [
    "INSTRUCTOR_MODES",
    "ModelClient",
    "TruncatedAnswerError",
    "document_deadline",
    "probe_modes",
]

INSTRUCTOR_MODES: dict[Mode, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
    "md_json": instructor.Mode.MD_JSON,
}
_TRANSIENT_STATUS = frozenset({408, 409, 429})
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")
# Attempts in a row that got no HTTP answer, from an endpoint that never gave one, before
# requests fail at once; and how often one is then let through to see if it is back.
_BREAKER_AFTER = 8
_BREAKER_PAUSE_S = 60.0


class TruncatedAnswerError(EndpointError):
    """The model stopped at its token limit (finish_reason == "length")."""

    def __init__(self, max_tokens: int, raw: str | None) -> None:
        super().__init__(
            f"the answer was cut off at max_tokens={max_tokens}; the article is split into "
            "smaller chunks automatically, or raise the profile's max_tokens"
        )
        self.max_tokens = max_tokens
        self.raw = raw


class _BadAnswer(Exception):
    """An HTTP 200 that holds no chat completion (no choices, an HTML page, not JSON)."""


class _AttemptTimeout(Exception):
    """An attempt outlasted ``timeout_s``; httpx alone times each read, not the whole."""


@dataclass
class _Call:
    """State of one structured request across instructor's re-asks."""

    original_messages: int
    usage: Usage  # the document's
    total: Usage  # the client's, across every document, failed ones included
    attempts: int = 0  # answers asked for (the first, then re-asks)
    sent: int = 0  # HTTP requests, transport retries included
    answers: list[tuple[str, str]] = field(default_factory=list)  # (cache key, answer)

    def count(self, **amounts: int) -> None:
        for usage in (self.usage, self.total):
            for name, amount in amounts.items():
                setattr(usage, name, getattr(usage, name) + amount)


def _is_transient(error: BaseException) -> bool:
    # APIConnectionError includes APITimeoutError, and an answer that could not be decoded.
    if isinstance(error, _BadAnswer | _AttemptTimeout | openai.APIConnectionError):
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in _TRANSIENT_STATUS or error.status_code >= 500
    return False


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


def _answer_text(completion: Any) -> str | None:
    """The raw JSON the model produced, from a tool call or from the message content."""
    choices = getattr(completion, "choices", None)
    if not choices:
        return None
    message = choices[0].message
    for call in getattr(message, "tool_calls", None) or []:
        arguments = getattr(getattr(call, "function", None), "arguments", None)
        if arguments:
            return str(arguments)
    content = getattr(message, "content", None)
    return _FENCE.sub("", content) if content else None


def _checked(response: object) -> ChatCompletion:
    """``response`` if it is a chat completion with a message; else a transient fault."""
    if not isinstance(response, ChatCompletion):
        raise _BadAnswer(f"the answer is not a chat completion: {str(response)[:100]!r}")
    choices = getattr(response, "choices", None)
    if not choices or getattr(choices[0], "message", None) is None:
        raise _BadAnswer("the answer has no choices")
    return response


class _Pacer:
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


class _Breaker:
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


class ModelClient:
    """Structured, grounded requests to one OpenAI-compatible endpoint.

    ``total`` counts every request this client made (and every cached answer it served),
    whichever document it was for and whether or not that document succeeded.
    """

    def __init__(self, settings: Settings, *, base_url: str | None = None) -> None:
        endpoint = settings.endpoint
        url = base_url or endpoint.base_url
        if url is None:
            raise EndpointError("the embedded model must be started first (llmextract.embedded)")
        self.settings = settings
        self.url = url
        self.where = replace(endpoint, base_url=url).display_url  # no credentials, no query
        self._secrets = secrets_in(url, endpoint.api_key)
        self.total = Usage()
        self._openai = openai.AsyncOpenAI(
            base_url=url,
            api_key=endpoint.api_key or "not-needed",
            max_retries=0,
            timeout=endpoint.timeout_s,
            http_client=http_client(self.where, endpoint.max_response_bytes),
        )
        self._cache = None if settings.cache_dir is None else ResponseCache(settings.cache_dir)
        # The embedded model is named by its file, which a user may swap.
        self._cache_scope = (
            f"embedded:{settings.embedded_model_path or endpoint.model}"
            if endpoint.is_embedded
            else endpoint.display_url
        )
        self._in_flight = asyncio.Semaphore(settings.in_flight)
        self._pacer = _Pacer(settings.in_flight)
        self._breaker = _Breaker()
        self._rpm = _limiter(settings.requests_per_minute)
        self._tpm = _limiter(settings.tokens_per_minute)

    async def aclose(self) -> None:
        await self._openai.close()
        if self._cache is not None:
            self._cache.close()

    def _redacted(self, text: str) -> str:
        return redact(text, self._secrets)

    async def _throttle(self, body: dict[str, Any]) -> None:
        """Wait until the requests- and tokens-per-minute budgets allow ``body``."""
        if self._rpm is not None:
            await self._rpm.acquire()
        if self._tpm is not None:
            # Providers count max_tokens against the limit before the answer exists; the
            # prompt is estimated at four characters a token.
            tokens = len(json.dumps(body.get("messages", ""), default=str)) / 4
            tokens += float(body.get("max_tokens") or 0)
            await self._tpm.acquire(min(tokens, self._tpm.max_rate))

    async def ask(
        self,
        messages: list[dict[str, str]],
        schema: type[DraftList],
        *,
        text: str,
        offset: int,
        usage: Usage,
        candidates: Sequence[Any] = (),
    ) -> DraftList:
        """One answer to ``messages``, grounded in ``text`` (which starts at ``offset``).

        ``candidates`` are what a choice prompt offered the model (see llmextract.choices).

        Raises :class:`TruncatedAnswerError` when the model hits its token limit,
        :class:`~llmextract.errors.EndpointAnswerError` when no answer had the task's shape,
        and another :class:`~llmextract.errors.EndpointError` when the endpoint keeps failing.
        """
        endpoint = self.settings.endpoint
        limit = endpoint.max_tokens
        call = _Call(original_messages=len(messages), usage=usage, total=self.total)
        create = instructor.patch(
            create=cast(Callable[..., Awaitable[Any]], self._sender(call)),
            mode=INSTRUCTOR_MODES[endpoint.instructor_mode],
        )
        with grounding_scope(text, offset=offset, strict=True, candidates=candidates):
            try:
                answer = await create(  # type: ignore[misc]
                    response_model=_wrapped(schema),
                    messages=messages,
                    model=endpoint.model,
                    max_retries=self.settings.max_reasks,
                    temperature=self.settings.temperature,
                    max_tokens=limit,
                )
            except IncompleteOutputException as error:
                raise self._cut_off(call, schema, error) from None
            except InstructorRetryException as error:
                cause = error.__cause__
                if isinstance(cause, IncompleteOutputException):
                    raise self._cut_off(call, schema, cause) from None
                if isinstance(cause, EndpointError):  # built here, already redacted
                    raise cause from None
                if isinstance(cause, openai.APIError | _BadAnswer | _AttemptTimeout):
                    raise self._translate(cause, call, schema) from None
                why = _first_line(cause) if cause else "validation failed"
                raw = _answer_text(error.last_completion)
                if not usable_answer(schema, raw):
                    raise EndpointAnswerError(
                        self._redacted(
                            f"the model gave no usable answer for {schema.task} after "
                            f"{call.attempts} tries ({why}); retry with --retry-errors, or try "
                            "another --mode (llmextract endpoints check shows which work)"
                        )
                    ) from None
                self._commit(call)
                return salvage(schema, raw, text, offset=offset, why=why, candidates=candidates)
        self._commit(call)
        return cast(DraftList, answer)

    def _cut_off(
        self, call: _Call, schema: type[DraftList], error: IncompleteOutputException
    ) -> TruncatedAnswerError:
        raw = _answer_text(error.last_completion)
        if usable_answer(schema, raw):  # else a rerun asks again rather than replay it
            self._commit(call)
        return TruncatedAnswerError(self.settings.endpoint.max_tokens, raw)

    def _commit(self, call: _Call) -> None:
        """Cache the answers of a request that ended in a usable answer."""
        if self._cache is not None:
            for key, answer in call.answers:
                self._cache.put(key, answer)
        call.answers.clear()

    def _sender(self, call: _Call) -> Callable[..., Awaitable[ChatCompletion]]:
        settings = self.settings

        def wait(state: RetryCallState) -> float:
            backoff = wait_random_exponential(
                multiplier=settings.retry_initial_wait_s, max=settings.retry_max_wait_s
            )
            try:
                asked = _retry_after_s(state.outcome.exception() if state.outcome else None)
            except Exception:  # a header no parser foresaw must not end the retries
                asked = None
            if asked is not None:
                return min(asked, settings.retry_max_wait_s * 4)
            return float(backoff(state))

        def count_retry(_: RetryCallState) -> None:
            call.count(transport_retries=1)

        async def send(**kwargs: Any) -> ChatCompletion:
            messages = kwargs["messages"]
            if len(messages) > call.original_messages:
                last_round = max(
                    (i for i, m in enumerate(messages) if _role(m) == "assistant"),
                    default=call.original_messages,
                )
                kwargs["messages"] = messages[: call.original_messages] + messages[last_round:]
            if call.attempts:
                call.count(reasks=1)
            call.attempts += 1
            key = None
            if self._cache is not None:
                key = request_key(self._cache_scope, kwargs)
                if (hit := self._cache.get(key)) is not None:
                    try:
                        cached = _checked(ChatCompletion.model_validate_json(hit))
                    except (ValueError, _BadAnswer):  # a damaged entry is a miss, replaced
                        pass
                    else:
                        call.count(cached=1)
                        return cached
            retrying = AsyncRetrying(
                stop=stop_after_attempt(settings.transport_retries + 1),
                wait=wait,
                retry=retry_if_exception(_is_transient),
                before_sleep=count_retry,
                reraise=True,
            )
            clock = _clock.get()
            with clock.active() if clock else nullcontext():
                async for attempt in retrying:
                    with attempt:
                        response = await self._attempt(kwargs, call)
            if response.usage is not None:
                call.count(
                    prompt_tokens=response.usage.prompt_tokens,
                    completion_tokens=response.usage.completion_tokens,
                )
            if key is not None:
                call.answers.append((key, response.model_dump_json()))
            return response

        return send

    async def _attempt(self, body: dict[str, Any], call: _Call) -> ChatCompletion:
        """One HTTP request for ``body``, in ``timeout_s`` at most, once a slot is free."""
        clock = _clock.get()
        waiting: AbstractContextManager[None] = clock.waiting() if clock else nullcontext()
        with waiting:
            self._refuse_if_down()
            await self._throttle(body)
            await self._in_flight.acquire()
        try:
            self._refuse_if_down()  # it may have gone down while this request waited
            await self._pacer.wait()
            call.count(requests=1)
            call.sent += 1
            timeout_s = self.settings.endpoint.timeout_s
            sent = time.monotonic()
            try:
                async with asyncio.timeout(timeout_s):
                    response = await self._openai.chat.completions.create(**body)
            except TimeoutError:
                self._breaker.record(answered=False)
                raise _AttemptTimeout(
                    f"no complete answer within timeout_s={timeout_s:g} s"
                ) from None
            except openai.APIConnectionError as error:
                cause = error.__cause__
                self._breaker.record(answered=not isinstance(cause, httpx2.TransportError))
                if isinstance(cause, LLMExtractError):  # the answer broke a transport rule
                    raise cause from None
                raise
            except openai.APIStatusError:
                self._breaker.record(answered=True)
                raise
            except ValueError as error:  # a body labelled JSON that is not
                self._breaker.record(answered=True)
                raise _BadAnswer(f"the answer is not JSON ({_first_line(error)})") from None
            self._breaker.record(answered=True)
            self._pacer.observe(time.monotonic() - sent)
            return _checked(response)
        finally:
            self._in_flight.release()

    def _refuse_if_down(self) -> None:
        if not self._breaker.allows():
            raise EndpointUnavailableError(
                self._redacted(
                    f"{self.where} has not answered any of the last {self._breaker.unanswered} "
                    "requests (no connection, or no answer within timeout_s="
                    f"{self.settings.endpoint.timeout_s:g} s), so no more are sent for now. Is "
                    "the server running and reachable? Check it, then retry (batch: rerun with "
                    "--retry-errors)"
                )
            )

    def _translate(self, error: Exception, call: _Call, schema: type[DraftList]) -> EndpointError:
        where = self.where
        model = self.settings.endpoint.model
        tried = "1 request" if call.sent == 1 else f"{call.sent} requests"
        if isinstance(error, _BadAnswer):
            return EndpointAnswerError(
                self._redacted(
                    f"{where} gave no usable answer for {schema.task} after {tried}: {error}. "
                    "Retry later (batch: rerun with --retry-errors); if it persists, check the "
                    "server and any proxy before it"
                )
            )
        if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
            return EndpointAuthError(
                self._redacted(
                    f"{where} refused the API key (HTTP {error.status_code}): set "
                    "LLMEXTRACT_API_KEY or pass --api-key"
                )
            )
        if isinstance(error, openai.NotFoundError):
            return EndpointRequestError(
                self._redacted(
                    f"{where} answered 404 for model {model!r}: check --model, and that the "
                    "base URL ends in /v1"
                )
            )
        if _is_transient(error):
            timed_out = isinstance(error, _AttemptTimeout | openai.APITimeoutError)
            longer = ", or the profile's timeout_s if answers take that long" if timed_out else ""
            return EndpointUnavailableError(
                self._redacted(
                    f"{where} failed after {tried}: {_first_line(error)}. Is the server running "
                    f"and reachable? Retry later or raise --retries{longer}"
                )
            )
        status = getattr(error, "status_code", "?")
        return EndpointRequestError(
            self._redacted(
                f"{where} rejected the request (HTTP {status}): {_first_line(error)}. If it "
                f"does not support mode {self.settings.endpoint.instructor_mode!r}, try another "
                "--mode (llmextract endpoints check shows which work)"
            )
        )


@functools.lru_cache(maxsize=512)
def _wrapped(schema: type[DraftList]) -> type[DraftList]:
    """``schema`` as instructor wraps every response model, done once per schema: instructor
    wraps anew on each call, which makes a new class and a new JSON schema every request."""
    return cast(type[DraftList], instructor.openai_schema(schema))


def _limiter(per_minute: float | None) -> AsyncLimiter | None:
    return None if not per_minute else AsyncLimiter(per_minute, 60)


def _role(message: Any) -> str | None:
    if isinstance(message, dict):
        return cast(str | None, message.get("role"))
    return cast(str | None, getattr(message, "role", None))


def _first_line(error: BaseException) -> str:
    """The error's first line, without a final period: messages go on after it."""
    text = str(error).strip().splitlines()
    return text[0][:300].rstrip(".") if text else type(error).__name__


class _Probe(BaseModel):
    """A city and its country."""

    city: str
    country: str


@dataclass(frozen=True)
class ModeProbe:
    mode: Mode
    works: bool
    detail: str


async def probe_modes(settings: Settings, *, base_url: str | None = None) -> list[ModeProbe]:
    """Ask the endpoint one tiny structured question in each mode and report what works."""
    results: list[ModeProbe] = []
    client = ModelClient(settings, base_url=base_url)
    oai = client._openai
    try:
        for mode, instructor_mode in INSTRUCTOR_MODES.items():
            create = instructor.patch(create=oai.chat.completions.create, mode=instructor_mode)
            started = time.perf_counter()
            try:
                answer = await create(  # type: ignore[misc]
                    response_model=_Probe,
                    messages=[{"role": "user", "content": "Paris is in which country?"}],
                    model=settings.endpoint.model,
                    max_retries=0,
                    max_tokens=100,
                    temperature=0,
                )
                seconds = time.perf_counter() - started
                results.append(ModeProbe(mode, True, f"{answer!r} in {seconds:.1f} s"))
            except Exception as error:
                cause = error.__cause__ or error
                results.append(ModeProbe(mode, False, client._redacted(_first_line(cause))))
    finally:
        await client.aclose()
    return results
