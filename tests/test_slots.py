"""`cdcctl slots` against a real PostgreSQL 15: a destroyed stack's slot is dropped, an active one is
kept, and slots no live stack owns are listed (and dropped on request)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdcctl.commands.slots import Slot, orphans, owned_slot
from rehearsal.postgres import SUPERUSER, LocalPostgres, local_postgres
from tests.helpers import REPO

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def pg() -> Iterator[LocalPostgres]:
    with local_postgres("postgres") as server:
        yield server


def create_slots(pg: LocalPostgres, *names: str) -> None:
    for name in names:
        pg.scalar(f"SELECT pg_create_logical_replication_slot('{name}', 'pgoutput')")


def slot_names(pg: LocalPostgres) -> set[str]:
    return set(pg.scalar("SELECT string_agg(slot_name, ',') FROM pg_replication_slots").split(",")) - {""}


def cdcctl(pg: LocalPostgres, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The CLI as a workflow runs it: the database named by libpq's environment only."""
    env = {
        **os.environ,
        "PGHOST": str(pg.socket_dir),
        "PGPORT": str(pg.port),
        "PGUSER": SUPERUSER,
        "PGPASSWORD": pg.superuser_password,
        "PGDATABASE": "postgres",
    }
    return subprocess.run(
        [sys.executable, "-m", "cdcctl", "slots", "--psql", str(pg.bin_dir / "psql"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.fixture(autouse=True)
def no_slots(pg: LocalPostgres) -> Iterator[None]:
    yield
    pg.scalar("SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE NOT active")


def test_destroying_an_ephemeral_stack_drops_its_slot_only(pg: LocalPostgres) -> None:
    create_slots(pg, "cdc_pr_7", "cdc_pr_8")
    result = cdcctl(pg, "drop", "--stack", "pr-7")
    assert result.returncode == 0, result.stderr
    assert "dropped replication slot cdc_pr_7" in result.stdout
    assert slot_names(pg) == {"cdc_pr_8"}
    again = cdcctl(pg, "drop", "--stack", "pr-7")  # idempotent: a re-run of the workflow passes
    assert again.returncode == 0 and "no replication slot cdc_pr_7" in again.stdout


def test_an_active_slot_is_not_dropped(pg: LocalPostgres) -> None:
    create_slots(pg, "cdc_pr_7")
    server = ["-h", str(pg.socket_dir), "-p", str(pg.port), "-U", SUPERUSER, "-d", "postgres"]
    options = ["-o", "proto_version=1", "-o", "publication_names=none"]
    reader = subprocess.Popen(
        [str(pg.bin_dir / "pg_recvlogical"), *server, "--slot", "cdc_pr_7", "--start", *options, "-f", "/dev/null"],
        env={**os.environ, "PGPASSWORD": pg.superuser_password},
    )
    try:
        for _ in range(50):
            if pg.scalar("SELECT active FROM pg_replication_slots WHERE slot_name = 'cdc_pr_7'") == "t":
                break
            subprocess.run(["sleep", "0.2"], check=True)
        result = cdcctl(pg, "drop", "--stack", "pr-7", "--wait", "0")
        assert result.returncode == 1
        assert "cdc_pr_7" in result.stderr and "still active" in result.stderr
        assert "cdc_pr_7" in slot_names(pg)
    finally:
        reader.terminate()
        reader.wait(timeout=30)


def test_orphan_slots_are_listed_and_dropped_on_request(pg: LocalPostgres) -> None:
    create_slots(pg, "cdc_dev", "cdc_pr_7", "cdc_pr_9", "airbyte_slot")
    live = json.dumps([{"name": "acme-lending/cdc-platform/dev"}, {"name": "pr-9"}])
    listed = cdcctl(pg, "orphans", "--live", "-", stdin=live)
    assert listed.returncode == 1  # a scheduled sweep alerts
    assert "cdc_pr_7" in listed.stdout
    assert not {"cdc_dev", "cdc_pr_9", "airbyte_slot"} & set(listed.stdout.split())
    dropped = cdcctl(pg, "orphans", "--live", "-", "--drop", stdin=live)
    assert dropped.returncode == 0, dropped.stderr
    assert slot_names(pg) == {"cdc_dev", "cdc_pr_9", "airbyte_slot"}


def test_a_configured_slot_name_is_the_one_the_stack_owns(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text((REPO / "Pulumi.yaml").read_text())
    dev = (
        (REPO / "Pulumi.dev.yaml")
        .read_text()
        .replace("    valueFormat: JSON_SR\n", "    valueFormat: JSON_SR\n    slotName: shared_dev_slot\n", 1)
    )
    (tmp_path / "Pulumi.dev.yaml").write_text(dev)
    assert owned_slot("dev", tmp_path) == "shared_dev_slot"
    assert owned_slot("pr-12", tmp_path) == "cdc_pr_12"  # no file: the default a copy of dev gets
    found = orphans([Slot("shared_dev_slot", False, 0), Slot("cdc_dev", False, 0)], ["dev"], tmp_path)
    assert [s.name for s in found] == ["cdc_dev"]


def test_a_live_list_that_is_not_pulumi_output_is_refused(pg: LocalPostgres) -> None:
    result = cdcctl(pg, "orphans", "--live", "-", stdin='{"stacks": []}')
    assert result.returncode == 2
    assert result.stderr.startswith("error: -: --live: expected the JSON array")
