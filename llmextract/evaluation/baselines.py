"""Two baselines to score beside llmextract on the same gold documents.

- ``rules``: llmextract's own candidates (:mod:`llmextract.candidates`) with every choice
  left at the code's best guess (each quotation accepted with its first speaker, each event
  with its first listed type, each stance with its hinted polarity). No model.
- ``naive``: one plain instructor call per task with the same model and the copy schema, no
  grounding and no re-ask. Its passages are located afterwards by exact search only; those
  that are not in the article are counted as ungrounded predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import instructor
import openai

from llmextract.choices import ChoiceList, find_candidates
from llmextract.chunking import make_chunks
from llmextract.client import INSTRUCTOR_MODES
from llmextract.drafts import DraftList, grounding_context
from llmextract.errors import EndpointError
from llmextract.extract import merge_records
from llmextract.prompts import load_prompt
from llmextract.schemas import Event, Quote, Span, Stance, Task, Usage
from llmextract.settings import Settings
from llmextract.tasks import get_task

__all__ = ["naive_extract", "rule_extract"]


def rule_extract(
    text: str,
    task: Task,
    *,
    chunk_chars: int = 6000,
    overlap_chars: int = 400,
    given: Sequence[Any] | None = None,
) -> list[Any]:
    """Records of ``task`` from candidates alone, chunked and merged as the embedded model's
    (its profile's chunk size, the default overlap), so that a model that keeps every
    default gives exactly these. ``given`` candidates (offsets into ``text``) are decided
    instead of the ones the code finds, over the whole text."""
    prompt = load_prompt(task, style="choose")
    records: list[Any] = []
    chunks = make_chunks(text, max_chars=chunk_chars, overlap_chars=overlap_chars)
    if given is not None:
        chunks = make_chunks(text, max_chars=max(len(text), 1), overlap_chars=0)
    for chunk in chunks:
        found = find_candidates(task, chunk.text) if given is None else tuple(given)
        for request in prompt.render_requests(chunk.text, found):
            schema = cast(type[ChoiceList], request.schema)
            context = grounding_context(
                chunk.text, offset=chunk.start, candidates=request.candidates
            )
            decided = schema.default_answer(request.candidates)
            answer = schema.model_validate(decided, context=context)
            records.extend(answer.records)
    return merge_records(records, get_task(task).identity)


def _exact(text: str, value: str | None) -> Span | None:
    if not value or not value.strip():
        return None
    start = text.find(value.strip())
    if start < 0:
        return None
    return Span(text=value.strip(), start=start, end=start + len(value.strip()))


async def naive_extract(
    text: str, task: Task, *, settings: Settings, base_url: str, usage: Usage
) -> tuple[list[Any], list[str]]:
    """(records found verbatim, passages the model gave that are not in the article).

    The call's tokens are added to ``usage``, answered or not.
    """
    prompt = load_prompt(task, style="copy")
    client = openai.AsyncOpenAI(
        base_url=base_url,
        api_key=settings.endpoint.api_key or "not-needed",
        timeout=settings.endpoint.timeout_s,
    )
    create = instructor.from_openai(
        client, mode=INSTRUCTOR_MODES[settings.endpoint.instructor_mode]
    )
    usage.requests += 1
    completion: Any = None
    try:
        answer, completion = await create.chat.completions.create_with_completion(
            response_model=prompt.schema,
            messages=prompt.render(text),  # type: ignore[arg-type]
            model=settings.endpoint.model,
            max_retries=0,
            temperature=settings.temperature,
            max_tokens=settings.endpoint.max_tokens,
        )
    except Exception as error:  # the baseline's failure is a finding, not a crash
        completion = getattr(error, "last_completion", None)
        cause = error.__cause__ or error
        raise EndpointError(f"naive baseline got no usable answer: {str(cause)[:200]}") from None
    finally:
        await client.close()
        tokens = getattr(completion, "usage", None)
        if tokens is not None:
            usage.prompt_tokens += tokens.prompt_tokens
            usage.completion_tokens += tokens.completion_tokens
    assert isinstance(answer, DraftList)
    records: list[Any] = []
    ungrounded: list[str] = []
    for draft in answer.drafts():
        data = draft.model_dump()
        if task == "quotes":
            content = _exact(text, data["content"])
            if content is None:
                ungrounded.append(data["content"])
                continue
            records.append(
                Quote(
                    content=content,
                    speaker=_exact(text, data["speaker"]),
                    speaker_name=data["speaker_name"],
                    cue=_exact(text, data["cue"]),
                    kind=data["kind"],
                )
            )
        elif task == "events":
            trigger = _exact(text, data["trigger"])
            if trigger is None:
                ungrounded.append(data["trigger"])
                continue
            records.append(
                Event(
                    type=data["type"],
                    trigger=trigger,
                    actor=_exact(text, data["actor"]),
                    recipient=_exact(text, data["recipient"]),
                    location=_exact(text, data["location"]),
                    time=_exact(text, data["time"]),
                    summary=data["summary"],
                )
            )
        else:
            evidence, holder = _exact(text, data["evidence"]), _exact(text, data["holder"])
            if evidence is None or holder is None:
                ungrounded.append(data["evidence"])
                continue
            records.append(
                Stance(
                    holder=holder,
                    holder_name=data["holder_name"],
                    target=data["target"],
                    polarity=data["polarity"],
                    evidence=evidence,
                )
            )
    return records, ungrounded
