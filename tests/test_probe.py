"""``llmextract endpoints check`` through the real CLI: the probe works against the scripted
server in every mode and says why a mode fails."""

from __future__ import annotations

import pytest

from llmextract.testing import Reply, ScriptedServer
from tests import reliability
from tests.conftest import run_cli

pytestmark = pytest.mark.faults
MODES = ("tools", "json_schema", "json", "md_json")


def mode_lines(stdout: str) -> dict[str, str]:
    """``endpoints check`` output: mode -> its line."""
    return {
        line.split()[0]: line
        for line in stdout.splitlines()
        if line.startswith("  ") and line.split()[0] in MODES
    }


def test_endpoints_check_works_against_the_scripted_server_in_every_mode(
    scripted_server: ScriptedServer,
) -> None:
    done = run_cli("endpoints", "check", "--base-url", scripted_server.url, "--model", "m")
    lines = mode_lines(done.stdout)
    handled = (
        done.returncode == 0
        and set(lines) == set(MODES)
        and all(" works " in line for line in lines.values())
    )
    assert reliability.probe("endpoints", "check works against the test server", handled), (
        done.stdout + done.stderr
    )


def test_a_failing_mode_names_the_fields_and_their_errors_on_one_line(
    scripted_server: ScriptedServer,
) -> None:
    scripted_server.enqueue(Reply(arguments={"city": "Paris"}), Reply(arguments={}))
    done = run_cli("endpoints", "check", "--base-url", scripted_server.url, "--model", "m")
    lines = mode_lines(done.stdout)
    tools, json_schema = lines.get("tools", ""), lines.get("json_schema", "")
    handled = (
        "FAILS" in tools
        and "country" in tools
        and "Field required" in tools
        and "FAILS" in json_schema
        and "city" in json_schema
        and "country" in json_schema
        and "works" in lines.get("json", "")
    )
    assert reliability.probe("endpoints", "failing mode names fields and errors", handled), (
        done.stdout + done.stderr
    )
