"""Routing benchmark end to end through the rehearsal's Kafka broker, as `cdcctl rehearse` runs it.

Prints numbers (asserts nothing): the broker's start (KRaft format + JVM + SASL_SSL listener + the
stack's ACLs) and stop, then N routes over M raw records: producing them keyed to the raw topic, the
statement set on Flink reading and writing Kafka, and reading every routed topic back.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from cdcctl.rehearsal_kafka import rehearsal_kafka
from core.progress import Progress
from flink_sql.routes import parse_routes
from rehearsal.kafka import TopicLayout
from rehearsal.routing import rehearse
from scripts.bench_routing import benchmark_routes  # the same N routes as the in-JVM benchmark

RAW_PARTITIONS = ROUTED_PARTITIONS = 6  # a stack's default partition count (settings/sections.py)


def raw_records(count: int, types: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"evt-{n}",
            "event_name": f"Type{n % types}",
            "event_type": f"Type{n % types}",
            "created_date": "2024-01-15T10:30:00Z",
            "saved_date": "2024-01-15T10:30:05Z",
            "event_data": json.dumps({"amount": n % 100_000}),
            "__op": "c",
            "__table": "business_events",
            "__ts_ms": 1705312200000 + n,
            "__deleted": "false",
        }
        for n in range(1, count + 1)
    ]


class Timings(Progress):
    """Progress lines, kept with their time: the phases of one rehearsal."""

    def __init__(self) -> None:
        super().__init__("bench")
        self.marks: list[tuple[float, str]] = []

    def phase(self, message: str) -> None:
        self.marks.append((time.perf_counter(), message))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--routes", type=int, default=20)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--starts", type=int, default=3, help="broker starts to time")
    args = parser.parse_args()
    routes = parse_routes(benchmark_routes(args.routes), "benchmark")
    layout = TopicLayout(routed_partitions=ROUTED_PARTITIONS, raw_partitions=RAW_PARTITIONS)

    print("Kafka broker (single-node KRaft, SASL_SSL, PLAIN users, ACLs of the routes' principals):")
    for _ in range(args.starts):
        start = time.perf_counter()
        with rehearsal_kafka(routes, layout):
            up = time.perf_counter()
        print(f"  start {up - start:5.1f} s   stop {time.perf_counter() - up:5.1f} s")

    records = raw_records(args.records, args.routes + 5)
    timings = Timings()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with rehearsal_kafka(routes, layout) as kafka:
            up = time.perf_counter()
            counts = rehearse(routes, records, Path(tmp, "out"), kafka, timings)
            done = time.perf_counter()
    at = {message.split(";")[0]: moment for moment, message in timings.marks}
    flink_start, flink_up = at.get("starting the Flink engine", up), at.get("engine up", up)
    read_back = at.get("reading the routed topics back", done)
    writing = next((moment for moment, message in timings.marks if message.startswith("writing")), done)
    m = args.records
    print(f"Routing through Kafka: {args.routes} routes over {m:,} raw records ({RAW_PARTITIONS} partitions each)")
    for label, seconds, count in (
        ("broker start", up - start, 0),
        ("topics + produce keyed raw records", flink_start - up, m),
        ("Flink engine start", flink_up - flink_start, 0),
        ("Flink job (Kafka -> routes -> Kafka)", read_back - flink_up, m),
        (f"read back {sum(counts.values()):,} routed records", writing - read_back, 0),
        ("delete the topics, write the files", done - writing, 0),
        ("end to end (broker up to files)", done - up, m),
    ):
        rate = f"{count / seconds:10,.0f} records/s" if count else ""
        print(f"  {label + ':':42} {seconds:7.1f} s  {rate}")


if __name__ == "__main__":
    main()
