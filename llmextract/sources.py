"""Batch inputs: a JSONL file, a CSV/TSV file or a folder of ``.txt`` articles, as a stream.

Policy: inputs are read streaming (``.gz`` files through gzip), so memory stays flat however
long the input is. Each :class:`SourceItem` carries its 1-based position, an id, the article
text and every other field as ``metadata``; an item that cannot be extracted carries an
``error`` instead, which says how to fix it, and the stream goes on. Problems with the input
as a whole (missing path, unknown kind or encoding, empty CSV, CSV header without the text
column, folder without ``.txt`` files) raise :class:`~llmextract.errors.InputError` before
the first item.

- JSONL (``-`` reads standard input): every physical line is one item, blank lines too, so
  the output lines up with ``wc -l``. A line is decoded like an article
  (:func:`~llmextract.article.decode_article`: byte-order mark removed; NUL bytes and
  undecodable bytes refused) and must hold a JSON object whose text field is a non-empty
  string. The id is the id field when it is a non-empty string or an integer, else
  ``line-N``. A line that could not be written back as JSON is an error item too: nesting
  deeper than 100, an integer too long for Python to read, a number beyond a double
  (``1e999``, ``NaN``), or a string with a lone surrogate escape (``"\\udc80"``).
- CSV (comma) and TSV (tab): one item per record after the header, blank records skipped;
  quoted fields may span lines. A record with undecodable or NUL bytes, more fields than the
  header or an empty text is an error item; missing trailing cells count as empty. The id is
  the id column when it is non-empty, else ``row-N``.
- Folder: every ``*.txt`` entry below it, sorted by relative path; the id is that path
  without ``.txt`` and each file is decoded with :func:`~llmextract.article.decode_article`.
  A link is followed only to a file inside the folder: a link out of it (``passwd.txt ->
  /etc/passwd``), a dangling link, and a pipe, device or socket are error items, never read.

A name that is not valid UTF-8 (a file name, say) shows its bytes as ``\\xNN`` in ids and
messages, so every item can be written to the output.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import math
import os
import re
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from llmextract.article import decode_article
from llmextract.errors import InputError
from llmextract.jsonl import NestedTooDeeply, loads, raw_lines

__all__ = ["SourceItem", "SourceKind", "count_items", "iter_source", "source_kind"]

SourceKind = Literal["jsonl", "csv", "folder"]

_KINDS: dict[str, SourceKind] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
}
_ACCEPTED = (
    "give a .jsonl/.ndjson/.json or .csv/.tsv file (optionally .gz), "
    "a folder of .txt files, or - for JSONL on standard input"
)
_ENCODING_HINT = "pass --encoding (e.g. cp1252 or latin-1) or convert it: iconv -f cp1252 -t utf-8"
_JSON_TYPES = {
    type(None): "null",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
}
_CHUNK_BYTES = 1 << 20
_CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)
# Bytes that did not decode, as the "surrogateescape" error handler leaves them.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
# What a JSON \u escape can produce but UTF-8 cannot encode, so no output line could hold.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Deeper metadata is refused: writing it back would risk Python's recursion limit.
_MAX_DEPTH = 100


@dataclass(frozen=True)
class SourceItem:
    """One article of a batch input, or the reason it cannot be extracted."""

    line: int
    id: str
    text: str | None
    metadata: dict[str, Any]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class _Options:
    text_field: str
    id_field: str
    encoding: str

    def __post_init__(self) -> None:
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise InputError(
                f"unknown encoding {self.encoding!r}; pass --encoding with a name such as "
                "utf-8, cp1252 or latin-1"
            ) from None


def source_kind(path: str | Path) -> SourceKind:
    """How ``path`` is read: ``-`` and JSONL files, CSV/TSV files, or a folder of ``.txt``."""
    if str(path) == "-":
        return "jsonl"
    file = Path(path)
    if file.is_dir():
        return "folder"
    if not file.exists():
        raise InputError(f"{path}: no such file or folder")
    if not file.is_file():  # it would be read twice (counted, then extracted)
        raise InputError(
            f"{path}: not a regular file (a pipe or device); pipe it in: "
            "llmextract batch - -o OUTPUT < INPUT"
        )
    kind = _KINDS.get(Path(file.name.lower().removesuffix(".gz")).suffix)
    if kind is None:
        raise InputError(f"{path}: unknown kind of input; {_ACCEPTED}")
    return kind


def iter_source(
    path: str | Path, *, text_field: str = "text", id_field: str = "id", encoding: str = "utf-8"
) -> Iterator[SourceItem]:
    """The items of ``path``, streaming; an unusable input as a whole raises at once."""
    kind = source_kind(path)
    options = _Options(text_field, id_field, encoding)
    if str(path) == "-" and sys.stdin is None:
        raise InputError(
            "standard input is closed; pipe the JSONL in (llmextract batch - < FILE) "
            "or give the file instead of -"
        )
    if kind == "folder":
        root = Path(path)
        return _folder_items(root, _txt_files(root), encoding)
    if kind == "csv":
        with _csv_table(path, options):
            pass  # reading the header checks it now rather than at the first item
        return _csv_items(path, options)
    return _jsonl_items(path, options)


def count_items(
    path: str | Path, *, text_field: str = "text", id_field: str = "id", encoding: str = "utf-8"
) -> int | None:
    """How many items :func:`iter_source` yields for ``path``; None for standard input."""
    kind = source_kind(path)
    options = _Options(text_field, id_field, encoding)
    if kind == "folder":
        return len(_txt_files(Path(path)))
    if kind == "csv":
        with _csv_table(path, options) as (_, records):
            return sum(1 for _ in records)
    if str(path) == "-":
        return None
    return _count_lines(path)


@contextmanager
def _binary(path: str | Path) -> Iterator[gzip.GzipFile | io.BufferedReader]:
    """File ``path`` open for binary reading, through gzip for ``.gz``."""
    try:
        handle = _open_binary(path)
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    with handle:
        try:
            yield handle
        except (OSError, EOFError, zlib.error) as error:
            raise InputError(f"{path}: cannot be read ({error})") from None


def _open_binary(path: str | Path) -> gzip.GzipFile | io.BufferedReader:
    if str(path).lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _count_lines(path: str | Path) -> int:
    lines, last = 0, b"\n"
    with _binary(path) as handle:
        for chunk in iter(partial(handle.read, _CHUNK_BYTES), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + int(last != b"\n")


def _jsonl_items(path: str | Path, options: _Options) -> Iterator[SourceItem]:
    if str(path) == "-":
        yield from _jsonl_lines(sys.stdin.buffer, "stdin", options)
        return
    with _binary(path) as handle:
        yield from _jsonl_lines(handle, _printable(str(path)), options)


def _jsonl_lines(lines: Iterable[bytes], source: str, options: _Options) -> Iterator[SourceItem]:
    for number, raw in raw_lines(lines):
        yield _jsonl_item(raw, number, f"{source}:{number}", options)


def _jsonl_item(raw: bytes, number: int, where: str, options: _Options) -> SourceItem:
    fallback_id = f"line-{number}"
    if not raw.strip():
        return SourceItem(number, fallback_id, None, {}, f"{where}: blank line; remove it")
    try:
        line = decode_article(raw, source=where, encoding=options.encoding)
        record = loads(
            line, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_no_constant
        )
    except InputError as error:
        return SourceItem(number, fallback_id, None, {}, str(error))
    except json.JSONDecodeError as error:
        # Some messages end in "at" ("Unterminated string starting at"): say it once.
        problem = error.msg.removesuffix(" at")
        message = f"{where}: invalid JSON ({problem} at column {error.colno})"
        return SourceItem(number, fallback_id, None, {}, message)
    except NestedTooDeeply as error:
        return SourceItem(number, fallback_id, None, {}, f"{where}: {error}; flatten it")
    except ValueError as error:  # raised by the number hooks below
        return SourceItem(number, fallback_id, None, {}, f"{where}: {error}")
    if not isinstance(record, dict):
        message = f"{where}: expected a JSON object, got {_JSON_TYPES[type(record)]}"
        return SourceItem(number, fallback_id, None, {}, message)
    unwritable = _unwritable(record)
    if unwritable is not None:
        return SourceItem(number, fallback_id, None, {}, f"{where}: {unwritable}")
    return _item(record, number, where, fallback_id, options, noun="field")


def _parse_int(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:  # longer than sys.get_int_max_str_digits()
        raise ValueError(
            f"a number with {len(digits.lstrip('-'))} digits is too long to read; "
            "write it as a string"
        ) from None


def _parse_float(digits: str) -> float:
    value = float(digits)
    if not math.isfinite(value):
        raise ValueError(
            f"the number {digits[:20]}{'...' if len(digits) > 20 else ''} is too large for "
            "JSON output; write it as a string"
        )
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; write null or a string instead")


def _unwritable(record: dict[str, Any]) -> str | None:
    """Why ``record`` could not be written back as UTF-8 JSON, naming the field; else None."""
    for key, value in record.items():
        field = json.dumps(key)  # escapes a surrogate in the name itself
        pending: list[tuple[Any, int]] = [(key, 0), (value, 0)]
        while pending:
            node, depth = pending.pop()
            if depth > _MAX_DEPTH:
                return f"field {field} is nested more than {_MAX_DEPTH} deep; flatten it"
            if isinstance(node, str) and _SURROGATE.search(node):
                return (
                    f"field {field} holds a lone surrogate escape (such as \\udc80), which is "
                    "not Unicode text; fix or remove that escape"
                )
            if isinstance(node, dict):
                pending.extend((child, depth + 1) for pair in node.items() for child in pair)
            elif isinstance(node, list):
                pending.extend((child, depth + 1) for child in node)
    return None


def _item(
    values: dict[str, Any],
    number: int,
    where: str,
    fallback_id: str,
    options: _Options,
    *,
    noun: str,
) -> SourceItem:
    """The item for one record (a JSON object or a CSV row keyed by the header)."""
    raw_id = values.get(options.id_field)
    usable_id = (isinstance(raw_id, str) and raw_id.strip()) or type(raw_id) is int
    item_id = str(raw_id) if usable_id else fallback_id
    metadata = {k: v for k, v in values.items() if k not in (options.id_field, options.text_field)}
    text = values.get(options.text_field)
    if isinstance(text, str) and text.strip():
        return SourceItem(number, item_id, text, metadata)
    message = f"{where}: {_text_problem(values, options.text_field, noun)}"
    return SourceItem(number, item_id, None, metadata, message)


def _text_problem(values: dict[str, Any], field: str, noun: str) -> str:
    hint = f"name the {noun} that holds the article text with --text-field"
    if field not in values:
        return f'no "{field}" {noun} (found: {", ".join(values) or "none"}); {hint}'
    if not isinstance(values[field], str):
        return f'"{field}" is {_JSON_TYPES[type(values[field])]}, not a string; {hint}'
    return f'"{field}" is empty; give the article text or {hint}'


@contextmanager
def _csv_table(
    path: str | Path, options: _Options
) -> Iterator[tuple[list[str], Iterator[list[str]]]]:
    """The checked header and the non-blank data records of a CSV/TSV file."""
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    delimiter = "\t" if str(path).lower().removesuffix(".gz").endswith(".tsv") else ","
    with (
        _binary(path) as handle,
        io.TextIOWrapper(
            handle, encoding=options.encoding, errors="surrogateescape", newline=""
        ) as text,
    ):
        records = (row for row in csv.reader(text, delimiter=delimiter) if row)
        yield _checked_header(path, next(records, None), options), records


def _checked_header(path: str | Path, header: list[str] | None, options: _Options) -> list[str]:
    if header is None:
        raise InputError(f"{path}: is empty; give a CSV file whose first row names the columns")
    header[0] = header[0].removeprefix("\ufeff")
    if _escaped_byte(header) is not None:
        raise InputError(f"{path}: the header is not valid {options.encoding}; {_ENCODING_HINT}")
    if options.text_field not in header:
        raise InputError(
            f'{path}: no "{options.text_field}" column (columns: {", ".join(header)}); '
            "name the column that holds the article text with --text-field"
        )
    return header


def _csv_items(path: str | Path, options: _Options) -> Iterator[SourceItem]:
    with _csv_table(path, options) as (header, records):
        shown = _printable(str(path))
        for number, row in enumerate(records, start=1):
            yield _csv_item(row, number, f"{shown}:row {number}", header, options)


def _csv_item(
    row: list[str], number: int, where: str, header: list[str], options: _Options
) -> SourceItem:
    fallback_id = f"row-{number}"
    problem = _row_problem(row, header, options.encoding)
    if problem is not None:
        return SourceItem(number, fallback_id, None, {}, f"{where}: {problem}")
    cells = row + [""] * (len(header) - len(row))
    return _item(
        dict(zip(header, cells, strict=True)), number, where, fallback_id, options, noun="column"
    )


def _row_problem(row: list[str], header: list[str], encoding: str) -> str | None:
    if len(row) > len(header):
        return (
            f"{len(row)} fields but the header has {len(header)}; "
            "quote fields that contain the delimiter"
        )
    byte = _escaped_byte(row)
    if byte is not None:
        return f"not valid {encoding} (byte 0x{byte:02x}); {_ENCODING_HINT}"
    if any("\x00" in cell for cell in row):
        return "looks binary (contains NUL bytes); give a plain-text CSV file"
    return None


def _escaped_byte(cells: list[str]) -> int | None:
    """The first byte that did not decode, if any cell holds one."""
    for cell in cells:
        match = _ESCAPED_BYTE.search(cell)
        if match:
            return ord(match.group()) - 0xDC00
    return None


def _txt_files(root: Path) -> list[Path]:
    """Every ``*.txt`` entry below ``root`` but folders: files, links, pipes, devices.

    ``rglob`` does not descend into linked folders, so only an entry itself can be a link.
    """
    files = sorted(
        (file for file in root.rglob("*.txt") if file.is_symlink() or not file.is_dir()),
        key=lambda file: file.relative_to(root).as_posix(),
    )
    if not files:
        raise InputError(f"{root}: no .txt files in this folder or below; put one article per file")
    return files


def _folder_items(root: Path, files: list[Path], encoding: str) -> Iterator[SourceItem]:
    inside = Path(os.path.realpath(root))
    for number, file in enumerate(files, start=1):
        yield _file_item(root, inside, file, number, encoding)


def _file_item(root: Path, inside: Path, file: Path, number: int, encoding: str) -> SourceItem:
    item_id = _printable(file.relative_to(root).as_posix().removesuffix(".txt"))
    shown = _printable(str(file))
    try:
        problem = _entry_problem(file, inside)
        if problem is not None:
            return SourceItem(number, item_id, None, {}, f"{shown}: {problem}")
        text = decode_article(file.read_bytes(), source=shown, encoding=encoding)
    except InputError as error:
        return SourceItem(number, item_id, None, {}, str(error))
    except OSError as error:
        return SourceItem(number, item_id, None, {}, f"{shown}: cannot be read ({error.strerror})")
    return SourceItem(number, item_id, text, {})


def _entry_problem(file: Path, inside: Path) -> str | None:
    """Why the folder entry ``file`` is not read, or None for a regular file in the folder."""
    if file.is_symlink():
        target = Path(os.path.realpath(file))
        if not target.exists():
            return f"is a link to a missing file ({_printable(str(target))}); fix or remove it"
        if not target.is_relative_to(inside):
            return "links outside the folder; copy the file in"
    if not stat.S_ISREG(file.stat().st_mode):  # a pipe would block the read forever
        return "is not a regular file (a pipe, device, socket or folder); give plain files"
    return None


def _printable(name: str) -> str:
    """``name`` with bytes that did not decode (a file name that is not UTF-8) as ``\\xNN``."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
