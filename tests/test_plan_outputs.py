"""`cdcctl plan --outputs / --peer-outputs / --write-outputs`: consecutive offline plans, as consecutive
`up`s would run, from files shaped as `pulumi stack output --json --show-secrets` prints them."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from cdcctl.__main__ import main
from cdcctl.plan import plan
from tests.helpers import edit_routes, the_one_error_line

NEW_ROUTE = {
    "id": "big-loans",
    "outputTopic": "filtered-big-loans",
    "conditions": [{"field": "event_data.amount", "operator": "greaterThan", "value": 1000000}],
}


def planned(capsys: pytest.CaptureFixture[str], *arguments: str) -> list[dict[str, Any]]:
    assert main(["plan", "--json", *arguments]) == 0
    resources: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return resources


def statements(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The routing statement's generations (an added route's backfill apart: tests/test_backfill.py)."""
    return {
        r["inputs"]["statementName"]: r
        for r in resources
        if r["type"].endswith(":FlinkStatement") and "-routes-" in r["inputs"]["statementName"]
    }


@pytest.mark.plans
def test_a_second_plan_on_the_first_plans_outputs_stops_it_and_starts_its_successor(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first_outputs = project / "first.json"
    (first,) = statements(planned(capsys, "--stack", "dev", "--write-outputs", str(first_outputs))).values()
    edit_routes(project, lambda routes: routes.append(NEW_ROUTE))
    second = statements(planned(capsys, "--stack", "dev", "--outputs", str(first_outputs)))
    stopped = second.pop(first["inputs"]["statementName"])
    (successor,) = second.values()
    assert stopped["inputs"]["stopped"] is True and successor["inputs"]["stopped"] is False
    assert successor["inputs"]["properties"]["sql.tables.initial-offset-from"] == first["inputs"]["statementName"]
    # Without --outputs the same routes plan a first deployment: one statement, nothing carried over.
    (alone,) = statements(planned(capsys, "--stack", "dev")).values()
    assert "sql.tables.initial-offset-from" not in alone["inputs"]["properties"]


@pytest.mark.plans
def test_written_outputs_are_the_exports_as_the_cli_prints_them_for_the_owner_only(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = project / "outputs.json"
    written.write_text("old")  # a regular file is replaced
    planned(capsys, "--stack", "dev", "--write-outputs", str(written))
    exports = plan("dev", project).raw_outputs
    document = json.loads(written.read_text())
    assert document.keys() == exports.keys()
    assert document["routingStatement"]["keyGeneration"] == 1  # a whole number, not 1.0
    assert isinstance(document["metricsApiSecret"], str) and document["metricsApiSecret"] != "[secret]"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert sorted(p.name for p in project.glob(".outputs.json.*")) == []  # no temporary left


@pytest.mark.plans
def test_peer_outputs_answer_the_peers_reference(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An empty recording is a peer whose stack exists with nothing deployed yet (peer_stage 0)."""
    empty = project / "peer.json"
    empty.write_text("{}")
    with_file = planned(capsys, "--stack", "prod-east", "--peer-outputs", str(empty))
    assert with_file == [r.as_json() for r in plan("prod-east", project, peer_stage=0).resources]
    assert with_file != [r.as_json() for r in plan("prod-east", project).resources]


@pytest.mark.parametrize("kind", ["symlink", "directory"])
def test_write_outputs_refuses_what_is_not_a_regular_file_before_planning(
    project: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """Unmarked: planning at all would fail the tiers' guard."""
    victim = project / "authorized_keys"
    victim.write_text("ssh-ed25519 AAAA operator\n")
    target = project / "outputs.json"
    if kind == "symlink":
        target.symlink_to(victim)
    else:
        target.mkdir()
    assert main(["plan", "--stack", "dev", "--write-outputs", str(target)]) == 2
    assert the_one_error_line(capsys).startswith(f"error: {target}: --write-outputs: exists and is not a regular file")
    assert victim.read_text() == "ssh-ed25519 AAAA operator\n"


@pytest.mark.parametrize(("argument", "content"), [("--outputs", "[1, 2]"), ("--peer-outputs", "{")])
def test_a_bad_outputs_file_is_refused_naming_its_argument(
    project: Path, capsys: pytest.CaptureFixture[str], argument: str, content: str
) -> None:
    recording = project / "recording.json"
    recording.write_text(content)
    assert main(["plan", "--stack", "prod-east", argument, str(recording)]) == 2
    line = the_one_error_line(capsys)
    assert str(recording) in line and (argument in line or "mapping of outputs" in line)


def test_write_outputs_refuses_a_file_in_a_missing_directory(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = project / "no-such-directory" / "outputs.json"
    assert main(["plan", "--stack", "dev", "--write-outputs", str(target)]) == 2
    assert "--write-outputs" in the_one_error_line(capsys) and not target.parent.exists()
