"""`cdcctl rehearse`: the compiled routes on real Apache Flink through a real local Kafka broker (the
stack's raw topic, partition counts, principals and ACLs), fed with raw records or with what real
Debezium captures from a local PostgreSQL (the stack's own connector settings). Every input is checked
before any engine starts; the engines are stopped however the run ends (rehearsal/children.py)."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cdcctl.rehearsal_kafka import rehearsal_kafka, stack_layout
from cdcctl.stack_config import stack_settings
from core.config_node import ConfigError
from core.input_file import read_text
from core.progress import Progress
from core.raw_record import added_columns
from flink_sql.routes import Route, load_routes
from rehearsal.routing import absent_path_warnings, check_out_dir, read_records, rehearse
from settings.model import region_settings


def run(args: argparse.Namespace) -> int:
    routes = load_routes(args.routes)
    out = Path(args.out)
    check_out_dir(out)
    region = region_settings(stack_settings(args.stack))
    records = read_records(Path(args.records)) if args.records else None
    before = _sql_script(args.before, "--before") if records is None and args.before else None
    changes = _sql_script(args.changes, "--changes") if records is None else None
    layout = stack_layout(region)
    progress = Progress("rehearse")
    captured = records is None
    with ExitStack() as engines:
        source = engines.enter_context(ExitStack())  # PostgreSQL: stopped once captured, before Flink runs
        if captured:
            from rehearsal.cdc import capture_changes, source_database

            progress.phase("starting the local PostgreSQL: the stack's prerequisites, then --before")
            database = source.enter_context(source_database(region.cdc, before))
        progress.phase("starting the local Kafka broker")
        kafka = engines.enter_context(rehearsal_kafka(routes, layout))
        if captured:
            assert changes is not None
            progress.phase("capture: Debezium into the raw topic")
            records = capture_changes(database, changes, kafka)
            source.close()
        assert records is not None
        _warn(args.routes, routes, records)
        counts = rehearse(routes, None if captured else records, out, kafka, progress)
    progress.phase("done")
    origin = f"records captured by Debezium (connector settings of stack {args.stack})" if captured else "raw records"
    print(f"{len(records)} {origin} routed on Apache Flink through Kafka; output in {args.out}")
    for topic, count in counts.items():
        print(f"  {topic}: {count}")
    return 0


def _sql_script(path: str, argument: str) -> Path:
    """A script psql will run: readable, a regular file, UTF-8 and not empty, checked before PostgreSQL
    starts (psql reads it again from the same path)."""
    if not read_text(path, argument).strip():
        raise ConfigError(path, argument, "is empty: there are no changes to capture")
    return Path(path)


def _warn(routes_file: str, routes: tuple[Route, ...], records: list[dict[str, Any]]) -> None:
    """What the records mean for the routes, on stderr: columns beyond the raw record (a running
    statement reads the columns it was created with, and so does the rehearsal's: its JSON format skips
    unknown fields) and condition paths no record contains."""
    added = sorted({column for record in records for column in added_columns(record)})
    if added:
        print(
            f"warning: column(s) {', '.join(added)} beyond the raw record: routing ignores them, as the "
            "deployed statement does (to route on them, add them to core/raw_record.py and redeploy)",
            file=sys.stderr,
        )
    for warning in absent_path_warnings(routes_file, routes, records):
        print(warning, file=sys.stderr)
