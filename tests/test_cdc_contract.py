"""Contract: real PostgreSQL + real Debezium, configured from the stack's own connector settings,
produce records that the stack's own Flink SQL routes correctly (snapshot, insert, update, delete)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdcctl.__main__ import main
from tests.helpers import REPO

ROUTES = REPO / "tests/data/rehearsal-routes.yaml"
LOAN = '\'{"eventBody": {"entities": [{"entityId": "%s", "updatedAttributes": {"loan": %s}}]}}\''

BEFORE = f"""
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


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Path:
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
    assert main([*args, "--out", str(tmp / "out")]) == 0
    return tmp / "out"


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


def test_a_changed_column_set_fails_loudly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "before.sql").write_text("ALTER TABLE business_events ADD COLUMN region text;")
    (tmp_path / "changes.sql").write_text(
        "INSERT INTO business_events VALUES ('x', 'LoanCreated', 'LoanCreated', now(), now(), '{}', 'east');"
    )
    args = ["rehearse", "--routes", str(ROUTES), "--before", str(tmp_path / "before.sql")]
    assert main([*args, "--changes", str(tmp_path / "changes.sql"), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "unexpected column(s) region" in err
    assert not (tmp_path / "out").exists()
