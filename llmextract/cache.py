"""An on-disk cache of model answers, so a rerun makes no model calls it made before.

The key is a SHA-256 of the endpoint (its display URL, never credentials) and the full
request body: model, messages (the rendered prompt with its examples and the article
text), the schema sent as tools or response format, and the sampling parameters. A prompt
id changes exactly when its rendered messages or schema change, so it is covered too.
API keys travel in headers, never in the body, so they never reach the cache.

Only complete HTTP 200 answers are stored, as the JSON the server sent. Storage is one
SQLite file in write-ahead mode: safe for several processes on one machine, and a record is
either fully written or absent after a crash. A cache that cannot be read, or an entry
that does not parse, is a miss, never an error in the middle of a batch. The folder is
created private (0700) and the file 0600: the answers quote the articles.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmextract.errors import ConfigError

__all__ = ["CacheInfo", "ResponseCache", "request_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    created REAL NOT NULL
)
"""
FILE_NAME = "responses.sqlite3"


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    return str(value)  # at worst an unstable key: a cache miss, never a wrong answer


def request_key(endpoint: str, body: dict[str, Any]) -> str:
    """The cache key of one chat-completion request to ``endpoint``."""
    canonical = json.dumps(
        {"endpoint": endpoint, "body": body},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=_jsonable,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheInfo:
    path: Path
    entries: int
    bytes: int


class ResponseCache:
    """Model answers by request key, in ``folder``/responses.sqlite3."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE_NAME
        self.failures = 0
        try:
            # Answers quote the articles: readable by their owner only.
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.path.touch(mode=0o600, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise ConfigError(
                f"the response cache at {self.path} cannot be opened ({error}): set "
                "LLMEXTRACT_CACHE_DIR to a writable folder, or pass --no-cache"
            ) from None

    def get(self, key: str) -> str | None:
        try:
            row = self._db.execute("SELECT body FROM responses WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            self.failures += 1
            return None
        return None if row is None else str(row[0])

    def put(self, key: str, body: str) -> None:
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, body, created) VALUES (?, ?, ?)",
                (key, body, time.time()),
            )
        except sqlite3.Error:
            self.failures += 1

    def info(self) -> CacheInfo:
        (entries,) = self._db.execute("SELECT count(*) FROM responses").fetchone()
        size = sum(p.stat().st_size for p in self.path.parent.glob(f"{FILE_NAME}*") if p.is_file())
        return CacheInfo(self.path, int(entries), size)

    def clear(self) -> int:
        """Delete every entry and give the space back; return how many there were."""
        entries = self.info().entries
        self._db.execute("DELETE FROM responses")
        self._db.execute("VACUUM")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return entries

    def close(self) -> None:
        self._db.close()
