"""The command line: parse options, call the library, print. Nothing else lives here."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from llmextract.article import read_article
from llmextract.client import probe_modes
from llmextract.embedded import shared_server
from llmextract.errors import ConfigError, LLMExtractError
from llmextract.examples import load_examples
from llmextract.extract import extract, parse_tasks
from llmextract.output import write_file
from llmextract.prompts import list_prompts, load_prompt
from llmextract.schemas import TASKS
from llmextract.settings import Settings, cache_path, load_prices, load_profiles

if TYPE_CHECKING:
    from llmextract.evaluation.record import RunRecord

app = typer.Typer(
    help="Extract grounded quotes, events and stances from news articles with an LLM.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
endpoints_app = typer.Typer(help="List endpoint profiles and probe what an endpoint supports.")
prompts_app = typer.Typer(help="List the versioned prompt templates and their ids.")
cache_app = typer.Typer(help="Show or empty the response cache (model answers kept on disk).")
app.add_typer(endpoints_app, name="endpoints")
app.add_typer(prompts_app, name="prompts")
app.add_typer(cache_app, name="cache")

# Messages carry paths, names and servers' words: print them as they are, never as Rich
# markup or emoji codes (a "[/x]" in a file name would crash the print, "[draft]" vanish).
_err = Console(stderr=True, markup=False, highlight=False, emoji=False)


def _show_warning(
    message: Warning | str, category: type[Warning], *_: object, **__: object
) -> None:
    """A warning (e.g. an API key about to travel over plain http) as one line, like errors."""
    _err.print(Text.assemble(("warning:", "bold yellow"), " ", str(message)), soft_wrap=True)


warnings.showwarning = _show_warning
# instructor logs every failed validation at ERROR level; llmextract handles those (re-ask,
# then record as dropped), so they are not the user's errors to read.
logging.getLogger("instructor").addHandler(logging.NullHandler())
logging.getLogger("instructor").propagate = False


class OutputFormat(StrEnum):
    json = "json"
    jsonl = "jsonl"


ProfileOpt = Annotated[
    str | None,
    typer.Option(
        help="Endpoint profile: embedded, openai, ollama, vllm, llamacpp, or one from the config."
    ),
]
BaseUrlOpt = Annotated[
    str | None, typer.Option(help="OpenAI-compatible base URL, e.g. http://localhost:11434/v1.")
]
ModelOpt = Annotated[str | None, typer.Option(help="Model name at that endpoint.")]
ApiKeyOpt = Annotated[
    str | None,
    typer.Option(help="API key (better: LLMEXTRACT_API_KEY; OPENAI_API_KEY goes only to OpenAI)."),
]
ModeOpt = Annotated[
    str | None,
    typer.Option(
        help="Structured output: tools, json_schema, json or md_json (default: the profile's)."
    ),
]


ExamplesOpt = Annotated[
    Path | None,
    typer.Option(help="Gold JSONL (a train split) to draw few-shot examples from; copy prompts."),
]
ShotsOpt = Annotated[
    int | None, typer.Option(min=0, help="Few-shot examples per task (default 0).")
]
SeedOpt = Annotated[int | None, typer.Option(help="Seed for drawing the examples (default 0).")]
NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache", help="Neither read nor write the response cache (see llmextract cache)."
    ),
]
TaskOpt = Annotated[
    list[str],
    typer.Option("--task", "-t", help="quotes, events, stances or all (repeatable)."),
]
PromptOpt = Annotated[
    list[str] | None,
    typer.Option(
        help="Prompt version for every task (v1) or one task's prompt (quotes.v2); repeatable. "
        "Default: each task's newest.",
    ),
]
MaxReasksOpt = Annotated[
    int | None,
    typer.Option(min=0, help="Re-asks after an invalid or ungrounded answer (default 2)."),
]
RetriesOpt = Annotated[
    int | None,
    typer.Option(min=0, help="Retries after a connection error, timeout, 429 or 5xx (default 5)."),
]


def _fail(error: LLMExtractError) -> typer.Exit:
    _err.print(Text.assemble(("error:", "bold red"), " ", str(error)), soft_wrap=True)
    return typer.Exit(code=1)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        # A lone surrogate (from an input's JSON escape) is kept as its escape, not fatal.
        write_file(output, text.encode("utf-8", "backslashreplace"))
    except LLMExtractError as error:
        raise _fail(error) from None


@app.command("extract")
def extract_command(
    article: Annotated[str, typer.Argument(help="Article text file, or - to read standard input.")],
    task: TaskOpt = ["all"],  # noqa: B006 - typer needs a list default
    prompt: PromptOpt = None,
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key: ApiKeyOpt = None,
    mode: ModeOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="json (indented) or jsonl (one line).")
    ] = OutputFormat.json,
    examples: ExamplesOpt = None,
    shots: ShotsOpt = None,
    seed: SeedOpt = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of the article.")] = "utf-8",
    article_id: Annotated[
        str | None, typer.Option("--id", help="Id to record (default: the file name).")
    ] = None,
    max_reasks: MaxReasksOpt = None,
    retries: RetriesOpt = None,
    no_cache: NoCacheOpt = False,
    html: Annotated[
        Path | None,
        typer.Option(help="Also write an HTML view of the article with the records in place."),
    ] = None,
) -> None:
    """Extract quotes, events and stances from one article and print them as JSON.

    With no endpoint configured, the embedded SmolLM2-135M model runs locally (no key, no
    network): good for trying the tool, not for real work. Every span in the output
    is grounded: its text is the article's text from its start to its end offset.
    """
    try:
        settings = Settings.from_env(
            profile=profile,
            base_url=base_url,
            model=model,
            api_key=api_key,
            mode=mode,
            max_reasks=max_reasks,
            transport_retries=retries,
            use_cache=not no_cache,
        )
        source = read_article(article, encoding=encoding, article_id=article_id)
        prompts = _prompt_choice(prompt)
        shown = load_examples(examples, parse_tasks(task), shots=shots or 0, seed=seed or 0)
        status = (
            _err.status(Text(f"Extracting from {source.id} with {settings.endpoint.model}…"))
            if _err.is_terminal
            else nullcontext()
        )
        with status:
            result = extract(source, tasks=task, prompts=prompts, settings=settings, examples=shown)
    except LLMExtractError as error:
        raise _fail(error) from None
    indent = 2 if output_format is OutputFormat.json else None
    _write(result.model_dump_json(indent=indent) + "\n", output)
    if html is not None:
        from llmextract.render import ViewDocument, render_view

        view = render_view([ViewDocument(source.id, source.text, result)], title=source.id)
        _write(view, html)


@app.command("batch")
def batch_command(
    source: Annotated[
        str,
        typer.Argument(
            help='JSONL (one {"id", "text", ...} object a line), CSV/TSV with a text '
            "column, or a folder of .txt files; .gz is read too; - reads JSONL from stdin.",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="JSONL to write, one line per input item; rerun to resume."
        ),
    ],
    task: TaskOpt = ["all"],  # noqa: B006 - typer needs a list default
    prompt: PromptOpt = None,
    concurrency: Annotated[
        int,
        typer.Option(
            min=1, help="Model requests in flight at once (the embedded model takes one)."
        ),
    ] = 8,
    rpm: Annotated[
        float | None, typer.Option(min=1, help="At most this many requests per minute.")
    ] = None,
    tpm: Annotated[
        float | None,
        typer.Option(min=1, help="At most this many tokens per minute (prompt + max_tokens)."),
    ] = None,
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key: ApiKeyOpt = None,
    mode: ModeOpt = None,
    text_field: Annotated[
        str, typer.Option(help="The JSON field or CSV column that holds the article text.")
    ] = "text",
    id_field: Annotated[
        str, typer.Option(help="The JSON field or CSV column that holds the article id.")
    ] = "id",
    encoding: Annotated[str, typer.Option(help="Text encoding of the input.")] = "utf-8",
    restart: Annotated[
        bool, typer.Option("--restart", help="Overwrite OUTPUT instead of resuming it.")
    ] = False,
    retry_errors: Annotated[
        bool,
        typer.Option("--retry-errors", help="On resume, extract the items that failed again."),
    ] = False,
    no_cache: NoCacheOpt = False,
    prices: Annotated[
        Path | None,
        typer.Option(
            help='TOML price table (\\[prices."MODEL"] input_per_mtok, output_per_mtok) for '
            "the ledger's cost; the config file's \\[prices] are used too.",
        ),
    ] = None,
    examples: ExamplesOpt = None,
    shots: ShotsOpt = None,
    seed: SeedOpt = None,
    max_reasks: MaxReasksOpt = None,
    retries: RetriesOpt = None,
    ray: Annotated[
        bool,
        typer.Option(
            "--ray", help="Run the extraction on a Ray cluster (pip install 'llmextract[ray]')."
        ),
    ] = False,
    ray_address: Annotated[
        str | None,
        typer.Option(help="Ray cluster to join, e.g. ray://head:10001 (default: a local one)."),
    ] = None,
    ray_actors: Annotated[
        int, typer.Option(min=1, help="Extractor actors on the cluster, each with --concurrency.")
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
    from llmextract.output import claim_output
    from llmextract.sources import count_items, iter_source

    with ExitStack() as held, _terminate_as_interrupt() as terminated:
        try:
            settings = Settings.from_env(
                profile=profile, base_url=base_url, model=model, api_key=api_key, mode=mode,
                max_reasks=max_reasks, transport_retries=retries, use_cache=not no_cache,
                concurrency=concurrency, requests_per_minute=rpm, tokens_per_minute=tpm,
            )  # fmt: skip
            if prices is not None:
                settings = replace(settings, prices={**settings.prices, **load_prices(prices)})
            shown = load_examples(examples, parse_tasks(task), shots=shots or 0, seed=seed or 0)
            fields = {"text_field": text_field, "id_field": id_field, "encoding": encoding}
            report = BatchReport(output=output, total=count_items(source, **fields))
            items = iter_source(source, **fields)
            held.enter_context(claim_output(output, source))
        except LLMExtractError as error:
            raise _fail(error) from None
        except KeyboardInterrupt:
            _err.print("interrupted before the batch started; nothing was written", highlight=False)
            raise typer.Exit(code=143 if terminated else 130) from None
        outcome, failure = "finished", None
        options: dict[str, Any] = {
            "restart": restart, "retry_errors": retry_errors, "report": report
        }  # fmt: skip
        try:
            with _batch_progress(report) as show:
                if ray:
                    from llmextract.batch import Job
                    from llmextract.distributed import run_batch_ray

                    job = Job(settings, tuple(task), _prompt_choice(prompt), shown)
                    run_batch_ray(
                        items, output, job=job, address=ray_address, actors=ray_actors,
                        on_progress=show, **options,
                    )  # fmt: skip
                else:
                    asyncio.run(
                        arun_batch(
                            items, output, settings=settings, tasks=task,
                            prompts=_prompt_choice(prompt), examples=shown, on_progress=show,
                            **options,
                        )
                    )  # fmt: skip
        except KeyboardInterrupt:
            outcome = "interrupted"
        except LLMExtractError as error:
            outcome, failure = f"stopped: {error}", error
        unrecorded, ledger = None, None
        try:
            ledger = write_ledger(report, settings, source=source, outcome=outcome)
        except LLMExtractError as error:
            unrecorded = error
    if outcome == "interrupted":
        _err.print(
            f"interrupted: {report.done} lines in {output}; rerun the same command to go on",
            soft_wrap=True,
            highlight=False,
        )
    exits = [_fail(error) for error in (failure, unrecorded) if error is not None]  # printed
    if outcome == "interrupted":
        raise typer.Exit(code=143 if terminated else 130)
    if exits:
        raise exits[0]
    usage = report.usage
    cost = settings.price
    spent = f", ${cost.cost(usage.prompt_tokens, usage.completion_tokens):.4f}" if cost else ""
    _err.print(
        f"{output}: {report.done} lines ({report.ok} ok, {report.failed} failed, "
        f"{report.cached} from cache, {report.skipped} already done) in {report.elapsed:.1f} s; "
        f"{usage.requests} requests, {usage.prompt_tokens + usage.completion_tokens} tokens"
        f"{spent}; ledger {ledger}",
        highlight=False,
        soft_wrap=True,
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


@app.command("render")
def render_command(
    results: Annotated[
        Path, typer.Argument(help="Results: extract's JSON or JSONL, or batch output JSONL.")
    ],
    source: Annotated[
        str,
        typer.Option(
            help="What was extracted from: the article file, or the batch input "
            "(JSONL, CSV, folder)."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")],
    title: Annotated[str | None, typer.Option(help="Page title (default: the file name).")] = None,
) -> None:
    """Write one self-contained HTML view of the records over their articles.

    Spans are highlighted in place and coloured by kind; click a record to scroll to it;
    filter by task, event type and speaker; see what was dropped and why; step through a
    batch document by document. No network is needed to open it.
    """
    from llmextract.render import render_view
    from llmextract.results import with_articles

    try:
        documents = with_articles(results, source)
    except LLMExtractError as error:
        raise _fail(error) from None
    _write(render_view(documents, title=title or results.name), output)
    typer.echo(f"wrote {output} ({len(documents)} documents)")


def _prompt_choice(values: list[str] | None) -> str | dict[str, str] | None:
    if not values:
        return None
    if len(values) == 1 and "." not in values[0]:
        return values[0]
    return {value.split(".", 1)[0]: value for value in values}


@endpoints_app.command("list")
def endpoints_list() -> None:
    """Show the endpoint profiles: built in, and from the config file."""
    try:
        profiles = load_profiles()
    except LLMExtractError as error:
        raise _fail(error) from None
    for name, endpoint in sorted(profiles.items()):
        url = endpoint.base_url or "(local, started on demand)"
        typer.echo(f"{name:10} {endpoint.instructor_mode:12} {endpoint.model:28} {url}")


@endpoints_app.command("check")
def endpoints_check(
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key: ApiKeyOpt = None,
) -> None:
    """Ask the endpoint one small structured question in each mode; report which work."""
    try:
        settings = Settings.from_env(
            profile=profile, base_url=base_url, model=model, api_key=api_key, transport_retries=0
        )
        url = (
            shared_server(settings.embedded_model_path).url
            if settings.endpoint.is_embedded
            else None
        )
        probes = asyncio.run(probe_modes(settings, base_url=url))
    except LLMExtractError as error:
        raise _fail(error) from None
    typer.echo(f"{settings.endpoint.display_url}  model {settings.endpoint.model}")
    for probe in probes:
        typer.echo(f"  {probe.mode:12} {'works' if probe.works else 'FAILS':6} {probe.detail}")
    working = [p.mode for p in probes if p.works]
    if not working:
        _err.print("No mode works: check the URL, model and key.")
        raise typer.Exit(code=1)
    typer.echo(f'Use --mode {working[0]} (or set mode = "{working[0]}" in its profile).')


@prompts_app.command("list")
def prompts_list() -> None:
    """Show every prompt version with its id (name@hash of template and schema)."""
    try:
        for task in TASKS:
            for name in list_prompts(task):
                typer.echo(load_prompt(task, name).id)
    except LLMExtractError as error:
        raise _fail(error) from None


@cache_app.command("info")
def cache_info() -> None:
    """Where the cache is, how many answers it holds and its size."""
    from llmextract.cache import ResponseCache

    try:
        info = ResponseCache(cache_path()).info()
    except LLMExtractError as error:
        raise _fail(error) from None
    typer.echo(f"{info.path}: {info.entries} answers, {info.bytes / 1e6:.1f} MB")


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every cached answer."""
    from llmextract.cache import ResponseCache

    try:
        cache = ResponseCache(cache_path())
        removed = cache.clear()
    except LLMExtractError as error:
        raise _fail(error) from None
    typer.echo(f"removed {removed} answers from {cache.path}")


