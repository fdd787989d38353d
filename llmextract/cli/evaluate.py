"""``llmextract eval``, ``compare``, ``sweep`` and ``convert``: scoring against gold."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from llmextract.cli.console import fail, note, print_metrics, progress, write
from llmextract.cli.options import (
    DEFAULTS,
    ApiKeyOpt,
    BaseUrlOpt,
    EvalConcurrencyOpt,
    ExamplesOpt,
    LimitOpt,
    MaxReasksOpt,
    ModelOpt,
    ModeOpt,
    NoCacheOpt,
    ProfileOpt,
    PromptsDirOpt,
    RetriesOpt,
    SeedOpt,
    ShotsOpt,
    TasksFileOpt,
    model_settings,
)
from llmextract.errors import ConfigError, LLMExtractError
from llmextract.schemas import TASKS

if TYPE_CHECKING:
    from llmextract.evaluation.run import EvalConfig
    from llmextract.settings import Settings

__all__ = ["Dataset", "compare_command", "convert_command", "eval_command", "sweep_command"]

# llmextract.evaluation.converters.DATASETS, as a type: the help lists the choices.
Dataset = Literal["polnear", "basil", "wikievents", "newsmtsc"]


def convert_command(
    dataset: Annotated[Dataset, typer.Argument(metavar="DATASET", help="The public dataset.")],
    src: Annotated[
        Path,
        typer.Argument(
            metavar="SRC", help="The dataset's split folder (polnear, basil) or JSONL file."
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="FILE", help="Gold JSONL to write.")
    ],
) -> None:
    """Convert a public gold dataset to llmextract's gold format (see evals/README.md)."""
    from llmextract.evaluation.converters import convert
    from llmextract.evaluation.gold import write_gold

    try:
        documents = list(convert(dataset, src))
    except LLMExtractError as error:
        raise fail(error) from None
    output.parent.mkdir(parents=True, exist_ok=True)
    count = write_gold(documents, output)
    records = {
        task: sum(len(getattr(d, task)) for d in documents)
        for task in TASKS
        if any(getattr(d, task) for d in documents)
    }
    summary = ", ".join(f"{n} {task}" for task, n in records.items())
    typer.echo(f"wrote {count} documents ({summary}) to {output}")


def eval_command(
    config_or_gold: Annotated[
        Path,
        typer.Argument(
            metavar="CONFIG_OR_GOLD",
            help="An eval config (.toml, see evals/configs) or a gold JSONL file.",
        ),
    ],
    task: Annotated[
        list[str] | None,
        typer.Option("--task", "-t", metavar="TASK", help="Score only these tasks; repeatable."),
    ] = None,
    pred: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Score these predictions (extract or batch results) instead of running.",
        ),
    ] = None,
    system: Annotated[
        str | None,
        typer.Option(
            metavar="SYSTEM",
            help="llmextract, or a baseline: rules (no model) or naive (one plain call per "
            "task).  [default: llmextract]",
        ),
    ] = None,
    criterion: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Span match: iou (IoU >= 0.5), exact or token.  [default: iou]",
        ),
    ] = None,
    limit: LimitOpt = None,
    prompt: Annotated[
        str | None, typer.Option(metavar="VERSION", help="Prompt version, e.g. v1 or v2.")
    ] = None,
    prompts_dir: PromptsDirOpt = None,
    tasks_file: TasksFileOpt = None,
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
    max_reasks: MaxReasksOpt = DEFAULTS.max_reasks,
    retries: RetriesOpt = DEFAULTS.transport_retries,
    no_cache: NoCacheOpt = False,
    concurrency: EvalConcurrencyOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Run record to write.  [default: a new file in runs/]",
        ),
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Also write the metrics table as Markdown here."),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="Also write an HTML report: charts, and gold beside predictions."
        ),
    ] = None,
    keep_predictions: Annotated[
        bool | None,
        typer.Option(
            "--keep-predictions/--no-predictions",
            help="Keep each document's predictions in the run record; compare needs only the "
            "counts, which are always kept.  [default: kept for up to 1,000 documents, or "
            "with --html]",
        ),
    ] = None,
) -> None:
    """Score extractions against gold: P/R/F1 per task and field, with 95% bootstrap CIs.

    Options given here override the config file's values.
    """
    from llmextract.evaluation.record import default_run_path, save, to_markdown
    from llmextract.evaluation.run import documents_to_score, load_eval_config, run_eval

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
        settings = _settings_for(
            config, api_key, mode, max_reasks, retries, no_cache, prompts_dir, tasks_file
        )
        with progress("Extracting", documents_to_score(config)) as advance:
            run = run_eval(config, settings=settings, predictions_file=pred, on_done=advance)
        path = output or default_run_path(run)
        save(run, path)
        if markdown is not None:
            write(to_markdown(run), markdown)
        if html is not None:
            from itertools import islice

            from llmextract.evaluation.generic import iter_gold
            from llmextract.evaluation.html import eval_html

            golds = list(islice(iter_gold(config.gold), config.limit))
            write(eval_html(run, golds), html)
    except LLMExtractError as error:
        raise fail(error) from None
    print_metrics(run)
    typer.echo(f"run record: {path}")


