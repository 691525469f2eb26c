"""The local platform's Flink session cluster (rehearsal/flink_cluster.py): its listeners stay on loopback;
on the real cluster, a statement set submitted through the SQL Gateway runs on after the Gateway session
that submitted it is closed, a statement Flink rejects fails with Flink's reason, and leaving the block
stops every process."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

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
