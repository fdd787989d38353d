"""Faults the test server can inject: their names and the reply that injects each one.

A fault's reply is given as :class:`~llmextract.testing.server.Reply` fields, the JSON
object a ``--script`` line holds, so this module needs nothing from the server that
sends it.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["FAULTS", "fault_reply"]

FAULTS: tuple[str, ...] = (
    "429 retry-after",
    "429",
    "500",
    "502",
    "503",
    "connection reset",
    "read timeout",
    "slow trickle",
    "truncated",
    "invalid json",
    "wrong shape",
    "no tool call",
    "empty choices",
    "invented quote",
    "repeated 500 times",
)
_INVENTED = "These words were never written in the article the model was given."


def fault_reply(fault: str, answer: dict[str, Any], delay_s: float) -> dict[str, Any]:
    """The Reply fields that inject ``fault`` into ``answer`` (the request's default answer).

    A ``"read timeout"`` waits ``delay_s`` before it answers.
    """
    field, items = next(iter(answer.items()), ("quotes", []))
    simple: dict[str, dict[str, Any]] = {
        "429 retry-after": {"status": 429, "headers": {"Retry-After": "0"}},
        "429": {"status": 429},
        "500": {"status": 500},
        "502": {"status": 502},
        "503": {"status": 503},
        "connection reset": {"drop_connection": True},
        "read timeout": {"delay_s": delay_s},
        "slow trickle": {"trickle_s": 0.3},
        "truncated": {"finish_reason": "length", "content": json.dumps(answer)[:40]},
        "invalid json": {"content": '{"' + field + '": [{"content": "unterminated'},
        "wrong shape": {"arguments": {"answer": "none", "items": [1, 2, 3]}},
        "no tool call": {"no_tool_call": True},
        "empty choices": {"empty_choices": True},
    }
    if fault in simple:
        return simple[fault]
    if fault == "invented quote":
        invented = {"content": _INVENTED, "speaker": "Nobody", "cue": "said", "kind": "direct"}
        return {"arguments": {field: [invented] if field == "quotes" else items}}
    if fault == "repeated 500 times":
        return {"arguments": {field: (items[:1] or [{"content": _INVENTED}]) * 500}}
    raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
