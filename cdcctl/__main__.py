"""`python -m cdcctl`: see DESIGN.md "Operator CLI" for the contract. This module only parses the
command line and dispatches to cdcctl/commands/; errors become one line and an exit code."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence

from cdcctl.errors import EXIT_BAD_INPUT, EXIT_ENGINE_FAILED, ConfigError, EngineError
from core.naming import DEFAULT_ROUTES_FILE, PRICE_TABLE_FILE, SAMPLE_RECORDS_FILE


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
    diff = routes_commands.add_parser("diff", help="routing impact of a routes change against a git revision")
    diff.add_argument("--base", required=True, help="git revision to compare with (e.g. origin/main)")
    diff.add_argument("--routes", default=DEFAULT_ROUTES_FILE, help=f"routes file (default {DEFAULT_ROUTES_FILE})")
    diff.add_argument(
        "--samples", default=SAMPLE_RECORDS_FILE, help=f"raw records to rehearse on (default {SAMPLE_RECORDS_FILE})"
    )
    diff.add_argument("--json", action="store_true", help="the report as JSON")
    diff.set_defaults(command_module="routes_diff")

    cost = commands.add_parser("cost", help="monthly cost estimate of a stack, from its plan and the price table")
    cost.add_argument("--stack", required=True)
    cost.add_argument("--prices", default=PRICE_TABLE_FILE, help=f"price table (default {PRICE_TABLE_FILE})")
    cost.add_argument("--json", action="store_true", help="JSON with a top-level total (USD per month)")
    cost.set_defaults(command_module="cost")

    consumer = commands.add_parser("consumer", help="client configuration of a route consumer")
    consumer.add_argument("name", help="the consumer, as named in the routes file")
    consumer.add_argument("--stack", required=True, help="the region (or all-in-one) stack it reads from")
    consumer.add_argument(
        "--outputs", help="the stack's deployed outputs (`pulumi stack output --json`); default: its offline plan"
    )
    consumer.add_argument("--json", action="store_true", help="the configuration as JSON")
    consumer.set_defaults(command_module="consumer")

    slots = commands.add_parser("slots", help="replication slots stacks leave on a shared database (libpq env)")
    slots.add_argument("--psql", help="psql binary (default: from PATH, else Debian's)")
    slots_commands = slots.add_subparsers(dest="slots_command", required=True)
    drop = slots_commands.add_parser("drop", help="drop a destroyed stack's slot (waits for it to go inactive)")
    drop.add_argument("--stack", required=True)
    drop.add_argument("--wait", type=float, default=60, help="seconds to wait for an active slot (default 60)")
    orphans = slots_commands.add_parser("orphans", help="list slots no live stack owns; exit 1 when any")
    orphans.add_argument("--live", required=True, help="`pulumi stack ls --json` output (or names per line); - = stdin")
    orphans.add_argument("--drop", action="store_true", help="also drop the inactive ones")
    slots.set_defaults(command_module="slots")

    monitoring = commands.add_parser("monitoring", help="Prometheus scrape config and alert rules of a stack")
    monitoring.add_argument("--stack", required=True)
    monitoring.add_argument("--out", required=True, help="directory for <stack>-scrape.yml and <stack>-rules.yml")
    monitoring.add_argument(
        "--outputs", help="the stack's deployed outputs (`pulumi stack output --json`); default: its offline plan"
    )
    monitoring.set_defaults(command_module="monitoring")

    status = commands.add_parser(
        "status",
        help="phase of a deployed stack's connector, statements and link; exit 1 when unhealthy",
        description="Keys from the environment: CONFLUENT_CLOUD_API_KEY/_SECRET (Cloud API key: the connector), "
        "CONFLUENT_FLINK_API_KEY/_SECRET (Flink API key of the stack's region: its statements) and, with a "
        "cluster link, CONFLUENT_KAFKA_API_KEY/_SECRET (Kafka API key of the stack's cluster: link and mirrors).",
    )
    status.add_argument("--stack", required=True)
    status.add_argument(
        "--outputs", help="the stack's outputs (`pulumi stack output --json`; - = stdin); default: the Pulumi CLI"
    )
    status.set_defaults(command_module="status")

    local = commands.add_parser(
        "local", help="a persistent local platform on loopback: Kafka, PostgreSQL, Debezium, the routes on Flink"
    )
    local.add_argument("action", choices=["up", "status", "down"])
    local.add_argument("--stack", default="dev", help="whose settings, routes and principals (default dev)")
    local.set_defaults(command_module="local")
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
