from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmextract import InputError, read_article


def write(tmp_path: Path, data: bytes, name: str = "a.txt") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_reads_utf8_and_names_it_after_the_file(tmp_path: Path) -> None:
    article = read_article(write(tmp_path, "Zoë said “hi”.".encode(), "story-1.txt"))
    assert (article.id, article.text) == ("story-1", "Zoë said “hi”.")
    assert len(article.sha256) == 64


def test_bom_is_removed_and_crlf_kept(tmp_path: Path) -> None:
    article = read_article(write(tmp_path, b"\xef\xbb\xbfLine one.\r\nLine two."))
    assert article.text == "Line one.\r\nLine two."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"  \n\t ", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        (b"caf\xe9 au lait", "not valid utf-8 at byte 3; pass --encoding"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_article(write(tmp_path, data))


def test_other_encodings_on_request(tmp_path: Path) -> None:
    assert read_article(write(tmp_path, b"caf\xe9"), encoding="cp1252").text == "café"
    with pytest.raises(InputError, match="unknown encoding"):
        read_article(write(tmp_path, b"x"), encoding="klingon")


def test_paths_that_are_not_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_article(str(tmp_path / "missing.txt"))
    with pytest.raises(InputError, match="is a directory"):
        read_article(str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"text")
    os.chmod(path, 0)
    with pytest.raises(InputError, match="permission denied"):
        read_article(path)
