"""`cdcctl cost --stack NAME [--prices FILE] [--json]`: the stack's monthly cost, estimated from its
offline plan and the dated price table (cdcctl/prices.yaml): sources named, unconfirmed prices and
assumed quantities marked. `--json` has a top-level `total` (USD per month)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cdcctl.cost import NOT_PRICED, Estimate, estimate, load_price_table
from cdcctl.plan import plan
from cdcctl.stack_config import stack_settings
from flink_sql.routes import load_routes
from settings.model import GlobalStackSettings


def run(args: argparse.Namespace) -> int:
    table = load_price_table(args.prices)
    settings = stack_settings(args.stack)
    enabled = (
        0 if isinstance(settings, GlobalStackSettings) else sum(r.enabled for r in load_routes(settings.routes_file))
    )
    result = estimate(plan(args.stack), table, enabled)
    print(json.dumps(as_json(result), indent=2) if args.json else as_text(result))
    return 0


def _cents(value: float) -> float:
    return round(value, 2)


def _unit_price(usd: float) -> str:
    """At least cents, more digits only where the price has them ($0.50, $0.015)."""
    text = f"{usd:.4f}".rstrip("0")
    return text if len(text.split(".")[1]) >= 2 else f"{usd:.2f}"


def as_json(e: Estimate) -> dict[str, Any]:
    flink = e.flink
    return {
        "stack": e.stack,
        "currency": e.table.currency,
        "total": _cents(e.total),
        "priceTable": {"file": e.table.file, "date": e.table.date, "hoursPerMonth": e.table.hours_per_month},
        "items": [
            {
                "item": line.item,
                "quantity": line.quantity,
                "unit": line.price.per,
                "unitPrice": line.price.usd,
                "monthly": _cents(line.monthly),
                "price": line.price.id,
                "priceVerified": line.price.verified,
                "source": line.price.source,
                "assumptions": list(line.assumptions),
            }
            for line in e.lines
        ],
        "flink": None
        if flink is None
        else {
            "runningStatements": flink.running_statements,
            "floorMonthly": _cents(flink.floor),
            "maxCfu": flink.max_cfu,
            "ceilingMonthly": _cents(flink.ceiling),
            "enabledRoutes": flink.enabled_routes,
            "oneStatementPerRouteMonthly": _cents(flink.one_statement_per_route),
            "statementSetSaves": _cents(flink.statement_set_saves),
            "backfillCfuMinutes": flink.backfill_cfu_minutes,
            "backfillOneOff": _cents(flink.backfill),
        },
        "assumptions": {key: {"value": a.for_stack(e.stack), "why": a.why} for key, a in e.assumptions_used.items()},
        "notPriced": list(NOT_PRICED),
    }


def as_text(e: Estimate) -> str:
    t = e.table
    lines = [
        f"Monthly cost estimate of stack {e.stack} ({t.currency}, {t.hours_per_month} h a month, "
        f"prices of {t.date} from {t.file})"
    ]
    if not e.lines:
        lines.append("  nothing billed by the hour: this stack registers no cluster, pool, connector or endpoint")
    width = max((len(line.item) for line in e.lines), default=0)
    qty = max((len(line.quantity_text) for line in e.lines), default=0)
    for line in e.lines:
        marks = ("" if line.price.verified else " [U]") + (" [A]" if line.assumptions else "")
        unit = f"${_unit_price(line.price.usd)}/{line.price.per}"
        lines.append(f"  {line.item:<{width}}  {line.quantity_text:<{qty}}  {unit:<24} {line.monthly:>10,.2f}{marks}")
    lines.append(f"  {'total':<{width}}  {'':<{qty}}  {'':<24} {e.total:>10,.2f}")
    flink = e.flink
    if flink is not None:
        lines += [
            "",
            f"Flink: the floor above is {flink.running_statements} running statement(s) x 1 CFU; the pool's ceiling "
            f"(max_cfu {flink.max_cfu}) is {flink.ceiling:,.2f}/month if it ever runs full (not in the total).",
            f"The statement set runs {flink.enabled_routes} route(s) as {flink.running_statements} statement(s): one "
            f"statement per route would floor at {flink.one_statement_per_route:,.2f}/month, "
            f"{flink.statement_set_saves:,.2f} more.",
            f"Adding a route with backfill: true runs one bounded statement once: {flink.backfill_cfu_minutes:g} "
            f"CFU-minutes [A], {flink.backfill:,.2f} one-off (not in the total).",
        ]
    if any(not line.price.verified for line in e.lines):
        lines.append("[U] price not confirmed in its source when the table was dated: replace it with your price list")
    for key, a in e.assumptions_used.items():
        lines.append(f"[A] {key} = {a.for_stack(e.stack):g}: {a.why}")
    lines.append(f"Not priced: {'; '.join(NOT_PRICED)}.")
    return "\n".join(lines)
