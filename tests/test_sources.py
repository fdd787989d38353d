from __future__ import annotations

import gzip
import io
import json
import re
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from llmextract.errors import InputError
from llmextract.sources import SourceItem, count_items, iter_source, source_kind

GOOD = b'{"id": "a", "text": "Alpha said yes."}\n'


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def items(path: str | Path, **options: str) -> list[SourceItem]:
    return list(iter_source(path, **options))


def jsonl(*records: object) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


class FakeStdin:
    """Stands in for sys.stdin: only ``.buffer`` is read."""

    def __init__(self, buffer: object) -> None:
        self.buffer = buffer


# --- kinds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.json", "jsonl"),
        ("a.JSONL.gz", "jsonl"),
        ("a.csv", "csv"),
        ("a.tsv.gz", "csv"),
    ],
)
def test_kind_follows_the_suffix(tmp_path: Path, name: str, kind: str) -> None:
    assert source_kind(write(tmp_path, name, b"")) == kind


def test_kind_of_stdin_and_folders(tmp_path: Path) -> None:
    assert source_kind("-") == "jsonl"
    assert source_kind(tmp_path) == "folder"


def test_unknown_kind_and_missing_path_are_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown kind of input; give a \.jsonl"):
        source_kind(write(tmp_path, "a.txt", b"text"))
    with pytest.raises(InputError, match="no such file or folder"):
        iter_source(tmp_path / "missing.jsonl")  # no next(): raised before iterating
    with pytest.raises(InputError, match="no such file or folder"):
        count_items(tmp_path / "missing.csv")


def test_unknown_encoding_is_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        iter_source(write(tmp_path, "a.jsonl", GOOD), encoding="klingon")


# --- JSONL -------------------------------------------------------------------------------


def test_jsonl_ids_text_and_metadata(tmp_path: Path) -> None:
    data = jsonl(
        {"id": "a", "text": "One.", "outlet": "Herald", "tags": ["x"]},
        {"id": 7, "text": "Two."},
        {"text": "Three."},
        {"id": True, "text": "Four."},
        {"id": " ", "text": "Five."},
    )
    got = items(write(tmp_path, "a.jsonl", data))
    assert [(item.line, item.id, item.text) for item in got] == [
        (1, "a", "One."),
        (2, "7", "Two."),
        (3, "line-3", "Three."),
        (4, "line-4", "Four."),
        (5, "line-5", "Five."),
    ]
    assert got[0].metadata == {"outlet": "Herald", "tags": ["x"]}
    assert got[1].metadata == {}
    assert all(item.ok and item.error is None for item in got)


def test_jsonl_other_field_names(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", jsonl({"doc": "d1", "body": "Text.", "id": "meta"}))
    [item] = items(path, text_field="body", id_field="doc")
    assert (item.id, item.text, item.metadata) == ("d1", "Text.", {"id": "meta"})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"\n", r"a\.jsonl:2: blank line"),
        (b"   \t\r\n", r"a\.jsonl:2: blank line"),
        (b'{"text": "x",}\n', r"a\.jsonl:2: invalid JSON \(.* at column 14\)"),
        (b'["text"]\n', r"a\.jsonl:2: expected a JSON object, got an array"),
        (b'"text"\n', r"a\.jsonl:2: expected a JSON object, got a string"),
        (b'{"body": "x"}\n', r'a\.jsonl:2: no "text" field \(found: body\); .*--text-field'),
        (b'{"text": 5}\n', r'a\.jsonl:2: "text" is a number, not a string; .*--text-field'),
        (b'{"text": null}\n', r'"text" is null, not a string'),
        (b'{"text": " \\n "}\n', r'a\.jsonl:2: "text" is empty; .*--text-field'),
        (b'{"text": "caf\xe9"}\n', r"a\.jsonl:2: not valid utf-8 at byte 13; pass --encoding"),
        (b'{"text": "a\x00b"}\n', r"a\.jsonl:2: looks binary"),
    ],
)
def test_a_bad_jsonl_line_is_an_error_item_and_the_stream_goes_on(
    tmp_path: Path, line: bytes, message: str
) -> None:
    got = items(write(tmp_path, "a.jsonl", GOOD + line + GOOD))
    assert [item.line for item in got] == [1, 2, 3]
    assert got[0].ok and got[2].ok
    bad = got[1]
    assert not bad.ok
    assert bad.text is None
    assert bad.error is not None
    assert "\n" not in bad.error
    assert bad.error.startswith(str(tmp_path))
    assert re.search(message, bad.error), bad.error


def test_error_items_keep_the_id_and_metadata_they_could_read(tmp_path: Path) -> None:
    [item] = items(write(tmp_path, "a.jsonl", jsonl({"id": "x9", "body": "B", "n": 1})))
    assert (item.ok, item.id, item.metadata) == (False, "x9", {"body": "B", "n": 1})
    [blank] = items(write(tmp_path, "b.jsonl", b"\n"))
    assert blank.id == "line-1"


