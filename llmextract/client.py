"""The model client: structured answers from one OpenAI-compatible endpoint, every failure
mapped to a typed error. It knows response models and validation contexts, not tasks.

Layers, from the wire up:

- :func:`llmextract.transport.http_client` caps every answer's size, decoded
  (``max_response_bytes``).
- ``openai.AsyncOpenAI`` with its own retries off (``max_retries=0``): tenacity owns them.
- :meth:`ModelClient._sender` answers from the response cache when it can
  (:mod:`llmextract.cache`); keeps at most ``settings.in_flight`` requests in flight, paced
  and within the requests- and tokens-per-minute limits (:mod:`llmextract.pacing`); gives
  each attempt ``timeout_s`` in all, however slowly its answer trickles in; retries
  transient faults and stops on a down endpoint or a document's deadline
  (:mod:`llmextract.retry`); records every request's token usage in the caller's
  :class:`~llmextract.schemas.Usage`; and bounds the conversation: instructor appends each
  failed answer plus the error before re-asking; only the original messages and the latest
  such round are sent (instructor issue #2056).
- instructor validates the answer against the caller's response model, with the caller's
  validation context (``info.context`` in its validators), and re-asks with the error at
  most ``max_reasks`` times.
- An answer that never validates raises :class:`InvalidAnswerError`, one cut off at the
  token limit :class:`TruncatedAnswerError`; both carry the last answer as it came, for the
  caller to salvage.
- Answers are cached once the request they belong to ended in a usable answer (a valid one,
  or one the caller kept: :meth:`AnswerError.keep`), so a rerun replays what succeeded and
  asks again what failed.

Every error message goes through :func:`~llmextract.transport.redact` with the endpoint's
secrets, and names the endpoint by its display URL, never the URL with credentials.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import httpx2
import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from openai.types.chat import ChatCompletion
from pydantic import BaseModel

from llmextract.cache import ResponseCache, request_key
from llmextract.errors import (
    ConfigError,
    EndpointAnswerError,
    EndpointAuthError,
    EndpointError,
    EndpointRequestError,
    EndpointUnavailableError,
    LLMExtractError,
)
from llmextract.pacing import Pacer, RateLimits
from llmextract.retry import (
    AttemptTimeout,
    BadAnswer,
    Breaker,
    attempt_running,
    is_transient,
    retrying,
    waiting_for_a_slot,
)
from llmextract.schemas import Usage
from llmextract.settings import Mode, Settings
from llmextract.transport import http_client, redact, secrets_in

__all__ = [
    "INSTRUCTOR_MODES",
    "AnswerError",
    "InvalidAnswerError",
    "ModelClient",
    "TruncatedAnswerError",
    "first_line",
]

INSTRUCTOR_MODES: dict[Mode, instructor.Mode] = {
    "tools": instructor.Mode.TOOLS,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
    "md_json": instructor.Mode.MD_JSON,
}
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")
# Hosts that refuse every request without a key, and the variable that holds it there.
_KEYED_HOSTS = {"api.openai.com": "OPENAI_API_KEY"}

_Answer = TypeVar("_Answer", bound=BaseModel)


class AnswerError(EndpointError):
    """The model answered, but its last answer is no valid instance of the response model.

    ``raw`` is that answer as it came (JSON text, possibly cut off; None if there was
    none) and ``why`` says what is wrong with it. Call :meth:`keep` once ``raw`` proved
    usable: the request's answers are then cached, so that a rerun replays them.
    """

    def __init__(
        self, message: str, *, raw: str | None, why: str, keep: Callable[[], None]
    ) -> None:
        super().__init__(message)
        self.raw = raw
        self.why = why
        self._keep = keep

    def keep(self) -> None:
        """Cache the answers of the request, as for a valid answer."""
        self._keep()


class TruncatedAnswerError(AnswerError):
    """The model stopped at its token limit (finish_reason == "length")."""

    def __init__(self, max_tokens: int, raw: str | None, keep: Callable[[], None]) -> None:
        message = (
            f"the answer was cut off at max_tokens={max_tokens}; the article is split into "
            "smaller chunks automatically, or raise the profile's max_tokens"
        )
        super().__init__(message, raw=raw, why=message, keep=keep)
        self.max_tokens = max_tokens


class InvalidAnswerError(AnswerError):
    """No answer validated, re-asks included; ``tries`` answers were asked for."""

    def __init__(self, tries: int, why: str, raw: str | None, keep: Callable[[], None]) -> None:
        super().__init__(
            f"the model's answer did not validate after {tries} tries ({why}); retry, or try "
            "another --mode (llmextract endpoints check shows which work)",
            raw=raw,
            why=why,
            keep=keep,
        )
        self.tries = tries


class _ValidationContext(dict[str, Any]):
    """The caller's validation context, as instructor is given it.

    instructor renders every message as a Jinja template whenever its ``context`` is truthy
    (its prompt templating), and the messages hold the article, which must stay data, never
    template source. This dict is falsy, so instructor only hands it to the validators.
    """

    def __bool__(self) -> bool:
        return False


@dataclass
class _Call:
    """State of one structured request across instructor's re-asks."""

    original_messages: int
    usage: Usage  # the document's
    total: Usage  # the client's, across every document, failed ones included
    attempts: int = 0  # answers asked for (the first, then re-asks)
    sent: int = 0  # HTTP requests, transport retries included
    answers: list[tuple[str, str]] = field(default_factory=list)  # (cache key, answer)
    context: dict[str, Any] | None = None  # the validation context, when it wants logprobs
    logprobs_key: str = ""  # where in it they go

    def count(self, **amounts: int) -> None:
        for usage in (self.usage, self.total):
            for name, amount in amounts.items():
                setattr(usage, name, getattr(usage, name) + amount)


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


