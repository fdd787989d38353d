"""Test helpers: a scripted OpenAI-compatible server and a pytest fixture for it.

:mod:`~llmextract.testing.server` serves the protocol (:class:`ScriptedServer`,
:class:`Reply`), :mod:`~llmextract.testing.answers` makes its default answers,
:mod:`~llmextract.testing.faults` the faults it can inject (:data:`FAULTS`), and
:mod:`~llmextract.testing.oracle` the answers from gold annotations, spoiled by the noise
profiles of :mod:`~llmextract.testing.noise`.

The names are imported lazily so ``python -m llmextract.testing.server`` does
not find its own module already imported (runpy warns about that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmextract.testing.server import FAULTS, Reply, RequestRecord, ScriptedServer

__all__ = ["FAULTS", "Reply", "RequestRecord", "ScriptedServer"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from llmextract.testing import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
