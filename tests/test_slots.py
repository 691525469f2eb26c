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


def cdcctl(
    pg: LocalPostgres, *args: str, stdin: str = "", env_unset: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """The CLI as a workflow runs it: the database named by libpq's environment only (less `env_unset`)."""
    env = {
        **os.environ,
        "PGHOST": str(pg.socket_dir),
        "PGPORT": str(pg.port),
        "PGUSER": SUPERUSER,
        "PGPASSWORD": pg.superuser_password,
        "PGDATABASE": "postgres",
    }
    for name in env_unset:
        env.pop(name, None)
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
        result = cdcctl(pg, "drop", "--stack", "pr-7", "--wait", "1")
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
    assert result.stderr.startswith("error: stdin: --live: expected the JSON array")


# --- slots status (issue 20) ------------------------------------------------------------------------------


def write_wal(pg: LocalPostgres, mib: int) -> None:
    """About `mib` MiB of WAL from a table no slot publishes."""
    pg.psql("-c", "CREATE TABLE IF NOT EXISTS filler (payload text)")
    pg.psql("-c", f"INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, {mib * 1000})")


@pytest.fixture
def ceiling_64_mib(pg: LocalPostgres) -> Iterator[None]:
    pg.psql("-c", "ALTER SYSTEM SET max_slot_wal_keep_size = '64MB'")
    pg.psql("-c", "SELECT pg_reload_conf()")
    yield
    pg.psql("-c", "ALTER SYSTEM RESET max_slot_wal_keep_size")
    pg.psql("-c", "SELECT pg_reload_conf()")


def status_lines(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {line.split()[0]: line for line in result.stdout.splitlines()[2:]}


def test_status_flags_an_inactive_slot_retaining_wal_past_the_warning_share(
    pg: LocalPostgres, ceiling_64_mib: None
) -> None:
    create_slots(pg, "cdc_stalled")
    write_wal(pg, 40)  # > 50% of 64 MiB, below the ceiling: retained, not yet lost
    create_slots(pg, "cdc_healthy")  # created after the writes: holds nothing
    result = cdcctl(pg, "status")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ceiling 64.0 MiB (max_slot_wal_keep_size), warning at 50%: 32.0 MiB" in result.stdout
    lines = status_lines(result)
    stalled, healthy = lines["cdc_stalled"].split(), lines["cdc_healthy"].split()
    assert stalled[1:3] == ["pgoutput", "-"] and float(stalled[3]) >= 32.0
    assert "OVER WARNING" in lines["cdc_stalled"] and "no connector reads it" in lines["cdc_stalled"]
    assert healthy[1:3] == ["pgoutput", "-"] and float(healthy[3]) < 1.0 and lines["cdc_healthy"].endswith(" ok")
    print("\n" + result.stdout)


def test_status_is_quiet_for_healthy_slots_and_flags_a_lost_one(pg: LocalPostgres, ceiling_64_mib: None) -> None:
    create_slots(pg, "cdc_ok")
    assert cdcctl(pg, "status").returncode == 0
    write_wal(pg, 100)  # past the 64 MiB ceiling: the next checkpoint invalidates the slot
    pg.psql("-c", "CHECKPOINT")
    result = cdcctl(pg, "status")
    assert result.returncode == 1
    line = status_lines(result)["cdc_ok"]
    assert " lost " in line and "LOST" in line and "re-snapshots" in line
    print("\n" + result.stdout)


def test_status_with_no_ceiling_says_so_and_judges_only_lost_slots(pg: LocalPostgres) -> None:
    create_slots(pg, "cdc_unbounded")
    write_wal(pg, 20)
    result = cdcctl(pg, "status", "--warning-percent", "1")
    assert result.returncode == 0
    assert "max_slot_wal_keep_size is -1 (unlimited)" in result.stderr


@pytest.mark.parametrize("share", ["0", "101", "half"])
def test_status_refuses_a_warning_share_that_is_not_a_percentage(pg: LocalPostgres, share: str) -> None:
    result = cdcctl(pg, "status", "--warning-percent", share)
    assert result.returncode == 2
    assert f"argument --warning-percent: must be a whole percentage 1..100, got '{share}'" in result.stderr
