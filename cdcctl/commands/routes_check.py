"""`cdcctl routes check [FILE]`: validate a routing rules file."""

from __future__ import annotations

import argparse

from flink_sql.routes import load_routes


def run(args: argparse.Namespace) -> int:
    routes = load_routes(args.file)
    enabled = [r for r in routes if r.enabled]
    print(f"{args.file}: {len(routes)} routes valid ({len(enabled)} enabled)")
    return 0
