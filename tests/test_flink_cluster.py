"""The local platform's Flink session cluster (rehearsal/flink_cluster.py): its listeners stay on loopback;
`cdcctl local status` reports the routing job's state as the JobManager does; on the real cluster, a
statement set submitted through the SQL Gateway runs on after the Gateway session that submitted it is
closed, a statement Flink rejects fails with Flink's reason, and leaving the block stops every process."""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cdcctl.__main__ import main
from cdcctl.commands import local
from rehearsal.errors import EngineError
from rehearsal.flink_cluster import cluster_config, flink_home, flink_session_cluster, job_state
from rehearsal.loopback import LOOPBACK
from rehearsal.routing import engine_python

SOURCE = "CREATE TABLE numbers (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '5')"
SINK = "CREATE TABLE nowhere (id BIGINT) WITH ('connector' = 'blackhole')"
STATEMENT_SET = "EXECUTE STATEMENT SET\nBEGIN\nINSERT INTO nowhere SELECT id FROM numbers;\nEND"


def test_every_listener_is_on_loopback(tmp_path: Path) -> None:
    config = cluster_config(tmp_path, 8081, 6123, 8083)
    listeners = {key: value for key, value in config.items() if key.endswith(("address", "host", "bind-host"))}
    assert len(listeners) == 8 and set(listeners.values()) == {LOOPBACK}
    assert config["rest.port"] == "8081" and config["sql-gateway.endpoint.rest.port"] == "8083"
    assert config["taskmanager.rpc.port"] == config["blob.server.port"] == "0"  # any free port
    assert config["execution.checkpointing.dir"].startswith(f"file://{tmp_path}")


@pytest.mark.engine
def test_a_job_submitted_through_the_gateway_outlives_its_session(tmp_path: Path) -> None:
    with flink_session_cluster(flink_home(engine_python()), tmp_path / "flink") as cluster:
        processes = list(cluster.processes.values())
        job = cluster.submit([SOURCE, SINK, STATEMENT_SET])  # closes its Gateway session
        time.sleep(3)
        assert job_state(cluster.rest, job) == "RUNNING"
        with pytest.raises(EngineError, match=r"^Flink: Cannot find table .*nowhere_else"):
            cluster.submit([SOURCE, "INSERT INTO nowhere_else SELECT id FROM numbers"])
        assert job_state(cluster.rest, job) == "RUNNING"
    assert all(process.poll() is not None for process in processes) and not (tmp_path / "flink").exists()
    assert job_state(cluster.rest, job) == "UNREACHABLE"


class _JobManager(BaseHTTPRequestHandler):
    """A JobManager's REST API that knows one job, in the state the test sets."""

    state = "FAILED"

    def do_GET(self) -> None:
        known = self.path == "/jobs/routing-job"
        body = json.dumps({"jid": "routing-job", "state": self.state} if known else {"errors": ["Job not found"]})
        self.send_response(200 if known else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("state", "code"), [("RUNNING", 0), ("FAILED", 1), ("RESTARTING", 1)])
def test_status_shows_the_routing_jobs_state_and_fails_unless_running(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    state: str,
    code: int,
) -> None:
    """The bad day of a local platform whose processes are all up but whose routing job failed (a bad
    route, a broker it cannot reach): status names the job's state and exits 1."""
    monkeypatch.setattr(_JobManager, "state", state)
    server = ThreadingHTTPServer((LOOPBACK, 0), _JobManager)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(local, "STATE_ROOT", tmp_path)
    monkeypatch.setattr(local, "_listening", lambda port: True)
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev/supervisor.pid").write_text(str(os.getpid()))
    rest = f"http://{LOOPBACK}:{server.server_port}"
    state_file = {
        "bootstrap": "127.0.0.1:9092",
        "postgres": {"port": 5432},
        "components": {"kafka": os.getpid(), "flink-jobmanager": os.getpid()},
        "flink": {"rest": rest, "sqlGateway": "http://127.0.0.1:1", "routingJob": "routing-job"},
        "topics": ["raw-business-events"],
    }
    (tmp_path / "dev/state.json").write_text(json.dumps(state_file))
    try:
        assert main(["local", "status", "--stack", "dev"]) == code
    finally:
        server.shutdown()
    printed = capsys.readouterr().out
    assert f"  {'routing job':18} {state} (routing-job; web UI {rest})" in printed
    assert f"  {'flink-jobmanager':18} running" in printed