@app.command("convert")
def convert_command(
    dataset: Annotated[str, typer.Argument(help="polnear, basil, wikievents or newsmtsc.")],
    src: Annotated[
        Path, typer.Argument(help="The dataset's split folder (polnear, basil) or JSONL file.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Gold JSONL to write.")],
) -> None:
    """Convert a public gold dataset to llmextract's gold format (see evals/README.md)."""
    from llmextract.evaluation.converters import convert
    from llmextract.evaluation.gold import write_gold

    try:
        documents = list(convert(dataset, src))
    except LLMExtractError as error:
        raise _fail(error) from None
    output.parent.mkdir(parents=True, exist_ok=True)
    count = write_gold(documents, output)
    records = {
        task: sum(len(getattr(d, task)) for d in documents)
        for task in TASKS
        if any(getattr(d, task) for d in documents)
    }
    summary = ", ".join(f"{n} {task}" for task, n in records.items())
    typer.echo(f"wrote {count} documents ({summary}) to {output}")


@app.command("eval")
def eval_command(
    config_or_gold: Annotated[
        Path, typer.Argument(help="An eval config (.toml, see evals/configs) or a gold JSONL file.")
    ],
    task: Annotated[
        list[str] | None, typer.Option("--task", "-t", help="Score only these tasks.")
    ] = None,
    pred: Annotated[
        Path | None,
        typer.Option(help="Score these predictions (JSONL of extract results) instead of running."),
    ] = None,
    system: Annotated[
        str | None, typer.Option(help="llmextract (default), rules or naive (baselines).")
    ] = None,
    criterion: Annotated[
        str | None, typer.Option(help="Span match: iou (default, IoU >= 0.5), exact or token.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N documents.")] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Model requests in flight at once (default 4; the embedded model takes one).",
        ),
    ] = None,
    prompt: Annotated[str | None, typer.Option(help="Prompt version, e.g. v1 or v2.")] = None,
    examples: ExamplesOpt = None,
    shots: ShotsOpt = None,
    seed: SeedOpt = None,
    given_spans: Annotated[
        bool | None,
        typer.Option(
            "--given-spans",
            help="Stances: give the model each gold phrase and target to classify the "
            "polarity of, and score per-class F1 (BASIL's target-phrase task).",
        ),
    ] = None,
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key: ApiKeyOpt = None,
    mode: ModeOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Run record to write (default: runs/<time>-<name>.json)."
        ),
    ] = None,
    markdown: Annotated[
        Path | None, typer.Option(help="Also write the metrics table as Markdown here.")
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(help="Also write an HTML report: charts, and gold beside predictions."),
    ] = None,
    keep_predictions: Annotated[
        bool | None,
        typer.Option(
            "--keep-predictions/--no-predictions",
            help="Keep each document's predictions in the run record (default: up to 1,000 "
            "documents, or with --html); compare needs only the counts, always kept.",
        ),
    ] = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Score extractions against gold: P/R/F1 per task and field, with 95% bootstrap CIs."""
    from llmextract.evaluation.record import default_run_path, save, to_markdown
    from llmextract.evaluation.run import load_eval_config, run_eval

    try:
        config = load_eval_config(
            config_or_gold, tasks=task, system=system, criterion=criterion, limit=limit,
            concurrency=concurrency, prompt=prompt, profile=profile, base_url=base_url,
            model=model, examples=examples, shots=shots, seed=seed, given_spans=given_spans,
            keep_predictions=keep_predictions,
        )  # fmt: skip
        if html is not None and config.keep_predictions is False:
            raise ConfigError(
                "the HTML report shows each document's predictions: drop --no-predictions "
                "(or keep_predictions = false in the config) to write it"
            )
        if html is not None:
            config.keep_predictions = True
        settings = Settings.from_env(
            profile=config.profile, base_url=config.base_url, model=config.model,
            api_key=api_key, mode=mode, use_cache=not no_cache,
        )  # fmt: skip
        with _progress("Extracting") as advance:
            run = run_eval(config, settings=settings, predictions_file=pred, on_done=advance)
        path = output or default_run_path(run)
        save(run, path)
        if markdown is not None:
            _write(to_markdown(run), markdown)
        if html is not None:
            from llmextract.evaluation.gold import load_gold
            from llmextract.evaluation.html import eval_html

            _write(eval_html(run, load_gold(config.gold, limit=config.limit)), html)
    except LLMExtractError as error:
        raise _fail(error) from None
    _print_metrics(run)
    typer.echo(f"run record: {path}")


@app.command("compare")
def compare_command(
    run_a: Annotated[Path, typer.Argument(help="The baseline run record (JSON).")],
    run_b: Annotated[Path, typer.Argument(help="The new run record (JSON).")],
    fail_if_worse: Annotated[
        list[str] | None,
        typer.Option(
            help="Exit 1 if B is significantly worse on this metric (e.g. quotes.content); "
            "repeatable.",
        ),
    ] = None,
    markdown: Annotated[Path | None, typer.Option(help="Also write the table here.")] = None,
    html: Annotated[
        Path | None, typer.Option(help="Also write an HTML report with the deltas as a chart.")
    ] = None,
) -> None:
    """Per-metric F1 deltas (B - A) with paired-bootstrap 95% CIs and the documents that flipped."""
    from llmextract.evaluation.compare import compare_runs
    from llmextract.evaluation.record import load

    try:
        a, b = load(run_a), load(run_b)
        comparison = compare_runs(a, b)
    except LLMExtractError as error:
        raise _fail(error) from None
    table = comparison.to_markdown()
    typer.echo(table)
    for line in comparison.flip_lines():
        typer.echo(line)
    if markdown is not None:
        _write(table, markdown)
    if html is not None:
        from llmextract.evaluation.html import compare_html

        _write(compare_html(a, b, comparison), html)
    for metric in fail_if_worse or []:
        row = comparison.row(metric)
        if row is None:
            have = ", ".join(r.metric for r in comparison.rows)
            _err.print(f"error: no metric {metric!r} in both runs; have: {have}", markup=False)
            raise typer.Exit(code=2)
        if row.significantly_worse:
            _err.print(
                f"{metric}: B is significantly worse than A ({row.delta:+.3f})", markup=False
            )
            raise typer.Exit(code=1)


@contextmanager
def _progress(what: str) -> Iterator[Callable[[object], None]]:
    """A progress bar on a terminal; a line every 10 documents otherwise."""
    if _err.is_terminal:
        with Progress(
            TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), console=_err, transient=True,
        ) as bar:  # fmt: skip
            job = bar.add_task(what, total=None)
            yield lambda _: bar.advance(job)
        return
    done = 0

    def advance(_: object) -> None:
        nonlocal done
        done += 1
        if done % 10 == 0:
            print(f"{what}: {done} documents done", file=sys.stderr, flush=True)

    yield advance


@contextmanager
def _batch_progress(report: Any) -> Iterator[Callable[[Any], None]]:
    """A live bar on a terminal (done, failed, cached, rate, ETA, tokens); otherwise a
    plain line every 10 seconds and at the end."""

    def status() -> str:
        fresh = report.ok + report.failed
        rate = fresh / report.elapsed if report.elapsed > 0 else 0.0
        tokens = report.usage.prompt_tokens + report.usage.completion_tokens
        return (
            f"{report.ok} ok, {report.failed} failed, {report.cached} cached, "
            f"{report.skipped} already done · {rate:.2f} docs/s · {tokens:,} tokens"
        )

    if _err.is_terminal:
        with Progress(
            TextColumn("batch"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            TextColumn("{task.fields[status]}", markup=False), console=_err, transient=False,
        ) as bar:  # fmt: skip
            job = bar.add_task("batch", total=report.total, status="starting…")
            yield lambda r: bar.update(job, completed=r.done, status=status())
        return
    last = 0.0

    def line(r: Any) -> None:
        nonlocal last
        if r.elapsed - last >= 10 or (r.total is not None and r.done >= r.total):
            last = r.elapsed
            of = f"/{r.total}" if r.total is not None else ""
            print(f"batch: {r.done}{of} lines; {status()}", file=sys.stderr, flush=True)

    yield line


def _print_metrics(run: RunRecord) -> None:
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
    Console(width=max(_err.width, 110), markup=False, emoji=False).print(table)
    for key, scores in run.labels.items():
        classes = ", ".join(f"{c} {s.f1:.3f}" for c, s in scores.per_class.items())
        typer.echo(f"{key} per-class F1: {classes}; macro F1 {scores.macro_f1:.3f}")
    typer.echo(
        f"{run.seconds_per_document} s/document, {run.errors} errors, "
        f"usage {run.usage.model_dump()}"
    )


@app.command("sweep")
def sweep_command(
    config_or_gold: Annotated[Path, typer.Argument(help="An eval config (.toml) or gold JSONL.")],
    prompt: Annotated[
        list[str], typer.Option(help="A prompt version to try (v1, v2, ...); repeat for each.")
    ],
    metric: Annotated[
        str, typer.Option(help="The metric that picks the best, e.g. quotes.content_token.")
    ],
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N documents.")] = None,
    examples: ExamplesOpt = None,
    shots: ShotsOpt = None,
    seed: SeedOpt = None,
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key: ApiKeyOpt = None,
) -> None:
    """Run eval once per prompt version on the same documents and report the best on METRIC."""
    from llmextract.evaluation.sweep import sweep

    try:
        result = sweep(
            config_or_gold, prompt, metric, api_key=api_key,
            progress=lambda version: _progress(f"Prompt {version}"), limit=limit,
            profile=profile, base_url=base_url, model=model, examples=examples, shots=shots,
            seed=seed,
        )  # fmt: skip
    except LLMExtractError as error:
        raise _fail(error) from None
    for run in result.runs:
        low, high = run.scores.f1_ci
        ids = ", ".join(run.prompts.values()) or "-"
        typer.echo(
            f"{run.version:6} {metric} F1 {run.scores.f1:.3f} ({low:.3f}-{high:.3f})  {ids}  "
            f"{run.path}"
        )
    best = result.best
    typer.echo(
        f"best: {best.version} ({metric} F1 {best.scores.f1:.3f}); compare runs with "
        "llmextract compare"
    )
