"""`python -m cdcctl`: see DESIGN.md "Operator CLI" for the contract. This module only parses the
command line and dispatches to cdcctl/commands/; errors become one line and an exit code."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence

from cdcctl.errors import EXIT_BAD_INPUT, EXIT_ENGINE_FAILED, ConfigError, EngineError
from core.naming import DEFAULT_ROUTES_FILE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cdcctl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    plan = commands.add_parser("plan", help="print what a stack would register (offline, mock runtime)")
    plan.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    plan.add_argument("--json", action="store_true", help="JSON array of {type,name,parent,inputs,protect}")
    plan.set_defaults(command_module="plan")

    sql = commands.add_parser("sql", help="print the Flink statements a stack would deploy, in order")
    sql.add_argument("--stack", required=True)
    sql.set_defaults(command_module="sql")

    rehearse = commands.add_parser("rehearse", help="run the compiled routes on real Apache Flink")
    rehearse.add_argument("--routes", required=True, help="routes file")
    inputs = rehearse.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--records", help="JSONL file of raw records")
    inputs.add_argument("--changes", help="SQL inserts/updates/deletes, captured from a local PostgreSQL by Debezium")
    rehearse.add_argument("--before", help="SQL run before capture starts: its rows arrive as the snapshot (__op r)")
    rehearse.add_argument("--stack", default="dev", help="whose connector settings Debezium uses (default dev)")
    rehearse.add_argument("--out", required=True, help="directory for <outputTopic>.jsonl files")
    rehearse.set_defaults(command_module="rehearse")

    routes = commands.add_parser("routes", help="routing rules")
    routes_commands = routes.add_subparsers(dest="routes_command", required=True)
    check = routes_commands.add_parser("check", help="validate a routes file")
    check.add_argument("file", nargs="?", default=DEFAULT_ROUTES_FILE)
    check.add_argument("--stack", help="also check against this stack's settings (raw topic, principals, limits)")
    check.set_defaults(command_module="routes_check")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Piped into head/less: stop quietly when the reader goes away.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "rehearse" and args.before and not args.changes:
        parser.error("argument --before: goes with --changes, not --records")
    try:
        # Imported on use: `routes check` loads no Pulumi SDK.
        command = importlib.import_module(f"cdcctl.commands.{args.command_module}")
        return int(command.run(args))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except EngineError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ENGINE_FAILED


if __name__ == "__main__":
    sys.exit(main())
