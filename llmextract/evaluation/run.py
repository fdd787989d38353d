"""``llmextract eval``: settings from a config file or a gold path, predictions, a run record.

Gold documents and predictions stream through the scorer one at a time (see
:mod:`llmextract.evaluation.scoring`), so a run's memory does not grow with its documents.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import itertools
import re
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast, get_args

from llmextract.errors import ConfigError, InputError
from llmextract.evaluation.fields import ARGUMENT_ROLES
from llmextract.evaluation.generic import iter_gold
from llmextract.evaluation.matching import SpanCriterion
from llmextract.evaluation.predict import SYSTEMS, Prediction, System, predict
from llmextract.evaluation.record import RunRecord, RunSettings
from llmextract.evaluation.scoring import RunScorer
from llmextract.examples import Example, load_examples
from llmextract.extract import parse_tasks
from llmextract.gold import GoldDocument
from llmextract.results import ResultLine, read_results
from llmextract.rules import rule_tasks
from llmextract.schemas import Polarity, Task
from llmextract.settings import Settings

__all__ = ["EvalConfig", "documents_to_score", "load_eval_config", "run_eval"]


@dataclass
class EvalConfig:
    """What makes a run: gold file, tasks, system, prompt, endpoint, criterion."""

    gold: Path
    tasks: list[str] = field(default_factory=lambda: ["all"])
    system: System = "llmextract"
    criterion: SpanCriterion = "iou"
    prompt: str | None = None
    profile: str | None = None
    base_url: str | None = None
    model: str | None = None
    limit: int | None = None
    concurrency: int = 4
    samples: int = 1000
    name: str | None = None
    examples: Path | None = None  # gold JSONL to draw few-shot examples from (a train split)
    shots: int = 0
    seed: int = 0
    # The model classifies the gold records' labels instead of finding records (stances:
    # the polarity of each annotated phrase); scored by per-class F1 under "labels".
    given_spans: bool = False
    # The polarities a given stance may take (e.g. ["support", "oppose"] for a gold set with
    # no neutral label); empty: support, oppose and neutral. Needs given_spans.
    labels: list[str] = field(default_factory=list)
    # The event argument roles scored (e.g. no "time" for a gold set whose ontology has no
    # time role, where every predicted time would count as wrong); empty: all of them.
    roles: list[str] = field(default_factory=list)
    # Keep each document's predictions in the run record (None: up to KEEP_PREDICTIONS_UP_TO
    # documents); the HTML report needs them, compare does not.
    keep_predictions: bool | None = None


def load_eval_config(path: str | Path, **overrides: Any) -> EvalConfig:
    """A config file (TOML) or a gold JSONL file, with explicit values on top."""
    path = Path(path)
    values: dict[str, Any] = {}
    if path.suffix == ".toml":
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"{path}: {error}") from None
        known = {f.name for f in fields(EvalConfig)}
        if unknown := set(values) - known:
            raise ConfigError(f"{path}: unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
        if "gold" not in values:
            raise ConfigError(f'{path}: says no gold file: add gold = "path/to/gold.jsonl"')
        for key in ("gold", "examples"):
            if key in values:
                given = Path(values[key])
                values[key] = given if given.is_absolute() else path.parent / given
        values.setdefault("name", path.stem)
    else:
        values = {"gold": path, "name": path.stem}
    values.update({k: v for k, v in overrides.items() if v is not None})
    config = EvalConfig(**values)
    if config.system not in SYSTEMS:
        raise ConfigError(f"unknown system {config.system!r}: use one of {', '.join(SYSTEMS)}")
    if config.criterion not in get_args(SpanCriterion):
        raise ConfigError(f"unknown criterion {config.criterion!r}: use exact, iou or token")
    polarities = get_args(Polarity)
    if wrong := [label for label in config.labels if label not in polarities]:
        raise ConfigError(
            f"unknown stance labels {wrong}: labels are some of {', '.join(polarities)}"
        )
    if wrong := [role for role in config.roles if role not in ARGUMENT_ROLES]:
        raise ConfigError(
            f"unknown argument roles {wrong}: roles are some of {', '.join(ARGUMENT_ROLES)}"
        )
    if config.labels and not config.given_spans:
        raise ConfigError(
            "labels restrict the polarity of given stances: add given_spans = true or remove labels"
        )
    return config


def _roles(config: EvalConfig) -> tuple[str, ...]:
    """The event argument roles a run scores, in the order of :data:`ARGUMENT_ROLES`."""
    return tuple(r for r in ARGUMENT_ROLES if not config.roles or r in config.roles)


class _Superseded(InputError):
    """A later line of the predictions file holds another prediction for a scored document."""


def _prediction(line: ResultLine) -> Prediction:
    seconds = line.result.seconds if line.result else 0.0
    return Prediction(line.id, line.result, error=line.error, seconds=seconds)


def _from_file(
    golds: Iterable[GoldDocument], path: Path, skip: frozenset[int] = frozenset()
) -> Iterator[tuple[GoldDocument, Prediction]]:
    """Each gold document with its prediction in ``path`` (``llmextract extract`` results or
    ``llmextract batch`` records), reading both once: in step when they are in the same order,
    holding the predictions read ahead otherwise. A document without one gets an error
    prediction; predictions for documents not in the gold are read and left out.

    When an id has several lines the last one counts: a line in ``skip`` (by index) is passed
    over, and a later line for a document already scored raises :class:`_Superseded`.
    """
    lines = (line for index, line in enumerate(read_results(path)) if index not in skip)
    ahead: dict[str, Prediction] = {}
    scored: set[str] = set()
    for gold in golds:
        prediction = ahead.pop(gold.id, None)
        while prediction is None:
            line = next(lines, None)
            if line is None:
                break
            if line.id in scored:
                raise _Superseded(f"{path}: changed while it was read; score it again")
            if line.id == gold.id:
                prediction = _prediction(line)
            else:
                ahead[line.id] = _prediction(line)
        scored.add(gold.id)
        yield (
            gold,
            prediction
            or Prediction(
                gold.id, None, error=f"no prediction for this document in {path}", missing=True
            ),
        )
    for line in lines:  # the rest: read through, as a bad line is an error wherever it is
        if line.id in scored:
            raise _Superseded(f"{path}: changed while it was read; score it again")


def _superseded_lines(path: Path) -> frozenset[int]:
    """Indices of the lines of ``path`` that a later line for the same document replaces."""
    ids = [line.id for line in read_results(path)]
    last = {doc: index for index, doc in enumerate(ids)}
    return frozenset(index for index, doc in enumerate(ids) if last[doc] != index)


def documents_to_score(config: EvalConfig) -> int:
    """How many gold documents a run of ``config`` scores (for progress and time left)."""
    count = _gold_file(config.gold).documents
    return count if config.limit is None else min(count, config.limit)


def _golds(config: EvalConfig) -> Iterator[GoldDocument]:
    """The gold documents to score, streaming; an empty gold file is an error at once."""
    golds = iter_gold(config.gold)
    if config.limit is not None:
        golds = itertools.islice(golds, config.limit)
    first = next(golds, None)
    if first is None:
        raise InputError(f"{config.gold}: holds no gold documents")
    return itertools.chain([first], golds)


def _score_file(
    config: EvalConfig, tasks: Sequence[Task], path: Path, *, keep_predictions: bool | None
) -> RunScorer:
    try:
        return _scored(_from_file(_golds(config), path), config, tasks, keep_predictions)
    except _Superseded:
        # A document has another line after the one scored: score again, passing over every
        # line a later one replaces (the file can only raise again if it changes meanwhile).
        pairs = _from_file(_golds(config), path, _superseded_lines(path))
        return _scored(pairs, config, tasks, keep_predictions)


def _scored(
    pairs: Iterable[tuple[GoldDocument, Prediction]],
    config: EvalConfig,
    tasks: Sequence[Task],
    keep_predictions: bool | None,
) -> RunScorer:
    scorer = RunScorer(tasks, config.criterion, keep_predictions, roles=_roles(config))
    for gold, prediction in pairs:
        scorer.add(gold, prediction)
    return scorer


async def _score_system(
    config: EvalConfig,
    tasks: Sequence[Task],
    settings: Settings,
    examples: Mapping[str, Sequence[Example]] | None,
    on_done: Callable[[Prediction], None] | None,
    scorer: RunScorer,
) -> None:
    predictions = predict(
        _golds(config),
        system=config.system,
        tasks=tasks,
        settings=replace(settings, concurrency=config.concurrency),
        prompts=config.prompt,
        on_done=on_done,
        examples=examples,
        given_spans=config.given_spans,
        labels=[cast(Polarity, label) for label in config.labels],
    )
    async with aclosing(predictions):
        async for gold, prediction in predictions:
            scorer.add(gold, prediction)


def run_eval(
    config: EvalConfig,
    *,
    settings: Settings,
    predictions_file: Path | None = None,
    on_done: Callable[[Prediction], None] | None = None,
) -> RunRecord:
    """Run (or read) predictions for the gold documents, score each as it comes, and return
    the run record."""
    if predictions_file is None:
        # Every gold line is checked before the first model call, not after thousands.
        for _ in _golds(config):
            pass
    tasks = parse_tasks(config.tasks)
    if config.system != "llmextract" and predictions_file is None:
        tasks = rule_tasks(config.tasks)  # the baselines know the built-in tasks only
    examples = load_examples(config.examples, tasks, shots=config.shots, seed=config.seed)
    started = time.perf_counter()
    if predictions_file is not None:
        scorer = _score_file(
            config, tasks, predictions_file, keep_predictions=config.keep_predictions
        )
        system = f"predictions from {predictions_file}"
    else:
        scorer = RunScorer(tasks, config.criterion, config.keep_predictions, roles=_roles(config))
        asyncio.run(_score_system(config, tasks, settings, examples, on_done, scorer))
        system = config.system
    # The system's time (or reading its predictions), not the time spent scoring them.
    wall = time.perf_counter() - started - scorer.seconds
    scored = scorer.finish(samples=config.samples)
    name = config.name or Path(config.gold).stem
    return RunRecord(
        name=f"{slug(name)}-{slug(system)}",
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        system=system,
        gold=str(config.gold),
        gold_sha256=gold_digest(config.gold),
        documents_scored=scorer.documents,
        tasks=list(tasks),
        criterion=config.criterion,
        model="none" if config.system == "rules" else settings.endpoint.model,
        endpoint="none" if config.system == "rules" else settings.endpoint.display_url,
        settings=RunSettings(
            prompt=config.prompt,
            limit=config.limit,
            concurrency=config.concurrency,
            max_reasks=settings.max_reasks,
            temperature=settings.temperature,
            mode=settings.endpoint.instructor_mode,
            prompt_style=settings.endpoint.prompt_style,
            bootstrap_samples=config.samples,
            examples=None if config.examples is None else str(config.examples),
            shots=config.shots,
            seed=config.seed,
            given_spans=config.given_spans,
            keep_predictions=scored.keep_predictions,
            roles=list(_roles(config)),
        ),
        wall_seconds=round(wall, 3),
        seconds_per_document=round(wall / scorer.documents, 3),
        metrics=scored.metrics,
        confusion=scored.confusion,
        labels=scored.labels,
        prompts=scored.prompts,
        usage=scored.usage,
        errors=scored.errors,
        missing_predictions=scored.missing_predictions,
        ungrounded=scored.ungrounded,
        mean_latency_s=scored.mean_latency_s,
        documents=scored.documents,
    )


@dataclass(frozen=True)
class _GoldFile:
    sha256: str
    documents: int  # its non-blank lines, as the gold loader reads them


def _gold_file(path: str | Path) -> _GoldFile:
    """The digest and document count of a gold file, from one pass over its bytes; kept
    while the file stays the same, so that a run's progress and its record read it once."""
    try:
        stat = Path(path).stat()
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    return _read_gold_file(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _read_gold_file(path: str, size: int, mtime_ns: int) -> _GoldFile:
    digest = hashlib.sha256()
    documents = 0
    try:
        with Path(path).open("rb") as handle:
            for line in handle:
                digest.update(line)
                # str.strip's whitespace, as the loader skips blank lines: ASCII lines (most)
                # need no decoding.
                if line.isascii():
                    documents += bool(line.strip())
                else:
                    documents += bool(line.decode("utf-8", "replace").strip())
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    return _GoldFile(digest.hexdigest(), documents)


def gold_digest(path: str | Path) -> str:
    """The sha256 of a gold file's bytes."""
    return _gold_file(path).sha256


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "run"
