"""Contract: real PostgreSQL + real Debezium, configured from the stack's own connector settings,
produce records that the stack's own Flink SQL routes correctly (snapshot, insert, update, delete)."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import rehearsal.cdc
from cdcctl.__main__ import main
from cdcctl.commands import rehearse as rehearse_command
from tests.helpers import REPO

pytestmark = pytest.mark.engine

ROUTES = REPO / "tests/data/rehearsal-routes.yaml"
LOAN = '\'{"eventBody": {"entities": [{"entityId": "%s", "updatedAttributes": {"loan": %s}}]}}\''

# A column the table gained after the routes were deployed: the contract holds on the wider records.
BEFORE = f"""
ALTER TABLE business_events ADD COLUMN region text DEFAULT 'east';
INSERT INTO business_events VALUES
  ('snap-1', 'LoanCreated', 'LoanCreated', '2024-01-15T10:30:00Z', '2024-01-15T10:30:05Z',
   {LOAN % ("loan-1", '{"loanAmount": 150000.5}')}),
  ('snap-2', 'CarCreated', 'CarCreated', '2024-01-15T10:31:00Z', NULL, {LOAN % ("car-42", "{}")});
"""
ACTIVE_LOAN = '{"loanAmount": 50000, "status": "active"}'
CHANGES = f"""
INSERT INTO business_events VALUES
  ('ins-3', 'LoanCreated', 'LoanCreated', now(), now(), {LOAN % ("loan-3", ACTIVE_LOAN)}),
  ('ins-4', 'CarServiceDone', 'ServiceRecordUpdated', now(), now(), {LOAN % ("svc-4", "{}")});
