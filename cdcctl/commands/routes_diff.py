"""`cdcctl routes diff --base REF [--routes FILE] [--samples FILE] [--json]`: what a routes change does,
for review (the preview workflow posts it on the pull request): routes added, removed and changed
against git revision REF, the routing statement each stack replaces (and that it takes the carry-over
path), and, on real Apache Flink, how many of the committed sample records each topic gains or loses."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cdcctl.route_diff import (
    ConsumerAddition,
    RouteChange,
    StatementChange,
    TopicImpact,
    base_routes,
    consumer_additions,
    rehearse_both,
    route_changes,
    route_json,
    statement_changes,
)
from core.progress import Progress
from flink_sql.routes import load_routes
from flink_sql.statement import CARRY_OVER
from rehearsal.routing import absent_path_warnings, read_records


def run(args: argparse.Namespace) -> int:
    current = load_routes(args.routes)
    records = read_records(Path(args.samples), "--samples")
    base = base_routes(args.base, args.routes)
    changes = route_changes(base, current)
    statements = statement_changes(args.routes, base, current)
    additions = consumer_additions(args.routes, base, current)
    for warning in absent_path_warnings(args.routes, current, records):
        print(warning, file=sys.stderr)
    # Bad input has failed by now, before any engine starts; only the rehearsal takes long.
    rehearsed = any(change.affects_routing for change in changes)
    impacts: list[TopicImpact] = []
    if rehearsed:
        progress = Progress("routes diff")
        impacts = rehearse_both(base, current, records, progress, args.base)
        progress.phase("done")
    report = {
        "routesFile": args.routes,
        "base": args.base,
        "routes": [_change_json(c) for c in changes],
        "statements": [_statement_json(s) for s in statements],
        "newConsumers": [_addition_json(a) for a in additions],
        "samples": {
            "file": args.samples,
            "records": len(records),
            "rehearsed": rehearsed,
            "topics": [_impact_json(i) for i in impacts],
        },
    }
    text = _text(report, changes, statements, impacts) + _additions_text(additions)
    print(json.dumps(report, indent=2) if args.json else text)
    return 0


def _change_json(change: RouteChange) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": change.id, "change": change.kind}
    if change.kind == "changed":
        entry["fields"] = {_camel(name): {"before": b, "after": a} for name, (b, a) in change.fields.items()}
    else:
        route = change.after or change.before
        assert route is not None
        entry["route"] = route_json(route)
    return entry


def _statement_json(change: StatementChange) -> dict[str, Any]:
    return {
        "stack": change.stack,
        "region": change.region,
        "before": change.before,
        "after": change.after,
        "replaced": change.replaced,
        "carryOverFrom": change.carry_over_from,
        "keptStopped": list(change.stopped),
    }


def _addition_json(addition: ConsumerAddition) -> dict[str, Any]:
    return {
        "consumer": addition.consumer,
        "stack": addition.stack,
        "serviceAccount": addition.service_account,
        "apiKeys": list(addition.api_keys),
        "bindings": [{"role": role, "resource": resource} for role, resource in addition.bindings],
    }


def _additions_text(additions: list[ConsumerAddition]) -> str:
    if not additions:
        return ""
    lines = ["", "", "New consumers: what the next deployment of each stack adds"]
    for a in additions:
        parts = [f"service account {a.consumer}"] if a.service_account else []
        parts += [f"{kind} API key" for kind in a.api_keys]
        parts += [f"{role} on {resource}" for role, resource in a.bindings]
        lines.append(f"  {a.consumer} in {a.stack}: {'; '.join(parts)}")
    return "\n".join(lines)


def _impact_json(impact: TopicImpact) -> dict[str, Any]:
    return {
        "topic": impact.topic,
        "before": impact.before,
        "after": impact.after,
        "gained": impact.gained,
        "lost": impact.lost,
        "gainedIds": list(impact.gained_ids),
        "lostIds": list(impact.lost_ids),
    }


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _text(
    report: dict[str, Any], changes: list[RouteChange], statements: list[StatementChange], impacts: list[TopicImpact]
) -> str:
    lines = [f"Routes: {report['routesFile']} (working tree) against {report['base']}"]
    if not changes:
        lines += [
            f"  nothing changed: the routes equal {report['base']}'s. To review a change, name the revision it",
            "  goes onto: the branch a pull request merges into (--base origin/main), or the commit before",
            "  the change when it is committed already (--base HEAD~1).",
        ]
    for change in changes:
        route = change.after or change.before
        assert route is not None
        if change.kind == "changed":
            lines.append(f"  ~ changed  {change.id}")
            lines += [f"      {_camel(name)}: {_show(b)} -> {_show(a)}" for name, (b, a) in change.fields.items()]
        else:
            sign = "+" if change.kind == "added" else "-"
            state = "" if route.enabled else " (disabled)"
            reader = f", consumer {route.consumer}" if route.consumer else ""
            lines.append(f"  {sign} {change.kind:<8} {change.id} -> {route.output_topic}{reader}{state}")
    lines += ["", "Routing statement per stack (one statement set per region):"]
    if not statements:
        lines.append(f"  no stack of this repository deploys {report['routesFile']}")
    width = max((len(s.stack) for s in statements), default=0)
    for s in statements:
        if s.replaced:
            lines.append(
                f"  {s.stack:<{width}}  {s.before} -> {s.after}  replaced (carry-over from {s.carry_over_from})"
            )
        else:
            lines.append(f"  {s.stack:<{width}}  {s.after}  unchanged, keeps running")
    if any(s.replaced for s in statements):
        lines += [
            f"  A replaced statement takes the carry-over path: its successor declares {CARRY_OVER} = the old",
            "  name and starts at the old one's offsets once that one is STOPPED (stopped, not deleted: it stays",
            "  declared until the next deployment). Nothing is re-read, nothing is skipped.",
        ]
    samples = report["samples"]
    lines += ["", f"Sample records: {samples['file']} ({samples['records']} raw records)"]
    if not samples["rehearsed"]:
        lines.append("  no change to what is routed where (Flink not started): every topic gets the same records")
        return "\n".join(lines)
    lines.append(f"  rehearsed on Apache Flink, {report['base']} vs working tree:")
    width = max(len(i.topic) for i in impacts) if impacts else 5
    lines.append(f"  {'topic':<{width}}  {'before':>6}  {'after':>6}  {'gained':>6}  {'lost':>6}  examples")
    for i in impacts:
        examples = "; ".join(
            part
            for part in (
                f"+ {', '.join(i.gained_ids)}" if i.gained_ids else "",
                f"- {', '.join(i.lost_ids)}" if i.lost_ids else "",
            )
            if part
        )
        lines.append(
            f"  {i.topic:<{width}}  {_count(i.before):>6}  {_count(i.after):>6}  "
            f"{'+' + str(i.gained):>6}  {'-' + str(i.lost):>6}  {examples}".rstrip()
        )
    if any(i.before is None or i.after is None for i in impacts):
        lines.append("  (-: no enabled route writes the topic on that side, so the stack does not declare it)")
    return "\n".join(lines)


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _show(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "[" + "; ".join(_condition_text(c) for c in value) + "]"
    return json.dumps(value)


def _condition_text(condition: dict[str, Any]) -> str:
    text = f"{condition['field']} {condition['operator']}"
    for key in ("value", "values"):
        if key in condition:
            text += f" {json.dumps(condition[key])}"
    return text