def _with_logprobs(call: _Call, response: ChatCompletion) -> ChatCompletion:
    """``response``, its answer tokens with their alternatives put in the validation
    context first when the call wants them (an answer without them puts an empty list)."""
    if call.context is not None:
        content = getattr(response.choices[0].logprobs, "content", None) or []
        call.context[call.logprobs_key] = [
            (t.token, {alt.token: alt.logprob for alt in t.top_logprobs or ()}) for t in content
        ]
    return response


def _checked(response: object) -> ChatCompletion:
    """``response`` if it is a chat completion with a message; else a transient fault."""
    if not isinstance(response, ChatCompletion):
        raise BadAnswer(f"the answer is not a chat completion: {str(response)[:100]!r}")
    choices = getattr(response, "choices", None)
    if not choices or getattr(choices[0], "message", None) is None:
        raise BadAnswer("the answer has no choices")
    return response


def _check_key(url: str, api_key: str | None, where: str) -> None:
    """Fail before any request when the endpoint refuses every request without a key."""
    variable = _KEYED_HOSTS.get((urlsplit(url).hostname or "").lower())
    if variable is not None and not api_key:
        raise ConfigError(
            f"{where} needs an API key and none is set: set {variable} (or "
            "LLMEXTRACT_API_KEY), or pass --api-key"
        )


