"""``llmextract sweep``: one eval run per prompt version on the same documents, each run record
saved, and the best version on one metric."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmextract.errors import InputError
from llmextract.evaluation.counts import FieldMetrics
from llmextract.evaluation.predict import Prediction
from llmextract.evaluation.record import default_run_path, save
from llmextract.evaluation.run import EvalConfig, load_eval_config, run_eval
from llmextract.settings import Settings

__all__ = ["Sweep", "SweepRun", "sweep"]

Progress = Callable[[str], AbstractContextManager[Callable[[Prediction], None] | None]]


@dataclass(frozen=True)
class SweepRun:
    """One prompt version: its score on the metric, the prompt ids it ran, its record."""

    version: str
    scores: FieldMetrics
    prompts: dict[str, str]
    path: Path


@dataclass(frozen=True)
class Sweep:
    metric: str
    runs: list[SweepRun]

    @property
    def best(self) -> SweepRun:
        """The run with the highest F1 on the metric (the first of equals)."""
        return max(self.runs, key=lambda run: run.scores.f1)


def sweep(
    config_or_gold: Path,
    versions: Sequence[str],
    metric: str,
    *,
    settings: Callable[[EvalConfig], Settings] | None = None,
    progress: Progress | None = None,
    folder: Path = Path("runs"),
    **overrides: Any,
) -> Sweep:
    """Run eval once per prompt version (``overrides`` as for :func:`load_eval_config`), save
    each record under ``folder``, and collect the versions' scores on ``metric``.

    ``settings(config)`` gives each run's settings (default: the config's endpoint, from the
    environment). ``progress(version)`` gives a context that yields the callback each
    finished document is passed to. A metric the runs do not have is an error after the
    first run.
    """
    runs = []
    for version in versions:
        config = load_eval_config(config_or_gold, prompt=version, **overrides)
        config.name = f"{config.name}-{version}"
        chosen = (settings or _from_env)(config)
        with progress(version) if progress else nullcontext() as on_done:
            record = run_eval(config, settings=chosen, on_done=on_done)
        path = default_run_path(record, folder)
        save(record, path)
        if metric not in record.metrics:
            raise InputError(f"no metric {metric!r} in the run; have: {', '.join(record.metrics)}")
        runs.append(SweepRun(version, record.metrics[metric], record.prompts, path))
    return Sweep(metric, runs)


def _from_env(config: EvalConfig) -> Settings:
    return Settings.from_env(profile=config.profile, base_url=config.base_url, model=config.model)
