"""`cdcctl rehearse`: the compiled routes on real Apache Flink through a real local Kafka broker (the
stack's raw topic, partition counts, principals and ACLs), fed with raw records or with what real
Debezium captures from a local PostgreSQL (the stack's own connector settings)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cdcctl.rehearsal_kafka import rehearsal_kafka, stack_layout
from cdcctl.stack_config import stack_settings
from core.progress import Progress
from core.raw_record import added_columns
from flink_sql.routes import load_routes
from infra.settings import region_settings
from rehearsal.routing import check_out_dir, read_records, rehearse


def run(args: argparse.Namespace) -> int:
    routes = load_routes(args.routes)
    out = Path(args.out)
    check_out_dir(out)
    region = region_settings(stack_settings(args.stack))
    records = read_records(Path(args.records)) if args.records else None
    layout = stack_layout(region)
    progress = Progress("rehearse")
    progress.phase("starting the local Kafka broker")
    with rehearsal_kafka(routes, layout) as kafka:
        if records is not None:
            source = "raw records"
            _warn_added_columns(records)
            counts = rehearse(routes, records, out, kafka, progress)
        else:
            from rehearsal.cdc import capture_changes

            before = Path(args.before) if args.before else None
            progress.phase("capture: local PostgreSQL and Debezium into the raw topic")
            records = capture_changes(region.cdc, before, Path(args.changes), kafka)
            source = f"records captured by Debezium (connector settings of stack {args.stack})"
            _warn_added_columns(records)
            counts = rehearse(routes, None, out, kafka, progress)
    progress.phase("done")
    print(f"{len(records)} {source} routed on Apache Flink through Kafka; output in {args.out}")
    for topic, count in counts.items():
        print(f"  {topic}: {count}")
    return 0


def _warn_added_columns(records: list[dict[str, Any]]) -> None:
    """A column added to the table reaches the raw topic (the connector registers the wider schema),
    but a running statement reads the columns it was created with (so does the rehearsal's: its JSON
    format skips unknown fields): say so."""
    added = sorted({column for record in records for column in added_columns(record)})
    if added:
        print(
            f"warning: column(s) {', '.join(added)} beyond the raw record: routing ignores them, as the "
            "deployed statement does (to route on them, add them to core/raw_record.py and redeploy)",
            file=sys.stderr,
        )
