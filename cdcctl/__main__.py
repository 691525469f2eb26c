"""`python -m cdcctl`: see DESIGN.md "Operator CLI" for the contract. This module only parses the
command line and dispatches to cdcctl/commands/; errors become one line and an exit code."""

from __future__ import annotations

import argparse
import importlib
import re
import signal
import sys
import unicodedata
from collections.abc import Sequence
from typing import NoReturn

from cdcctl.errors import EXIT_BAD_INPUT, EXIT_ENGINE_FAILED, ConfigError, EngineError
from core.limits import SLOT_WARNING_PERCENT
from core.naming import DEFAULT_ROUTES_FILE, PRICE_TABLE_FILE, SAMPLE_RECORDS_FILE
from rehearsal.children import Interrupted, interruptible


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's contract for bad input: one line naming the argument, exit 2."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {printable(message)} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def printable(text: str) -> str:
    """`text` as one terminal-safe line: control characters (newlines, escape sequences, bidi
    overrides) from arguments or files are shown escaped, never acted on."""
    return "".join(char if not unicodedata.category(char).startswith("C") else repr(char)[1:-1] for char in text)


def seconds(text: str) -> float:
    """A finite, positive number of seconds, at most an hour."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:  # false for nan and inf too
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds in (0, 3600]")
    return value


def stack_name(text: str) -> str:
    """A Pulumi stack name: "may only contain alphanumeric, hyphens, underscores, or periods" (Pulumi's
    `pulumi stack init` rule); anything else never reaches a file name or a message."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", text) or text in (".", ".."):
        raise argparse.ArgumentTypeError(f"{text[:60]!r} is not a stack name (letters, digits, - _ .)")
    return text


def out_directory(text: str) -> str:
    """A directory to write into: never '' (it would mean the current directory)."""
    if not text:
        raise argparse.ArgumentTypeError("'' is empty: name a directory")
    return text


