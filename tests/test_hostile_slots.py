"""`cdcctl slots` against a real PostgreSQL 15, as a careless operator or a broken pipeline would run it:
no live stack's slot can be dropped without --force. Each refusal: exit 2, one stderr line naming the
argument, no traceback, and every slot still there."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rehearsal.postgres import LocalPostgres, local_postgres
from tests.test_slots import cdcctl, create_slots, slot_names

pytestmark = pytest.mark.engine

SLOTS = {"cdc_dev", "cdc_pr_1", "cdc_pr_7", "cdc_prod_east"}


@pytest.fixture(scope="module")
def pg() -> Iterator[LocalPostgres]:
    with local_postgres("postgres") as server:
        yield server


@pytest.fixture(autouse=True)
def slots(pg: LocalPostgres) -> Iterator[None]:
    create_slots(pg, *sorted(SLOTS))
    yield
    pg.scalar("SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE NOT active")


def live_file(content: bytes) -> Callable[[Path], str]:
    def write(directory: Path) -> str:
        path = directory / "live.json"
        path.write_bytes(content)
        return str(path)

    return write


def fifo(directory: Path) -> str:
    os.mkfifo(directory / "live")  # no writer: reading it would block forever
    return str(directory / "live")


# (case, the --live file, the one error line after "error: FILE: ")
LIVE_CASES: list[tuple[str, Callable[[Path], str], str]] = [
    ("empty-file", live_file(b""), "--live: lists no live stack: with --drop every stack's slot would go"),
    ("empty-json-array", live_file(b"[]"), "--live: lists no live stack"),
    ("blank-lines", live_file(b"\n\n  \n"), "--live: lists no live stack"),
    (
        "pulumi-error-text",
        live_file(b"error: failed to list stacks: 401 Unauthorized\n"),
        "--live: entry 1: 'error: failed to list stacks: 401 Unauthorized' is not a stack name",
    ),
    ("not-the-array", live_file(b'{"stacks": ["dev"]}'), "--live: expected the JSON array of `pulumi stack ls --json`"),
    ("truncated-json", live_file(b'[{"name": "dev"}, {"na'), "--live: invalid JSON: "),
    ("deep-nesting", live_file(b"[" * 100_000 + b"]" * 100_000), "--live: nesting deeper than 64 levels"),
    ("not-utf8", live_file(b"dev\n\xff\xfe\n"), "--live: is not UTF-8 text"),
    ("missing", lambda d: str(d / "absent.json"), "--live: cannot read: No such file or directory"),
    ("dev-zero", lambda d: "/dev/zero", "--live: is not a regular file (a device)"),
    ("fifo", fifo, "--live: is not a regular file (a FIFO)"),
    ("a-directory", lambda d: str(d), "--live: is not a regular file (a directory)"),
]


@pytest.mark.parametrize("case, make, error", LIVE_CASES, ids=[c[0] for c in LIVE_CASES])
def test_orphans_drop_refuses_a_live_list_it_cannot_trust(
    pg: LocalPostgres, tmp_path: Path, case: str, make: Callable[[Path], str], error: str
) -> None:
    path = make(tmp_path)
    result = cdcctl(pg, "orphans", "--live", path, "--drop")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"error: {path}: {error}"), lines[0]
    assert slot_names(pg) == SLOTS


def test_a_live_list_missing_a_stack_of_this_repo_keeps_its_slot(pg: LocalPostgres) -> None:
    result = cdcctl(pg, "orphans", "--live", "-", "--drop", stdin='[{"name": "acme/cdc-platform/pr-1"}]')
    assert result.returncode == 0, result.stderr
    assert "dropped cdc_pr_7" in result.stdout
    assert slot_names(pg) == {"cdc_dev", "cdc_pr_1", "cdc_prod_east"}  # dev, prod-east: Pulumi.*.yaml here


# (case, arguments of `slots drop`, the one error line)
DROP_CASES: list[tuple[str, list[str], str]] = [
    (
        "a-stack-with-a-stack-file",
        ["--stack", "dev"],
        "error: Pulumi.dev.yaml: --stack: stack dev has a stack file here, so it is live",
    ),
    (
        "a-folded-name",
        ["--stack", "PR_1"],
        "error: --stack: 'PR_1' is not an exact stack name of [a-z0-9-]: its slot cdc_pr_1 could be another stack's",
    ),
    ("a-trailing-hyphen", ["--stack", "pr-1-"], "error: --stack: 'pr-1-' is not an exact stack name"),
    ("control-characters", ["--stack", "pr-1\x1b[2J"], "error: argument --stack: 'pr-1\\x1b[2J' is not a stack name"),
    ("wait-nan", ["--stack", "pr-7", "--wait", "nan"], "error: argument --wait: 'nan' is not a number of seconds in"),
    ("wait-inf", ["--stack", "pr-7", "--wait", "inf"], "error: argument --wait: 'inf' is not a number of seconds in"),
    ("wait-negative", ["--stack", "pr-7", "--wait", "-1"], "error: argument --wait: '-1' is not a number of seconds"),
    ("wait-zero", ["--stack", "pr-7", "--wait", "0"], "error: argument --wait: '0' is not a number of seconds in"),
    ("wait-text", ["--stack", "pr-7", "--wait", "soon"], "error: argument --wait: 'soon' is not a number of seconds"),
]


@pytest.mark.parametrize("case, arguments, error", DROP_CASES, ids=[c[0] for c in DROP_CASES])
def test_drop_refuses_what_could_drop_a_live_slot(
    pg: LocalPostgres, case: str, arguments: list[str], error: str
) -> None:
    result = cdcctl(pg, "drop", *arguments)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr and "\x1b" not in result.stderr
    assert lines[0].startswith(error), lines[0]
    assert slot_names(pg) == SLOTS


def test_force_drops_the_slot_of_a_stack_with_a_stack_file(pg: LocalPostgres) -> None:
    result = cdcctl(pg, "drop", "--stack", "dev", "--force")
    assert result.returncode == 0, result.stderr
    assert slot_names(pg) == SLOTS - {"cdc_dev"}


def test_without_libpq_variables_every_missing_one_is_named(pg: LocalPostgres) -> None:
    result = cdcctl(pg, "drop", "--stack", "pr-7", env_unset=("PGHOST", "PGUSER", "PGDATABASE"))
    assert result.returncode == 2
    assert result.stderr == (
        "error: environment: PGHOST, PGDATABASE, PGUSER: are not set "
        "(slots works on the database libpq's environment names)\n"
    )
    assert slot_names(pg) == SLOTS
