"""Batch inputs: one item per JSONL line, CSV record or .txt file, streaming, errors as items."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pytest

from llmextract.errors import InputError
from llmextract.sources import count_items, iter_source, source_kind


def items(path: Path | str, **options: str) -> list:  # type: ignore[type-arg]
    return list(iter_source(path, **options))


def test_every_jsonl_line_is_one_item_and_bad_lines_are_error_items(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "a", "text": "Alpha said so.", "desk": "city"}).encode(),
        b"",
        b"{not json",
        b"[1, 2]",
        json.dumps({"id": 7, "body": "x"}).encode(),
        json.dumps({"id": "e", "text": "   "}).encode(),
        b'{"id": "n", "text": "a\x00b"}',
        b'{"id": "l", "text": "caf\xe9"}',
        json.dumps({"text": "No id here."}).encode(),
    ]
    source.write_bytes(b"\n".join(lines))  # no newline after the last line
    got = items(source)
    assert [i.line for i in got] == list(range(1, 10))
    assert [i.ok for i in got] == [True, False, False, False, False, False, False, False, True]
    assert (
        got[0].id == "a" and got[0].text == "Alpha said so." and got[0].metadata == {"desk": "city"}
    )
    assert "blank line" in (got[1].error or "")
    assert "invalid JSON" in (got[2].error or "") and f"{source}:3" in (got[2].error or "")
    assert "expected a JSON object, got an array" in (got[3].error or "")
    assert got[4].id == "7" and '"text"' in (got[4].error or "")
    assert "--text-field" in (got[4].error or "")
    assert got[5].id == "e" and "empty" in (got[5].error or "")
    assert "binary" in (got[6].error or "")
    assert "--encoding" in (got[7].error or "")
    assert got[8].id == "line-9"
    assert count_items(source) == 9


def test_a_bom_and_another_encoding_are_read(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "a", "text": "x"}).encode() + b"\n")
    assert items(source)[0].ok
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"id": "l", "text": "café"}\n'.encode("latin-1"))
    assert items(latin, encoding="latin-1")[0].text == "café"
    with pytest.raises(InputError, match="unknown encoding"):
        items(latin, encoding="no-such-codec")


def test_gzip_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "".join(json.dumps({"id": str(i), "text": f"Text {i}."}) + "\n" for i in range(3))
    packed = tmp_path / "in.jsonl.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as handle:
        handle.write(body)
    assert [i.text for i in items(packed)] == ["Text 0.", "Text 1.", "Text 2."]
    assert count_items(packed) == 3

    class Stdin:
        buffer = io.BytesIO(body.encode())

    monkeypatch.setattr(sys, "stdin", Stdin())
    assert [i.id for i in items("-")] == ["0", "1", "2"]
    assert count_items("-") is None


def test_csv_with_quoted_newlines_tsv_and_rows_in_a_wrong_encoding(tmp_path: Path) -> None:
    table = tmp_path / "in.csv"
    table.write_bytes(
        b"slug,body,desk\n"
        b'one,"First line.\nSecond, with a comma.",city\n'
        b'two,"caf\xe9",city\n'
        b"three,,city\n"
        b"four,Fine.,city,extra\n"
        b"five,Last.,city\n"
    )
    got = items(table, text_field="body", id_field="slug")
    assert [(i.line, i.id, i.ok) for i in got] == [
        (1, "one", True), (2, "row-2", False), (3, "three", False), (4, "row-4", False),
        (5, "five", True),
    ]  # fmt: skip
    assert got[0].text == "First line.\nSecond, with a comma." and got[0].metadata == {
        "desk": "city"
    }
    assert "--encoding" in (got[1].error or "")
    assert "empty" in (got[2].error or "")
    assert "header has 3" in (got[3].error or "")
    assert count_items(table, text_field="body") == 5
    tsv = tmp_path / "in.tsv"
    tsv.write_text("id\ttext\nx\tTabbed, text.\n", encoding="utf-8")
    assert [(i.id, i.text) for i in items(tsv)] == [("x", "Tabbed, text.")]


def test_csv_problems_with_the_whole_file_raise_at_once(tmp_path: Path) -> None:
    table = tmp_path / "in.csv"
    table.write_text("id,content\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r'no "text" column \(columns: id, content\)'):
        iter_source(table)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="is empty"):
        iter_source(empty)


def test_a_folder_of_txt_files_sorted_with_bad_files_as_error_items(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "c.txt").write_text("Nested article.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("First article.", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not an article", encoding="utf-8")
    got = items(tmp_path)
    assert [(i.line, i.id, i.ok) for i in got] == [
        (1, "a", True), (2, "b/c", True), (3, "binary", False), (4, "empty", False),
    ]  # fmt: skip
    assert count_items(tmp_path) == 4
    with pytest.raises(InputError, match=r"no \.txt files"):
        iter_source(_empty_dir(tmp_path))


def _empty_dir(root: Path) -> Path:
    folder = root / "nothing"
    folder.mkdir()
    return folder


def test_kinds_and_missing_paths(tmp_path: Path) -> None:
    assert source_kind("-") == "jsonl"
    assert source_kind(tmp_path) == "folder"
    for name, kind in (("a.ndjson", "jsonl"), ("a.csv.gz", "csv"), ("a.TSV", "csv")):
        (tmp_path / name).write_text("", encoding="utf-8")
        assert source_kind(tmp_path / name) == kind
    (tmp_path / "a.xml").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="unknown kind of input"):
        source_kind(tmp_path / "a.xml")
    with pytest.raises(InputError, match="no such file or folder"):
        source_kind(tmp_path / "missing.jsonl")


def test_jsonl_is_read_lazily(tmp_path: Path) -> None:
    source = tmp_path / "big.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for i in range(20_000):
            handle.write(json.dumps({"id": str(i), "text": "Some text."}) + "\n")
    stream = iter_source(source)
    first = next(stream)
    assert first.id == "0"
    # A generator that had read the whole file would not see lines added after it started.
    with source.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "late", "text": "Added later."}) + "\n")
    assert [i.id for i in stream][-1] == "late"