def _percent(text: str) -> int:
    """A whole percentage 1..100 (argparse names the option in its error)."""
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise argparse.ArgumentTypeError(f"must be a whole percentage 1..100, got {text[:20]!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cdcctl", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    plan = commands.add_parser("plan", help="print what a stack would register (offline, mock runtime)")
    plan.add_argument("--stack", required=True, type=stack_name, help="stack name: reads Pulumi.<stack>.yaml")
    plan.add_argument("--json", action="store_true", help="JSON array of {type,name,parent,inputs,protect}")
    plan.add_argument(
        "--outputs", help="the stack's last deployed outputs (`pulumi stack output --json --show-secrets`; - = stdin)"
    )
    plan.add_argument("--peer-outputs", help="the link peer's deployed outputs, in the same shape")
    plan.add_argument("--write-outputs", help="write this plan's exports (mock ids) in that shape to this file")
    plan.set_defaults(command_module="plan")

    sql = commands.add_parser("sql", help="print the Flink statements a stack would deploy, in order")
    sql.add_argument("--stack", required=True, type=stack_name)
    sql.set_defaults(command_module="sql")

    rehearse = commands.add_parser("rehearse", help="run the compiled routes on real Apache Flink")
    rehearse.add_argument("--routes", required=True, help="routes file")
    inputs = rehearse.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--records", help="JSONL file of raw records")
    inputs.add_argument("--changes", help="SQL inserts/updates/deletes, captured from a local PostgreSQL by Debezium")
    rehearse.add_argument("--before", help="SQL run before capture starts: its rows arrive as the snapshot (__op r)")
    rehearse.add_argument(
        "--stack", default="dev", type=stack_name, help="whose connector settings Debezium uses (default dev)"
    )
    rehearse.add_argument("--out", required=True, type=out_directory, help="directory for <outputTopic>.jsonl files")
    rehearse.set_defaults(command_module="rehearse")

    routes = commands.add_parser("routes", help="routing rules")
    routes_commands = routes.add_subparsers(dest="routes_command", required=True)
    check = routes_commands.add_parser("check", help="validate a routes file")
    check.add_argument("file", nargs="?", default=DEFAULT_ROUTES_FILE)
    check.add_argument(
        "--stack", type=stack_name, help="also check against this stack's settings (raw topic, principals, limits)"
    )
    check.set_defaults(command_module="routes_check")
    diff = routes_commands.add_parser("diff", help="routing impact of a routes change against a git revision")
    diff.add_argument("--base", required=True, help="git revision to compare with (e.g. origin/main)")
    diff.add_argument("--routes", default=DEFAULT_ROUTES_FILE, help=f"routes file (default {DEFAULT_ROUTES_FILE})")
    diff.add_argument(
        "--samples", default=SAMPLE_RECORDS_FILE, help=f"raw records to rehearse on (default {SAMPLE_RECORDS_FILE})"
    )
    diff.add_argument("--json", action="store_true", help="the report as JSON")
    diff.set_defaults(command_module="routes_diff")

    preview = commands.add_parser(
        "preview", help="what `pulumi up` of the working tree does to a stack deployed from a git revision (offline)"
    )
    preview.add_argument("--stack", required=True, type=stack_name)
    preview.add_argument("--base", required=True, help="git revision the stack was deployed from (e.g. origin/main)")
    preview.add_argument(
        "--outputs", help="the stack's deployed outputs (`pulumi stack output --json`); default: REF's offline plan"
    )
    preview.add_argument("--json", action="store_true", help="the report as JSON")
    preview.add_argument(
        "--fail-on-replace",
        action="store_true",
        help="exit 3 when a protected or stateful resource is replaced or deleted",
    )
    preview.set_defaults(command_module="preview")

    cost = commands.add_parser("cost", help="monthly cost estimate of a stack, from its plan and the price table")
    cost.add_argument("--stack", required=True, type=stack_name)
    cost.add_argument("--prices", default=PRICE_TABLE_FILE, help=f"price table (default {PRICE_TABLE_FILE})")
    cost.add_argument("--json", action="store_true", help="JSON with a top-level total (USD per month)")
    cost.set_defaults(command_module="cost")

    consumer = commands.add_parser("consumer", help="client configuration of a route consumer")
    consumer.add_argument("name", help="the consumer, as named in the routes file")
    consumer.add_argument(
        "--stack", required=True, type=stack_name, help="the region (or all-in-one) stack it reads from"
    )
    consumer.add_argument(
        "--outputs", help="the stack's deployed outputs (`pulumi stack output --json`); default: its offline plan"
    )
    consumer.add_argument("--json", action="store_true", help="the configuration as JSON")
    consumer.set_defaults(command_module="consumer")

    slots = commands.add_parser("slots", help="replication slots stacks leave on a shared database (libpq env)")
    slots.add_argument("--psql", help="psql binary (default: from PATH, else Debian's)")
    slots_commands = slots.add_subparsers(dest="slots_command", required=True)
    drop = slots_commands.add_parser("drop", help="drop a destroyed stack's slot (waits for it to go inactive)")
    drop.add_argument("--stack", required=True, type=stack_name)
    drop.add_argument("--force", action="store_true", help="drop it although the stack has a stack file here")
    drop.add_argument(
        "--wait", type=seconds, default=60, help="seconds to wait for an active slot, (0, 3600] (default 60)"
    )
    orphans = slots_commands.add_parser("orphans", help="list slots no live stack owns; exit 1 when any")
    orphans.add_argument("--live", required=True, help="`pulumi stack ls --json` output (or names per line); - = stdin")
    orphans.add_argument("--drop", action="store_true", help="also drop the inactive ones")
    status_of_slots = slots_commands.add_parser(
        "status", help="each slot's retained WAL and wal_status; exit 1 when one is lost or over its warning share"
    )
    status_of_slots.add_argument(
        "--warning-percent",
        type=_percent,
        metavar="1..100",
        default=SLOT_WARNING_PERCENT,
        help="share of max_slot_wal_keep_size a slot may hold before it is flagged (default: aurora.alarms')",
    )
    slots.set_defaults(command_module="slots")

    monitoring = commands.add_parser("monitoring", help="Prometheus scrape config and alert rules of a stack")
    monitoring.add_argument("--stack", required=True, type=stack_name)
    monitoring.add_argument(
        "--out", required=True, type=out_directory, help="directory for <stack>-scrape.yml and <stack>-rules.yml"
    )
    monitoring.add_argument(
        "--outputs", help="the stack's deployed outputs (`pulumi stack output --json`); default: its offline plan"
    )
    monitoring.set_defaults(command_module="monitoring")

    status = commands.add_parser(
        "status",
        help="phase of a deployed stack's connector, statements and link; exit 1 when unhealthy",
        description="Keys from the environment: CONFLUENT_CLOUD_API_KEY/_SECRET (Cloud API key: the connector), "
        "CONFLUENT_FLINK_API_KEY/_SECRET (Flink API key of the stack's region: its statements) and, with a "
        "cluster link, CONFLUENT_KAFKA_API_KEY/_SECRET (Kafka API key of the stack's cluster: link and mirrors). "
        "Keys go only to the stack's own Confluent Cloud endpoints (https, its region; redirects are never "
        "followed). The whole check gives up after 60 s (each request after 20 s): what has not answered "
        "by then is UNREACHABLE.",
    )
    status.add_argument("--stack", required=True, type=stack_name)
    status.add_argument(
        "--outputs", help="the stack's outputs (`pulumi stack output --json`; - = stdin); default: the Pulumi CLI"
    )
    status.add_argument(
        "--resume-connector",
        action="store_true",
        help="first bring a FAILED, DEGRADED or PAUSED connector back to RUNNING (pause, then resume): the start "
        "path after the database was stopped; the command's deadline grows by the 300 s it may wait",
    )
    status.set_defaults(command_module="status")

    link = commands.add_parser(
        "link",
        help="promote, fail over or resume a stack's mirror topics (Kafka REST), after a preflight",
        description="Run it for the SURVIVING region's stack. Key from the environment: "
        "CONFLUENT_KAFKA_API_KEY/_SECRET (Kafka API key of the stack's cluster; its owner holds ClusterOperator "
        "and ResourceOwner on the mirror topics). It goes only to the stack's own REST endpoint (https, its "
        "region; redirects never followed); the whole command gives up after 60 s. Prints per mirror what was "
        "done and the `link.mirrorStatus` change + commands that record it.",
    )
    link.add_argument("action", choices=("promote", "failover", "resume"))
    link.add_argument("--stack", required=True, type=stack_name)
    link.add_argument(
        "--outputs", help="the stack's outputs (`pulumi stack output --json`; - = stdin); default: the Pulumi CLI"
    )
    link.add_argument("--dry-run", action="store_true", help="validate only (Confluent's validate_only)")
    link.set_defaults(command_module="link")

    local = commands.add_parser(
        "local",
        help="a persistent local platform on loopback: Kafka, PostgreSQL, Debezium, Flink + SQL Gateway",
    )
    local.add_argument("action", choices=["up", "status", "down"])
    local.add_argument(
        "--stack", default="dev", type=stack_name, help="whose settings, routes and principals (default dev)"
    )
    local.set_defaults(command_module="local")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Piped into head/less: stop quietly when the reader goes away (restored after: tests call main).
    previous = signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        return _run(argv)
    finally:
        signal.signal(signal.SIGPIPE, previous)


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "rehearse" and args.before and not args.changes:
        parser.error("argument --before: goes with --changes, not --records")
    try:
        # SIGTERM (a CI cancel, `timeout`) and Ctrl-C unwind like an error: every child is stopped and
        # every temporary directory removed on the way out.
        with interruptible():
            # Imported on use: `routes check` loads no Pulumi SDK.
            command = importlib.import_module(f"cdcctl.commands.{args.command_module}")
            return int(command.run(args))
    except ConfigError as error:
        print(f"error: {printable(str(error))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except EngineError as error:
        print(f"error: {printable(str(error))}", file=sys.stderr)
        return EXIT_ENGINE_FAILED
    except Interrupted as interrupt:
        stopped = f": stopped {', '.join(interrupt.stopping)}" if interrupt.stopping else ""
        print(f"interrupted by {interrupt}{stopped}; temporary files removed", file=sys.stderr)
        return 128 + interrupt.signum


if __name__ == "__main__":
    sys.exit(main())
