"""`cdcctl plan --stack NAME [--json]`: what the stack would register, offline (Pulumi's mock runtime)."""

from __future__ import annotations

import argparse
import json

from cdcctl.plan import Plan, PlannedResource, plan


def run(args: argparse.Namespace) -> int:
    result = plan(args.stack)
    if args.json:
        print(json.dumps([r.as_json() for r in result.resources], indent=2))
    else:
        print_tree(result)
    return 0


def print_tree(result: Plan) -> None:
    """Every resource with its inputs, children indented under their parents, then the stack's exports."""
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
