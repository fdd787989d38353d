"""Reading JSONL: numbered lines of a byte stream or file, and one JSON value per line.

Every JSONL reader of the package (batch inputs, batch outputs on resume, extraction results,
gold files) reads through here: lines end at ``\\n`` only, as JSONL defines (a bare ``\\r`` is
whitespace inside a line), they are numbered from 1 for messages, and a value nested deeper
than Python's recursion allows is a :class:`NestedTooDeeply` ``ValueError`` like any other
bad JSON, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from llmextract.errors import InputError

__all__ = ["NestedTooDeeply", "loads", "numbered_lines", "raw_lines"]


class NestedTooDeeply(ValueError):
    """A JSON value nested too deeply to read (arrays or objects inside each other)."""


def raw_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` for every line of a binary stream, blank ones too, streaming."""
    return enumerate(lines, start=1)


def numbered_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` for every non-blank line of a UTF-8 text file, streaming."""
    try:
        handle = Path(path).open("rb")  # noqa: SIM115 - closed by the with below
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    with handle:
        for number, raw in raw_lines(handle):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InputError(f"{path}: not valid UTF-8 ({error.reason})") from None
            if line.strip():
                yield number, line


def loads(
    line: str | bytes,
    *,
    parse_int: Callable[[str], Any] | None = None,
    parse_float: Callable[[str], Any] | None = None,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """The JSON value of one line (:func:`json.loads` and its hooks); a ``ValueError`` when
    the line is not JSON, :class:`NestedTooDeeply` when it is nested too deeply to read."""
    try:
        return json.loads(
            line, parse_int=parse_int, parse_float=parse_float, parse_constant=parse_constant
        )
    except RecursionError:
        raise NestedTooDeeply(
            "nested too deeply to read (arrays or objects inside each other)"
        ) from None
