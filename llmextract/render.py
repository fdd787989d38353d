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


def view_model(document: ViewDocument) -> dict[str, Any]:
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
    data = {"title": title, "documents": [view_model(d) for d in documents]}
    return page(title, data, "view.js")
