"""A stack's outputs, from where they are: a recording of `pulumi stack output --json --stack NAME` (a
file, or `-` for stdin), the Pulumi CLI itself, or the stack's offline plan (mock ids, for review).

Ids are not secrets; nothing here asks for `--show-secrets`, so no secret value is ever read."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from core.config_node import ConfigError


def recorded_outputs(path: str) -> dict[str, Any]:
    """The outputs in a `pulumi stack output --json` recording (`-`: read stdin)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            path, "", f"cannot read the stack outputs: {getattr(error, 'strerror', None) or error}"
        ) from None
    return _outputs_document(text, "stdin" if path == "-" else path)


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
    return _outputs_document(result.stdout, f"pulumi stack output --stack {stack}")


def planned_outputs(stack: str) -> dict[str, Any]:
    """The outputs of the stack's offline plan: every id is a mock id."""
    from cdcctl.plan import plan

    return plan(stack).outputs


def _outputs_document(text: str, source: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ConfigError(source, "", f"not the JSON of `pulumi stack output --json` ({error})") from None
    if not isinstance(document, dict):
        raise ConfigError(source, "", "not the JSON of `pulumi stack output --json` (a mapping of outputs)")
    return document
