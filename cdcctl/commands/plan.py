"""`cdcctl plan --stack NAME [--json] [--outputs FILE] [--peer-outputs FILE] [--write-outputs FILE]`: what
the stack would register, offline (Pulumi's mock runtime).

--outputs answers the stack's reference to its own last deployment (default: a first deployment),
--peer-outputs its link peer's (default: the peer's own offline plan); both read recordings of `pulumi
stack output --json --show-secrets`. --write-outputs records this plan's exports in that shape (mock ids,
mock secrets; mode 0600), so a second plan with `--outputs` of the first shows what a second `up` does:
the stopped statement generation, its successor, a new route's backfill."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cdcctl.plan import Plan, PlannedResource, plan
from cdcctl.stack_outputs import recorded_outputs
from core.config_node import ConfigError
from core.output_file import replace_file, writable_target

PEER_OUTPUTS_ARGUMENT = "--peer-outputs"
WRITE_OUTPUTS_ARGUMENT = "--write-outputs"


def run(args: argparse.Namespace) -> int:
    # Every argument is checked before the program runs: a refusal plans and writes nothing.
    target = writable_target(args.write_outputs, WRITE_OUTPUTS_ARGUMENT) if args.write_outputs is not None else None
    previous = recorded_outputs(args.outputs) if args.outputs is not None else None
    peer = recorded_outputs(args.peer_outputs, PEER_OUTPUTS_ARGUMENT) if args.peer_outputs is not None else None
    result = plan(args.stack, previous=previous, peer_outputs=peer)
    if target is not None:
        try:
            # The exports with their (mock) secret values, as `--show-secrets` prints them: owner only.
            replace_file(target, json.dumps(_whole(result.raw_outputs), indent=2, sort_keys=True) + "\n", 0o600)
        except OSError as error:
            raise ConfigError(args.write_outputs, WRITE_OUTPUTS_ARGUMENT, f"cannot write: {error.strerror}") from None
    if args.json:
        print(json.dumps([r.as_json() for r in result.resources], indent=2))
    else:
        print_tree(result)
    return 0


def _whole(value: Any) -> Any:
    """Whole numbers as the CLI prints them (protobuf carries every number as a double)."""
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole(v) for v in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


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
