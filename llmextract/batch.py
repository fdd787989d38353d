"""Batch extraction: a stream of articles in, exactly one JSONL line out per input item.

Output lines, in input order (after a resume, the continued lines follow those already
written; ``line`` restores input order either way)::

    {"line": 1, "id": "a1", "status": "ok", "result": {...DocumentResult...}, "metadata": {...}}
    {"line": 2, "id": "a2", "status": "error", "error": {"type": "InputError",
     "message": "..."}, "metadata": {...}}

Resume: the output file is append-only and every record is written with one ``write`` of a
whole line. Rerunning the same command reads the lines already there, repairs a partial last
line (a crash mid-write), and extracts only the input items not yet written. With
``retry_errors`` the error records are removed first so those items are tried again.

Errors that would fail every document (a wrong API key or model, a broken prompt) stop the
batch instead of writing thousands of identical error records; so does an endpoint that
stays unreachable for many documents in a row, and so does a write that fails (a full
disk). Either way, what was written stays written, and rerunning continues.

The output is owned by one batch at a time and created private (see :mod:`llmextract.output`,
which also writes the ledger whole). A resume refuses an output whose results came from
another model, other tasks or other prompts.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llmextract.article import Article
from llmextract.client import ModelClient
from llmextract.errors import (
    ConfigError,
    EmbeddedModelError,
    EndpointAuthError,
    EndpointRequestError,
    EndpointUnavailableError,
    InputError,
    LLMExtractError,
    PromptError,
)
from llmextract.examples import Example
from llmextract.extract import aextract, model_client, parse_tasks, prompt_for
from llmextract.jsonl import loads, raw_lines
from llmextract.output import (
    check_output,
    claim_output,
    empty_file,
    replacing,
    write_all,
    write_error,
    write_file,
)
from llmextract.pool import ordered_map
from llmextract.rules import RULES, extract_rules, rule_prompts
from llmextract.schemas import Usage
from llmextract.settings import Settings
from llmextract.sources import SourceItem
from llmextract.tasks import load_task_files

__all__ = [
    "BatchReport",
    "BatchWriter",
    "Done",
    "Job",
    "arun_batch",
    "extract_record",
    "ledger_path",
    "prepare_output",
    "write_ledger",
]

# These fail every document alike: stop rather than write one error record per line.
_FATAL = (
    EndpointAuthError,
    EndpointRequestError,
    ConfigError,
    PromptError,
    EmbeddedModelError,
)
# This many documents in a row without reaching the endpoint: it is down, stop.
_UNAVAILABLE_IN_A_ROW = 8
Outcome = Literal["ok", "error", "cached", "skipped"]


@dataclass
class BatchReport:
    """What one batch invocation did so far; ``usage`` counts failed documents too."""

    output: Path
    total: int | None = None
    ok: int = 0
    failed: int = 0
    cached: int = 0  # documents answered wholly from the response cache
    skipped: int = 0  # already in the output from an earlier run
    usage: Usage = field(default_factory=Usage)
    started: float = field(default_factory=time.time)

    @property
    def done(self) -> int:
        return self.ok + self.failed + self.skipped

    @property
    def elapsed(self) -> float:
        return time.time() - self.started


def ledger_path(output: Path) -> Path:
    """``results.jsonl`` -> ``results.ledger.json``, beside it."""
    return output.with_name(f"{output.name.removesuffix('.jsonl')}.ledger.json")


def prepare_output(
    output: Path, *, restart: bool = False, retry_errors: bool = False, job: Job | None = None
) -> dict[int, str]:
    """Make ``output`` ready to append to; return ``{line: id}`` of the items it holds.

    A partial last line (a crash mid-write) is cut off. ``restart`` empties the file;
    ``retry_errors`` drops error records so their items are extracted again. With ``job``,
    results written with another model, other tasks or other prompts are refused.
    """
    check_output(output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if restart or not output.exists():
            empty_file(output)
            return {}
        _cut_partial_line(output)
    except OSError as error:
        raise write_error(output, error) from None
    done: dict[int, str] = {}
    dropped_errors = False
    wanted: _Signature | None = None
    for number, record in _records(output):
        if record.get("status") == "error" and retry_errors:
            dropped_errors = True
            continue
        line = record.get("line")
        if not isinstance(line, int):
            raise InputError(
                f"{output}:{number}: not an llmextract batch record; give another --output "
                "or pass --restart to overwrite it"
            )
        if job is not None and record.get("status") == "ok":
            wanted = wanted or _Signature.of(job)
            _check_same_job(output, _Signature.written(record), wanted)
        done[line] = str(record.get("id"))
    if dropped_errors:
        _rewrite_without_errors(output)
    return done


@dataclass(frozen=True)
class _Signature:
    """What a result was extracted with: a resume must not mix results of two of these."""

    model: str
    prompts: tuple[tuple[str, str], ...]  # (task, prompt id), in task order

    @classmethod
    def of(cls, job: Job) -> _Signature:
        if job.rules:
            return cls(RULES, tuple(rule_prompts(job.tasks).items()))
        prompts = []
        for task in parse_tasks(job.tasks):
            prompt = prompt_for(
                task, job.prompts, job.settings.endpoint.prompt_style, job.settings.prompt_dirs
            )
            if job.examples:
                prompt = prompt.with_examples(job.examples.get(task, ()))
            prompts.append((task, prompt.id))
        return cls(job.settings.endpoint.model, tuple(prompts))

    @classmethod
    def written(cls, record: dict[str, Any]) -> _Signature:
        result = record.get("result")
        result = result if isinstance(result, dict) else {}
        prompts = result.get("prompts")
        prompts = prompts if isinstance(prompts, dict) else {}
        return cls(str(result.get("model")), tuple((str(k), str(v)) for k, v in prompts.items()))

    def describe(self, *, prompts: bool) -> str:
        text = f"model {self.model!r}, tasks {','.join(task for task, _ in self.prompts)}"
        if prompts:
            text += f", prompts {','.join(id_ for _, id_ in self.prompts)}"
        return text


def _check_same_job(output: Path, written: _Signature, wanted: _Signature) -> None:
    if written == wanted:
        return
    # Name the prompts only when they are all that differs: ids are long.
    same_tasks = written.model == wanted.model and [t for t, _ in written.prompts] == [
        t for t, _ in wanted.prompts
    ]
    raise InputError(
        f"{output} was written with {written.describe(prompts=same_tasks)}; this run uses "
        f"{wanted.describe(prompts=same_tasks)}: pass --restart to start over or give another "
        "--output"
    )


def _cut_partial_line(path: Path) -> None:
    with path.open("rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        position = size
        while position > 0:
            step = min(65536, position)
            handle.seek(position - step)
            block = handle.read(step)
            newline = block.rfind(b"\n")
            if newline >= 0:
                end = position - step + newline + 1
                break
            position -= step
        else:
            end = 0
        if end < size:
            handle.truncate(end)


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as handle:
        for number, raw in raw_lines(handle):
            try:
                record = loads(raw)
            except ValueError:
                raise InputError(
                    f"{path}:{number}: not valid JSON; give another --output or pass --restart"
                ) from None
            if not isinstance(record, dict):
                raise InputError(f"{path}:{number}: not an llmextract batch record")
            yield number, record


def _rewrite_without_errors(path: Path) -> None:
    """Drop error records, atomically: write beside the file, then rename over it."""
    with replacing(path) as target, path.open("rb") as source:
        for raw in source:
            if loads(raw).get("status") != "error":
                write_all(target, raw)


def _ok_line(item: SourceItem, result_json: str) -> str:
    return (
        f'{{"line":{item.line},"id":{json.dumps(item.id, ensure_ascii=False)},"status":"ok",'
        f'"result":{result_json},"metadata":{json.dumps(item.metadata, ensure_ascii=False)}}}\n'
    )


def _error_line(item: SourceItem, kind: str, message: str) -> str:
    record = {
        "line": item.line,
        "id": item.id,
        "status": "error",
        "error": {"type": kind, "message": message},
        "metadata": item.metadata,
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass
class Done:
    """One finished input item: its output line and how it went."""

    item: SourceItem
    line: str
    outcome: Outcome
    unavailable: bool = False


@dataclass(frozen=True)
class Job:
    """What to extract from every item; plain data, so it can travel to other processes.

    With ``rules``, the records come from the code alone (:mod:`llmextract.rules`): no
    model is started and ``prompts``, ``examples`` and the endpoint are not used.
    """

    settings: Settings
    tasks: tuple[str, ...]
    prompts: str | Mapping[str, str] | None = None
    examples: Mapping[str, Sequence[Example]] | None = None
    rules: bool = False


async def extract_record(model: ModelClient | None, item: SourceItem, job: Job) -> Done:
    """The output line for ``item``; errors that would fail every item propagate.

    ``model`` is the job's client (None for a rules job).
    """
    if not item.ok:
        return Done(item, _error_line(item, "InputError", item.error or "unusable"), "error")
    article = Article(item.id, item.text or "")
    try:
        if job.rules:
            result = extract_rules(article, job.tasks)
        else:
            result = await aextract(
                article,
                tasks=job.tasks,
                prompts=job.prompts,
                settings=job.settings,
                client=model,
                examples=job.examples,
            )
    except _FATAL:
        raise
    except LLMExtractError as error:
        unavailable = isinstance(error, EndpointUnavailableError)
        return Done(item, _error_line(item, type(error).__name__, str(error)), "error", unavailable)
    except Exception as error:  # a bug must not cost the rest of the batch its lines
        message = f"unexpected error, please report it: {error}"
        return Done(item, _error_line(item, type(error).__name__, message), "error")
    cached = result.usage.cached > 0 and result.usage.requests == 0
    return Done(item, _ok_line(item, result.model_dump_json()), "cached" if cached else "ok")


class BatchWriter:
    """Appends finished lines to the output and keeps the report; skips what is done.

    With ``job``, an output written with another model, other tasks or other prompts is
    refused (see :func:`prepare_output`).
    """

    def __init__(
        self,
        report: BatchReport,
        *,
        restart: bool,
        retry_errors: bool,
        on_progress: Callable[[BatchReport], None] | None,
        job: Job | None = None,
    ) -> None:
        self.report = report
        self.written = prepare_output(
            report.output, restart=restart, retry_errors=retry_errors, job=job
        )
        self.on_progress = on_progress or (lambda _: None)
        self.unavailable_in_a_row = 0

    def pending(self, items: Iterable[SourceItem]) -> Iterator[SourceItem]:
        """The items not yet in the output, after checking it was written for this input."""
        for item in items:
            if item.line not in self.written:
                yield item
                continue
            if self.written[item.line] != item.id:
                raise InputError(
                    f"{self.report.output} was written for another input: its line {item.line} "
                    f"has id {self.written[item.line]!r}, the input's has {item.id!r}. Give "
                    "another --output, or pass --restart to overwrite it"
                )
            self.report.skipped += 1
            self.on_progress(self.report)

    def __enter__(self) -> BatchWriter:
        try:
            self.sink = os.open(self.report.output, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        except OSError as error:
            raise write_error(self.report.output, error) from None
        return self

    def __exit__(self, failed: type[BaseException] | None, *_: object) -> None:
        try:
            os.fsync(self.sink)
        except OSError as error:
            if failed is None:  # else the error on its way out says more
                raise write_error(self.report.output, error) from None
        finally:
            os.close(self.sink)

    def write(self, done: Done) -> None:
        # One write of the whole line, unbuffered: a crash leaves at most a partial last
        # line, which a resume cuts off. A string the input should not have held (a lone
        # surrogate) is written as its JSON escape rather than stop the batch.
        try:
            write_all(self.sink, done.line.encode("utf-8", "backslashreplace"))
        except OSError as error:
            raise write_error(self.report.output, error) from None
        report = self.report
        if done.outcome == "error":
            report.failed += 1
        else:
            report.ok += 1
            report.cached += done.outcome == "cached"
        self.unavailable_in_a_row = self.unavailable_in_a_row + 1 if done.unavailable else 0
        self.on_progress(report)
        if self.unavailable_in_a_row >= _UNAVAILABLE_IN_A_ROW:
            raise EndpointUnavailableError(
                f"the endpoint failed for {self.unavailable_in_a_row} documents in a row, so "
                "the batch stopped. Check the server, then rerun the same command with "
                "--retry-errors to continue and retry those documents"
            )


@asynccontextmanager
async def _job_model(job: Job) -> AsyncIterator[ModelClient | None]:
    """The model client the job's items are extracted with; none for a rules job."""
    if job.rules:
        yield None
        return
    async with model_client(job.settings) as model:
        yield model