def test_every_physical_line_is_one_item(tmp_path: Path) -> None:
    data = b"\n" + GOOD + b"\n\n" + GOOD
    path = write(tmp_path, "a.jsonl", data)
    assert len(items(path)) == data.count(b"\n") == 5


def test_last_line_without_newline_is_an_item_and_a_final_newline_adds_none(
    tmp_path: Path,
) -> None:
    with_newline = write(tmp_path, "a.jsonl", GOOD + GOOD)
    without = write(tmp_path, "b.jsonl", GOOD + GOOD.rstrip(b"\n"))
    assert [item.ok for item in items(with_newline)] == [True, True]
    assert [item.ok for item in items(without)] == [True, True]
    assert count_items(with_newline) == count_items(without) == 2
    assert items(write(tmp_path, "c.jsonl", b"")) == []


def test_bom_on_the_first_line_is_removed(tmp_path: Path) -> None:
    [item] = items(write(tmp_path, "a.jsonl", b"\xef\xbb\xbf" + GOOD))
    assert (item.ok, item.id) == (True, "a")


def test_other_encodings_on_request(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl", b'{"text": "caf\xe9"}\n')
    assert items(path, encoding="cp1252")[0].text == "café"


def test_gzipped_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(GOOD + b"\n" + GOOD)
    assert [item.ok for item in items(path)] == [True, False, True]
    assert count_items(path) == 3


def test_corrupt_gzip_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.jsonl.gz", b"this is not gzip\n")
    with pytest.raises(InputError, match=r"a\.jsonl\.gz: cannot be read \(Not a gzipped file"):
        items(path)


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", FakeStdin(io.BytesIO(GOOD + b"[1]\n")))
    got = items("-")
    assert [(item.id, item.ok) for item in got] == [("a", True), ("line-2", False)]
    assert got[1].error is not None
    assert got[1].error.startswith("stdin:2: expected a JSON object")
    assert count_items("-") is None


def test_jsonl_is_streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    consumed = 0

    def lines() -> Iterator[bytes]:
        nonlocal consumed
        for number in range(20_000):
            consumed += 1
            yield json.dumps({"id": number, "text": f"Article {number}."}).encode() + b"\n"

    monkeypatch.setattr("sys.stdin", FakeStdin(lines()))
    stream = iter_source("-")
    first = next(stream)
    assert (first.id, consumed) == ("0", 1)
    assert sum(1 for _ in stream) + 1 == consumed == 20_000


def test_memory_stays_flat_for_a_large_jsonl_file(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    text = "word " * 100
    with path.open("wb") as handle:
        for number in range(20_000):
            handle.write(json.dumps({"id": number, "text": text}).encode() + b"\n")
    assert path.stat().st_size > 10_000_000
    tracemalloc.start()
    try:
        assert sum(1 for item in iter_source(path) if item.ok) == 20_000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


# --- CSV / TSV ---------------------------------------------------------------------------


def test_csv_rows_with_quoted_newlines(tmp_path: Path) -> None:
    data = (
        b'id,outlet,text\r\nc1,Herald,"First line.\r\nSecond, with a comma."\r\n'
        b',Post,"He said ""no""."\r\n\r\nc3,,Plain.\r\n'
    )
    got = items(write(tmp_path, "a.csv", data))
    assert [(item.line, item.id, item.text) for item in got] == [
        (1, "c1", "First line.\r\nSecond, with a comma."),
        (2, "row-2", 'He said "no".'),
        (3, "c3", "Plain."),
    ]
    assert [item.metadata["outlet"] for item in got] == ["Herald", "Post", ""]
    assert all(item.metadata.keys() == {"outlet"} for item in got)


def test_tsv_uses_tabs_and_gz_works(tmp_path: Path) -> None:
    path = tmp_path / "a.tsv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"id\ttext\tnote\nt1\tA, b and c.\tx\n")
    [item] = items(path)
    assert (item.id, item.text, item.metadata) == ("t1", "A, b and c.", {"note": "x"})


def test_csv_header_with_a_bom_and_other_column_names(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"\xef\xbb\xbfdoc,body\nd1,Text.\n")
    [item] = items(path, text_field="body", id_field="doc")
    assert (item.id, item.text) == ("d1", "Text.")


def test_csv_without_the_text_column_is_refused_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", b"id,body\n1,Text.\n")
    with pytest.raises(InputError, match=r'no "text" column \(columns: id, body\).*--text-field'):
        iter_source(path)  # no next(): raised before iterating
    with pytest.raises(InputError, match='no "text" column'):
        count_items(path)


def test_empty_csv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"a\.csv: is empty"):
        iter_source(write(tmp_path, "a.csv", b""))


def test_csv_with_an_undecodable_header_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="header is not valid utf-8; pass --encoding"):
        iter_source(write(tmp_path, "a.csv", b"id,caf\xe9,text\n"))


