"""`cdcctl slots drop --stack S` / `cdcctl slots orphans --live FILE [--drop]`: the replication slots
stacks leave on a shared database. `cdcctl slots status`: how much WAL each slot holds back.

Every stack's connector creates its own logical replication slot (`cdc_<stack>` unless `cdc.slotName`
says otherwise). Destroying a stack deletes the connector, not the slot, and an unconsumed slot keeps
every WAL segment from its position on: the shared dev database's disk fills. So destroying an
ephemeral stack ends with `slots drop`, and a nightly sweep lists (and may drop) slots no live stack
owns.

The database is the one libpq's environment names (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD or
PGPASSFILE, PGSSLMODE; or PGSERVICE): credentials never appear on a command line, and a missing target is
named rather than left to libpq's defaults.

A dropped slot of a live stack costs every consumer a full re-snapshot, so: `drop` refuses a stack that
has a stack file in the repo (a live one; `pulumi destroy --remove` deletes the file) unless --force, and
takes exact names only (PR_1 would fold onto pr-1's slot); `orphans --drop` refuses a live list that is
empty or not well formed, and never counts a stack with a stack file here as gone. Dropping a slot needs a superuser
or, on RDS/Aurora, the master user (rds_superuser). Only inactive slots are dropped: an active one
still has a connector reading it; right after a destroy the walsender may take a moment to exit, so
`drop` waits for it (`--wait`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cdcctl.environment import required_variables
from cdcctl.stack_config import stack_settings
from core.config_node import ConfigError
from core.input_file import parse_json, read_text
from core.naming import replication_slot
from rehearsal.errors import EngineError
from settings.model import GlobalStackSettings, stack_file

# Slots this program names (the default and any configured cdc.slotName start this way by convention).
SLOT_PREFIX = "cdc_"
# Stack names whose default slot no other name shares: replication_slot() lowercases and turns "-" into
# "_", so only this form maps one-to-one (PR_1 and pr-1 would both drop cdc_pr_1).
EXACT_STACK_NAME = r"[a-z0-9]+(-[a-z0-9]+)*"
# `pulumi stack ls --json` names: [org/[project/]]stack, Pulumi's stack-name characters.
LISTED_STACK = r"([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+"
LIBPQ_TARGET = ("PGHOST", "PGDATABASE", "PGUSER")


@dataclass(frozen=True)
class Slot:
    name: str
    active: bool
    retained_bytes: int  # WAL the slot holds back from removal


def run(args: argparse.Namespace) -> int:
    # Every argument and the live list first: nothing is asked of the database before they are sound.
    if args.slots_command == "drop":
        _check_droppable(args.stack, args.force)
    elif args.slots_command == "orphans":
        live = _live_stacks(args.live, args.drop)
    if "PGSERVICE" not in os.environ:
        required_variables(LIBPQ_TARGET, "slots works on the database libpq's environment names")
    database = Database(args.psql)
    if args.slots_command == "drop":
        return _drop_stack_slot(database, args.stack, args.wait)
    if args.slots_command == "status":
        return _status(database, args.warning_percent)
    return _orphans(database, live, args.drop)


def _check_droppable(stack: str, force: bool, root: Path | None = None) -> None:
    if not re.fullmatch(EXACT_STACK_NAME, stack):
        raise ConfigError(
            "--stack",
            "",
            f"{stack!r} is not an exact stack name of [a-z0-9-]: its slot {replication_slot(stack)} "
            "could be another stack's",
        )
    if (Path(root or Path.cwd()) / stack_file(stack)).is_file() and not force:
        raise ConfigError(
            stack_file(stack),
            "--stack",
            f"stack {stack} has a stack file here, so it is live: dropping its slot forces a full re-snapshot "
            "for every consumer (`pulumi destroy --remove` deletes the file; --force if it is gone anyway)",
        )


def owned_slot(stack: str, root: Path | None = None) -> str:
    """The slot a stack's connector uses: its file's `cdc.slotName` when the repo has the file, else the
    default (a pr-N stack's file exists only while its workflow runs)."""
    root = root or Path.cwd()
    if not (root / stack_file(stack)).is_file():
        return replication_slot(stack)
    settings = stack_settings(stack, root)
    if isinstance(settings, GlobalStackSettings):
        return replication_slot(stack)  # a global stack runs no connector; its default name is harmless
    return settings.region.cdc.slot_name


def orphans(slots: list[Slot], live_stacks: list[str], root: Path | None = None) -> list[Slot]:
    """The program's slots (SLOT_PREFIX) that no live stack owns; a stack with a stack file in the repo
    counts as live whatever the list says."""
    files = {
        path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for path in Path(root or Path.cwd()).glob("Pulumi.*.yaml")
    }
    owned = {owned_slot(stack, root) for stack in {*live_stacks, *files}}
    return [s for s in slots if s.name.startswith(SLOT_PREFIX) and s.name not in owned]


class Database:
    """psql against the database libpq's environment names."""

    def __init__(self, psql: str | None) -> None:
        found = psql or shutil.which("psql") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))), None)
        if not found:
            raise EngineError("psql not found: install postgresql-client or pass --psql PATH")
        self.psql = str(found)

    def query(self, sql: str, **variables: str) -> list[list[str]]:
        command = [self.psql, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
        for name, value in variables.items():
            command += ["-v", f"{name}={value}"]
        result = subprocess.run(
            command, input=sql, capture_output=True, text=True, check=False, env=os.environ.copy(), timeout=60
        )
        if result.returncode != 0:
            raise EngineError(f"psql failed: {result.stderr.strip()}")
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def slots(self) -> list[Slot]:
        rows = self.query(
            "SELECT slot_name, active, COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint "
            "FROM pg_replication_slots WHERE slot_type = 'logical' ORDER BY slot_name;"
        )
        return [Slot(name, active == "t", int(retained)) for name, active, retained in rows]

    def drop(self, slot: str) -> None:
        # :'slot' is psql's quoted-literal interpolation: the name is data, never SQL.
        self.query("SELECT pg_drop_replication_slot(:'slot');", slot=slot)


def _drop_stack_slot(database: Database, stack: str, wait_seconds: float) -> int:
    slot = owned_slot(stack)
    deadline = time.monotonic() + wait_seconds
    while True:
        found = {s.name: s for s in database.slots()}.get(slot)
        if found is None:
            print(f"{stack}: no replication slot {slot} (already dropped, or the connector never ran)")
            return 0
        if not found.active:
            database.drop(slot)
            print(f"{stack}: dropped replication slot {slot} (it held {_size(found.retained_bytes)} of WAL)")
            return 0
        if time.monotonic() >= deadline:
            raise EngineError(
                f"replication slot {slot} of stack {stack} is still active after {wait_seconds:.0f} s: "
                "a connector still reads it (destroy the stack first)"
            )
        time.sleep(2)


def _orphans(database: Database, live_stacks: list[str], drop: bool) -> int:
    found = orphans(database.slots(), live_stacks)
    if not found:
        print(f"no orphan replication slots ({len(live_stacks)} live stack(s))")
        return 0
    print(f"{'SLOT':<40} {'ACTIVE':<7} RETAINED WAL")
    for slot in found:
        print(f"{slot.name:<40} {'yes' if slot.active else 'no':<7} {_size(slot.retained_bytes)}")
    if drop:
        for slot in found:
            if slot.active:
                print(f"kept {slot.name}: active (a connector outside the live stacks reads it)", file=sys.stderr)
            else:
                database.drop(slot.name)
                print(f"dropped {slot.name}")
    # Non-zero while anything orphaned remains, so a scheduled run alerts.
    return 0 if drop and not any(s.active for s in found) else 1


def _live_stacks(path: str, dropping: bool) -> list[str]:
    """Stack names from `pulumi stack ls --json` output (or one name per line); `-` reads stdin. Anything
    else (an error message, a truncated file) is refused; so is an empty list when slots are to be dropped:
    it would make every stack's slot an orphan."""
    file = "stdin" if path == "-" else path
    text = read_text(path, "--live")
    if text.lstrip().startswith(("[", "{")):
        listed = parse_json(text, file, "--live")
        if not isinstance(listed, list) or not all(isinstance(s, dict) and "name" in s for s in listed):
            raise ConfigError(file, "--live", "expected the JSON array of `pulumi stack ls --json`")
        names = [s["name"] for s in listed]
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    for number, name in enumerate(names, start=1):
        if not isinstance(name, str) or not re.fullmatch(LISTED_STACK, name):
            raise ConfigError(file, f"--live: entry {number}", f"{str(name)[:60]!r} is not a stack name")
    if dropping and not names:
        raise ConfigError(file, "--live", "lists no live stack: with --drop every stack's slot would go")
    # `pulumi stack ls` may print org/project/stack; the stack is the last part.
    return [name.rsplit("/", 1)[-1] for name in names]


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MiB"


# --- `slots status` (issue 20) ------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotHealth:
    name: str
    plugin: str
    active_pid: str  # empty when no connector reads the slot
    retained_bytes: int  # pg_current_wal_lsn() - restart_lsn
    wal_status: str  # reserved | extended | unreserved | lost (pg_replication_slots)


def slot_health(database: Database) -> tuple[list[SlotHealth], int | None]:
    """Every slot, and the ceiling in bytes (`max_slot_wal_keep_size`; None: -1, unlimited)."""
    rows = database.query(
        "SELECT slot_name, COALESCE(plugin, slot_type), COALESCE(active_pid::text, ''), "
        "COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint, COALESCE(wal_status, '') "
        "FROM pg_replication_slots ORDER BY slot_name;"
    )
    # The setting in MB (its unit), whatever unit it was written in; -1 = no ceiling.
    (ceiling,) = database.query("SELECT setting::bigint FROM pg_settings WHERE name = 'max_slot_wal_keep_size';")[0]
    slots = [SlotHealth(name, plugin, pid, int(retained), wal) for name, plugin, pid, retained, wal in rows]
    return slots, None if int(ceiling) < 0 else int(ceiling) * 2**20


def verdict(slot: SlotHealth, warning_bytes: int | None) -> tuple[bool, str]:
    """(needs attention, what it means and the next step)."""
    if slot.wal_status == "lost":
        return True, (
            "LOST: WAL it needs was removed past max_slot_wal_keep_size; the connector cannot resume. Next: "
            "drop the slot (`slots drop --stack S`), restart the connector: it re-snapshots (README Source health)"
        )
    reading = (
        "a connector reads it but is behind: check `cdcctl status`"
        if slot.active_pid
        else (
            "no connector reads it: resume the connector (`cdcctl status --stack S`), or drop it if no stack owns it "
            "(`slots orphans`)"
        )
    )
    if slot.wal_status == "unreserved":
        return True, f"UNRESERVED: past max_wal_size, it will be lost at a coming checkpoint; {reading}"
    if warning_bytes is not None and slot.retained_bytes >= warning_bytes:
        return True, f"OVER WARNING: holds {_size(slot.retained_bytes)} (>= {_size(warning_bytes)}); {reading}"
    return False, "ok"


def _status(database: Database, warning_percent: int) -> int:
    slots, ceiling = slot_health(database)
    warning = None if ceiling is None else ceiling * warning_percent // 100
    if ceiling is None:
        print("max_slot_wal_keep_size is -1 (unlimited): a stalled slot can fill the disk", file=sys.stderr)
    else:
        print(
            f"ceiling {_size(ceiling)} (max_slot_wal_keep_size), warning at {warning_percent}%: {_size(warning or 0)}"
        )
    print(f"{'SLOT':<32} {'PLUGIN':<10} {'ACTIVE PID':<10} {'RETAINED WAL':>13} {'WAL STATUS':<10} VERDICT")
    unhealthy = 0
    for slot in slots:
        bad, text = verdict(slot, warning)
        unhealthy += bad
        print(
            f"{slot.name:<32} {slot.plugin:<10} {slot.active_pid or '-':<10} {_size(slot.retained_bytes):>13} "
            f"{slot.wal_status or '-':<10} {text}"
        )
    return 1 if unhealthy else 0
