"""`cdcctl local up|status|down` on the real engines: a row inserted into the local PostgreSQL reaches its
routed topic (Debezium -> Kafka -> the routes on Flink -> Kafka) and is read with the consumer
credentials `up` prints; a second `up` says it is already running; `down` leaves no process and no
state."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer

from cdcctl.__main__ import main
from cdcctl.commands import local
from cdcctl.commands.local import process_alive
from rehearsal.postgres import _bin_dir

pytestmark = pytest.mark.engine

TOPIC = "filtered-loan-created-events"
ROW = (
    "INSERT INTO business_events (id, event_name, event_type, created_date, saved_date, event_data) "
    "VALUES ('local-1', 'LoanCreated', 'LoanCreated', now(), now(), '{\"eventBody\": {}}')"
)


def test_up_status_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(local, "STATE_ROOT", tmp_path / "state")
    state_dir = tmp_path / "state/dev"
    pids: list[int] = []
    try:
        assert main(["local", "up", "--stack", "dev"]) == 0
        printed = capsys.readouterr().out
        assert "bootstrap.servers=127.0.0.1:" in printed and "loan-consumer: loan-consumer / " in printed
        state = json.loads((state_dir / "state.json").read_text())
        pids = [int((state_dir / "supervisor.pid").read_text()), *state["components"].values()]

        assert main(["local", "up", "--stack", "dev"]) == 0
        assert "is already running" in capsys.readouterr().out

        pg = state["postgres"]
        psql = [str(_bin_dir() / "psql"), "-h", pg["host"], "-p", str(pg["port"]), "-U", pg["user"], pg["database"]]
        subprocess.run(
            [*psql, "-v", "ON_ERROR_STOP=1", "-c", ROW],
            env={**os.environ, "PGPASSWORD": pg["password"]},
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            counts = json.loads((state_dir / "counts.json").read_text())["counts"]
            if counts.get(TOPIC):
                break
            time.sleep(2)
        assert main(["local", "status", "--stack", "dev"]) == 0
        status = capsys.readouterr().out
        for component in (
            "kafka",
            "debezium",
            "flink-jobmanager",
            "flink-taskmanager",
            "flink-sql-gateway",
            "postgres",
        ):
            assert f"  {component:18} running" in status
        assert f"  {'routing job':18} RUNNING ({state['flink']['routingJob']};" in status
        assert f"    {TOPIC}: 1\n" in status

        consumer = state["consumers"]["loan-consumer"]
        client = Consumer(
            {
                "bootstrap.servers": state["bootstrap"],
                "security.protocol": "SASL_SSL",
                "sasl.mechanisms": "PLAIN",
                "sasl.username": consumer["username"],
                "sasl.password": consumer["password"],
                "ssl.ca.location": state["caFile"],
                "group.id": f"{consumer['groupPrefix']}app",
                "auto.offset.reset": "earliest",
            }
        )
        client.subscribe([TOPIC])
        message = None
        for _ in range(60):
            message = client.poll(1.0)
            if message is not None:
                break
        client.close()
        assert message is not None and message.error() is None
        assert json.loads(message.value())["id"] == "local-1" and message.key() == b'{"id":"local-1"}'
    finally:
        assert main(["local", "down", "--stack", "dev"]) == 0
    assert "is stopped" in capsys.readouterr().out
    assert not state_dir.exists()
    assert pids and not [pid for pid in pids if process_alive(pid)]
    assert main(["local", "status", "--stack", "dev"]) == 1
