"""`cdcctl rehearse` and `routes diff` against inputs that hang, flood or crash, and against being stopped:
bad input is refused in one line before any engine starts; SIGTERM and Ctrl-C stop every child
(PostgreSQL, the engine JVM) with one line and remove the temporary directories; a JVM that cannot start
is one line and leaves its crash file in its work directory, not in the checkout."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import rehearsal.cdc
from cdcctl.__main__ import main
from tests.helpers import REPO, the_one_error_line
from tests.test_rehearsal_input import raw_record

ROUTES = str(REPO / "flink_sql/routes.yaml")
CHANGES = (
    "INSERT INTO events.business_events (id, event_name, event_type, created_date, event_data)\n"
    "VALUES ('l-1', 'LoanCreated', 'LoanCreated', now(), '{}');\n"
)


def written(content: bytes, name: str = "input") -> Callable[[Path], str]:
    def write(directory: Path) -> str:
        (directory / name).write_bytes(content)
        return str(directory / name)

    return write


def fifo(directory: Path) -> str:
    os.mkfifo(directory / "fifo")  # no writer: opening it to read would block forever
    return str(directory / "fifo")


INPUTS: list[tuple[str, Callable[[Path], str], str]] = [
    ("dev-zero", lambda d: "/dev/zero", "is not a regular file (a device)"),
    ("fifo-without-writer", fifo, "is not a regular file (a FIFO)"),
    ("a-directory", lambda d: str(d), "is not a regular file (a directory)"),
    ("missing", lambda d: str(d / "absent"), "cannot read: No such file or directory"),
    ("not-utf8", written(b"caf\xe9\n"), "is not UTF-8 text (byte 0xe9 at offset 3)"),
    ("too-large", written(b"\n" * (16 * 2**20 + 1)), "is larger than 16 MiB"),
]
RECORDS_ONLY: list[tuple[str, Callable[[Path], str], str]] = [
    ("empty", written(b""), "holds no records: there is nothing to route"),
    ("blank-lines", written(b"\n \n\n"), "holds no records: there is nothing to route"),
]


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Starting PostgreSQL or Flink fails the test: bad input must be refused before."""

    def started(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an engine was started")

    monkeypatch.setattr(rehearsal.cdc, "local_postgres", started)
    monkeypatch.setattr("rehearsal.routing.run_on_flink", started)


@pytest.mark.parametrize("case, make, error", INPUTS + RECORDS_ONLY, ids=[c[0] for c in INPUTS + RECORDS_ONLY])
@pytest.mark.parametrize("argument", ["--records", "--samples"])
def test_records_that_cannot_be_read_are_one_line_before_flink(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_engine: None,
    argument: str,
    case: str,
    make: Callable[[Path], str],
    error: str,
) -> None:
    path = make(tmp_path)
    if argument == "--records":
        command = ["rehearse", "--routes", ROUTES, "--records", path, "--out", str(tmp_path / "out")]
    else:
        command = ["routes", "diff", "--base", "HEAD", "--routes", ROUTES, "--samples", path]
    started = time.monotonic()
    assert main(command) == 2
    assert the_one_error_line(capsys) == f"error: {path}: {argument}: {error}"
    assert time.monotonic() - started < 20
    assert not (tmp_path / "out").exists()


def test_a_record_nested_too_deep_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_engine: None
) -> None:
    path = written(b"[" * 200_000 + b"]" * 200_000 + b"\n")(tmp_path)
    assert main(["rehearse", "--routes", ROUTES, "--records", path, "--out", str(tmp_path / "out")]) == 2
    assert the_one_error_line(capsys) == f"error: {path}: line 1: nesting deeper than 64 levels"


@pytest.mark.parametrize(
    "case, make, error",
    [*INPUTS, ("empty", written(b"  \n"), "is empty: there are no changes to capture")],
    ids=[*(c[0] for c in INPUTS), "empty"],
)
@pytest.mark.parametrize("argument", ["--changes", "--before"])
def test_sql_scripts_are_checked_before_postgresql_starts(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_engine: None,
    argument: str,
    case: str,
    make: Callable[[Path], str],
    error: str,
) -> None:
    path = make(tmp_path)
    good = written(CHANGES.encode(), "good.sql")(tmp_path)
    scripts = ["--changes", path] if argument == "--changes" else ["--before", path, "--changes", good]
    assert main(["rehearse", "--routes", ROUTES, *scripts, "--out", str(tmp_path / "out")]) == 2
    assert the_one_error_line(capsys) == f"error: {path}: {argument}: {error}"


