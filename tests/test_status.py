"""`cdcctl status` against recorded Confluent API responses (tests/data/status, shapes and sources in its
README): one table, the next step for anything not RUNNING, exit 1 when unhealthy, exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import cdcctl.commands.status as status_command
from cdcctl.__main__ import main
from cdcctl.status import Credentials
from tests.helpers import the_one_error_line

DATA = Path(__file__).parent / "data" / "status"
OUTPUTS = DATA / "outputs-prod-east.json"
CONNECT_URL = (
    "https://api.confluent.cloud/connect/v1/environments/env-w1x9dk/clusters/lkc-7x9q2m/connectors/"
    "cdc-prod-us-east-1-postgres-cdc/status"
)
STATEMENT = "prod-east-routes-3f9a1c0b7e"
STATEMENT_URL = (
    "https://flink.dom4e1xk2.us-east-1.aws.confluent.cloud/sql/v1/organizations/"
    f"5c2f8e1a-44d3-4b7e-9a61-0f3c7d2e8b90/environments/env-w1x9dk/statements/{STATEMENT}"
)
CLOUD = Credentials("CLOUDKEY", "cloud-secret")
FLINK = Credentials("FLINKKEY", "flink-secret")


class RecordedApi:
    """Answers each documented URL with a recorded body; remembers who asked with which key."""

    def __init__(self, answers: dict[str, tuple[int, str]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, Credentials]] = []

    def get(self, url: str, credentials: Credentials) -> tuple[int, Any]:
        self.asked.append((url, credentials))
        code, file = self.answers[url]
        return code, json.loads((DATA / file).read_text())


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in (
        ("CONFLUENT_CLOUD_API_KEY", CLOUD.key),
        ("CONFLUENT_CLOUD_API_SECRET", CLOUD.secret),
        ("CONFLUENT_FLINK_API_KEY", FLINK.key),
        ("CONFLUENT_FLINK_API_SECRET", FLINK.secret),
    ):
        monkeypatch.setenv(variable, value)


def status(
    monkeypatch: pytest.MonkeyPatch, connector: tuple[int, str], statement: tuple[int, str], outputs: Path = OUTPUTS
) -> tuple[int, RecordedApi]:
    api = RecordedApi({CONNECT_URL: connector, STATEMENT_URL: statement})
    monkeypatch.setattr(status_command, "api", api)
    return main(["status", "--stack", "prod-east", "--outputs", str(outputs)]), api


def rows(out: str) -> dict[str, list[str]]:
    """Table rows by resource name: [kind, phase, next step...] split on runs of two spaces."""
    found = {}
    for line in out.splitlines():
        cells = [c for c in line.split("  ") if c.strip()]
        if len(cells) >= 4 and cells[0] in ("connector", "statement"):
            found[cells[1].strip()] = [cells[0], cells[2].strip(), "  ".join(cells[3:]).strip()]
    return found


def test_a_healthy_stack_exits_0_and_asks_each_api_with_its_own_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, api = status(monkeypatch, (200, "connector-running.json"), (200, "statement-running.json"))
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("Stack prod-east (us-east-1): 2 checked, 0 unhealthy")
    assert rows(out) == {
        "cdc-prod-us-east-1-postgres-cdc": ["connector", "RUNNING", "-"],
        STATEMENT: ["statement", "RUNNING", "-"],
    }
    assert api.asked == [(CONNECT_URL, CLOUD), (STATEMENT_URL, FLINK)]


def test_a_failed_connector_shows_confluents_error_and_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, _ = status(monkeypatch, (200, "connector-failed.json"), (200, "statement-running.json"))
    out = capsys.readouterr().out
    assert code == 1
    kind, phase, step = rows(out)["cdc-prod-us-east-1-postgres-cdc"]
    assert (kind, phase) == ("connector", "FAILED")
    assert "confluent connect cluster resume lcc-r6j0zq" in step
    assert 'error: task 0 USER_ACTIONABLE_ERROR: Replication slot "cdc_prod_east" is active for PID 4242' in out
    assert "Unable to connect: Failed to resolve or connect to database." in out
    assert "1 unhealthy" in out.splitlines()[0]


def test_a_paused_connector_is_unhealthy(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, _ = status(monkeypatch, (200, "connector-paused.json"), (200, "statement-running.json"))
    assert code == 1
    assert rows(capsys.readouterr().out)["cdc-prod-us-east-1-postgres-cdc"][1] == "PAUSED"


def test_a_statement_pending_after_a_carry_over_names_its_predecessor(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, _ = status(monkeypatch, (200, "connector-running.json"), (200, "statement-pending-carry-over.json"))
    out = capsys.readouterr().out
    assert code == 1
    kind, phase, step = rows(out)[STATEMENT]
    assert (kind, phase) == ("statement", "PENDING")
    assert "prod-east-routes-9d2e4b6a1f is STOPPED" in step
    assert "confluent flink statement describe prod-east-routes-9d2e4b6a1f" in step
    assert "error: Waiting for statement prod-east-routes-9d2e4b6a1f to be stopped" in out


@pytest.mark.parametrize(
    "recorded, phase, step, error",
    [
        (
            "statement-failed.json",
            "FAILED",
            f"confluent flink statement exception list {STATEMENT}",
            "Table 'filtered-car-created-events' does not exist",
        ),
        (
            "statement-degraded.json",
            "DEGRADED",
            "still bills CFUs",
            "TopicAuthorizationException",
        ),
    ],
)
def test_failure_phases_of_a_statement(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keys: None,
    recorded: str,
    phase: str,
    step: str,
    error: str,
) -> None:
    code, _ = status(monkeypatch, (200, "connector-running.json"), (200, recorded))
    out = capsys.readouterr().out
    assert code == 1
    assert rows(out)[STATEMENT][1] == phase
    assert step in rows(out)[STATEMENT][2]
    assert error in out


def test_a_deleted_connector_and_a_revoked_flink_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, _ = status(monkeypatch, (404, "connect-not-found.json"), (401, "flink-unauthorized.json"))
    out = capsys.readouterr().out
    assert code == 1
    table = rows(out)
    assert table["cdc-prod-us-east-1-postgres-cdc"][1:] == [
        "NOT FOUND",
        "not deployed, or deleted outside Pulumi: `pulumi up --stack prod-east`",
    ]
    assert table[STATEMENT][1:] == [
        "UNAUTHORIZED",
        "wrong or deleted key: check CONFLUENT_FLINK_API_KEY and its _SECRET",
    ]
    assert "error: Connector cdc-prod-us-east-1-postgres-cdc not found" in out


@pytest.mark.parametrize("variable", ["CONFLUENT_FLINK_API_KEY", "CONFLUENT_CLOUD_API_SECRET"])
def test_a_missing_key_variable_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None, variable: str
) -> None:
    monkeypatch.delenv(variable)
    code, api = status(monkeypatch, (200, "connector-running.json"), (200, "statement-running.json"))
    assert code == 2
    assert the_one_error_line(capsys) == f"error: environment: {variable}: is not set (see `cdcctl status --help`)"
    assert api.asked == []


def test_outputs_without_the_monitoring_export_are_refused_naming_file_and_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None, tmp_path: Path
) -> None:
    old = tmp_path / "outputs.json"
    old.write_text(json.dumps({"clusterId": "lkc-7x9q2m", "region": "us-east-1"}))
    code, _ = status(monkeypatch, (200, "connector-running.json"), (200, "statement-running.json"), old)
    assert code == 2
    assert the_one_error_line(capsys) == (
        f"error: {old}: monitoring: no such output: deploy the stack with this version of the program first"
    )


def test_an_id_that_could_break_a_url_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None, tmp_path: Path
) -> None:
    outputs = json.loads(OUTPUTS.read_text())
    outputs["monitoring"]["statements"] = ["routes/../../admin"]
    tampered = tmp_path / "outputs.json"
    tampered.write_text(json.dumps(outputs))
    code, _ = status(monkeypatch, (200, "connector-running.json"), (200, "statement-running.json"), tampered)
    assert code == 2
    assert the_one_error_line(capsys) == (
        f"error: {tampered}: monitoring.statements[0]: 'routes/../../admin' is not an id or name of [A-Za-z0-9._-]"
    )


def test_unreadable_outputs_are_one_line(capsys: pytest.CaptureFixture[str], keys: None, tmp_path: Path) -> None:
    assert main(["status", "--stack", "prod-east", "--outputs", str(tmp_path / "missing.json")]) == 2
    assert the_one_error_line(capsys).startswith(f"error: {tmp_path / 'missing.json'}: cannot read the stack outputs")


def test_a_global_stack_has_nothing_to_check(capsys: pytest.CaptureFixture[str], keys: None) -> None:
    assert main(["status", "--stack", "prod", "--outputs", str(OUTPUTS)]) == 2
    assert "is global" in the_one_error_line(capsys)