def test_a_badly_encoded_csv_row_does_not_stop_the_rest(tmp_path: Path) -> None:
    data = b"id,text\nr1,Fine.\nr2,Caf\xe9 au lait.\nr3,Also fine.\n"
    got = items(write(tmp_path, "a.csv", data))
    assert [(item.id, item.ok) for item in got] == [("r1", True), ("row-2", False), ("r3", True)]
    assert got[1].error is not None
    assert got[1].error.endswith(
        "a.csv:row 2: not valid utf-8 (byte 0xe9); pass --encoding (e.g. cp1252 or latin-1) "
        "or convert it: iconv -f cp1252 -t utf-8"
    )
    assert got[1].metadata == {}
    assert items(write(tmp_path, "b.csv", data), encoding="cp1252")[1].text == "Café au lait."


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (b"r2,one,two\n", r"row 2: 3 fields but the header has 2; quote fields"),
        (b"r2,\n", r'row 2: "text" is empty; .*--text-field'),
        (b"r2\n", r'row 2: "text" is empty'),
        (b"r2,a\x00b\n", r"row 2: looks binary"),
    ],
)
def test_bad_csv_rows_are_error_items(tmp_path: Path, row: bytes, message: str) -> None:
    got = items(write(tmp_path, "a.csv", b"id,text\nr1,Fine.\n" + row + b"r3,Fine.\n"))
    assert [item.ok for item in got] == [True, False, True]
    assert got[1].error is not None
    assert re.search(message, got[1].error), got[1].error


def test_short_csv_rows_fill_missing_cells_with_empty_strings(tmp_path: Path) -> None:
    [item] = items(write(tmp_path, "a.csv", b"text,id,note\nShort row.\n"))
    assert (item.ok, item.id, item.metadata) == (True, "row-1", {"note": ""})


def test_long_csv_fields_fit(tmp_path: Path) -> None:
    text = "x" * 300_000  # above csv's default field size limit of 131072
    [item] = items(write(tmp_path, "a.csv", f"id,text\nlong,{text}\n".encode()))
    assert item.text == text


# --- folders -----------------------------------------------------------------------------


def test_folder_of_txt_files(tmp_path: Path) -> None:
    root = tmp_path / "articles"
    write(root, "b.txt", b"Bee.")
    write(root, "a/z.txt", b"\xef\xbb\xbfZed.")
    write(root, "a/b/deep.txt", "Déjà vu.".encode())
    write(root, "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00")
    write(root, "empty.txt", b"")
    write(root, "notes.md", b"ignored")
    got = items(root)
    assert [(item.line, item.id, item.text) for item in got] == [
        (1, "a/b/deep", "Déjà vu."),
        (2, "a/z", "Zed."),
        (3, "b", "Bee."),
        (4, "binary", None),
        (5, "empty", None),
    ]
    binary = f"{root / 'binary.txt'}: looks binary (contains NUL bytes); give a plain-text article"
    assert got[3].error == binary
    assert got[4].error is not None
    assert got[4].error.endswith("empty.txt: is empty; give an article with some text")
    assert all(item.metadata == {} for item in got)


def test_folder_encoding_option(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", b"caf\xe9")
    assert items(tmp_path)[0].error is not None
    assert items(tmp_path, encoding="cp1252")[0].text == "café"


def test_folder_without_txt_files_is_refused_at_once(tmp_path: Path) -> None:
    write(tmp_path, "a.md", b"text")
    with pytest.raises(InputError, match=r"no \.txt files in this folder or below"):
        iter_source(tmp_path)


def test_unreadable_file_in_a_folder_is_an_error_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "a.txt", b"Fine.")
    locked = write(tmp_path, "b.txt", b"Secret.")
    read_bytes = Path.read_bytes

    def refuse_locked(self: Path) -> bytes:
        if self == locked:
            raise PermissionError(13, "Permission denied")
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse_locked)
    got = items(tmp_path)
    assert [item.ok for item in got] == [True, False]
    assert got[1].error == f"{locked}: cannot be read (Permission denied)"


# --- counting ----------------------------------------------------------------------------


def make_jsonl(tmp_path: Path) -> Path:
    return write(tmp_path, "a.jsonl", b"\n" + GOOD + b"not json\n" + GOOD.rstrip(b"\n"))


def make_jsonl_gz(tmp_path: Path) -> Path:
    path = tmp_path / "a.ndjson.gz"
    path.write_bytes(gzip.compress(GOOD * 3 + b"\n"))
    return path


def make_csv(tmp_path: Path) -> Path:
    data = b'id,text\n1,"multi\nline"\n\n2,\n3,x,extra\n4,caf\xe9\n5,last'
    return write(tmp_path, "a.csv", data)


def make_folder(tmp_path: Path) -> Path:
    write(tmp_path, "x/a.txt", b"A.")
    write(tmp_path, "b.txt", b"")
    write(tmp_path, "c.dat", b"ignored")
    return tmp_path


@pytest.mark.parametrize(
    ("make", "expected"),
    [(make_jsonl, 4), (make_jsonl_gz, 4), (make_csv, 5), (make_folder, 2)],
)
def test_count_items_matches_what_iter_source_yields(
    tmp_path: Path, make: Callable[[Path], Path], expected: int
) -> None:
    path = make(tmp_path)
    assert count_items(path) == len(items(path)) == expected