# --- stopped from outside: real PostgreSQL, real Flink --------------------------------------------------


def engines_in(directory: Path) -> list[int]:
    """Processes (the engine child, its JVM) whose working directory is under `directory`."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if os.readlink(proc / "cwd").startswith(str(directory)):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def postmasters_in(directory: Path) -> list[int]:
    """PostgreSQL servers whose data directory is under `directory`."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command and command[0].endswith(b"postgres") and any(str(directory).encode() in a for a in command):
            found.append(int(proc.name))
    return found


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    """TMPDIR of the command under test: every temporary directory it makes is visible here. Outside
    pytest's own (0700) tree and sticky like /tmp: the throw-away PostgreSQL runs as the postgres user
    when tests run as root."""
    directory = Path(tempfile.mkdtemp(prefix="cdc-hostile-"))
    os.chmod(directory, 0o1777)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def start(command: list[str], tmp: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cdcctl", *command],
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(tmp), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(
    condition: Callable[[], bool], what: str, seconds: float = 120, process: subprocess.Popen[str] | None = None
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process is None or process.poll() is None, f"exited before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.mark.engine
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_capture_stops_postgresql_and_removes_its_directory(
    tmp_path: Path, private_tmp: Path, signum: int
) -> None:
    changes = written(CHANGES.encode(), "changes.sql")(tmp_path)
    process = start(["rehearse", "--routes", ROUTES, "--changes", changes, "--out", str(tmp_path / "out")], private_tmp)
    wait_for(lambda: bool(postmasters_in(private_tmp)), "PostgreSQL to start", process=process)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signum, err
    assert "Traceback" not in err
    name = signal.Signals(signum).name
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"interrupted by {name}: stopped PostgreSQL") and last.endswith("temporary files removed")
    wait_for(lambda: not postmasters_in(private_tmp), "PostgreSQL to stop", 30)
    assert list(private_tmp.iterdir()) == []


@pytest.mark.engine
def test_a_stopped_flink_run_stops_the_engine_and_its_jvm(tmp_path: Path, private_tmp: Path) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text(json.dumps(raw_record("loan-1")) + "\n")
    process = start(
        ["rehearse", "--routes", ROUTES, "--records", str(records), "--out", str(tmp_path / "out")], private_tmp
    )
    wait_for(
        lambda: len(engines_in(private_tmp)) >= 2, "the engine and its JVM", process=process
    )  # the Python child and java
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == "interrupted by SIGTERM: stopped Flink engine; temporary files removed"
    wait_for(lambda: not engines_in(private_tmp), "the engine's processes to end", 30)
    assert list(private_tmp.iterdir()) == []
    assert not (tmp_path / "out").exists()


@pytest.mark.engine
def test_a_jvm_that_cannot_start_is_one_line_and_leaves_no_crash_file_in_the_checkout(
    tmp_path: Path, private_tmp: Path
) -> None:
    before = set(REPO.glob("hs_err_pid*.log"))
    records = tmp_path / "records.jsonl"
    records.write_text(json.dumps(raw_record("loan-1")) + "\n")
    process = start(
        ["rehearse", "--routes", ROUTES, "--records", str(records), "--out", str(tmp_path / "out")],
        private_tmp,
        JAVA_TOOL_OPTIONS="-Xmx12m -XX:+CrashOnOutOfMemoryError",
    )
    _, err = process.communicate(timeout=180)
    assert process.returncode == 1
    errors = [line for line in err.splitlines() if not line.startswith("[")]  # progress lines start with [
    assert len(errors) == 1 and "Traceback" not in err, err
    assert errors[0].startswith("error: Flink job failed (exit 1): the JVM crashed: fatal error: OutOfMemory")
    assert "hs_err_pid" in errors[0] and "in its work directory" in errors[0]
    assert set(REPO.glob("hs_err_pid*.log")) == before
    assert list(private_tmp.iterdir()) == []
