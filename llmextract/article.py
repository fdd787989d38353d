"""Articles: reading input text with a clear policy, identified by content hash.

Policy: input is decoded as UTF-8 (or the encoding you name); a leading byte-order mark is
removed; line endings are kept as they are, so offsets index the text exactly as decoded.
Empty, whitespace-only, binary (NUL bytes) and undecodable input is refused with an
:class:`~llmextract.errors.InputError` that says what to do.
"""

from __future__ import annotations

import codecs
import hashlib
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from llmextract.errors import InputError

__all__ = ["Article", "decode_article", "read_article"]

_BOMS = (codecs.BOM_UTF8,)


@dataclass(frozen=True)
class Article:
    id: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def decode_article(data: bytes, *, source: str, encoding: str = "utf-8") -> str:
    """Text of ``data`` under the policy above; ``source`` names it in error messages."""
    binary = f"{source}: looks binary (contains NUL bytes); give a plain-text article"
    if encoding.lower().replace("_", "-") in {"utf-8", "utf8"}:
        for bom in _BOMS:
            if data.startswith(bom):
                data = data[len(bom) :]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        if b"\x00" in data:
            raise InputError(binary) from None
        raise InputError(
            f"{source}: not valid {encoding} at byte {error.start}; pass --encoding "
            "(e.g. cp1252 or latin-1) or convert it: iconv -f cp1252 -t utf-8"
        ) from None
    except LookupError:
        raise InputError(f"{source}: unknown encoding {encoding!r}") from None
    # Checked on the decoded text, so that UTF-16, whose bytes hold zeros, reads fine.
    if "\x00" in text:
        raise InputError(binary)
    if not text.strip():
        raise InputError(f"{source}: is empty; give an article with some text")
    return text


def read_article(path: str, *, encoding: str = "utf-8", article_id: str | None = None) -> Article:
    """Read one article from a file, or from standard input when ``path`` is ``-``."""
    if path == "-":
        data = sys.stdin.buffer.read()
        return Article(
            article_id or "stdin", decode_article(data, source="stdin", encoding=encoding)
        )
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(
            f"{path}: is a directory; give one article file, or extract from each of its "
            f".txt files with: llmextract batch {shlex.quote(path)} -o results.jsonl"
        ) from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; check the file's permissions") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror})") from None
    return Article(article_id or file.stem, decode_article(data, source=path, encoding=encoding))