class ModelClient:
    """Structured requests to one OpenAI-compatible endpoint.

    ``total`` counts every request this client made (and every cached answer it served),
    whichever document it was for and whether or not that document succeeded.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        base_url: str | None = None,
        connect: Callable[[], str] | None = None,
    ) -> None:
        """``connect``, instead of a URL, starts a server on the first request and gives its
        URL: the embedded model is started only when a request needs it."""
        endpoint = settings.endpoint
        url = base_url or endpoint.base_url
        if url is None and connect is None:
            raise EndpointError("the embedded model must be started first (llmextract.embedded)")
        self.settings = settings
        self.total = Usage()
        self._connect = connect
        self._connecting = asyncio.Lock()
        self._openai: openai.AsyncOpenAI | None = None
        self.url, self.where = "", endpoint.display_url
        self._secrets = secrets_in("", endpoint.api_key)
        if url is not None:
            self._open(url)
        self._cache = None if settings.cache_dir is None else ResponseCache(settings.cache_dir)
        # The embedded model is named by its file, which a user may swap.
        self._cache_scope = (
            f"embedded:{settings.embedded_model_path or endpoint.model}"
            if endpoint.is_embedded
            else endpoint.display_url
        )
        self._in_flight = asyncio.Semaphore(settings.in_flight)
        self._pacer = Pacer(settings.in_flight)
        self._limits = RateLimits(settings.requests_per_minute, settings.tokens_per_minute)
        self._breaker = Breaker()

    def _open(self, url: str) -> openai.AsyncOpenAI:
        endpoint = self.settings.endpoint
        self.url = url
        self.where = replace(endpoint, base_url=url).display_url  # no credentials, no query
        if not endpoint.is_embedded:
            _check_key(url, endpoint.api_key, self.where)
        self._secrets = secrets_in(url, endpoint.api_key)
        self._openai = openai.AsyncOpenAI(
            base_url=url,
            api_key=endpoint.api_key or "not-needed",
            max_retries=0,
            timeout=endpoint.timeout_s,
            http_client=http_client(self.where, endpoint.max_response_bytes),
        )
        return self._openai

    async def connected(self) -> openai.AsyncOpenAI:
        """The openai client underneath (no retries, the answer size capped), its server
        started first if this client starts one."""
        async with self._connecting:
            if self._openai is not None:
                return self._openai
            assert self._connect is not None  # a client without a URL has a way to one
            return self._open(await asyncio.to_thread(self._connect))

    async def aclose(self) -> None:
        if self._openai is not None:
            await self._openai.close()
        if self._cache is not None:
            self._cache.close()

    def redact(self, text: str) -> str:
        """``text`` with the endpoint's secrets blanked out."""
        return redact(text, self._secrets)

    async def ask(
        self,
        messages: list[dict[str, str]],
        response_model: type[_Answer],
        *,
        usage: Usage,
        context: Mapping[str, Any] | None = None,
        label: str = "the request",
    ) -> _Answer:
        """One answer to ``messages``, validated as ``response_model`` with ``context`` as
        the validation context; ``label`` names what it is for in error messages.

        Raises :class:`InvalidAnswerError` when no answer validated (re-asks spent),
        :class:`TruncatedAnswerError` when the model hits its token limit, and another
        :class:`~llmextract.errors.EndpointError` when the endpoint keeps failing.
        """
        endpoint = self.settings.endpoint
        call = _Call(original_messages=len(messages), usage=usage, total=self.total)
        validation = None if context is None else _ValidationContext(context)
        extra: dict[str, Any] = {}
        # A response model may ask for its answer's tokens, each with its ``top_logprobs``
        # likeliest alternatives, in its validation context under ``logprobs_key``:
        # ``[(token, {alternative: logprob})]``. Only the embedded model is asked: the
        # thresholds that read them were calibrated on it (llmextract.choices).
        top = getattr(response_model, "top_logprobs", 0)
        key = getattr(response_model, "logprobs_key", "")
        if top and key and endpoint.is_embedded and validation is not None:
            extra = {"logprobs": True, "top_logprobs": top}
            call.context, call.logprobs_key = validation, key
        create = instructor.patch(
            create=cast(Callable[..., Awaitable[Any]], self._sender(call)),
            mode=INSTRUCTOR_MODES[endpoint.instructor_mode],
        )
        try:
            answer = await create(  # type: ignore[misc]
                response_model=_wrapped(response_model),
                context=validation,
                messages=messages,
                model=endpoint.model,
                max_retries=self.settings.max_reasks,
                temperature=self.settings.temperature,
                max_tokens=endpoint.max_tokens,
                **extra,
            )
        except IncompleteOutputException as error:
            raise self._cut_off(call, error) from None
        except InstructorRetryException as error:
            cause = error.__cause__
            if isinstance(cause, IncompleteOutputException):
                raise self._cut_off(call, cause) from None
            if isinstance(cause, EndpointError):  # built here, already redacted
                raise cause from None
            if isinstance(cause, openai.APIError | BadAnswer | AttemptTimeout):
                raise self._translate(cause, call, label) from None
            why = self.redact(first_line(cause)) if cause else "validation failed"
            raw = _answer_text(error.last_completion)
            keep = functools.partial(self._commit, call)
            raise InvalidAnswerError(call.attempts, why, raw, keep) from None
        self._commit(call)
        return cast(_Answer, answer)

    def _cut_off(self, call: _Call, error: IncompleteOutputException) -> TruncatedAnswerError:
        raw = _answer_text(error.last_completion)
        keep = functools.partial(self._commit, call)
        return TruncatedAnswerError(self.settings.endpoint.max_tokens, raw, keep)

    def _commit(self, call: _Call) -> None:
        """Cache the answers of a request that ended in a usable answer."""
        if self._cache is not None:
            for key, answer in call.answers:
                self._cache.put(key, answer)
        call.answers.clear()

    def _sender(self, call: _Call) -> Callable[..., Awaitable[ChatCompletion]]:
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
                    except (ValueError, BadAnswer):  # a damaged entry is a miss, replaced
                        pass
                    else:
                        call.count(cached=1)
                        return _with_logprobs(call, cached)
            with attempt_running():
                async for attempt in retrying(
                    self.settings, lambda: call.count(transport_retries=1)
                ):
                    with attempt:
                        response = await self._attempt(kwargs, call)
            if response.usage is not None:
                call.count(
                    prompt_tokens=response.usage.prompt_tokens,
                    completion_tokens=response.usage.completion_tokens,
                )
            if key is not None:
                call.answers.append((key, response.model_dump_json()))
            return _with_logprobs(call, response)

        return send

    async def _attempt(self, body: dict[str, Any], call: _Call) -> ChatCompletion:
        """One HTTP request for ``body``, in ``timeout_s`` at most, once a slot is free."""
        with waiting_for_a_slot():
            self._refuse_if_down()
            await self._limits.wait(body)
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
                    openai_client = await self.connected()
                    response = await openai_client.chat.completions.create(**body)
            except TimeoutError:
                self._breaker.record(answered=False)
                raise AttemptTimeout(
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
                raise BadAnswer(f"the answer is not JSON ({first_line(error)})") from None
            self._breaker.record(answered=True)
            self._pacer.observe(time.monotonic() - sent)
            return _checked(response)
        finally:
            self._in_flight.release()

    def _refuse_if_down(self) -> None:
        if not self._breaker.allows():
            raise EndpointUnavailableError(
                self.redact(
                    f"{self.where} has not answered any of the last {self._breaker.unanswered} "
                    "requests (no connection, or no answer within timeout_s="
                    f"{self.settings.endpoint.timeout_s:g} s), so no more are sent for now. Is "
                    "the server running and reachable? Check it, then retry (batch: rerun with "
                    "--retry-errors)"
                )
            )

    def _translate(self, error: Exception, call: _Call, label: str) -> EndpointError:
        where = self.where
        model = self.settings.endpoint.model
        tried = "1 request" if call.sent == 1 else f"{call.sent} requests"
        if isinstance(error, BadAnswer):
            return EndpointAnswerError(
                self.redact(
                    f"{where} gave no usable answer for {label} after {tried}: {error}. "
                    "Retry later (batch: rerun with --retry-errors); if it persists, check the "
                    "server and any proxy before it"
                )
            )
        if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
            return EndpointAuthError(
                self.redact(
                    f"{where} refused the API key (HTTP {error.status_code}): set "
                    "LLMEXTRACT_API_KEY or pass --api-key"
                )
            )
        if isinstance(error, openai.NotFoundError):
            return EndpointRequestError(
                self.redact(
                    f"{where} answered 404 for model {model!r}: check --model, and that the "
                    "base URL ends in /v1"
                )
            )
        if is_transient(error):
            timed_out = isinstance(error, AttemptTimeout | openai.APITimeoutError)
            longer = ", or the profile's timeout_s if answers take that long" if timed_out else ""
            return EndpointUnavailableError(
                self.redact(
                    f"{where} failed after {tried}: {first_line(error)}. Is the server running "
                    f"and reachable? Retry later or raise --retries{longer}"
                )
            )
        status = getattr(error, "status_code", "?")
        return EndpointRequestError(
            self.redact(
                f"{where} rejected the request (HTTP {status}): {first_line(error)}. If it "
                f"does not support mode {self.settings.endpoint.instructor_mode!r}, try another "
                "--mode (llmextract endpoints check shows which work)"
            )
        )


@functools.lru_cache(maxsize=512)
def _wrapped(response_model: type[BaseModel]) -> type[BaseModel]:
    """``response_model`` as instructor wraps every response model, done once per model:
    instructor wraps anew on each call, which makes a new class and JSON schema every time."""
    return cast(type[BaseModel], instructor.openai_schema(response_model))


def _role(message: Any) -> str | None:
    if isinstance(message, dict):
        return cast(str | None, message.get("role"))
    return cast(str | None, getattr(message, "role", None))


def first_line(error: BaseException) -> str:
    """The error's first line, without a final period: messages go on after it."""
    text = str(error).strip().splitlines()
    return text[0][:300].rstrip(".") if text else type(error).__name__
