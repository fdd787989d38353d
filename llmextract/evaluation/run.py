"""``llmextract eval``: settings from a config file or a gold path, predictions, a run record."""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast, get_args

from llmextract.errors import ConfigError, InputError
from llmextract.evaluation.gold import load_gold
from llmextract.evaluation.matching import SpanCriterion
from llmextract.evaluation.predict import SYSTEMS, Prediction, System, predict
from llmextract.evaluation.report import gold_digest, score_run, slug
from llmextract.examples import load_examples
from llmextract.extract import parse_tasks
from llmextract.results import read_results
from llmextract.settings import Settings

__all__ = ["EvalConfig", "default_run_path", "load_eval_config", "run_eval"]


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
    return config


def _read_predictions(path: Path) -> dict[str, Prediction]:
    """``llmextract extract`` results, or ``llmextract batch`` records."""
    return {
        line.id: Prediction(
            line.id,
            line.result,
            error=line.error,
            seconds=line.result.seconds if line.result else 0.0,
        )
        for line in read_results(path)
    }


def run_eval(
    config: EvalConfig,
    *,
    settings: Settings,
    predictions_file: Path | None = None,
    on_done: Callable[[Prediction], None] | None = None,
) -> dict[str, Any]:
    """Run (or read) predictions for the gold documents and return the run record."""
    golds = load_gold(config.gold, limit=config.limit)
    if not golds:
        raise InputError(f"{config.gold}: holds no gold documents")
    tasks = parse_tasks(config.tasks)
    examples = load_examples(config.examples, tasks, shots=config.shots, seed=config.seed)
    started = time.perf_counter()
    if predictions_file is not None:
        found = _read_predictions(predictions_file)
        predictions = [
            found.get(g.id) or Prediction(g.id, None, error="no prediction for this document")
            for g in golds
        ]
        system = f"predictions from {predictions_file}"
    else:
        predictions = asyncio.run(
            predict(
                golds,
                system=config.system,
                tasks=tasks,
                settings=replace(settings, concurrency=config.concurrency),
                prompts=config.prompt,
                on_done=on_done,
                examples=examples,
                given_spans=config.given_spans,
            )
        )
        system = config.system
    wall = time.perf_counter() - started
    scored = score_run(
        golds, predictions, tasks=tasks, criterion=config.criterion, samples=config.samples
    )
    name = config.name or Path(config.gold).stem
    return {
        "kind": "llmextract-eval-run",
        "name": f"{slug(name)}-{slug(system)}",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "system": system,
        "gold": str(config.gold),
        "gold_sha256": gold_digest(config.gold),
        "documents_scored": len(golds),
        "tasks": list(tasks),
        "criterion": config.criterion,
        "model": "none" if config.system == "rules" else settings.endpoint.model,
        "endpoint": "none" if config.system == "rules" else settings.endpoint.display_url,
        "settings": {
            "prompt": config.prompt,
            "limit": config.limit,
            "concurrency": config.concurrency,
            "max_reasks": settings.max_reasks,
            "temperature": settings.temperature,
            "mode": settings.endpoint.instructor_mode,
            "prompt_style": settings.endpoint.prompt_style,
            "bootstrap_samples": config.samples,
            "examples": None if config.examples is None else str(config.examples),
            "shots": config.shots,
            "seed": config.seed,
            "given_spans": config.given_spans,
        },
        "wall_seconds": round(wall, 3),
        # Throughput: the wall time of the whole run per document.
        "seconds_per_document": round(wall / len(golds), 3),
        **scored,
    }


def default_run_path(run: dict[str, Any], folder: Path = Path("runs")) -> Path:
    stamp = cast(str, run["created"]).replace(":", "").replace("-", "")[:15]
    return folder / f"{stamp}-{run['name']}.json"