def _settings_for(
    config: EvalConfig,
    api_key: str | None,
    mode: str | None,
    max_reasks: int,
    retries: int,
    no_cache: bool,
    prompts_dir: list[Path] | None,
    tasks_file: list[Path] | None,
) -> Settings:
    """The settings of a run: its config's endpoint, with the command line's knobs."""
    return model_settings(
        profile=config.profile, base_url=config.base_url, model=config.model, api_key=api_key,
        mode=mode, max_reasks=max_reasks, retries=retries, no_cache=no_cache,
        prompts_dir=prompts_dir, tasks_file=tasks_file,
    )  # fmt: skip


def compare_command(
    run_a: Annotated[Path, typer.Argument(metavar="RUN_A", help="The baseline run record (JSON).")],
    run_b: Annotated[Path, typer.Argument(metavar="RUN_B", help="The new run record (JSON).")],
    fail_if_worse: Annotated[
        list[str] | None,
        typer.Option(
            metavar="METRIC",
            help="Exit 1 if B is significantly worse on this metric (e.g. quotes.content); "
            "repeatable.",
        ),
    ] = None,
    markdown: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Also write the table here.")
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Also write an HTML report with the deltas as a chart."),
    ] = None,
) -> None:
    """Per-metric F1 deltas (B - A) with paired-bootstrap 95% CIs and the documents that flipped."""
    from llmextract.evaluation.compare import compare_runs
    from llmextract.evaluation.record import load

    try:
        a, b = load(run_a), load(run_b)
        comparison = compare_runs(a, b)
    except LLMExtractError as error:
        raise fail(error) from None
    table = comparison.to_markdown()
    typer.echo(table)
    for line in comparison.flip_lines():
        typer.echo(line)
    if markdown is not None:
        write(table, markdown)
    if html is not None:
        from llmextract.evaluation.html import compare_html

        write(compare_html(a, b, comparison), html)
    for metric in fail_if_worse or []:
        row = comparison.row(metric)
        if row is None:
            have = ", ".join(r.metric for r in comparison.rows)
            note(f"error: no metric {metric!r} in both runs; have: {have}")
            raise typer.Exit(code=2)
        if row.significantly_worse:
            note(f"{metric}: B is significantly worse than A ({row.delta:+.3f})")
            raise typer.Exit(code=1)


def sweep_command(
    config_or_gold: Annotated[
        Path,
        typer.Argument(metavar="CONFIG_OR_GOLD", help="An eval config (.toml) or gold JSONL."),
    ],
    prompt: Annotated[
        list[str],
        typer.Option(
            metavar="VERSION", help="A prompt version to try (v1, v2, ...); repeat for each."
        ),
    ],
    metric: Annotated[
        str,
        typer.Option(
            metavar="METRIC", help="The metric that picks the best, e.g. quotes.content_token."
        ),
    ],
    limit: LimitOpt = None,
    prompts_dir: PromptsDirOpt = None,
    tasks_file: TasksFileOpt = None,
    examples: ExamplesOpt = None,
    shots: ShotsOpt = None,
    seed: SeedOpt = None,
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    api_key: ApiKeyOpt = None,
    mode: ModeOpt = None,
    max_reasks: MaxReasksOpt = DEFAULTS.max_reasks,
    retries: RetriesOpt = DEFAULTS.transport_retries,
    no_cache: NoCacheOpt = False,
    concurrency: EvalConcurrencyOpt = None,
) -> None:
    """Run eval once per prompt version on the same documents and report the best on METRIC.

    Each run's record is saved under runs/. Options given here override the config file's
    values.
    """
    from llmextract.evaluation.sweep import sweep

    try:
        result = sweep(
            config_or_gold, prompt, metric,
            settings=lambda config: _settings_for(
                config, api_key, mode, max_reasks, retries, no_cache, prompts_dir, tasks_file
            ),
            progress=lambda version: progress(f"Prompt {version}"), limit=limit,
            profile=profile, base_url=base_url, model=model, examples=examples, shots=shots,
            seed=seed, concurrency=concurrency,
        )  # fmt: skip
    except LLMExtractError as error:
        raise fail(error) from None
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
