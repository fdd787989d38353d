"""One self-contained HTML file that shows extractions in place over their articles.

Pure: results and texts in, a string out; no network, no CDN, no client. The records travel
as JSON inside ``<script type="application/json">`` with ``<``, ``>`` and ``&`` escaped, and
the page's script only ever inserts article text with ``textContent``: an article holding
``<script>`` shows as text. One document is drawn at a time, so batches of thousands of
documents stay responsive.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from llmextract.schemas import DocumentResult, Event, Quote, Span, Stance

__all__ = ["ViewDocument", "render_view", "view_model"]

# role of a span -> CSS class; the page colours by these
ROLES = {
    ("quotes", "content"): "q-content",
    ("quotes", "speaker"): "q-speaker",
    ("quotes", "cue"): "q-cue",
    ("events", "trigger"): "e-trigger",
    ("events", "actor"): "e-arg",
    ("events", "recipient"): "e-arg",
    ("events", "location"): "e-arg",
    ("events", "time"): "e-arg",
    ("stances", "evidence"): "s-evidence",
    ("stances", "holder"): "s-holder",
}


@dataclass(frozen=True)
class ViewDocument:
    """An article and what was extracted from it (or why nothing was)."""

    id: str
    text: str
    result: DocumentResult | None = None
    error: str | None = None


def _spans(task: str, record: Quote | Event | Stance) -> list[dict[str, Any]]:
    spans = []
    for name in type(record).model_fields:
        value = getattr(record, name)
        if isinstance(value, Span):
            spans.append(
                {"role": name, "css": ROLES[(task, name)], "start": value.start,
                 "end": value.end, "text": value.text}
            )  # fmt: skip
    return spans


def _label(record: Quote | Event | Stance) -> tuple[str, dict[str, str]]:
    """What the side list says about a record, and the values the filters look at."""
    if isinstance(record, Quote):
        who = record.speaker_name or (record.speaker.text if record.speaker else "unknown")
        return f"{who} ({record.kind}): {record.content.text}", {"speaker": who}
    if isinstance(record, Event):
        actor = f" by {record.actor.text}" if record.actor else ""
        kind = record.type.value if record.type is not None else record.kind or "untyped"
        return f"{kind}: {record.trigger.text}{actor}", {"type": kind}
    who = record.holder_name or (record.holder.text if record.holder else "the writer")
    return f"{who} {record.polarity} {record.target}: {record.evidence.text}", {"speaker": who}


def _user_spans(value: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """``(field, span)`` of every span in a user task's record as JSON (dotted, nested, in
    lists: a list's spans share their field's name)."""
    if isinstance(value, dict) and {"start", "end", "text"} <= set(value):
        return [(path, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _user_spans(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [s for v in value for s in _user_spans(v, path)]
    return []


def _user_records(
    task: str, records: list[dict[str, Any]], fields: list[str]
) -> list[dict[str, Any]]:
    """A user task's records as the page draws them; each span field gets its own colour
    (``fields`` collects the task's span fields in the order met)."""
    shown = []
    for index, record in enumerate(records):
        spans = []
        for name, span in _user_spans(record):
            if name not in fields:
                fields.append(name)
            css = f"u-f{fields.index(name) % _USER_COLOURS}"
            spans.append({"role": name, "css": css, "start": span["start"], "end": span["end"],
                          "text": span["text"]})  # fmt: skip
        labels = [f"{k}={v}" for k, v in record.items() if isinstance(v, str | int | float)]
        texts = [f"{span['role']}: {span['text']}" for span in spans]
        shown.append(
            {"id": f"{task}-{index}", "task": task, "label": "; ".join(texts + labels),
             "spans": spans, "corrections": []}
        )  # fmt: skip
    return shown


_USER_COLOURS = 6  # colours the page has for the span fields of user tasks (u-f0 ... u-f5)


def view_model(
    document: ViewDocument, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """The JSON the page draws one document from.

    Each record carries its corrections (found by its task and passage), shown beside it;
    ``dropped`` holds only what was not emitted.
    """
    records: list[dict[str, Any]] = []
    result = document.result
    corrections: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
    for correction in result.corrected if result else []:
        where = (correction.task, correction.start, correction.end)
        corrections.setdefault(where, []).append(correction.model_dump(mode="json"))
    for task in ("quotes", "events", "stances"):
        for index, record in enumerate(getattr(result, task) if result else []):
            label, facets = _label(record)
            passage = record.passage
            records.append(
                {"id": f"{task}-{index}", "task": task, "label": label,
                 "spans": _spans(task, record),
                 "corrections": corrections.get((task, passage.start, passage.end), []),
                 **facets}
            )  # fmt: skip
    fields = {} if fields is None else fields
    for task, found in result.records.items() if result else []:
        shown = _user_records(task, found, fields.setdefault(task, []))
        for record in shown:  # a correction is filed under the record's key span
            places = [(task, span["start"], span["end"]) for span in record["spans"]]
            record["corrections"] = next((corrections[p] for p in places if p in corrections), [])
        records += shown
    return {
        "id": document.id,
        "text": document.text,
        "records": records,
        "dropped": [d.model_dump(mode="json") for d in result.dropped] if result else [],
        "error": document.error,
        "model": result.model if result else None,
        "prompts": result.prompts if result else {},
    }


def _json_for_script(data: Any) -> str:
    """JSON that cannot end the script element it sits in, whatever the articles hold."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def page(title: str, data: Any, script: str) -> str:
    """A self-contained page: the shared style, ``data`` as JSON, and one of our scripts."""
    assets = resources.files("llmextract") / "assets"
    style = (assets / "view.css").read_text(encoding="utf-8")
    code = (assets / script).read_text(encoding="utf-8")
    escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>{escaped}</title>'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        f"<style>{style}</style></head><body>"
        f'<script type="application/json" id="data">{_json_for_script(data)}</script>'
        f"<script>{code}</script></body></html>\n"
    )


def render_view(documents: Iterable[ViewDocument], *, title: str = "llmextract") -> str:
    """The HTML view of ``documents`` (see the module docstring)."""
    fields: dict[str, list[str]] = {}  # user task -> its span fields, for the legend
    shown = [view_model(d, fields) for d in documents]
    tasks = ["quotes", "events", "stances", *fields]
    data = {"title": title, "documents": shown, "tasks": tasks, "fields": fields}
    return page(title, data, "view.js")
