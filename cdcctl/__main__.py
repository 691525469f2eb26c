"""`python -m cdcctl`: see DESIGN.md "Operator CLI" for the contract."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from cdcctl.rehearse import EngineError
from core.config_node import ConfigError
from core.naming import DEFAULT_ROUTES_FILE

EXIT_BAD_INPUT = 2
FLINK_STATEMENT = "confluentcloud:index/flinkStatement:FlinkStatement"


def _plan(args: argparse.Namespace) -> int:
    from cdcctl.plan import PlannedResource, plan

    result = plan(args.stack)
    if args.json:
        print(json.dumps([r.as_json() for r in result.resources], indent=2))
        return 0
    print(f"Offline plan of stack {result.stack}: {len(result.resources)} resources (children under parents)")
    children: dict[str | None, list[PlannedResource]] = {}
    for r in result.resources:
        children.setdefault(r.parent, []).append(r)

    def show(r: PlannedResource, depth: int) -> None:
        indent = "    " * depth
        flags = " [protected]" if r.protect else ""
        print(f"\n{indent}+ {r.type}  {r.name}{flags}")
        for key, value in sorted(r.inputs.items()):
            print(f"{indent}    {key}: {json.dumps(value, sort_keys=True)}")
        for child in children.get(r.name, []):
            show(child, depth + 1)

    for root in children.get(None, []):
        show(root, 0)
    if result.outputs:
        print("\nOutputs:")
        for key, value in sorted(result.outputs.items()):
            print(f"    {key}: {json.dumps(value, sort_keys=True)}")
    return 0


def _sql(args: argparse.Namespace) -> int:
    from cdcctl.plan import plan

    statements = [r for r in plan(args.stack).resources if r.type == FLINK_STATEMENT]
    for r in statements:
        state = "  (stopped)" if r.inputs.get("stopped") else ""
        print(f"-- statement: {r.inputs['statementName']}{state}")
        for key, value in sorted(r.inputs.get("properties", {}).items()):
            print(f"-- {key} = {value}")
        print(f"{r.inputs['statement']};\n")
    print(
        f"-- {len(statements)} statement(s). Tables are not created by statements: Flink infers them from "
        "the topics and value schemas the stack declares (cdcctl plan)."
    )
    return 0


def _rehearse(args: argparse.Namespace) -> int:
    from cdcctl.rehearse import read_records, rehearse
    from flink_sql.routes import load_routes

    routes = load_routes(args.routes)
    if args.records:
        if args.before:
            raise ConfigError("--before", "", "goes with --changes, not --records")
        records = read_records(Path(args.records))
        source = "raw records"
    else:
        from cdcctl.cdc_rehearsal import capture_changes
        from cdcctl.plan import stack_settings

        region = stack_settings(args.stack).region
        if region is None:
            raise ConfigError(f"Pulumi.{args.stack}.yaml", "cdc-platform:layer", "has no region layer (no connector)")
        before = Path(args.before) if args.before else None
        records = capture_changes(region.cdc, region.raw_topic, before, Path(args.changes))
        source = f"records captured by Debezium (connector settings of stack {args.stack})"
    counts = rehearse(routes, records, Path(args.out))
    print(f"{len(records)} {source} routed on Apache Flink; output in {args.out}")
    for topic, count in counts.items():
        print(f"  {topic}: {count}")
    return 0


def _routes_check(args: argparse.Namespace) -> int:
    from flink_sql.routes import load_routes

    routes = load_routes(args.file)
    enabled = [r for r in routes if r.enabled]
    print(f"{args.file}: {len(routes)} routes valid ({len(enabled)} enabled)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    # Piped into head/less: stop quietly when the reader goes away.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = argparse.ArgumentParser(prog="cdcctl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    plan = commands.add_parser("plan", help="print what a stack would register (offline, mock runtime)")
    plan.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    plan.add_argument("--json", action="store_true", help="JSON array of {type,name,parent,inputs,protect}")
    plan.set_defaults(run=_plan)

    sql = commands.add_parser("sql", help="print the Flink statements a stack would deploy, in order")
    sql.add_argument("--stack", required=True)
    sql.set_defaults(run=_sql)

    rehearse = commands.add_parser("rehearse", help="run the compiled routes on real Apache Flink")
    rehearse.add_argument("--routes", required=True, help="routes file")
    inputs = rehearse.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--records", help="JSONL file of raw records")
    inputs.add_argument("--changes", help="SQL inserts/updates/deletes, captured from a local PostgreSQL by Debezium")
    rehearse.add_argument("--before", help="SQL run before capture starts: its rows arrive as the snapshot (__op r)")
    rehearse.add_argument("--stack", default="dev", help="whose connector settings Debezium uses (default dev)")
    rehearse.add_argument("--out", required=True, help="directory for <outputTopic>.jsonl files")
    rehearse.set_defaults(run=_rehearse)

    routes = commands.add_parser("routes", help="routing rules")
    routes_commands = routes.add_subparsers(dest="routes_command", required=True)
    check = routes_commands.add_parser("check", help="validate a routes file")
    check.add_argument("file", nargs="?", default=DEFAULT_ROUTES_FILE)
    check.set_defaults(run=_routes_check)

    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
