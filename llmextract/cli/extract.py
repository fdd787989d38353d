"""``llmextract extract``, ``batch`` and ``render``: records out of articles, and their view."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from llmextract.article import read_article
from llmextract.cli.console import batch_progress, fail, note, status, write
from llmextract.cli.options import (
    DEFAULTS,
    ApiKeyOpt,
    BaseUrlOpt,
    ConcurrencyOpt,
    EncodingOpt,
    ExamplesOpt,
    MaxReasksOpt,
    ModelOpt,
    ModeOpt,
    NoCacheOpt,
    OutputFormat,
    ProfileOpt,
    PromptsDirOpt,
    PromptsOpt,
    RetriesOpt,
    SeedOpt,
    ShotsOpt,
    SystemOpt,
    TaskOpt,
    TasksFileOpt,
    at_least,
    model_settings,
    prompt_choice,
    user_tasks,
)
from llmextract.errors import LLMExtractError
from llmextract.examples import load_examples
from llmextract.settings import load_prices

__all__ = ["batch_command", "extract_command", "render_command"]


def extract_command(
    article: Annotated[
        Path,
        typer.Argument(metavar="ARTICLE", help="Article text file, or - to read standard input."),
    ],
    task: TaskOpt = ["all"],  # noqa: B006 - typer needs a list default
    prompt: PromptsOpt = None,
    prompts_dir: PromptsDirOpt = None,
    tasks_file: TasksFileOpt = None,
    system: SystemOpt = "llmextract",
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key: ApiKeyOpt = None,
    mode: ModeOpt = None,
    max_reasks: MaxReasksOpt = DEFAULTS.max_reasks,
    retries: RetriesOpt = DEFAULTS.transport_retries,
    no_cache: NoCacheOpt = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write here instead of standard output."
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", metavar="FORMAT", help="json (indented) or jsonl (one line)."),
    ] = OutputFormat.json,
    examples: ExamplesOpt = None,
    shots: ShotsOpt = None,
    seed: SeedOpt = None,
    encoding: EncodingOpt = "utf-8",
    article_id: Annotated[
        str | None,
        typer.Option("--id", metavar="ID", help="Id to record.  [default: the file name]"),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Also write an HTML view of the article with the records in place.",
        ),
    ] = None,
) -> None:
    """Extract quotes, events and stances from one article and print them as JSON.

    With no endpoint configured, it runs offline (no key, no network): the code finds
    candidates and decides about them, asking the embedded SmolLM2-135M model only what it
    decides better (today nothing), good for trying the tool, not for real work. Every span
    in the output is grounded: its text is the article's text from its start to its end
    offset. For many articles, use llmextract batch.
    """
    try:
        # Settings first: a key about to travel over plain http is warned about even when
        # the article then turns out unreadable.
        settings = None if system == "rules" else model_settings(
            profile=profile, base_url=base_url, model=model, api_key=api_key, mode=mode,
            max_reasks=max_reasks, retries=retries, no_cache=no_cache, prompts_dir=prompts_dir,
            tasks_file=tasks_file,
        )  # fmt: skip
        source = read_article(str(article), encoding=encoding, article_id=article_id)
        from llmextract.extract import extract, parse_tasks
        from llmextract.rules import extract_rules

        if settings is None:
            user_tasks(tasks_file)
            result = extract_rules(source, task)
        else:
            shown = load_examples(examples, parse_tasks(task), shots=shots or 0, seed=seed or 0)
            with status(f"Extracting from {source.id} with {settings.endpoint.model}…"):
                result = extract(
                    source, tasks=task, prompts=prompt_choice(prompt), settings=settings,
                    examples=shown,
                )  # fmt: skip
    except LLMExtractError as error:
        raise fail(error) from None
    except KeyboardInterrupt:
        note("interrupted; nothing was written")
        raise typer.Exit(code=130) from None
    indent = 2 if output_format is OutputFormat.json else None
    write(result.model_dump_json(indent=indent) + "\n", output)
    if html is not None:
        from llmextract.render import ViewDocument, render_view

        view = render_view([ViewDocument(source.id, source.text, result)], title=source.id)
        write(view, html)


def batch_command(
    source_path: Annotated[
        Path,
        typer.Argument(
            metavar="SOURCE",
            help='JSONL (one {"id", "text", ...} object a line), CSV/TSV with a text '
            "column, or a folder of .txt files; .gz is read too; - reads JSONL from stdin.",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="JSONL to write, one line per input item; rerun to resume.",
        ),
    ],
    task: TaskOpt = ["all"],  # noqa: B006 - typer needs a list default
    prompt: PromptsOpt = None,
    prompts_dir: PromptsDirOpt = None,
    tasks_file: TasksFileOpt = None,
    system: SystemOpt = "llmextract",
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key: ApiKeyOpt = None,
    mode: ModeOpt = None,
    max_reasks: MaxReasksOpt = DEFAULTS.max_reasks,
    retries: RetriesOpt = DEFAULTS.transport_retries,
    no_cache: NoCacheOpt = False,
    concurrency: ConcurrencyOpt = DEFAULTS.concurrency,
    rpm: Annotated[
        float | None,
        typer.Option(
            metavar="N", callback=at_least(1), help="At most this many requests per minute."
        ),
    ] = None,
    tpm: Annotated[
        float | None,
        typer.Option(
            metavar="N",
            callback=at_least(1),
            help="At most this many tokens per minute (prompt + max_tokens).",
        ),
    ] = None,
    text_field: Annotated[
        str,
        typer.Option(
            metavar="FIELD", help="The JSON field or CSV column that holds the article text."
        ),
    ] = "text",
    id_field: Annotated[
        str,
        typer.Option(
            metavar="FIELD", help="The JSON field or CSV column that holds the article id."
        ),
    ] = "id",
    encoding: EncodingOpt = "utf-8",
    restart: Annotated[
        bool, typer.Option("--restart", help="Overwrite OUTPUT instead of resuming it.")
    ] = False,
    retry_errors: Annotated[
        bool,
        typer.Option("--retry-errors", help="On resume, extract the items that failed again."),
    ] = False,
    prices: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help='TOML price table ([prices."MODEL"] input_per_mtok, output_per_mtok) for the '
            "ledger's cost; the config file's [prices] are used too.",
        ),
    ] = None,
    examples: ExamplesOpt = None,
    shots: ShotsOpt = None,
    seed: SeedOpt = None,
    ray: Annotated[
        bool,
        typer.Option(
            "--ray", help="Run the extraction on a Ray cluster (pip install 'llmextract[ray]')."
        ),
    ] = False,
    ray_address: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="Ray cluster to join, e.g. ray://head:10001.  [default: a local one]",
        ),
    ] = None,
    ray_actors: Annotated[
        int,
        typer.Option(
            metavar="N",
            callback=at_least(1),
            help="Extractor actors on the cluster, each with --concurrency.",
        ),
    ] = 2,
) -> None:
    """Extract from many articles: one output line per input item, resumable.

    Every input item yields exactly one line in OUTPUT: {"line", "id", "status": "ok",
    "result", "metadata"} or {"line", "id", "status": "error", "error", "metadata"}, in input
    order. After a crash, Ctrl-C or kill, rerun the same command: it continues where it
    stopped. Answers are cached, so a rerun of a finished batch makes no model calls.
    Requests, tokens and cost go to OUTPUT's .ledger.json.
    """
    from llmextract.batch import BatchReport, arun_batch, write_ledger
    from llmextract.extract import parse_tasks
    from llmextract.output import claim_output
    from llmextract.sources import count_items, iter_source

    rules = system == "rules"
    if ray and rules:
        raise typer.BadParameter(
            "the rules system asks no model, so it needs no cluster: drop --ray",
            param_hint="'--ray'",
        )
    source = str(source_path)
    with ExitStack() as held, _terminate_as_interrupt() as terminated:
        try:
            settings = DEFAULTS if rules else model_settings(
                profile=profile, base_url=base_url, model=model, api_key=api_key, mode=mode,
                max_reasks=max_reasks, retries=retries, no_cache=no_cache,
                concurrency=concurrency, prompts_dir=prompts_dir, tasks_file=tasks_file,
                requests_per_minute=rpm,
                tokens_per_minute=tpm,
            )  # fmt: skip
            if prices is not None:
                settings = replace(settings, prices={**settings.prices, **load_prices(prices)})
            shown = load_examples(examples, parse_tasks(task), shots=shots or 0, seed=seed or 0)
            fields = {"text_field": text_field, "id_field": id_field, "encoding": encoding}
            report = BatchReport(output=output, total=count_items(source, **fields))
            items = iter_source(source, **fields)
            held.enter_context(claim_output(output, source))
        except LLMExtractError as error:
            raise fail(error) from None
        except KeyboardInterrupt:
            note("interrupted before the batch started; nothing was written")
            raise typer.Exit(code=143 if terminated else 130) from None
        outcome, failure = "finished", None
        options: dict[str, Any] = {
            "restart": restart, "retry_errors": retry_errors, "report": report
        }  # fmt: skip
        try:
            with batch_progress(report) as show:
                if ray:
                    from llmextract.batch import Job
                    from llmextract.distributed import run_batch_ray

                    job = Job(settings, tuple(task), prompt_choice(prompt), shown)
                    run_batch_ray(
                        items, output, job=job, address=ray_address, actors=ray_actors,
                        on_progress=show, **options,
                    )  # fmt: skip
                else:
                    asyncio.run(
                        arun_batch(
                            items, output, settings=settings, tasks=task,
                            prompts=prompt_choice(prompt), examples=shown, rules=rules,
                            on_progress=show, **options,
                        )
                    )  # fmt: skip
        except KeyboardInterrupt:
            outcome = "interrupted"
        except LLMExtractError as error:
            outcome, failure = f"stopped: {error}", error
        unrecorded, ledger = None, None
        try:
            ledger = write_ledger(report, settings, source=source, outcome=outcome, rules=rules)
        except LLMExtractError as error:
            unrecorded = error
    if outcome == "interrupted":
        note(f"interrupted: {report.done} lines in {output}; rerun the same command to go on")
    exits = [fail(error) for error in (failure, unrecorded) if error is not None]  # printed
    if outcome == "interrupted":
        raise typer.Exit(code=143 if terminated else 130)
    if exits:
        raise exits[0]
    usage = report.usage
    cost = settings.price
    spent = f", ${cost.cost(usage.prompt_tokens, usage.completion_tokens):.4f}" if cost else ""
    note(
        f"{output}: {report.done} lines ({report.ok} ok, {report.failed} failed, "
        f"{report.cached} from cache, {report.skipped} already done) in {report.elapsed:.1f} s; "
        f"{usage.requests} requests, {usage.prompt_tokens + usage.completion_tokens} tokens"
        f"{spent}; ledger {ledger}"
    )


@contextmanager
def _terminate_as_interrupt() -> Iterator[list[int]]:
    """Within the block, SIGTERM stops the batch as Ctrl-C does: what was written stays and
    the ledger says "interrupted". The list it gives fills with the signal once received."""
    received: list[int] = []

    def interrupt(number: int, _: object) -> None:
        received.append(number)
        signal.raise_signal(signal.SIGINT)  # whatever Ctrl-C does here (asyncio cancels)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


def render_command(
    results: Annotated[
        Path,
        typer.Argument(
            metavar="RESULTS", help="Results: extract's JSON or JSONL, or batch output JSONL."
        ),
    ],
    source: Annotated[
        str,
        typer.Option(
            metavar="PATH",
            help="What was extracted from: the article file, or the batch input "
            "(JSONL, CSV, folder).",
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="FILE", help="HTML file to write.")
    ],
    title: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Page title.  [default: the file name]"),
    ] = None,
) -> None:
    """Write one self-contained HTML view of the records over their articles.

    Spans are highlighted in place and coloured by kind; click a record to scroll to it;
    filter by task, event type and speaker; see what was dropped or corrected, and why;
    step through a batch document by document. No network is needed to open it.
    """
    from llmextract.render import render_view
    from llmextract.results import with_articles

    try:
        documents = with_articles(results, source)
    except LLMExtractError as error:
        raise fail(error) from None
    write(render_view(documents, title=title or results.name), output)
    typer.echo(f"wrote {output} ({len(documents)} documents)")
