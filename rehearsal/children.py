"""The processes a rehearsal starts (the Flink/Debezium engine JVM, PostgreSQL, and whatever comes next,
such as a Kafka broker), stopped whatever ends the run: success, an error, Ctrl-C, or SIGTERM from a CI
cancel or `timeout`.

Two pieces:
- `interruptible()` turns SIGTERM, SIGINT and SIGHUP into an `Interrupted` exception in the main thread, so
  every `finally` and context manager on the way out runs (temporary directories are removed, servers
  stopped) instead of the process dying where it stands; a second signal during that clean-up is ignored.
- `child(name, command, ...)` starts a process in its own process group (a terminal's Ctrl-C reaches only
  cdcctl, which stops children in order) and stops the whole group (the engine's JVM grandchild too) when
  its block ends; `service(name, stop)` registers something started another way (PostgreSQL's pg_ctl).
  `running()` names what is up, for the one line an interrupt prints.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Any

STOP_TIMEOUT_S = 10.0
SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

_running: dict[int, str] = {}
_next = iter(range(1, 2**62))


class Interrupted(BaseException):
    """A stop signal arrived: raised where the main thread was, so clean-up runs on the way out.
    A BaseException, like KeyboardInterrupt, so `except Exception` never swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.stopping = running()


def running() -> list[str]:
    """Names of the children and services currently up, oldest first."""
    return list(_running.values())


@contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, a stop signal raises Interrupted once; previous handlers are restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    interrupted = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupted
        if interrupted:
            return  # already cleaning up: let it finish
        interrupted = True
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, stop) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def service(name: str, stop: Callable[[], None]) -> Iterator[None]:
    """Something already started (a daemon) that `stop` ends; `stop` runs when the block ends and must
    not raise (a clean-up failure must not hide why the block ended)."""
    token = next(_next)
    _running[token] = name
    try:
        yield
    finally:
        try:
            stop()
        finally:
            _running.pop(token, None)


@contextmanager
def child(name: str, command: list[str], **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """Start `command` in its own process group; when the block ends, for any reason, the group is
    stopped: SIGTERM, then SIGKILL after STOP_TIMEOUT_S."""
    process = subprocess.Popen(command, start_new_session=True, **popen)
    with service(name, lambda: stop_group(process)):
        yield process


def stop_group(process: subprocess.Popen[Any]) -> None:
    """End a child started by `child` and everything it started (its process group): SIGTERM, time to
    exit (a JVM runs its shutdown hooks), then SIGKILL for whatever is left."""
    with suppress(ProcessLookupError):  # the group is gone already (every member exited)
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT_S)
    wait_for_group(process.pid, deadline - time.monotonic())  # the leader is reaped; the JVM may still be exiting
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_for_group(group: int, timeout: float) -> bool:
    """Wait until no process of `group` runs (group_alive), at most `timeout` seconds; whether it is gone."""
    deadline = time.monotonic() + timeout
    while group_alive(group):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def group_alive(group: int) -> bool:
    """Whether any process of `group` still runs. A member that has exited but is not yet reaped (a zombie)
    does not count: the engine's JVM outlives the engine by a moment, and once orphaned it is reaped by
    init, which in a container or micro-VM can take seconds (measured here: about 1.5 s per Flink run)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return _running_member(group)


def _running_member(group: int) -> bool:
    """Linux: /proc/<pid>/stat is `pid (comm) state ppid pgrp ...`; elsewhere, assume one runs."""
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            state, _parent, member_of = stat.read_text(encoding="utf-8", errors="replace").rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue  # exited while listed
        if int(member_of) == group and state != "Z":
            return True
    return False


def die_with_parent() -> None:
    """In a server's process before it runs Java (`preexec_fn`): on Linux the kernel sends it SIGTERM when
    the process that started it dies, even by SIGKILL (prctl PR_SET_PDEATHSIG, man 2 prctl; kept across
    exec), so no broker or Flink process outlives its cdcctl; its clean shutdown runs as for any SIGTERM."""
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_process(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM (the server's clean shutdown), SIGKILL if it has not exited after `timeout` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
