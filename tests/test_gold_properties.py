"""Property tests for the gold loader: round trips, and any garbage gives file:line errors."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from llmextract.errors import InputError
from llmextract.evaluation.gold import GoldDocument, load_gold, write_gold
from llmextract.schemas import Quote, Span

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=80)


@st.composite
def documents(draw: st.DrawFn) -> GoldDocument:
    text = draw(TEXT)
    quotes = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        quotes.append(Quote(content=Span(text=text[start:end], start=start, end=end)))
    return GoldDocument(id=draw(st.text(min_size=1, max_size=8)), text=text, tasks=["quotes"],
                        quotes=quotes)  # fmt: skip


@settings(database=None, max_examples=60, deadline=None)
@given(docs=st.lists(documents(), min_size=1, max_size=4, unique_by=lambda d: d.id))
def test_written_gold_loads_back_unchanged(docs: list[GoldDocument]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gold.jsonl"
        write_gold(docs, path)
        assert load_gold(path) == docs


@settings(database=None, max_examples=60, deadline=None)
@given(doc=documents(), shift=st.integers(1, 5), junk=st.text(max_size=40))
def test_a_wrong_offset_or_junk_line_is_an_input_error_naming_file_and_line(
    doc: GoldDocument, shift: int, junk: str
) -> None:
    data = doc.model_dump(mode="json")
    data["quotes"] = [
        {"content": {"text": doc.text + "x", "start": 0, "end": len(doc.text) + shift}}
    ]
    with tempfile.TemporaryDirectory() as folder:
        for line in (json.dumps(data), junk.replace("\n", " ") or "{"):  # bare \r stays
            path = Path(folder) / "gold.jsonl"
            path.write_text(doc.model_dump_json() + "\n" + line + "\n", encoding="utf-8")
            try:
                load_gold(path)
            except InputError as error:
                assert str(error).startswith(f"{path}:2:")
            else:
                assert line.strip() == "", line  # only a blank line may load
