"""Run a system (llmextract or a baseline) over gold documents, with bounded concurrency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from llmextract.article import Article
from llmextract.client import ModelClient
from llmextract.embedded import shared_server
from llmextract.errors import LLMExtractError
from llmextract.evaluation.baselines import naive_extract, rule_extract
from llmextract.evaluation.gold import GoldDocument
from llmextract.examples import Example
from llmextract.extract import aextract
from llmextract.prompts import load_prompt
from llmextract.schemas import DocumentResult, Task
from llmextract.settings import Settings

__all__ = ["SYSTEMS", "Prediction", "System", "predict"]

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

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "result": None if self.result is None else self.result.model_dump(mode="json"),
            "error": self.error,
            "ungrounded": self.ungrounded,
            "seconds": self.seconds,
        }


async def predict(
    documents: Sequence[GoldDocument],
    *,
    system: System,
    tasks: Sequence[Task],
    settings: Settings,
    prompts: str | dict[str, str] | None = None,
    concurrency: int = 4,
    on_done: Callable[[Prediction], None] | None = None,
    examples: Mapping[str, Sequence[Example]] | None = None,
) -> list[Prediction]:
    """One prediction per document, in input order; failures become error predictions."""
    base_url = settings.endpoint.base_url
    if system != "rules" and settings.endpoint.is_embedded:
        base_url = (await asyncio.to_thread(shared_server, settings.embedded_model_path)).url
    client = (
        None if system == "rules" or base_url is None else ModelClient(settings, base_url=base_url)
    )
    gate = asyncio.Semaphore(max(concurrency, 1))

    async def one(document: GoldDocument) -> Prediction:
        wanted = [t for t in tasks if t in document.tasks]
        async with gate:
            started = time.perf_counter()
            try:
                prediction = await _run(
                    document, wanted, system, settings, prompts, client, base_url, examples
                )
            except LLMExtractError as error:
                prediction = Prediction(document.id, None, error=str(error))
            prediction.seconds = round(time.perf_counter() - started, 3)
        if on_done is not None:
            on_done(prediction)
        return prediction

    try:
        return list(await asyncio.gather(*(one(d) for d in documents)))
    finally:
        if client is not None:
            await client.aclose()


async def _run(
    document: GoldDocument,
    tasks: list[Task],
    system: System,
    settings: Settings,
    prompts: str | dict[str, str] | None,
    client: ModelClient | None,
    base_url: str | None,
    examples: Mapping[str, Sequence[Example]] | None,
) -> Prediction:
    if system == "llmextract":
        result = await aextract(
            Article(document.id, document.text),
            tasks=tasks,
            prompts=prompts,
            settings=settings,
            client=client,
            examples=examples,
        )
        return Prediction(document.id, result)
    result = DocumentResult(
        id=document.id,
        sha256=Article(document.id, document.text).sha256,
        chars=len(document.text),
        model="none (rules)" if system == "rules" else settings.endpoint.model,
        endpoint="none" if system == "rules" else settings.endpoint.display_url,
        # rules use the choice prompts' candidate finder; naive sends the copy prompt.
        prompts={
            t: load_prompt(t, style="choose" if system == "rules" else "copy").id for t in tasks
        },
    )
    ungrounded: dict[str, list[str]] = {}
    for task in tasks:
        if system == "rules":
            setattr(result, task, rule_extract(document.text, task))
        else:
            assert base_url is not None
            records, missing = await naive_extract(
                document.text, task, settings=settings, base_url=base_url, usage=result.usage
            )
            setattr(result, task, records)
            ungrounded[task] = missing
    return Prediction(document.id, result, ungrounded=ungrounded)
