"""Prod's connector verifies the database fully (sslmode verify-full + CA bundle): the rehearsal runs
prod-east's own connector settings against real PostgreSQL 15 over verified TLS with real Debezium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdcctl.__main__ import main
from rehearsal.debezium import open_source_properties
from tests.helpers import REPO


@pytest.mark.parametrize(("sslmode", "verifies"), [("require", False), ("verify-ca", True), ("verify-full", True)])
def test_the_ca_file_goes_to_debezium_only_where_the_mode_verifies(sslmode: str, verifies: bool) -> None:
    mapped = open_source_properties(
        {"database.sslmode": sslmode}, hostname="127.0.0.1", port=5432, password="pw", root_cert="/tmp/ca.pem"
    )
    assert mapped.get("database.sslrootcert") == ("/tmp/ca.pem" if verifies else None)


@pytest.mark.engine
def test_prod_east_connector_settings_capture_over_verified_tls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changes = tmp_path / "changes.sql"
    changes.write_text(
        "INSERT INTO business_events VALUES ('tls-1', 'LoanCreated', 'LoanCreated', now(), now(), '{}');\n"
    )
    out = tmp_path / "out"
    routes = REPO / "flink_sql/routes.yaml"
    args = ["rehearse", "--routes", str(routes), "--changes", str(changes), "--stack", "prod-east", "--out", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    routed = [json.loads(line) for line in (out / "filtered-loan-created-events.jsonl").read_text().split("\n") if line]
    assert [r["id"] for r in routed] == ["tls-1"]
