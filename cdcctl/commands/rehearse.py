"""`cdcctl rehearse`: the compiled routes on real Apache Flink, fed with raw records or with what
real Debezium captures from a local PostgreSQL (the stack's own connector settings)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cdcctl.rehearse import check_out_dir, read_records, rehearse
from cdcctl.stack_config import stack_settings
from flink_sql.routes import load_routes
from infra.settings import region_settings


def run(args: argparse.Namespace) -> int:
    routes = load_routes(args.routes)
    out = Path(args.out)
    check_out_dir(out)
    if args.records:
        records = read_records(Path(args.records))
        source = "raw records"
    else:
        from cdcctl.cdc_rehearsal import capture_changes

        region = region_settings(stack_settings(args.stack))
        before = Path(args.before) if args.before else None
        records = capture_changes(region.cdc, region.raw_topic, before, Path(args.changes))
        source = f"records captured by Debezium (connector settings of stack {args.stack})"
    counts = rehearse(routes, records, out)
    print(f"{len(records)} {source} routed on Apache Flink; output in {args.out}")
    for topic, count in counts.items():
        print(f"  {topic}: {count}")
    return 0
