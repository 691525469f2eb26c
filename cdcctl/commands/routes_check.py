"""`cdcctl routes check [FILE] [--stack NAME]`: validate a routing rules file, alone (against the
default raw topic) or against a stack's settings (its raw topic, principals and partition limit)."""

from __future__ import annotations

import argparse

from cdcctl.stack_config import stack_settings
from core.raw_record import RAW_TOPIC
from flink_sql.routes import check_output_is_not_raw, load_routes
from stacks.routes_fit import check_routes_fit_settings


def run(args: argparse.Namespace) -> int:
    routes = load_routes(args.file)
    if args.stack:
        check_routes_fit_settings(stack_settings(args.stack), routes)
    else:
        check_output_is_not_raw(routes, RAW_TOPIC, args.file)
    enabled = [r for r in routes if r.enabled]
    against = f" for stack {args.stack}" if args.stack else ""
    print(f"{args.file}: {len(routes)} routes valid{against} ({len(enabled)} enabled)")
    return 0
