"""pytest plugin with a ``scripted_server`` fixture.

Enable it with ``-p llmextract.testing.pytest_plugin``, a ``pytest11`` entry
point, or by importing the fixture into a ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmextract.testing.server import ScriptedServer

__all__ = ["scripted_server"]


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """A started :class:`ScriptedServer` with an empty script; stopped after the test."""
    server = ScriptedServer().start()
    try:
        yield server
    finally:
        server.stop()
