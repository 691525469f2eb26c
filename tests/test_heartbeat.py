"""The connector's heartbeat on real PostgreSQL 15 + real Debezium, configured from the stack's own
connector settings: while only another table writes, the heartbeat keeps the slot's confirmed position
moving and its retained WAL bounded; without it the slot holds every byte the other table writes."""

from __future__ import annotations

import dataclasses
import itertools
import secrets
import time
from pathlib import Path

import pytest

from cdcctl.stack_config import stack_settings
from core.cdc_source import HEARTBEAT_TABLE, CdcSettings, heartbeat_topic
from rehearsal.cdc import _slot_active, debezium_capture, source_database
from rehearsal.postgres import LocalPostgres, local_postgres
from settings.model import region_settings
from tests.helpers import REPO

pytestmark = pytest.mark.engine

RAW = "raw-business-events"
ROUNDS = 2
ROWS_PER_ROUND = 20_000  # ~24 MiB of WAL per round (1 KiB rows)
SETTLE_S = 15.0


def slot_position(pg: LocalPostgres, slot: str) -> tuple[int, int]:
    """(confirmed_flush_lsn as bytes, retained WAL = current position - restart_lsn)."""
    row = pg.scalar(
        "SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::bigint || ',' || "
        "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint "
        f"FROM pg_replication_slots WHERE slot_name = '{slot}'"
    )
    confirmed, retained = row.split(",")
    return int(confirmed), int(retained)


def write_elsewhere(pg: LocalPostgres) -> None:
    """A busy table outside the publication, then a checkpoint (it logs the running transactions a
    slot needs before its restart_lsn can move)."""
    pg.psql("-c", f"INSERT INTO app_log (payload) SELECT repeat('x', 1000) FROM generate_series(1, {ROWS_PER_ROUND})")
    pg.psql("-c", "CHECKPOINT")


def run(cdc: CdcSettings, tmp_path: Path, settle_s: float) -> tuple[list[tuple[int, int]], int, float]:
    """Per round, the slot's (confirmed, retained) once settled (retained under 1 MiB) or after `settle_s`;
    the heartbeat records captured; and the longest a round took to settle."""
    with source_database(cdc) as source:
        pg = source.pg
        pg.psql("-c", "CREATE TABLE app_log (id bigserial PRIMARY KEY, payload text)")
        properties = source.debezium_properties(RAW)
        positions, longest = [], 0.0
        with debezium_capture(properties, tmp_path / f"captured-{cdc.heartbeat_interval_ms}.jsonl") as capture:
            capture.wait_until(lambda: _slot_active(pg, cdc.slot_name), "streaming")
            for _ in range(ROUNDS):
                write_elsewhere(pg)
                start = time.monotonic()
                # With a heartbeat the slot catches up within seconds; without one, wait it out.
                while time.monotonic() < start + settle_s and slot_position(pg, cdc.slot_name)[1] > 2**20:
                    pg.psql("-c", "CHECKPOINT")
                    time.sleep(1)
                positions.append(slot_position(pg, cdc.slot_name))
                longest = max(longest, time.monotonic() - start)
            beats = len(capture.entries()) - len(capture.entries(heartbeat_topic(RAW)))
            captured = capture.entries(heartbeat_topic(RAW))
        assert captured == []  # neither the heartbeat table nor the other table reaches the raw topic
    return positions, beats, longest


def test_the_heartbeat_keeps_the_slot_moving_while_only_another_table_writes(tmp_path: Path) -> None:
    cdc = dataclasses.replace(region_settings(stack_settings("dev", REPO)).cdc, heartbeat_interval_ms=1000)
    with_heartbeat, beats, settled_in = run(cdc, tmp_path, SETTLE_S)
    # Without: each round waits twice as long as the slowest round with the heartbeat needed to settle.
    wait = max(3.0, 2 * settled_in)
    without_heartbeat, no_beats, _ = run(dataclasses.replace(cdc, heartbeat_interval_ms=0), tmp_path, wait)
    print(f"\nwith heartbeat (confirmed_flush_lsn, retained bytes) per round: {with_heartbeat}; {beats} heartbeats")
    print(f"without heartbeat, {wait:.0f} s per round: {without_heartbeat}")
    written = ROWS_PER_ROUND * 1000
    # With: the confirmed position moves every round and the retained WAL stays under one segment.
    confirmed = [c for c, _ in with_heartbeat]
    assert settled_in < SETTLE_S, with_heartbeat
    assert confirmed == sorted(set(confirmed)), with_heartbeat
    assert all(retained < 16 * 2**20 for _, retained in with_heartbeat), with_heartbeat
    assert beats > 0
    # Without: the position stands still and the retained WAL grows with every round's writes.
    assert len({c for c, _ in without_heartbeat}) == 1, without_heartbeat
    retained = [r for _, r in without_heartbeat]
    assert all(later - earlier >= written for earlier, later in itertools.pairwise(retained))
    assert retained[-1] >= ROUNDS * written and no_beats == 0


def test_the_heartbeat_table_is_a_database_prerequisite_in_the_publication() -> None:
    cdc = region_settings(stack_settings("dev", REPO)).cdc
    with local_postgres(cdc.database) as pg:
        pg.apply_prerequisites(cdc, secrets.token_hex(16))
        published = pg.scalar(
            f"SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables "
            f"WHERE pubname = '{cdc.publication_name}'"
        )
        grants = pg.scalar(
            f"SELECT string_agg(privilege_type, ',' ORDER BY privilege_type) FROM information_schema.role_table_grants "
            f"WHERE grantee = '{cdc.user}' AND table_name = '{HEARTBEAT_TABLE}'"
        )
    assert published.split(",") == sorted([cdc.table, HEARTBEAT_TABLE])
    assert grants == "INSERT,SELECT,UPDATE"
