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

from llmextract.schemas import TASKS, DocumentResult
from llmextract.tasks import TaskSpec, known_task

__all__ = ["ViewDocument", "render_view", "view_model"]


@dataclass(frozen=True)
class ViewDocument:
    """An article and what was extracted from it (or why nothing was)."""

    id: str
    text: str
    result: DocumentResult | None = None
    error: str | None = None


def _label(
    spec: TaskSpec | None, record: Any, found: dict[str, Any], spans: list[dict[str, Any]]
) -> tuple[str, dict[str, str]]:
    """What the side list says about a record (as stored; ``found``: as JSON), and the values
    the filters look at: the task's :attr:`~llmextract.tasks.TaskSpec.caption`, else the
    record's spans and labels."""
    if spec is not None and spec.caption is not None:
        return spec.caption(record)
    labels = [f"{k}={v}" for k, v in found.items() if isinstance(v, str | int | float)]
    texts = [f"{span['role']}: {span['text']}" for span in spans]
    return "; ".join(texts + labels), {}


def _spans(value: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """``(field, span)`` of every span in a record as JSON (dotted, nested, in lists: a
    list's spans share their field's name)."""
    if isinstance(value, dict) and {"start", "end", "text"} <= set(value):
        return [(path, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _spans(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [s for v in value for s in _spans(v, path)]
    return []


def _shown(
    task: str,
    records: list[Any],
    fields: dict[str, list[str]],
    corrections: dict[tuple[str, int, int], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """A task's records as the page draws them. A span field draws in its task's style
    (:attr:`~llmextract.tasks.TaskSpec.styles`), else in a colour of its own: ``fields``
    collects such fields per task, in the order met, for the legend. A record carries the
    corrections filed under its key span (any of its spans, for a task not declared here)."""
    spec = known_task(task)
    styles = spec.styles if spec is not None else {}
    own = fields.setdefault(task, []) if not styles else []
    shown = []
    for index, record in enumerate(records):
        found = record if isinstance(record, dict) else record.model_dump(mode="json")
        spans = []
        for name, span in _spans(found):
            if name not in styles and name not in own:
                own.append(name)
            css = styles.get(name) or f"u-f{own.index(name) % _USER_COLOURS}"
            spans.append({"role": name, "css": css, "start": span["start"], "end": span["end"],
                          "text": span["text"]})  # fmt: skip
        keys = [span for span in spans if spec is None or span["role"] == spec.key]
        places = [(task, span["start"], span["end"]) for span in keys]
        label, facets = _label(spec, record, found, spans)
        shown.append(
            {"id": f"{task}-{index}", "task": task, "label": label, "spans": spans,
             "corrections": next((corrections[p] for p in places if p in corrections), []),
             **facets}
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
    fields = {} if fields is None else fields
    if result is not None:
        for task in result.tasks():
            records += _shown(task, result.stored(task), fields, corrections)
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
    tasks = [*TASKS, *fields]
    data = {"title": title, "documents": shown, "tasks": tasks, "fields": fields}
    return page(title, data, "view.js")
