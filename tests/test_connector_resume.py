"""The start path after a database stop: `cdcctl status --resume-connector` brings the connector back to
RUNNING through the Connect API (pause, wait for PAUSED, resume, wait for RUNNING), on recorded responses."""

from __future__ import annotations

import json
from typing import Any

import pytest

import cdcctl.commands.status as status_command
from cdcctl.__main__ import main
from cdcctl.status import ConnectorResume, Credentials
from tests.test_status import CONNECT_URL, DATA, LINK_URL, MIRRORS_URL, OUTPUTS, STATEMENT_URL, keys, rows

__all__ = ["keys"]  # the fixture, used by name
CONNECTOR = "cdc-prod-us-east-1-postgres-cdc"
BASE_URL = CONNECT_URL.rsplit("/", 1)[0]
PAUSE_URL, RESUME_URL = f"{BASE_URL}/pause", f"{BASE_URL}/resume"
ACCEPTED = (202, None)


class ScriptedApi:
    """Answers each URL with its recorded responses in turn (the last one repeats); logs every call."""

    def __init__(self, answers: dict[str, list[tuple[int, str | None]]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str]] = []

    def _answer(self, method: str, url: str) -> tuple[int, Any]:
        self.calls.append((method, url))
        queue = self.answers[url]
        code, file = queue.pop(0) if len(queue) > 1 else queue[0]
        return code, None if file is None else json.loads((DATA / file).read_text())

    def get(self, url: str, credentials: Credentials) -> tuple[int, Any]:
        return self._answer("GET", url)

    def put(self, url: str, credentials: Credentials) -> tuple[int, Any]:
        return self._answer("PUT", url)


class Clock:
    """Time that passes only when the resume sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run(
    monkeypatch: pytest.MonkeyPatch, connector: list[tuple[int, str | None]], *extra: tuple[str, tuple[int, str | None]]
) -> tuple[int, ScriptedApi]:
    answers: dict[str, list[tuple[int, str | None]]] = {
        CONNECT_URL: connector,
        STATEMENT_URL: [(200, "statement-running.json")],
        LINK_URL: [(200, "link-active.json")],
        MIRRORS_URL: [(200, "mirrors-active.json")],
        PAUSE_URL: [ACCEPTED],
        RESUME_URL: [ACCEPTED],
    }
    answers.update({url: [answer] for url, answer in extra})
    api = ScriptedApi(answers)
    clock = Clock()
    monkeypatch.setattr(status_command, "api", api)
    monkeypatch.setattr(status_command, "resume", ConnectorResume(60.0, 10.0, clock.sleep, lambda: clock.now))
    return main(["status", "--stack", "prod-east", "--outputs", str(OUTPUTS), "--resume-connector"]), api


def connect_calls(api: ScriptedApi) -> list[tuple[str, str]]:
    return [(method, url.rsplit("/", 1)[1]) for method, url in api.calls if "/connect/v1/" in url]


def test_a_connector_failed_by_a_database_stop_is_paused_then_resumed_to_running(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    failed, paused, running = (
        "connector-failed-database-stopped.json",
        "connector-paused.json",
        "connector-running.json",
    )
    code, api = run(monkeypatch, [(200, failed), (200, failed), (200, paused), (200, running)])
    assert code == 0
    assert connect_calls(api) == [
        ("GET", "status"),
        ("PUT", "pause"),
        ("GET", "status"),  # still FAILED: the pause has not taken yet, so no resume yet
        ("GET", "status"),
        ("PUT", "resume"),
        ("GET", "status"),
    ]
    assert rows(capsys.readouterr().out)[CONNECTOR][:2] == ["connector", "RUNNING"]


def test_a_paused_connector_is_only_resumed(monkeypatch: pytest.MonkeyPatch, keys: None) -> None:
    code, api = run(monkeypatch, [(200, "connector-paused.json"), (200, "connector-running.json")])
    assert code == 0
    assert connect_calls(api) == [("GET", "status"), ("PUT", "resume"), ("GET", "status")]


def test_a_running_connector_is_left_alone(monkeypatch: pytest.MonkeyPatch, keys: None) -> None:
    code, api = run(monkeypatch, [(200, "connector-running.json")])
    assert code == 0
    assert connect_calls(api) == [("GET", "status")]


def test_a_connector_that_stays_failed_is_reported_with_its_trace_after_the_wait(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    failed = "connector-failed-database-stopped.json"
    code, api = run(monkeypatch, [(200, failed), (200, "connector-paused.json"), (200, failed)])
    assert code == 1
    assert connect_calls(api)[-2:] == [("GET", "status"), ("GET", "status")]  # polled until the wait ran out
    row = rows(capsys.readouterr().out)[CONNECTOR]
    assert row[1] == "FAILED" and "pause and resume" in row[2]


def test_a_key_that_may_not_pause_is_named_with_the_role_it_needs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, api = run(monkeypatch, [(200, "connector-failed-database-stopped.json")], (PAUSE_URL, (403, None)))
    assert code == 1
    assert ("PUT", "resume") not in connect_calls(api)
    row = rows(capsys.readouterr().out)[CONNECTOR]
    assert row[1] == "FORBIDDEN" and "CONFLUENT_CLOUD_API_KEY" in row[2] and "Operator" in row[2]


def test_without_the_flag_status_stays_read_only(monkeypatch: pytest.MonkeyPatch, keys: None) -> None:
    api = ScriptedApi(
        {
            CONNECT_URL: [(200, "connector-failed-database-stopped.json")],
            STATEMENT_URL: [(200, "statement-running.json")],
            LINK_URL: [(200, "link-active.json")],
            MIRRORS_URL: [(200, "mirrors-active.json")],
        }
    )
    monkeypatch.setattr(status_command, "api", api)
    assert main(["status", "--stack", "prod-east", "--outputs", str(OUTPUTS)]) == 1
    assert all(method == "GET" for method, _ in api.calls)
