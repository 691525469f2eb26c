"""`cdcctl rehearse`: the compiled routes on real Apache Flink, fed with raw records or with what
real Debezium captures from a local PostgreSQL (the stack's own connector settings). Every input is
checked before any engine starts; the engines are stopped however the run ends (rehearsal/children.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cdcctl.stack_config import stack_settings
from core.config_node import ConfigError
from core.input_file import read_text
from core.progress import Progress
from core.raw_record import added_columns, as_routed
from flink_sql.routes import load_routes
from rehearsal.routing import absent_path_warnings, check_out_dir, read_records, rehearse
from settings.model import region_settings


def run(args: argparse.Namespace) -> int:
    routes = load_routes(args.routes)
    out = Path(args.out)
    check_out_dir(out)
    progress = Progress("rehearse")
    if args.records:
        records = read_records(Path(args.records))
        source = "raw records"
    else:
        from rehearsal.cdc import capture_changes

        region = region_settings(stack_settings(args.stack))
        before = _sql_script(args.before, "--before") if args.before else None
        changes = _sql_script(args.changes, "--changes")
        progress.phase("capture: local PostgreSQL and Debezium")
        records = capture_changes(region.cdc, region.raw_topic, before, changes)
        source = f"records captured by Debezium (connector settings of stack {args.stack})"
    records = _as_production_reads(records)
    for warning in absent_path_warnings(args.routes, routes, records):
        print(warning, file=sys.stderr)
    counts = rehearse(routes, records, out, progress)
    progress.phase("done")
    print(f"{len(records)} {source} routed on Apache Flink; output in {args.out}")
    for topic, count in counts.items():
        print(f"  {topic}: {count}")
    return 0


def _sql_script(path: str, argument: str) -> Path:
    """A script psql will run: readable, a regular file, UTF-8 and not empty, checked before PostgreSQL
    starts (psql reads it again from the same path)."""
    if not read_text(path, argument).strip():
        raise ConfigError(path, argument, "is empty: there are no changes to capture")
    return Path(path)


def _as_production_reads(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A column added to the table reaches the raw topic (the connector registers the wider schema),
    but a running statement reads the columns it was created with: route on those, and say so."""
    added = sorted({column for record in records for column in added_columns(record)})
    if added:
        print(
            f"warning: column(s) {', '.join(added)} beyond the raw record: routing ignores them, as the "
            "deployed statement does (to route on them, add them to core/raw_record.py and redeploy)",
            file=sys.stderr,
        )
    return [as_routed(record) for record in records]