async def arun_batch(
    items: Iterable[SourceItem],
    output: Path,
    *,
    settings: Settings,
    tasks: Sequence[str],
    prompts: str | Mapping[str, str] | None = None,
    examples: Mapping[str, Sequence[Example]] | None = None,
    rules: bool = False,
    restart: bool = False,
    retry_errors: bool = False,
    report: BatchReport | None = None,
    on_progress: Callable[[BatchReport], None] | None = None,
) -> BatchReport:
    """Extract every item into ``output`` (see the module docstring); return the report.

    The output is claimed (:func:`~llmextract.output.claim_output`) for the whole run. At most
    ``settings.in_flight`` requests are in flight; documents are started up to four times
    that far ahead so a slow one does not stall the rest (one at a time for a one-request
    server: see :attr:`Settings.documents_ahead`). Pass ``report`` to watch it fill (it
    also tells an interrupted caller what was done). With ``rules`` the records come from
    the code alone and no model is started (see :class:`Job`).
    """
    report = report or BatchReport(output=output)
    load_task_files(settings.tasks_files)  # the user tasks that ``tasks`` may name
    job = Job(settings, tuple(tasks), prompts, examples, rules)
    with claim_output(output):
        writer = BatchWriter(
            report, restart=restart, retry_errors=retry_errors, on_progress=on_progress, job=job
        )
        todo = writer.pending(items)
        first = next(todo, None)
        if first is None:  # all done already: do not even start a model
            return report
        async with _job_model(job) as model:
            if model is not None:
                report.usage = model.total
            with writer:
                async for done in ordered_map(
                    itertools.chain([first], todo),
                    lambda item: extract_record(model, item, job),
                    window=settings.documents_ahead,
                ):
                    writer.write(done)
    return report


