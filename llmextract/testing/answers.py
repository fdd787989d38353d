"""Default answers of the test server: what a model that accepts every candidate would say.

A request's task comes from the schema it asks for (a tool, a JSON schema, or the schema
instructor writes into the system message); the answer is built from the candidates that
:mod:`llmextract.candidates` finds in the request's article, each with its most plausible
option, and holds only items the task's draft schema accepts
(:mod:`llmextract.drafts`), so grounding and scoring code downstream sees realistic,
grounded data. Choice prompts get one decision per numbered candidate. A schema that names
no task (``llmextract endpoints check`` asks for a city and its country) gets a minimal valid
instance of itself: every required field, strings a short word, numbers their minimum.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import ValidationError

from llmextract.candidates import Mention, find_events, find_quotes, find_stances
from llmextract.drafts import draft_list_for
from llmextract.schemas import Task

__all__ = ["JSONDict", "chosen_tool", "default_arguments", "message_text", "messages"]

JSONDict = dict[str, Any]


def message_text(message: Any) -> str:
    """Text of one chat message, whether content is a string or a list of parts."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def messages(body: JSONDict) -> list[Any]:
    """The request's chat messages (none if it has no list of them)."""
    value = body.get("messages")
    return value if isinstance(value, list) else []


def chosen_tool(body: JSONDict) -> JSONDict | None:
    """The function definition the client asked for (tool_choice), else tools[0]."""
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    functions = [
        t["function"] for t in tools if isinstance(t, dict) and isinstance(t.get("function"), dict)
    ]
    if not functions:
        return None
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        wanted = choice["function"].get("name")
        for function in functions:
            if function.get("name") == wanted:
                return dict(function)
    return dict(functions[0])


_TASKS: tuple[Task | Literal["decisions"], ...] = ("quotes", "events", "stances", "decisions")
_ARTICLE_RE = re.compile(
    r"^[ \t]*<article>[ \t]*\r?\n(.*?)(?:\r?\n[ \t]*</article>[ \t]*$|\Z)", re.M | re.S
)


def default_arguments(request_body: JSONDict) -> JSONDict:
    """Deterministic answer for a request when the script is empty.

    The task (quotes, events or stances) comes from the requested schema; the items are
    :mod:`llmextract.candidates` found in the article, each with its most plausible
    option. A schema of no task gets a minimal instance of itself; a request with no
    schema at all gets ``{}``.
    """
    task = _detect_task(request_body)
    if task is None:
        schema = _requested_schema(request_body)
        instance = None if schema is None else _minimal(schema, schema)
        return instance if isinstance(instance, dict) else {}
    if task == "decisions":
        return {"decisions": _decisions(request_body)}
    return {task: _answer(task, _article(request_body))}


_CANDIDATE_LINE = re.compile(r"^\d+\. .*$", re.MULTILINE)
_LIKELY = re.compile(r"\(likely: ([A-Za-z]+)")


def _decisions(body: JSONDict) -> list[JSONDict]:
    """One decision per numbered candidate of a choice prompt: the code's own best guess.

    Quotation candidates are accepted with their first speaker, events with their first
    listed type, and stances with the polarity the prompt lists as likely.
    """
    user = [
        message_text(m) for m in messages(body) if isinstance(m, dict) and m.get("role") == "user"
    ]
    listing = _ARTICLE_RE.sub("", user[-1]) if user else ""
    decisions: list[JSONDict] = []
    for line in _CANDIDATE_LINE.findall(listing):
        likely = _LIKELY.search(line)
        if likely is not None:
            decisions.append({"polarity": likely.group(1)})
        elif " types: " in line:
            decisions.append({"type": 1})
        else:
            decisions.append({"quote": True, "speaker": 1})
    return decisions


def _detect_task(body: JSONDict) -> Task | Literal["decisions"] | None:
    tool = chosen_tool(body)
    if tool is not None:
        parameters = tool.get("parameters")
        properties = parameters.get("properties") if isinstance(parameters, dict) else None
        if isinstance(properties, dict):
            for task in _TASKS:
                if task in properties:
                    return task
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and isinstance(response_format.get("json_schema"), dict):
        schema = response_format["json_schema"].get("schema")
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if isinstance(properties, dict):
            for task in _TASKS:
                if task in properties:
                    return task
    # Instructor's JSON modes put the schema in the system message.  The
    # article is left out so a quoted word in the news cannot pick the task.
    text = "\n".join(_ARTICLE_RE.sub("", message_text(m)) for m in messages(body))
    for pattern in (r'"{}"\s*:', r'"{}"'):
        for task in _TASKS:
            if re.search(pattern.format(task), text):
                return task
    return None


