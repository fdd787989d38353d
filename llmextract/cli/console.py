"""What the command line prints besides results: error and warning lines, notes, progress
bars and the metrics table, all on standard error except the table.

Messages carry paths, names and servers' words: they are printed as they are, never as Rich
markup or emoji codes (a "[/x]" in a file name would crash the print, "[draft]" vanish).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from llmextract.errors import LLMExtractError
from llmextract.output import write_file

if TYPE_CHECKING:
    from llmextract.batch import BatchReport
    from llmextract.evaluation.record import RunRecord

__all__ = [
    "batch_progress",
    "err",
    "fail",
    "note",
    "print_metrics",
    "progress",
    "show_warning",
    "status",
    "write",
]

err = Console(stderr=True, markup=False, highlight=False, emoji=False)


def show_warning(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
    """A warning (e.g. an API key about to travel over plain http) as one line, like errors."""
    err.print(Text.assemble(("warning:", "bold yellow"), " ", str(message)), soft_wrap=True)


def fail(error: LLMExtractError) -> typer.Exit:
    """Print ``error`` as one line; the exit (code 1) to raise."""
    err.print(Text.assemble(("error:", "bold red"), " ", str(error)), soft_wrap=True)
    return typer.Exit(code=1)


def note(message: str) -> None:
    """One line on standard error, unwrapped."""
    err.print(message, soft_wrap=True)


def write(text: str, output: Path | None) -> None:
    """``text`` to standard output, or whole to the file ``output``."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        # A lone surrogate (from an input's JSON escape) is kept as its escape, not fatal.
        write_file(output, text.encode("utf-8", "backslashreplace"))
    except LLMExtractError as error:
        raise fail(error) from None


def status(message: str) -> AbstractContextManager[Any]:
    """A spinner with ``message`` on a terminal; nothing otherwise."""
    return err.status(Text(message)) if err.is_terminal else nullcontext()


@contextmanager
def progress(
    what: str, total: int | None = None, *, console: Console | None = None
) -> Iterator[Callable[[object], None]]:
    """A progress bar on a terminal (done of ``total``, ETA); a line every 10 documents
    otherwise."""
    console = console or err
    if console.is_terminal:
        with Progress(
            TextColumn("{task.description}", markup=False), BarColumn(bar_width=20),
            MofNCompleteColumn(), TextColumn("{task.fields[eta]}", markup=False),
            console=console, transient=True,
        ) as bar:  # fmt: skip
            job = bar.add_task(what, total=total, eta="")
            started = time.monotonic()
            done = 0

            def step(_: object) -> None:
                nonlocal done
                done += 1
                bar.update(job, advance=1, eta=_eta(done, total, time.monotonic() - started))

            yield step
        return
    done = 0

    def advance(_: object) -> None:
        nonlocal done
        done += 1
        if done % 10 == 0:
            of = f"/{total}" if total is not None else ""
            print(f"{what}: {done}{of} documents done", file=sys.stderr, flush=True)

    yield advance


def _eta(done: int, total: int | None, seconds: float) -> str:
    """Time left at the rate so far, once there is a rate to go by."""
    if total is None or done == 0 or seconds <= 0 or done >= total:
        return ""
    left = round((total - done) * seconds / done)
    return f"ETA {left // 3600}:{left // 60 % 60:02d}:{left % 60:02d}"


def batch_status(report: BatchReport) -> str:
    """The batch's counts, rate and tokens in a line.

    Only the documents extracted in this run make the rate: those already done when a
    resumed batch started took no time now.
    """
    fresh = report.ok + report.failed
    rate = fresh / report.elapsed if report.elapsed > 0 else 0.0
    tokens = report.usage.prompt_tokens + report.usage.completion_tokens
    parts = [f"{report.ok} ok"]
    parts += [f"{n} {what}" for n, what in ((report.failed, "failed"), (report.cached, "cached"),
              (report.skipped, "already done")) if n]  # fmt: skip
    return f"{', '.join(parts)} · {rate:.2f} documents/s · {_tokens(tokens)}"


def _batch_eta(report: BatchReport) -> str:
    if report.total is None:
        return ""
    return _eta(report.ok + report.failed, report.total - report.skipped, report.elapsed)


class _StatusBar(Progress):
    """A progress bar with a line of text under it, so that neither squeezes the other."""

    status = ""

    def get_renderables(self) -> Iterator[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        if self.status:
            yield Text(f"  {self.status}")


def _tokens(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1e6:.1f}M tokens"
    return f"{count / 1e3:.1f}k tokens" if count >= 10_000 else f"{count} tokens"


@contextmanager
def batch_progress(
    report: BatchReport, *, console: Console | None = None
) -> Iterator[Callable[[BatchReport], None]]:
    """A live bar on a terminal (done of total, then :func:`batch_status`); otherwise a plain
    line every 10 seconds and at the end."""
    console = console or err
    if console.is_terminal:
        with _StatusBar(
            TextColumn("batch"), BarColumn(bar_width=30), MofNCompleteColumn(),
            TextColumn("{task.fields[eta]}", markup=False), console=console, transient=False,
        ) as bar:  # fmt: skip
            job = bar.add_task("batch", total=report.total, eta="")

            def show(r: BatchReport) -> None:
                bar.status = batch_status(r)
                bar.update(job, completed=r.done, eta=_batch_eta(r))

            yield show
        return
    last = 0.0

    def line(r: BatchReport) -> None:
        nonlocal last
        if r.elapsed - last >= 10 or (r.total is not None and r.done >= r.total):
            last = r.elapsed
            of = f"/{r.total}" if r.total is not None else ""
            eta = _batch_eta(r)
            print(f"batch: {r.done}{of} lines; {batch_status(r)}{' · ' + eta if eta else ''}",
                  file=sys.stderr, flush=True)  # fmt: skip

    yield line


def print_metrics(run: RunRecord) -> None:
    """The run's metrics as a table on standard output, then its per-class and cost lines."""
    title = Text(f"{run.name}: {run.documents_scored} documents, {run.criterion}")
    table = Table(title=title)
    for column in ("metric", "P", "R", "F1", "95% CI", "macro F1", "tp", "fp", "fn"):
        table.add_column(column, justify="left" if column == "metric" else "right", no_wrap=True)
    for key, m in run.metrics.items():
        low, high = m.f1_ci
        table.add_row(
            Text(key), f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}",
            f"{low:.3f}-{high:.3f}", f"{m.macro_f1:.3f}", str(m.tp), str(m.fp), str(m.fn),
        )  # fmt: skip
    Console(width=max(err.width, 110), markup=False, emoji=False).print(table)
    if (coverage := run.coverage()) is not None:
        typer.echo(f"note: {coverage}")
    for key, scores in run.labels.items():
        classes = ", ".join(f"{c} {s.f1:.3f}" for c, s in scores.per_class.items())
        typer.echo(f"{key} per-class F1: {classes}; macro F1 {scores.macro_f1:.3f}")
    typer.echo(
        f"{run.seconds_per_document} s/document, {run.errors} errors, "
        f"usage {run.usage.model_dump()}"
    )
