"""The same batch over a Ray cluster (``pip install 'llmextract[ray]'``).

The driver reads the input and writes the output exactly as :mod:`llmextract.batch` does,
so every guarantee holds unchanged: one line per input item, input order, resume after a
crash, the ledger. What moves to the cluster is the extraction: each chunk of input items
becomes a Ray Dataset, ``map_batches`` runs :class:`Extractor` actors on the cluster's
nodes (each actor holds one model client and runs its batch concurrently), and the
finished lines come back to the driver in order. Ray's own ``write_json`` is not used: it
writes a folder of part files that can neither be resumed nor lined up with the input.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

from llmextract import errors
from llmextract.batch import BatchReport, BatchWriter, Done, Job, extract_record
from llmextract.client import ModelClient
from llmextract.errors import ClusterError, ConfigError, LLMExtractError
from llmextract.extract import model_client
from llmextract.output import claim_output
from llmextract.schemas import Usage
from llmextract.sources import SourceItem

__all__ = ["Extractor", "run_batch_ray"]


class Extractor:
    """A Ray Data actor: extracts a batch of items with one long-lived model client."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.loop = asyncio.new_event_loop()
        self.client: ModelClient = self.loop.run_until_complete(self._open())

    async def _open(self) -> ModelClient:
        self._context = model_client(self.job.settings)
        return await self._context.__aenter__()

    def __del__(self) -> None:
        """Close the client's connections: Ray Data deletes the actor's instance on exit."""
        loop = getattr(self, "loop", None)
        if loop is None or loop.is_closed():
            return
        with suppress(Exception):  # the interpreter may be shutting down
            loop.run_until_complete(self._context.__aexit__(None, None, None))
        loop.close()

    async def _extract(self, items: list[SourceItem]) -> list[tuple[str, str, bool]]:
        """(output line, outcome, unavailable) per item. An error that would fail every item
        becomes a "fatal" row for the driver to raise in its turn: raised here, Ray would
        retry the batch and then bury the error in its own."""
        finished = await asyncio.gather(
            *(extract_record(self.client, item, self.job) for item in items),
            return_exceptions=True,
        )
        rows = []
        for done in finished:
            if isinstance(done, LLMExtractError):
                rows.append((f"{type(done).__name__}: {done}", "fatal", False))
            elif isinstance(done, BaseException):
                raise done
            else:
                rows.append((done.line, done.outcome, done.unavailable))
        return rows

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        items = [
            SourceItem(int(line), str(id_), str(text) or None, json.loads(metadata), error or None)
            for line, id_, text, metadata, error in zip(
                batch["line"], batch["id"], batch["text"], batch["metadata"], batch["error"],
                strict=True,
            )
        ]  # fmt: skip
        before = self.client.total.model_copy()
        rows = self.loop.run_until_complete(self._extract(items))
        spent = self.client.total.model_copy()
        for name in Usage.model_fields:
            setattr(spent, name, getattr(spent, name) - getattr(before, name))
        # The batch's usage rides on its first row, so the driver can add it up once.
        usage = [spent.model_dump_json()] + [""] * (len(items) - 1)
        return {
            "line": [item.line for item in items],
            "output": [row[0] for row in rows],
            "outcome": [row[1] for row in rows],
            "unavailable": [row[2] for row in rows],
            "usage": usage,
        }


def _chunks(items: Iterator[SourceItem], size: int) -> Iterator[list[SourceItem]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def _row(item: SourceItem) -> dict[str, Any]:
    """An item as a Dataset row: flat strings, since Arrow columns need one type."""
    return {
        "line": item.line,
        "id": item.id,
        "text": item.text or "",
        "metadata": json.dumps(item.metadata, ensure_ascii=False),
        "error": item.error or "",
    }


def run_batch_ray(
    items: Iterable[SourceItem],
    output: Path,
    *,
    job: Job,
    address: str | None = None,
    actors: int = 2,
    batch_size: int = 16,
    chunk_size: int = 2000,
    restart: bool = False,
    retry_errors: bool = False,
    report: BatchReport | None = None,
    on_progress: Callable[[BatchReport], None] | None = None,
) -> BatchReport:
    """:func:`llmextract.batch.arun_batch`, with the extraction on a Ray cluster.

    ``address`` is the cluster (``ray://host:10001``, ``auto``); None starts a local one.
    ``actors`` extractors run at once, each with ``job.settings.concurrency`` requests in
    flight; items go to them ``batch_size`` at a time, ``chunk_size`` items per Dataset.
    """
    try:
        import ray
        import ray.data
    except ImportError:
        raise ConfigError(
            "Ray is not installed: pip install 'llmextract[ray]', or run without --ray"
        ) from None
    report = report or BatchReport(output=output)
    with claim_output(output):  # one batch per output, as without Ray
        writer = BatchWriter(
            report, restart=restart, retry_errors=retry_errors, on_progress=on_progress, job=job
        )
        todo = writer.pending(items)
        first = next(todo, None)
        if first is None:
            return report
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if not ray.is_initialized():
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
            )
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.ERROR)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.execution_options.verbose_progress = False
        with writer:
            for chunk in _chunks(itertools.chain([first], todo), chunk_size):
                dataset = ray.data.from_items([_row(item) for item in chunk])
                try:
                    finished = dataset.map_batches(
                        Extractor,
                        fn_constructor_args=(job,),
                        compute=ray.data.ActorPoolStrategy(size=actors),
                        batch_size=batch_size,
                    ).take_all()
                except ray.exceptions.RayError as error:
                    raise _cause(error) from None
                by_line = {item.line: item for item in chunk}
                for row in finished:
                    if row["usage"]:
                        report.usage.add(Usage.model_validate_json(row["usage"]))
                for row in sorted(finished, key=lambda row: int(row["line"])):
                    if row["outcome"] == "fatal":
                        kind, _, message = str(row["output"]).partition(": ")
                        raise getattr(errors, kind, LLMExtractError)(message)
                    done = Done(
                        by_line[int(row["line"])],
                        str(row["output"]),
                        row["outcome"],
                        bool(row["unavailable"]),
                    )
                    writer.write(done)
        return report


def _cause(error: BaseException) -> LLMExtractError:
    """The llmextract error inside Ray's wrappers (a refused key, say), else Ray's, told."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, LLMExtractError):
            return seen
        seen = getattr(seen, "cause", None) or seen.__cause__
    last = str(error).strip().splitlines()[-1:] or [type(error).__name__]
    return ClusterError(
        f"the Ray cluster could not run the batch: {last[0][:300]}. What was written stays; "
        "rerun the same command to continue"
    )
