"""The HTTP layer under the model client: a size cap on answers, and secrets kept out of text.

- :func:`http_client` is the ``httpx2.AsyncClient`` the openai client sends through. Every
  response body is read through a counter that fails once the body, decoded, passes the
  endpoint's ``max_response_bytes``; gzip and deflate are decoded here, in bounded pieces,
  so the cap holds for what the body expands to, not what it weighs on the wire. The cap is
  applied in a response hook rather than a wrapping transport, so the client keeps httpx's
  own transport choice (proxies from the environment, connection limits).
- :func:`redact` and :func:`secrets_in`: every message the client builds about an endpoint
  goes through ``redact`` with the endpoint's secrets (API key, URL password, query
  values), since servers echo what they were sent.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx2
import openai

from llmextract.errors import EndpointAnswerTooLargeError, EndpointError

__all__ = ["http_client", "redact", "secrets_in"]

_PIECE = 64 * 1024  # decoded bytes produced per step, so a bomb never expands at once
_INFLATED = frozenset({"gzip", "x-gzip", "deflate"})
_SHORTEST_SECRET = 4  # shorter values (a "key" of "x") would blank out ordinary words


def secrets_in(url: str | None, api_key: str | None) -> tuple[str, ...]:
    """What must never be shown of an endpoint: its key, URL user and password, and the
    values of its URL query, each as written and percent-decoded."""
    found = [api_key or ""]
    if url:
        parts = urlsplit(url)
        found += [parts.username or "", parts.password or ""]
        found += [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
        found += [value for _, _, value in (p.partition("=") for p in parts.query.split("&"))]
    found += [unquote(value) for value in found]
    return tuple(sorted({s for s in found if len(s) >= _SHORTEST_SECRET}, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every one of ``secrets`` replaced by ``***`` (longest first)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def http_client(where: str, max_response_bytes: int) -> httpx2.AsyncClient:
    """The HTTP client for the endpoint shown as ``where``, capping every answer's size."""

    async def accept_only_what_is_decoded_here(request: httpx2.Request) -> None:
        request.headers["Accept-Encoding"] = "gzip, deflate"

    async def cap(response: httpx2.Response) -> None:
        codings = [
            coding.strip().lower()
            for coding in response.headers.get_list("content-encoding", split_commas=True)
        ]
        codings = [coding for coding in codings if coding not in {"", "identity"}]
        if len(codings) > 1 or (codings and codings[0] not in _INFLATED):
            raise EndpointError(
                f"{where} sent an answer with Content-Encoding {', '.join(codings)}, though "
                "asked for gzip or deflate only; configure the server (or a proxy before "
                "it) not to use that encoding"
            )
        declared = response.headers.get("content-length", "")
        if not codings and declared.isdigit() and int(declared) > max_response_bytes:
            raise _too_large(where, max_response_bytes)
        raw = response.stream
        assert isinstance(raw, httpx2.AsyncByteStream)  # as every AsyncClient response's is
        response.stream = _CappedStream(
            raw, _Inflater() if codings else None, max_response_bytes, where
        )
        if codings:  # decoded here: httpx must not decode again, nor trust the length
            del response.headers["content-encoding"]
            response.headers.pop("content-length", None)

    return openai.DefaultAsyncHttpxClient(
        event_hooks={"request": [accept_only_what_is_decoded_here], "response": [cap]}
    )


def _too_large(where: str, limit: int) -> EndpointAnswerTooLargeError:
    return EndpointAnswerTooLargeError(
        f"{where} sent an answer larger than max_response_bytes={limit} "
        f"({limit / 2**20:g} MiB, decoded), so it was not read. If answers this large are "
        "expected, raise max_response_bytes in the endpoint's profile ([profiles.NAME] in "
        "the config file)"
    )


class _Inflater:
    """gzip or deflate (zlib-wrapped or raw), decoded at most :data:`_PIECE` bytes a step."""

    def __init__(self) -> None:
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or zlib header
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        try:
            piece = self._zlib.decompress(data, _PIECE)
        except zlib.error:
            if self._started:
                raise httpx2.DecodingError("the compressed answer is damaged") from None
            # Servers send "deflate" both zlib-wrapped and raw; raw has no header.
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            piece = self._raw(data)
        self._started = True
        yield piece
        # A full piece may leave input unread (unconsumed_tail) or output pending inside.
        while len(piece) == _PIECE:
            piece = self._raw(self._zlib.unconsumed_tail)
            yield piece

    def _raw(self, data: bytes) -> bytes:
        try:
            return self._zlib.decompress(data, _PIECE)
        except zlib.error:
            raise httpx2.DecodingError("the compressed answer is damaged") from None

    def flush(self) -> bytes:
        try:
            return self._zlib.flush()
        except zlib.error:
            raise httpx2.DecodingError("the compressed answer is damaged") from None


class _CappedStream(httpx2.AsyncByteStream):
    """A response body that fails once it, or what it decodes to, passes ``limit`` bytes."""

    def __init__(
        self, raw: httpx2.AsyncByteStream, inflater: _Inflater | None, limit: int, where: str
    ) -> None:
        self._raw = raw
        self._inflater = inflater
        self._limit = limit
        self._where = where

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = decoded = 0
        async for chunk in self._raw:
            received += len(chunk)
            pieces = [chunk] if self._inflater is None else self._inflater.decode(chunk)
            for piece in pieces:
                decoded += len(piece)
                if max(received, decoded) > self._limit:
                    raise _too_large(self._where, self._limit)
                if piece:
                    yield piece
        if self._inflater is not None:
            rest = self._inflater.flush()
            if decoded + len(rest) > self._limit:
                raise _too_large(self._where, self._limit)
            yield rest

    async def aclose(self) -> None:
        await self._raw.aclose()