UPDATE business_events SET event_data = {LOAN % ("loan-1", '{"loanAmount": 2000}')} WHERE id = 'snap-1';
DELETE FROM business_events WHERE id = 'snap-2';
"""
EXPECTED = {
    "filtered-loan-created-events": {("snap-1", "r"), ("ins-3", "c")},
    "high-value-loans": {("snap-1", "r")},
    "mid-band-loans": {("ins-3", "c"), ("snap-1", "u")},
    "small-loans": {("snap-1", "u")},
    "filtered-car-and-service-events": {("snap-2", "r"), ("ins-4", "c")},
    "deleted-events": {("snap-2", "d")},
    "not-loan-events": {("snap-2", "r"), ("ins-4", "c"), ("snap-2", "d")},
    "car-id-events": {("snap-2", "r"), ("snap-2", "d")},
    "loans-without-status": {("snap-1", "r")},
    "saved-updates": {("snap-1", "u")},
    "early-events": set(),
    "late-events": {("snap-1", "r"), ("snap-2", "r"), ("ins-3", "c"), ("ins-4", "c"), ("snap-1", "u"), ("snap-2", "d")},
    "exact-amount": {("ins-3", "c")},
    "hostile-events": set(),
}


class Rehearsed(NamedTuple):
    out: Path
    stderr: str
    steps: list[str]  # when PostgreSQL stopped and routing began


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory: pytest.TempPathFactory) -> Rehearsed:
    tmp = tmp_path_factory.mktemp("cdc")
    (tmp / "before.sql").write_text(BEFORE)
    (tmp / "changes.sql").write_text(CHANGES)
    args = [
        "rehearse",
        "--routes",
        str(ROUTES),
        "--before",
        str(tmp / "before.sql"),
        "--changes",
        str(tmp / "changes.sql"),
    ]
    steps: list[str] = []
    source_database, route = rehearsal.cdc.source_database, rehearse_command.rehearse

    @contextlib.contextmanager
    def watched_source(*args: Any) -> Iterator[Any]:
        with source_database(*args) as source:
            yield source
        steps.append("PostgreSQL stopped")

    def watched_routing(*args: Any) -> dict[str, int]:
        steps.append("routing")
        return route(*args)

    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(io.StringIO()) as stderr:
        patch.setattr(rehearsal.cdc, "source_database", watched_source)
        patch.setattr(rehearse_command, "rehearse", watched_routing)
        code = main([*args, "--out", str(tmp / "out")])
    assert code == 0, stderr.getvalue()
    return Rehearsed(tmp / "out", stderr.getvalue(), steps)


def test_postgresql_is_stopped_once_captured_before_flink_routes(rehearsed: Rehearsed) -> None:
    assert rehearsed.steps == ["PostgreSQL stopped", "routing"]


@pytest.fixture(scope="module")
def captured(rehearsed: Rehearsed) -> Path:
    return rehearsed.out


def rows(out: Path, topic: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / f"{topic}.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("topic", sorted(EXPECTED))
def test_captured_changes_land_exactly_where_routes_select_them(captured: Path, topic: str) -> None:
    assert sorted((r["id"], r["__op"]) for r in rows(captured, topic)) == sorted(EXPECTED[topic])


def test_delete_records_carry_the_whole_old_row(captured: Path) -> None:
    (deleted,) = rows(captured, "deleted-events")
    assert deleted["__deleted"] == "true"
    assert deleted["event_type"] == "CarCreated" and json.loads(deleted["event_data"])["eventBody"]
    assert deleted["__table"] == "business_events"


def meta(out: Path, topic: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / f"{topic}.meta.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("topic", sorted(t for t, expected in EXPECTED.items() if expected))
def test_debeziums_key_reaches_every_routed_record(captured: Path, topic: str) -> None:
    """The connector's key ({id}, from the primary key) is the routed record's key, line for line."""
    assert [m["key"] for m in meta(captured, topic)] == [{"id": r["id"]} for r in rows(captured, topic)]


def test_a_rows_snapshot_update_and_delete_stay_on_one_partition_in_commit_order(captured: Path) -> None:
    routed = zip(rows(captured, "late-events"), meta(captured, "late-events"), strict=True)
    positions = {(r["id"], r["__op"]): m for r, m in routed}
    for rid, ops in (("snap-1", ("r", "u")), ("snap-2", ("r", "d"))):
        first, then = positions[(rid, ops[0])], positions[(rid, ops[1])]
        assert first["partition"] == then["partition"] and first["offset"] < then["offset"]


def rehearse_changes(tmp_path: Path, before: str, changes: str) -> int:
    (tmp_path / "before.sql").write_text(before)
    (tmp_path / "changes.sql").write_text(changes)
    args = ["rehearse", "--routes", str(ROUTES), "--before", str(tmp_path / "before.sql")]
    return main([*args, "--changes", str(tmp_path / "changes.sql"), "--out", str(tmp_path / "out")])


def test_an_added_column_keeps_routing_and_is_warned_about(rehearsed: Rehearsed) -> None:
    """As in production: the connector sends the wider record (BEFORE adds `region`), the running statement
    reads its own columns. Every route above routes as EXPECTED; no routed record carries the column."""
    assert "warning: column(s) region beyond the raw record: routing ignores them" in rehearsed.stderr
    routed = [row for topic in EXPECTED for row in rows(rehearsed.out, topic)]
    assert routed and [row for row in routed if "region" in row] == []


@pytest.mark.parametrize(
    "alteration, message",
    [
        ("DROP COLUMN saved_date", "business_events.saved_date was removed or renamed"),
        ("RENAME COLUMN event_type TO kind", "business_events.event_type was removed or renamed"),
        (
            "ALTER COLUMN created_date TYPE timestamp without time zone",
            "business_events.created_date is timestamp without time zone, not timestamp with time zone",
        ),
        ("ALTER COLUMN event_data TYPE text", "business_events.event_data is text, not jsonb or json"),
    ],
)
def test_a_removed_or_retyped_column_is_refused_before_capture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, alteration: str, message: str
) -> None:
    """Refused once PostgreSQL has run --before, before the broker (or Debezium) starts."""
    monkeypatch.setattr(rehearse_command, "rehearsal_kafka", lambda *_: pytest.fail("the broker started"))
    assert rehearse_changes(tmp_path, f"ALTER TABLE business_events {alteration};", "SELECT 1;") == 2
    (error,) = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("[")]  # no progress
    assert error.startswith(f"error: {tmp_path / 'before.sql'}: --before: {message}")
    assert not (tmp_path / "out").exists()


def test_a_column_removed_by_the_changes_script_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rehearse_changes(tmp_path, "SELECT 1;", "ALTER TABLE business_events DROP COLUMN event_name;") == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'changes.sql'}: --changes: business_events.event_name was removed or renamed" in err
