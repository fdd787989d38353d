"""The response cache: keys, storage, and what the client does with it."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from llmextract import extract
from llmextract.cache import ResponseCache, request_key
from llmextract.errors import ConfigError
from llmextract.testing import ScriptedServer
from tests.conftest import run_cli, settings_for


def test_key_ignores_dict_order_and_changes_with_any_part_of_the_request() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "text"}], "temperature": 0}
    key = request_key("http://h/v1", body)
    assert key == request_key("http://h/v1", dict(reversed(body.items())))
    assert key != request_key("http://other/v1", body)
    assert key != request_key("http://h/v1", {**body, "model": "n"})
    assert key != request_key("http://h/v1", {**body, "temperature": 0.7})
    assert key != request_key(
        "http://h/v1", {**body, "messages": [{"role": "user", "content": "text!"}]}
    )


def test_put_get_info_clear(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c")
    assert cache.get("k") is None
    cache.put("k", '{"a": 1}')
    assert cache.get("k") == '{"a": 1}'
    info = cache.info()
    assert info.entries == 1 and info.bytes > 0 and info.path.parent == tmp_path / "c"
    assert cache.clear() == 1
    assert cache.get("k") is None and cache.info().entries == 0


def test_a_file_that_is_not_a_cache_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "responses.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match="LLMEXTRACT_CACHE_DIR"):
        ResponseCache(tmp_path)


def test_a_cache_that_fails_mid_run_is_a_miss_not_a_crash(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache._db.close()  # as if the file vanished under us
    cache._db = sqlite3.connect(":memory:")  # no table: every query fails
    assert cache.get("k") is None
    cache.put("k", "v")
    assert cache.failures == 2


def test_second_extraction_is_served_from_the_cache(
    scripted_server: ScriptedServer, sample_text: str, tmp_path: Path
) -> None:
    settings = replace(settings_for(scripted_server.url), cache_dir=tmp_path)
    first = extract(sample_text, tasks=["quotes"], settings=settings)
    second = extract(sample_text, tasks=["quotes"], settings=settings)
    assert len(scripted_server.requests) == 1
    assert second.usage.cached == 1 and second.usage.requests == 0
    assert second.usage.prompt_tokens == 0
    assert second.quotes == first.quotes
    other_model = replace(settings, endpoint=replace(settings.endpoint, model="other"))
    extract(sample_text, tasks=["quotes"], settings=other_model)
    assert len(scripted_server.requests) == 2


def test_the_cache_never_stores_the_api_key(
    scripted_server: ScriptedServer, sample_text: str, tmp_path: Path
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(sample_text, encoding="utf-8")
    key = "sk-planted-secret-0123456789"
    done = run_cli(
        "extract", str(article), "--base-url", scripted_server.url, "--model", "m",
        "--api-key", key, "--task", "quotes", LLMEXTRACT_CACHE_DIR=str(tmp_path / "cache"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    stored = b"".join(p.read_bytes() for p in (tmp_path / "cache").iterdir())
    assert b"Mayor" in stored or b"quotes" in stored  # the answer is there...
    assert key.encode() not in stored  # ...the key is not
    info = run_cli("cache", "info", LLMEXTRACT_CACHE_DIR=str(tmp_path / "cache"))
    assert "1 answers" in info.stdout
    cleared = run_cli("cache", "clear", LLMEXTRACT_CACHE_DIR=str(tmp_path / "cache"))
    assert "removed 1 answers" in cleared.stdout


def test_a_damaged_entry_is_a_miss_and_is_replaced(
    scripted_server: ScriptedServer, sample_text: str, tmp_path: Path
) -> None:
    settings = replace(settings_for(scripted_server.url), cache_dir=tmp_path)
    extract(sample_text, tasks=["quotes"], settings=settings)
    cache = ResponseCache(tmp_path)
    cache._db.execute("UPDATE responses SET body = substr(body, 1, 40)")  # a torn answer
    again = extract(sample_text, tasks=["quotes"], settings=settings)
    assert again.usage.requests == 1 and again.usage.cached == 0 and again.quotes
    third = extract(sample_text, tasks=["quotes"], settings=settings)
    assert third.usage.cached == 1 and third.quotes == again.quotes


def test_the_cache_is_private_to_its_owner(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c")
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o700
    assert cache.path.stat().st_mode & 0o777 == 0o600
