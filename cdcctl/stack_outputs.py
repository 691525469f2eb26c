"""A stack's outputs, from where they are: a recording of `pulumi stack output --json --stack NAME` (a
file, or `-` for stdin), the Pulumi CLI itself, or the stack's offline plan (mock ids, for review).

Ids are not secrets; nothing here asks for `--show-secrets`, so no secret value is ever read. Outputs of
another stack are refused (`belonging_to`): a command run for dev must never act on, or label as dev,
what prod exports."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from cdcctl.confluent_api import shown
from core.config_node import ConfigError
from core.input_file import STDIN, parse_json, read_json
from core.region_exports import REGION_EXPORTS

OUTPUTS_ARGUMENT = "--outputs"


def recorded_outputs(path: str, argument: str = OUTPUTS_ARGUMENT) -> dict[str, Any]:
    """The outputs in a `pulumi stack output --json` recording (`-`: read stdin), read bounded."""
    return _outputs_document(read_json(path, argument), "stdin" if path == STDIN else path)


def belonging_to(outputs: dict[str, Any], stack: str, region: str, source: str) -> dict[str, Any]:
    """`outputs`, once they are shown to be `stack`'s: its `monitoring` export names the stack and the
    top-level `region` is the stack's region."""
    exported = outputs.get(REGION_EXPORTS.monitoring)
    if not isinstance(exported, dict):
        raise ConfigError(
            source, REGION_EXPORTS.monitoring, "no such output: deploy the stack with this version of the program first"
        )
    if exported.get("stack") != stack:
        raise ConfigError(
            source,
            f"{REGION_EXPORTS.monitoring}.stack",
            f"these are the outputs of stack {shown(exported.get('stack'))}, not {stack}: "
            f"pass `pulumi stack output --json --stack {stack}`",
        )
    if outputs.get(REGION_EXPORTS.region) != region:
        raise ConfigError(source, "region", f"{shown(outputs.get('region'))} is not stack {stack}'s region {region}")
    return outputs


def deployed_outputs(stack: str) -> dict[str, Any]:
    """The deployed stack's outputs, from the Pulumi CLI (logged in, in the project directory)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise ConfigError(
            "--outputs",
            "",
            f"no pulumi CLI on PATH to read stack {stack}'s outputs: pass a recording, "
            f"`pulumi stack output --json --stack {stack} > outputs.json`, as --outputs outputs.json",
        )
    result = subprocess.run(
        [pulumi, "stack", "output", "--json", "--stack", stack], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no error text"])[-1]
        raise ConfigError(f"pulumi stack output --stack {stack}", "", last)
    source = f"pulumi stack output --stack {stack}"
    return _outputs_document(parse_json(result.stdout, source, ""), source)


def planned_outputs(stack: str) -> dict[str, Any]:
    """The outputs of the stack's offline plan: every id is a mock id."""
    from cdcctl.plan import plan

    return plan(stack).outputs


def _outputs_document(document: Any, source: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ConfigError(source, "", "not the JSON of `pulumi stack output --json` (a mapping of outputs)")
    return document