def _article(body: JSONDict) -> str:
    """Text between ``<article>`` lines of the last user message having them."""
    user_texts = [
        message_text(m) for m in messages(body) if isinstance(m, dict) and m.get("role") == "user"
    ]
    for text in reversed(user_texts):
        match = _ARTICLE_RE.search(text)
        if match:
            return match.group(1)
    return user_texts[-1] if user_texts else ""


def _span(article: str, span: tuple[int, int] | None) -> str | None:
    return None if span is None else article[span[0] : span[1]]


def _mention(mention: Mention | None) -> str | None:
    return None if mention is None else mention.text


def _items(task: Task, article: str) -> list[JSONDict]:
    """The candidates of ``task`` in ``article`` as answer items, best guess for each."""
    if task == "quotes":
        return [
            {
                "content": q.text,
                "speaker": _mention(q.speakers[0]) if q.speakers else "",
                "speaker_name": q.speakers[0].resolved if q.speakers else None,
                "cue": _span(article, q.cue) or "",
                "kind": q.kind,
            }
            for q in find_quotes(article)
        ]
    if task == "events":
        return [
            {
                "type": str(e.types[0]) if e.types else None,
                "kind": None if e.types else e.kind,
                "trigger": e.text,
                "actor": _mention(e.actor),
                "recipient": _mention(e.recipient),
                "location": _span(article, e.location),
                "time": _span(article, e.time),
                "summary": " ".join(article[e.sentence[0] : e.sentence[1]].split())[:200],
            }
            for e in find_events(article)
        ]
    return [
        {
            "holder": s.holder.text,
            "holder_name": s.holder.resolved,
            "target": s.target,
            "polarity": s.polarity_hint or "neutral",
            "evidence": s.text,
        }
        for s in find_stances(article)
        if s.holder is not None
    ]


def _answer(task: Task, article: str) -> list[JSONDict]:
    """The items that the task's draft schema accepts, one per draft key."""
    model = draft_list_for(task).item_model
    kept: list[JSONDict] = []
    keys: set[tuple[Any, ...]] = set()
    for item in _items(task, article):
        try:
            key = model.model_validate(item).key()
        except ValidationError:
            continue
        if key not in keys:
            keys.add(key)
            kept.append(item)
    return kept


def _requested_schema(body: JSONDict) -> JSONDict | None:
    """The JSON schema the request asks the answer to fit: a tool's parameters, the
    response_format's schema, or the one instructor's JSON modes write into a message."""
    tool = chosen_tool(body)
    if tool is not None and isinstance(tool.get("parameters"), dict):
        return dict(tool["parameters"])
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and isinstance(response_format.get("json_schema"), dict):
        schema = response_format["json_schema"].get("schema")
        if isinstance(schema, dict):
            return schema
    decoder = json.JSONDecoder()
    for message in messages(body):
        text = _ARTICLE_RE.sub("", message_text(message))
        for brace in re.finditer(r"\{", text):
            try:
                value, _ = decoder.raw_decode(text, brace.start())
            except ValueError:
                continue
            if isinstance(value, dict) and isinstance(value.get("properties"), dict):
                return value
    return None


_SHORT_STRING = "example"
_MAX_DEPTH = 32  # a schema that refers to itself is followed this deep, then left empty


def _minimal(schema: Any, root: JSONDict, depth: int = 0) -> Any:
    """The smallest value ``schema`` accepts (within ``root``'s definitions), as far as a
    plain reading of JSON Schema goes: required properties only, no optional ones."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        return _minimal(target, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for combined in ("allOf", "anyOf", "oneOf"):
        options = schema.get(combined)
        if isinstance(options, list) and options:
            useful = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return _minimal((useful or options)[0], root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        required = schema.get("required")
        names = [n for n in required if isinstance(n, str)] if isinstance(required, list) else []
        return {name: _minimal(properties.get(name, {}), root, depth + 1) for name in names}
    if kind == "array":
        least = schema.get("minItems")
        count = least if isinstance(least, int) and 0 < least <= 100 else 0
        return [_minimal(schema.get("items", {}), root, depth + 1) for _ in range(count)]
    if kind == "string":
        return _sized(schema)
    if kind in ("integer", "number"):
        return _least_number(schema, integer=kind == "integer")
    if kind == "boolean":
        return False
    return None


def _sized(schema: JSONDict) -> str:
    least, most = schema.get("minLength"), schema.get("maxLength")
    text = _SHORT_STRING
    if isinstance(least, int) and len(text) < least:
        text = text.ljust(least, "x")
    if isinstance(most, int) and len(text) > most:
        text = text[: max(most, 0)]
    return text


def _least_number(schema: JSONDict, *, integer: bool) -> int | float:
    least = schema.get("minimum")
    above = schema.get("exclusiveMinimum")
    value: float = least if isinstance(least, int | float) else 0
    if isinstance(above, int | float) and value <= above:
        value = above + 1 if integer else above + 0.5
    return int(value) if integer else value
