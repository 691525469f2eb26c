"""`cdcctl local up|status|down [--stack dev]`: a persistent local platform for consumer-app developers,
on loopback only: the Kafka broker (the stack's topics, principals and ACLs, SASL_SSL), PostgreSQL with
the database prerequisites, Debezium capturing into the raw topic with the stack's connector settings,
and the stack's routes as a persistent streaming job on a Flink session cluster, submitted through its SQL
Gateway. `up` starts a detached supervisor
(cdcctl/local_platform.py) and prints how to connect; `status` shows each component and per-topic
record counts (exit 1 when not running or a component is down); `down` stops everything and removes
the state. A second `up` says it is already running."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cdcctl.stack_config import stack_settings
from rehearsal.errors import EngineError
from rehearsal.flink_cluster import gateway_jar, job_state
from rehearsal.kafka import broker_classpath
from rehearsal.routing import PROJECT_ROOT, engine_python
from settings.model import region_settings

STATE_ROOT = PROJECT_ROOT / ".cdc-local"
START_TIMEOUT_S = 600.0
STOP_TIMEOUT_S = 180.0


def run(args: argparse.Namespace) -> int:
    state_dir = STATE_ROOT / args.stack
    if args.action == "up":
        return up(args.stack, state_dir)
    if args.action == "status":
        return status(args.stack, state_dir)
    return down(args.stack, state_dir)


def process_alive(pid: int) -> bool:
    """Running (a zombie has exited: only its parent has not collected its status yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def supervisor(state_dir: Path) -> int | None:
    """The running supervisor's pid, if any."""
    try:
        pid = int((state_dir / "supervisor.pid").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return pid if process_alive(pid) else None


def up(stack: str, state_dir: Path) -> int:
    pid = supervisor(state_dir)
    if pid is not None:
        print(
            f"the local platform of stack {stack} is already running (supervisor pid {pid}): "
            f"`cdcctl local status --stack {stack}`"
        )
        return 0
    region_settings(stack_settings(stack))  # a bad stack fails here (exit 2), before anything starts
    # So does a missing engine (the supervisor would fail in its log): the interpreter and the jars.
    engine_python()
    broker_classpath()
    gateway_jar()
    shutil.rmtree(state_dir, ignore_errors=True)  # what a platform that is gone left behind
    STATE_ROOT.mkdir(mode=0o700, exist_ok=True)
    state_dir.mkdir(mode=0o700)
    log = state_dir / "supervisor.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cdcctl.local_platform", stack, str(state_dir)],
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,  # outlives this command and the terminal's Ctrl-C
        )
    (state_dir / "supervisor.pid").write_text(str(process.pid))
    print(f"starting the local platform of stack {stack} (Kafka, PostgreSQL, Debezium, Flink)...", file=sys.stderr)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (state_dir / "state.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process.pid)
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            shutil.rmtree(state_dir, ignore_errors=True)
            raise EngineError(f"the local platform did not start:\n{tail}")
        time.sleep(0.5)
    print(describe(json.loads((state_dir / "state.json").read_text(encoding="utf-8"))))
    return 0


def describe(state: dict[str, Any]) -> str:
    pg = state["postgres"]
    lines = [
        f"Local platform of stack {state['stack']} (loopback only; stop it with `cdcctl local down --stack "
        f"{state['stack']}`)",
        f"  bootstrap.servers={state['bootstrap']}  security.protocol={state['securityProtocol']}  "
        f"sasl.mechanisms={state['saslMechanism']}  ssl.ca.location={state['caFile']}",
        f"  PostgreSQL: PGPASSWORD={pg['password']} psql -h {pg['host']} -p {pg['port']} -U {pg['user']} "
        f"{pg['database']}   (changes are captured into the raw topic and routed)",
        f"  Flink: web UI {state['flink']['rest']}  SQL Gateway {state['flink']['sqlGateway']}  routing job "
        f"{state['flink']['routingJob']}",
        "  Consumers (librdkafka sasl.username / sasl.password, topics, group.id prefix):",
    ]
    for name, consumer in state["consumers"].items():
        lines.append(
            f"    {name}: {consumer['username']} / {consumer['password']}  topics {', '.join(consumer['topics'])}  "
            f"group.id {consumer['groupPrefix']}*"
        )
    return "\n".join(lines)


def status(stack: str, state_dir: Path) -> int:
    if supervisor(state_dir) is None:
        print(f"the local platform of stack {stack} is not running")
        return 1
    try:
        state = json.loads((state_dir / "state.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"the local platform of stack {stack} is starting")
        return 1
    components = {name: process_alive(pid) for name, pid in state["components"].items()}
    components["postgres"] = _listening(state["postgres"]["port"])
    flink = state["flink"]
    routing = job_state(flink["rest"], flink["routingJob"])
    print(f"Local platform of stack {stack}: {state['bootstrap']}")
    for name, running in components.items():
        print(f"  {name:18} {'running' if running else 'DOWN'}")
    print(f"  {'routing job':18} {routing} ({flink['routingJob']}; web UI {flink['rest']})")
    try:
        counts = json.loads((state_dir / "counts.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        counts = {"at": time.time(), "counts": {}}
    print(f"  records per topic ({time.time() - counts['at']:.0f} s ago):")
    for topic in state["topics"]:
        print(f"    {topic}: {counts['counts'].get(topic, '?')}")
    return 0 if all(components.values()) and routing == "RUNNING" else 1


def down(stack: str, state_dir: Path) -> int:
    pid = supervisor(state_dir)
    if pid is not None:
        _stop(pid)
    shutil.rmtree(state_dir, ignore_errors=True)
    print(f"the local platform of stack {stack} is {'stopped' if pid is not None else 'not running'}")
    return 0


def _stop(pid: int) -> None:
    """SIGTERM: the supervisor stops its engines through their context managers; SIGKILL to its
    process group if it has not exited in time."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    if process_alive(pid):
        os.killpg(pid, signal.SIGKILL)  # with the broker and Debezium, which share its group


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0
