"""The one place that talks to a model: openai client + instructor + tenacity.

Layers, from the wire up:

- ``openai.AsyncOpenAI`` with its own retries off (``max_retries=0``): tenacity owns them.
- :meth:`ModelClient._sender` answers from the response cache when it can
  (:mod:`llmextract.cache`); keeps at most ``settings.in_flight`` requests in flight,
  within the requests- and tokens-per-minute limits; retries transport faults only
  (connection errors, timeouts, 408/409/429 honouring Retry-After, 5xx) with exponential
  backoff and jitter; records every request's token usage in the caller's
  :class:`~llmextract.schemas.Usage`; and bounds the conversation: instructor appends each
  failed answer plus the error before re-asking; only the original messages and the latest
  such round are sent (instructor issue #2056).
- instructor validates the answer against a draft schema whose validators ground every span
  and re-asks with the error, at most ``max_reasks`` times.
- What still fails is salvaged (grounded items kept, the rest recorded as dropped).
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import instructor
import openai
from aiolimiter import AsyncLimiter
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from openai.types.chat import ChatCompletion
from pydantic import BaseModel
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from llmextract.cache import ResponseCache, request_key
from llmextract.drafts import DraftList, grounding_scope, salvage
from llmextract.errors import (
    EndpointAuthError,
    EndpointError,
    EndpointRequestError,
    EndpointUnavailableError,
)
from llmextract.schemas import Usage
from llmextract.settings import Mode, Settings

__all__ = ["INSTRUCTOR_MODES", "ModelClient", "TruncatedAnswerError", "probe_modes"]

INSTRUCTOR_MODES: dict[Mode, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
    "md_json": instructor.Mode.MD_JSON,
}
_TRANSIENT_STATUS = frozenset({408, 409, 429})
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")


class TruncatedAnswerError(EndpointError):
    """The model stopped at its token limit (finish_reason == "length")."""

    def __init__(self, max_tokens: int, raw: str | None) -> None:
        super().__init__(
            f"the answer was cut off at max_tokens={max_tokens}; the article is split into "
            "smaller chunks automatically, or raise the profile's max_tokens"
        )
        self.max_tokens = max_tokens
        self.raw = raw


@dataclass
class _Call:
    """State of one structured request across instructor's re-asks."""

    original_messages: int
    usage: Usage  # the document's
    total: Usage  # the client's, across every document, failed ones included
    attempts: int = 0

    def count(self, **amounts: int) -> None:
        for usage in (self.usage, self.total):
            for name, amount in amounts.items():
                setattr(usage, name, getattr(usage, name) + amount)


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in _TRANSIENT_STATUS or error.status_code >= 500
    return False


def _retry_after_s(error: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (Retry-After / retry-after-ms), if it did."""
    response = getattr(error, "response", None)
    if response is None:
        return None
    headers = response.headers
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(float(ms) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return None if parsed is None else max(parsed.timestamp() - time.time(), 0.0)


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
        self.total = Usage()
        self._openai = openai.AsyncOpenAI(
            base_url=url,
            api_key=endpoint.api_key or "not-needed",
            max_retries=0,
            timeout=endpoint.timeout_s,
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
        self._rpm = _limiter(settings.requests_per_minute)
        self._tpm = _limiter(settings.tokens_per_minute)

    async def aclose(self) -> None:
        await self._openai.close()
        if self._cache is not None:
            self._cache.close()

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

        Raises :class:`TruncatedAnswerError` when the model hits its token limit and an
        :class:`~llmextract.errors.EndpointError` when the endpoint keeps failing.
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
                return cast(DraftList, answer)
            except IncompleteOutputException as error:
                raise TruncatedAnswerError(limit, _answer_text(error.last_completion)) from None
            except InstructorRetryException as error:
                cause = error.__cause__
                if isinstance(cause, openai.APIError):
                    raise self._translate(cause, call) from None
                if isinstance(cause, IncompleteOutputException):
                    raise TruncatedAnswerError(limit, _answer_text(cause.last_completion)) from None
                why = _first_line(cause) if cause else "validation failed"
                raw = _answer_text(error.last_completion)
                return salvage(schema, raw, text, offset=offset, why=why, candidates=candidates)

    def _sender(self, call: _Call) -> Callable[..., Awaitable[ChatCompletion]]:
        settings = self.settings

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            asked = _retry_after_s(error)
            if asked is not None:
                return min(asked, settings.retry_max_wait_s * 4)
            backoff = wait_random_exponential(
                multiplier=settings.retry_initial_wait_s, max=settings.retry_max_wait_s
            )
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
                        cached = ChatCompletion.model_validate_json(hit)
                    except ValueError:  # a damaged entry is a miss; the answer replaces it
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
            async for attempt in retrying:
                with attempt:
                    await self._throttle(kwargs)
                    async with self._in_flight:
                        await self._pacer.wait()
                        call.count(requests=1)
                        sent = time.monotonic()
                        response: ChatCompletion = await self._openai.chat.completions.create(
                            **kwargs
                        )
                        self._pacer.observe(time.monotonic() - sent)
            if response.usage is not None:
                call.count(
                    prompt_tokens=response.usage.prompt_tokens,
                    completion_tokens=response.usage.completion_tokens,
                )
            if key is not None and self._cache is not None:
                self._cache.put(key, response.model_dump_json())
            return response

        return send

    def _translate(self, error: openai.APIError, call: _Call) -> EndpointError:
        where = self.url
        model = self.settings.endpoint.model
        if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
            return EndpointAuthError(
                f"{where} refused the API key (HTTP {error.status_code}): set LLMEXTRACT_API_KEY "
                "or pass --api-key"
            )
        if isinstance(error, openai.NotFoundError):
            return EndpointRequestError(
                f"{where} answered 404 for model {model!r}: check --model, and that the base URL "
                "ends in /v1"
            )
        if _is_transient(error):
            return EndpointUnavailableError(
                f"{where} failed after {call.usage.requests} requests: {_first_line(error)}. "
                "Is the server running and reachable? Retry later or raise --retries"
            )
        status = getattr(error, "status_code", "?")
        return EndpointRequestError(
            f"{where} rejected the request (HTTP {status}): {_first_line(error)}. If it does "
            f"not support mode {self.settings.endpoint.instructor_mode!r}, try another --mode "
            "(llmextract endpoints check shows which work)"
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
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__


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
                results.append(ModeProbe(mode, False, _first_line(cause)))
    finally:
        await client.aclose()
    return results
