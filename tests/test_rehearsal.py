"""Routing proven on real Apache Flink: each output topic gets exactly the expected records.

Expectations are written by hand from the rules in tests/data/rehearsal-routes.yaml.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdcctl.__main__ import main
from core.raw_record import RAW_COLUMN_NAMES
from tests.helpers import REPO

BASE_TS = 1705312200000
HOSTILE = "O'Brien `x` \\ ☃ '' --"


def record(
    rid: str,
    op: str,
    event_type: str,
    ts: int,
    *,
    event_name: str | None = None,
    loan: dict[str, Any] | None = None,
    entity_id: str | None = None,
    saved: bool = True,
    deleted: bool = False,
) -> dict[str, Any]:
    entity: dict[str, Any] = {"entityType": "Loan" if loan else "Other", "entityId": entity_id or rid}
    if loan is not None:
        entity["updatedAttributes"] = {"loan": loan}
    return {
        "id": rid,
        "event_name": event_name or event_type,
        "event_type": event_type,
        "created_date": "2024-01-15T10:30:00Z",
        "saved_date": "2024-01-15T10:30:05Z" if saved else None,
        "event_data": json.dumps(
            {"eventHeader": {"uuid": rid, "eventName": event_name or event_type}, "eventBody": {"entities": [entity]}}
        ),
        "__op": op,
        "__table": "business_events",
        "__ts_ms": BASE_TS + ts,
        "__deleted": "true" if deleted else "false",
    }


RECORDS = [
    record("loan-1", "c", "LoanCreated", 1, loan={"loanAmount": 50000, "status": "active"}),
    record("loan-2", "r", "LoanCreated", 2, loan={"loanAmount": 150000.5}),
    record("pay-3", "u", "LoanPaymentSubmitted", 3, loan={"loanAmount": 2500.75, "status": "active"}),
    record("car-4", "c", "CarCreated", 4, entity_id="car-123", saved=False),
    record("svc-5", "u", "ServiceRecordUpdated", 5, event_name="CarServiceDone", entity_id="svc-9"),
    record("loan-6", "d", "LoanCreated", 6, loan={"loanAmount": 20000, "status": "closed"}, deleted=True),
    record("hostile-7", "c", HOSTILE, 7, entity_id="x-car-77"),
    record("loan-8", "c", "LoanCreated", 8, loan={"loanAmount": "abc"}, saved=False),
    record("loan-9", "r", "LoanCreated", 9, loan={"loanAmount": 1000, "status": "active"}),
    record("pay-10", "c", "LoanPaymentSubmitted", 10, loan={"loanAmount": 2500.5}),
    record("loan-11", "u", "LoanCreated", 11, loan={"loanAmount": 50000.0, "status": "active"}),
]

EXPECTED = {
    "filtered-loan-created-events": {"loan-1", "loan-2", "loan-8", "loan-9"},
    "high-value-loans": {"loan-2"},
    "mid-band-loans": {"loan-1", "pay-3", "loan-6", "loan-9", "pay-10", "loan-11"},
    "small-loans": {"loan-9"},
    "filtered-car-and-service-events": {"car-4", "svc-5"},
    "deleted-events": {"loan-6"},
    "not-loan-events": {"car-4", "svc-5", "hostile-7"},
    "car-id-events": {"car-4", "hostile-7"},
    "loans-without-status": {"loan-2", "loan-8"},
    "saved-updates": {"pay-3", "svc-5", "loan-11"},
    "early-events": {"loan-1", "loan-2"},
    "late-events": {"hostile-7", "loan-8", "loan-9", "pay-10", "loan-11"},
    "exact-amount": {"loan-1", "loan-11"},
    "hostile-events": {"hostile-7"},
}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("rehearsal")
    records = write_jsonl(tmp / "records.jsonl", RECORDS)
    out = tmp / "out"
    args = ["rehearse", "--routes", str(REPO / "tests/data/rehearsal-routes.yaml"), "--records", str(records)]
    assert main([*args, "--out", str(out)]) == 0
    return out


def read_topic(out: Path, topic: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / f"{topic}.jsonl").read_text().splitlines()]


@pytest.mark.engine
@pytest.mark.parametrize("topic", sorted(EXPECTED))
def test_each_topic_gets_exactly_the_expected_records(routed: Path, topic: str) -> None:
    rows = read_topic(routed, topic)
    ids = [r["id"] for r in rows]
    assert sorted(ids) == sorted(EXPECTED[topic])


@pytest.mark.engine
def test_sinks_keep_every_raw_column_unchanged(routed: Path) -> None:
    by_id = {r["id"]: r for r in RECORDS}
    for topic in EXPECTED:
        for row in read_topic(routed, topic):
            assert list(row) == list(RAW_COLUMN_NAMES)
            assert row == by_id[row["id"]]


@pytest.mark.engine
def test_disabled_route_writes_nothing(routed: Path) -> None:
    assert sorted(p.name.removesuffix(".jsonl") for p in routed.glob("*.jsonl") if ".meta." not in p.name) == sorted(
        EXPECTED
    )


@pytest.mark.engine
def test_shipped_routes_route_snapshot_rows_and_ignore_updates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = write_jsonl(tmp_path / "r.jsonl", [RECORDS[0], RECORDS[1], RECORDS[3], RECORDS[4], RECORDS[10]])
    args = ["rehearse", "--routes", str(REPO / "flink_sql/routes.yaml"), "--records", str(records)]
    assert main([*args, "--out", str(tmp_path / "out")]) == 0
    assert "filtered-loan-created-events: 2" in capsys.readouterr().out
    assert {r["id"] for r in read_topic(tmp_path / "out", "filtered-loan-created-events")} == {"loan-1", "loan-2"}
    assert {r["id"] for r in read_topic(tmp_path / "out", "filtered-car-created-events")} == {"car-4"}
    # svc-5 is an update: the shipped service route takes creates and snapshot rows only.
    assert read_topic(tmp_path / "out", "filtered-service-events") == []


@pytest.mark.parametrize(
    "broken, message",
    [
        ({k: v for k, v in RECORDS[0].items() if k != "__op"}, "missing column(s) __op"),
        ({**RECORDS[0], "__op": "x"}, "__op is 'x'"),
        ({**RECORDS[0], "__ts_ms": "yesterday"}, "__ts_ms must be integer"),
    ],
)
def test_malformed_records_fail_loudly_before_flink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: dict[str, Any], message: str
) -> None:
    records = write_jsonl(tmp_path / "r.jsonl", [RECORDS[1], broken])
    args = ["rehearse", "--routes", str(REPO / "flink_sql/routes.yaml"), "--records", str(records)]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{records}: line 2: " in err and message in err
    assert not (tmp_path / "out").exists()
