"""CDC rehearsal benchmark: N inserted events through real PostgreSQL -> Debezium -> Kafka -> Flink routes
-> Kafka -> read back.

Prints numbers (asserts nothing): end-to-end seconds and records/s, and the broker start, capture and
routing phases on their own. Uses the dev stack's connector settings, topics and shipped routes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from cdcctl.rehearsal_kafka import rehearsal_kafka, stack_layout
from cdcctl.stack_config import stack_settings
from flink_sql.routes import load_routes
from rehearsal.cdc import capture_changes, source_database
from rehearsal.routing import rehearse
from settings.model import region_settings

REPO = Path(__file__).resolve().parent.parent
EVENT_TYPES = ("LoanCreated", "LoanPaymentSubmitted", "CarCreated", "CarServiceDone", "Other")


def insert_script(count: int) -> str:
    types = ", ".join(f"'{t}'" for t in EVENT_TYPES)
    return (
        "INSERT INTO business_events (id, event_name, event_type, created_date, saved_date, event_data)\n"
        f"SELECT 'evt-' || n, (ARRAY[{types}])[1 + n % {len(EVENT_TYPES)}],"
        f" (ARRAY[{types}])[1 + n % {len(EVENT_TYPES)}], now(), now(),"
        " jsonb_build_object('eventBody', jsonb_build_object('amount', n))\n"
        f"FROM generate_series(1, {count}) AS n;\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    region = region_settings(stack_settings("dev", REPO))
    routes = load_routes(REPO / "flink_sql/routes.yaml")
    layout = stack_layout(region)
    with tempfile.TemporaryDirectory() as tmp:
        changes = Path(tmp, "changes.sql")
        changes.write_text(insert_script(args.events))
        start = time.perf_counter()
        with ExitStack() as postgres, rehearsal_kafka(routes, layout) as kafka:
            source = postgres.enter_context(source_database(region.cdc))
            broker_up = time.perf_counter()
            records = capture_changes(source, changes, kafka)
            postgres.close()  # as `rehearse --changes`: PostgreSQL stopped before Flink runs
            captured = time.perf_counter()
            counts = rehearse(routes, None, Path(tmp, "out"), kafka)
            done = time.perf_counter()
    total = done - start
    print(
        f"CDC rehearsal: {args.events:,} inserted events, real PostgreSQL 15 + Debezium + Apache Kafka + Apache Flink"
    )
    print(f"  captured records:     {len(records):,}")
    print(f"  PostgreSQL (prerequisites) and broker (KRaft, SASL_SSL, ACLs) start: {broker_up - start:6.1f} s")
    print(f"  capture (Debezium snapshot+stream into Kafka): {captured - broker_up:6.1f} s")
    print(f"  routing on Flink through Kafka, read back: {done - captured:6.1f} s")
    print(f"  end to end:           {total:6.1f} s  ({len(records) / total:,.0f} records/s)")
    print(f"  routed: {', '.join(f'{topic} {count:,}' for topic, count in counts.items())}")


if __name__ == "__main__":
    main()
