"""`cdcctl sql --stack NAME`: the Flink statements the stack would deploy, in order, under their names."""

from __future__ import annotations

import argparse

from cdcctl.plan import plan

FLINK_STATEMENT = "confluentcloud:index/flinkStatement:FlinkStatement"


def run(args: argparse.Namespace) -> int:
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
