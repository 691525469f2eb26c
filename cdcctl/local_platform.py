"""The persistent local platform behind `cdcctl local`: a supervisor process, detached from the command
that started it, runs the rehearsal's engines until it gets SIGTERM (or SIGINT), then stops them through
their own context managers (the same clean-up as a rehearsal's) and removes its state.

  python -m cdcctl.local_platform STACK STATE_DIR

Runs: the local Kafka broker (the stack's principals, ACLs and topics), PostgreSQL with the database
prerequisites, Debezium capturing into the raw topic with the stack's connector settings, and the stack's
compiled routes on a Flink session cluster (JobManager, TaskManager, SQL Gateway: rehearsal/flink_cluster.py),
submitted through the Gateway as one persistent streaming job (Kafka to Kafka, keyed by id). STATE_DIR/state.json (0600)
tells `cdcctl local` how to reach them; STATE_DIR/counts.json holds the topics' record counts (every 5 s).
The engines' own directories go with them; `cdcctl local down` removes STATE_DIR once this has exited.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from cdcctl.rehearsal_kafka import rehearsal_kafka, stack_layout
from cdcctl.stack_config import stack_settings
from core import naming
from core.raw_record import RAW_TOPIC
from flink_sql.compiler import compile_routes
from flink_sql.routes import consumers, load_routes
from rehearsal.cdc import debezium_capture, source_database
from rehearsal.flink_cluster import flink_home, flink_session_cluster
from rehearsal.loopback import LOOPBACK
from rehearsal.postgres import SUPERUSER
from rehearsal.routing import engine_python, kafka_table_options
from settings.model import region_settings

COUNT_INTERVAL_S = 5.0


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Atomically, readable by its owner only (it holds local passwords)."""
    temporary = path.with_suffix(".tmp")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
        json.dump(document, out, indent=2)
    temporary.replace(path)


def _write_counts(state_dir: Path, counts: dict[str, int]) -> None:
    write_json(state_dir / "counts.json", {"at": time.time(), "counts": counts})


def serve(stack: str, state_dir: Path) -> None:
    stop = threading.Event()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    settings = stack_settings(stack)
    region = region_settings(settings)
    routes = load_routes(settings.routes_file)
    enabled = [r for r in routes if r.enabled]
    layout = stack_layout(region)
    topics = [layout.raw_topic, *(r.output_topic for r in enabled)]
    with source_database(region.cdc) as source, rehearsal_kafka(routes, layout) as kafka:
        pg = source.pg
        kafka.create_topics(layout.source_topics())
        kafka.create_topics({r.output_topic: layout.routed_partitions for r in enabled})
        properties = source.debezium_properties(layout.raw_topic)
        compiled = compile_routes(
            enabled,
            RAW_TOPIC,
            source_options=kafka_table_options(kafka, layout.raw_topic, source=True, bounded=False),
            sink_options_for={r.output_topic: kafka_table_options(kafka, r.output_topic) for r in enabled},
        )
        captured = state_dir / "captured.jsonl"
        with (
            debezium_capture(properties, captured, kafka.client_config(naming.CDC_CONNECTOR)) as capture,
            flink_session_cluster(flink_home(engine_python()), state_dir / "flink") as flink,
        ):
            job = flink.submit([compiled.source_ddl, *compiled.sink_ddl, compiled.statement_set])
            _write_counts(state_dir, kafka.topic_counts(topics))  # before state.json: `up` is then complete
            write_json(
                state_dir / "state.json",
                {
                    "stack": stack,
                    "bootstrap": kafka.bootstrap,
                    "caFile": str(kafka.ca_file),
                    "securityProtocol": "SASL_SSL",
                    "saslMechanism": "PLAIN",
                    "postgres": {
                        "host": LOOPBACK,
                        "port": pg.port,
                        "database": region.cdc.database,
                        "user": SUPERUSER,
                        "password": pg.superuser_password,
                    },
                    "consumers": {
                        name: {
                            "username": name,
                            "password": kafka.passwords[name],
                            "topics": [r.output_topic for r in enabled if r.consumer == name],
                            "groupPrefix": naming.consumer_group_prefix(name),
                        }
                        for name in consumers(routes)
                    },
                    "components": {
                        "kafka": kafka.process.pid,
                        "debezium": capture.process.pid,
                        **{name: process.pid for name, process in flink.processes.items()},
                    },
                    "flink": {"rest": flink.rest, "sqlGateway": flink.gateway, "routingJob": job},
                    "topics": topics,
                },
            )
            while not stop.wait(COUNT_INTERVAL_S):
                _write_counts(state_dir, kafka.topic_counts(topics))


if __name__ == "__main__":
    serve(sys.argv[1], Path(sys.argv[2]))
