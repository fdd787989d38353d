"""Converters from public gold datasets to the gold format (see evals/README.md).

Each module has ``convert(src: Path) -> Iterator[GoldDocument]``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

from llmextract.errors import InputError
from llmextract.evaluation.gold import GoldDocument

__all__ = ["DATASETS", "convert"]

DATASETS = ("polnear", "basil", "wikievents", "newsmtsc")


def convert(dataset: str, src: str | Path) -> Iterator[GoldDocument]:
    """Gold documents converted from ``src``, a dataset folder or file."""
    if dataset not in DATASETS:
        raise InputError(f"unknown dataset {dataset!r}: use one of {', '.join(DATASETS)}")
    if not Path(src).exists():
        raise InputError(f"{src}: no such file or folder")
    module = importlib.import_module(f"llmextract.evaluation.converters.{dataset}")
    documents: Iterator[GoldDocument] = module.convert(Path(src))
    return documents
