"""Which instructor modes an endpoint answers in (``llmextract endpoints check``).

Each mode gets one tiny structured question, once: no re-ask, no retry, no cache. A mode
that fails says why on one line, naming every field that did not validate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import instructor
from pydantic import BaseModel, ValidationError

from llmextract.client import INSTRUCTOR_MODES, ModelClient, first_line
from llmextract.settings import Mode, Settings

__all__ = ["ModeProbe", "probe_modes"]


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
    try:
        underneath = await client.connected()
        for mode, instructor_mode in INSTRUCTOR_MODES.items():
            create = instructor.patch(
                create=underneath.chat.completions.create, mode=instructor_mode
            )
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
                results.append(ModeProbe(mode, False, client.redact(_why(error))))
    finally:
        await client.aclose()
    return results


def _why(error: BaseException) -> str:
    """Why a mode failed, as one line; a validation error names each field and its error."""
    cause = error.__cause__ or error
    if not isinstance(cause, ValidationError):
        return first_line(cause)
    count = cause.error_count()
    problems = []
    for problem in cause.errors():
        where = ".".join(str(part) for part in problem["loc"])
        message = " ".join(problem["msg"].split())
        problems.append(f"{where}: {message}" if where else message)
    s = "" if count == 1 else "s"
    return f"{count} validation error{s} for {cause.title}: {'; '.join(problems)}"
