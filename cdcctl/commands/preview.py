"""`cdcctl preview --stack NAME --base REF [--outputs FILE] [--json] [--fail-on-replace]`: the first,
credential-free review of a change (the preview workflow posts it on every pull request, forks too):
each resource of the stack created, updated, replaced, deleted or unchanged between REF and the working
tree, the inputs that force each replacement, and the protected or stateful resources a change would
replace or delete (exit 3 with --fail-on-replace)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cdcctl.plan import plan
from cdcctl.preview import (
    ResourceChange,
    compare,
    counts,
    input_of,
    load_rules,
    resources_of,
    revision_plan,
    revision_resources,
)
from cdcctl.stack_config import stack_config
from cdcctl.stack_outputs import recorded_outputs
from core.progress import Progress

EXIT_FLAGGED = 3
_SIGNS = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def run(args: argparse.Namespace) -> int:
    rules = load_rules()
    stack_config(args.stack)  # the working tree's stack file is read before anything long starts
    # The deployed stack's outputs (what it reads back through its own StackReference); without them the
    # working tree is planned against REF's steady state, as if REF were deployed.
    previous = recorded_outputs(args.outputs) if args.outputs else None
    progress = Progress("preview")
    base = revision_plan(args.base, args.stack, previous, progress)
    progress.phase("planning the working tree")
    current = plan(args.stack, Path.cwd(), previous=previous or base["rawOutputs"])
    changes = compare(revision_resources(base), resources_of(current), rules)
    progress.phase("done")
    report = {
        "stack": args.stack,
        "base": args.base,
        "outputs": args.outputs,
        "summary": counts(changes),
        "flagged": [c.as_json() for c in changes if c.flagged],
        "resources": [c.as_json() for c in changes],
    }
    print(json.dumps(report, indent=2) if args.json else _text(report, changes))
    return EXIT_FLAGGED if args.fail_on_replace and report["flagged"] else 0


def _text(report: dict[str, Any], changes: list[ResourceChange]) -> str:
    summary = report["summary"]
    against = f"the deployed outputs in {report['outputs']}" if report["outputs"] else "its steady state"
    lines = [
        f"Preview of stack {report['stack']}: the working tree against {report['base']} ({against}); "
        "offline plans, no credentials",
        "  "
        + ", ".join(f"{summary[k]} to {k}" for k in ("create", "update", "replace", "delete"))
        + f", {summary['unchanged']} unchanged",
    ]
    shown = [c for c in changes if c.change != "unchanged"]
    if shown:
        lines.append("")
    for c in shown:
        kind = c.type.split(":")[0] + ":" + c.type.rsplit(":", 1)[-1]
        line = f"  {_SIGNS[c.change]:<2} {c.change:<7}  {kind}  {c.name}"
        if c.protect:
            line += "  [protected]"
        lines.append(line)
        if c.forced_by:
            lines.append(f"       replaced because: {', '.join(c.forced_by)}")
        other = [i for i in c.inputs if i not in {input_of(f) for f in c.forced_by}]
        if other:
            lines.append(f"       changed: {', '.join(other)}")
        if c.refused:
            lines.append(f"       the provider cannot update {', '.join(c.refused)} in place: `pulumi up` would fail")
    flagged = [c for c in changes if c.flagged]
    if flagged:
        lines += ["", f"FLAGGED: {len(flagged)} protected or stateful resource(s) replaced or deleted:"]
        for c in flagged:
            why = "protected: Pulumi refuses until `protect` is lifted" if c.protect else ""
            loses = f"loses {c.stateful}" if c.stateful else ""
            lines.append(f"  {c.change} {c.name}: {'; '.join(p for p in (why, loses) if p)}")
    return "\n".join(lines)