def write_ledger(
    report: BatchReport, settings: Settings, *, source: str, outcome: str, rules: bool = False
) -> Path:
    """Add this invocation to the output's ledger (requests, tokens, cost); return its path.

    Each rerun of a batch adds one entry; ``total`` sums them. Cost needs a price for the
    model (``[prices."MODEL"]`` in the config file, or ``--prices FILE``). A ledger that
    cannot be written raises :class:`~llmextract.errors.InputError` and leaves the last one.
    A rules batch (``rules``) records model ``rules`` and endpoint ``none``.
    """
    path = ledger_path(report.output)
    runs: list[dict[str, Any]] = []
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
        runs = list(previous["runs"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # none yet, or unreadable: start a new one rather than fail the batch
    price = settings.price
    usage = report.usage
    runs.append(
        {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(report.started)),
            "seconds": round(report.elapsed, 3),
            "outcome": outcome,
            "input": source,
            "model": RULES if rules else settings.endpoint.model,
            "endpoint": "none" if rules else settings.endpoint.display_url,
            "concurrency": settings.concurrency,
            "requests_per_minute": settings.requests_per_minute,
            "tokens_per_minute": settings.tokens_per_minute,
            "cache": settings.cache_dir is not None and not rules,
            "documents": {
                "ok": report.ok,
                "failed": report.failed,
                "cached": report.cached,
                "skipped": report.skipped,
            },
            "usage": usage.model_dump(),
            "cost_usd": None
            if price is None
            else round(price.cost(usage.prompt_tokens, usage.completion_tokens), 6),
        }
    )
    total = Usage()
    for run in runs:
        total.add(Usage.model_validate(run["usage"]))
    costs = [run["cost_usd"] for run in runs]
    ledger = {
        "kind": "llmextract-batch-ledger",
        "output": str(report.output),
        "runs": runs,
        "total": {
            "usage": total.model_dump(),
            "cost_usd": None if None in costs else round(sum(costs), 6),
        },
    }
    write_file(path, (json.dumps(ledger, indent=1) + "\n").encode())
    return path
