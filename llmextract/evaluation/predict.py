"""Run a system (llmextract or a baseline) over gold documents, with the same bounded
concurrency as batch extraction (``settings.in_flight`` requests in flight)."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from llmextract.article import Article
from llmextract.candidates import Mention, StanceCandidate, phrase_polarity
from llmextract.client import ModelClient
from llmextract.errors import ConfigError, LLMExtractError
from llmextract.evaluation.baselines import naive_extract
from llmextract.examples import Example
from llmextract.extract import aextract, model_client
from llmextract.gold import GoldDocument
from llmextract.pool import ordered_map
from llmextract.prompts import load_prompt
from llmextract.rules import extract_rules
from llmextract.schemas import DocumentResult, Polarity, Task
from llmextract.settings import Settings

__all__ = ["SYSTEMS", "Prediction", "System", "given_stances", "predict"]

System = Literal["llmextract", "rules", "naive"]
SYSTEMS: tuple[System, ...] = ("llmextract", "rules", "naive")


@dataclass
class Prediction:
    """What a system produced for one gold document (or why it failed)."""

    id: str
    result: DocumentResult | None
    error: str | None = None
    ungrounded: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0
    missing: bool = False  # a predictions file had none for this document


async def predict(
    documents: Iterable[GoldDocument],
    *,
    system: System,
    tasks: Sequence[Task],
    settings: Settings,
    prompts: str | dict[str, str] | None = None,
    on_done: Callable[[Prediction], None] | None = None,
    examples: Mapping[str, Sequence[Example]] | None = None,
    given_spans: bool = False,
    labels: Sequence[Polarity] = (),
) -> AsyncGenerator[tuple[GoldDocument, Prediction], None]:
    """Each document with its prediction, in input order, as they come; failures become error
    predictions. ``documents`` is read as the work goes, so that memory stays flat.

    With ``given_spans`` (stances; llmextract or rules) each gold stance's evidence phrase
    and target is offered and only its polarity is decided, among ``labels`` when given:
    see :func:`given_stances`. The rules take the phrase's lexicon polarity.
    """
    if given_spans and (system == "naive" or list(tasks) != ["stances"]):
        raise ConfigError(
            "given spans are classified, not found: use them with --system llmextract or "
            "rules and --task stances"
        )

    async def one(
        client: ModelClient | None, document: GoldDocument
    ) -> tuple[GoldDocument, Prediction]:
        wanted = [t for t in tasks if t in document.tasks]
        started = time.perf_counter()
        try:
            given: dict[Task, Sequence[Any]] | None = (
                {"stances": given_stances(document, labels, hint=system == "rules")}
                if given_spans
                else None
            )
            prediction = await _run(
                document, wanted, system, settings, prompts, client, examples, given
            )
        except LLMExtractError as error:
            prediction = Prediction(document.id, None, error=str(error))
        prediction.seconds = round(time.perf_counter() - started, 3)
        if on_done is not None:
            on_done(prediction)
        return document, prediction

    window = settings.documents_ahead
    if system == "rules":
        async for pair in ordered_map(documents, partial(one, None), window=window):
            yield pair
        return
    async with model_client(settings) as client:
        async for pair in ordered_map(documents, partial(one, client), window=window):
            yield pair


def given_stances(
    document: GoldDocument, labels: Sequence[Polarity] = (), *, hint: bool = False
) -> list[StanceCandidate]:
    """The document's gold stances as candidates: evidence phrase, target and holder (none:
    the article's own stance), to be decided among ``labels`` (empty: any). With ``hint``
    each carries the phrase's lexicon polarity (:func:`phrase_polarity`, the rules'
    answer); without, none, so that the model's label is its own."""
    return [
        StanceCandidate(
            start=stance.evidence.start,
            end=stance.evidence.end,
            text=stance.evidence.text,
            holder=None
            if stance.holder is None
            else Mention(
                stance.holder.start,
                stance.holder.end,
                stance.holder.text,
                "name",
                stance.holder_name or stance.holder.text,
            ),
            target=stance.target,
            polarity_hint=phrase_polarity(stance.evidence.text) if hint else None,
            options=tuple(labels),
        )
        for stance in document.stances
    ]


async def _run(
    document: GoldDocument,
    tasks: list[Task],
    system: System,
    settings: Settings,
    prompts: str | dict[str, str] | None,
    client: ModelClient | None,
    examples: Mapping[str, Sequence[Example]] | None,
    given: Mapping[Task, Sequence[Any]] | None = None,
) -> Prediction:
    if system == "llmextract":
        result = await aextract(
            Article(document.id, document.text),
            tasks=tasks,
            prompts=prompts,
            settings=settings,
            client=client,
            examples=examples,
            given=given,
        )
        return Prediction(document.id, result)
    if system == "rules":
        result = extract_rules(Article(document.id, document.text), tasks, given=given)
        return Prediction(document.id, result)
    assert client is not None
    result = DocumentResult(
        id=document.id,
        sha256=Article(document.id, document.text).sha256,
        chars=len(document.text),
        model=settings.endpoint.model,
        endpoint=settings.endpoint.display_url,
        prompts={t: load_prompt(t, style="copy").id for t in tasks},
    )
    ungrounded: dict[str, list[str]] = {}
    await client.connected()  # its server started, if it starts one: the URL is known
    for task in tasks:
        records, missing = await naive_extract(
            document.text, task, settings=settings, base_url=client.url, usage=result.usage
        )
        setattr(result, task, records)
        ungrounded[task] = missing
    return Prediction(document.id, result, ungrounded=ungrounded)
