"""Reading JSONL input: numbered lines, with one clear error for a file that cannot be read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from llmextract.errors import InputError

__all__ = ["numbered_lines"]


def numbered_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` for every non-blank line of a UTF-8 text file, streaming.

    Lines end at ``\n`` only, as JSONL defines: a bare ``\r`` is whitespace inside a line.
    """
    try:
        handle = Path(path).open(encoding="utf-8", newline="\n")  # noqa: SIM115 - closed by the with below
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line
        except UnicodeDecodeError as error:
            raise InputError(f"{path}: not valid UTF-8 ({error.reason})") from None
