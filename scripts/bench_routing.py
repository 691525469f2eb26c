"""Routing benchmark on real Apache Flink: one statement set vs one INSERT job per route.

Runs in the engine virtualenv (`make bench-routing`); prints numbers, asserts nothing.
N routes over M raw records from a `datagen` source, which (like Kafka, unlike `filesystem`) takes no
filter push-down, so a statement set can share one scan. Streaming mode, as deployed. Also prints the
source scans in each EXPLAIN and the Confluent billing floor (each statement >= 1 CFU-minute/minute).
"""

from __future__ import annotations

import argparse
import time

from core.raw_record import RAW_COLUMNS, RAW_TOPIC
from flink_sql.compiler import compile_routes, identifier, string_literal
from flink_sql.routes import parse_routes
from rehearsal.engine import explain, run

HOURS_PER_MONTH = 730


def generator_tables(records: int, types: int) -> list[str]:
    """A bounded datagen sequence, shaped into raw records by a view named like the raw topic."""
    generated = {
        "id": "CAST(`seq` AS STRING)",
        "event_name": f"CONCAT('Type', CAST(MOD(`seq`, {types}) AS STRING))",
        "event_type": f"CONCAT('Type', CAST(MOD(`seq`, {types}) AS STRING))",
        "created_date": "'2024-01-15T10:30:00Z'",
        "saved_date": "'2024-01-15T10:30:05Z'",
        "event_data": "JSON_OBJECT('amount' VALUE MOD(`seq`, 100000))",
        "__op": "CASE MOD(`seq`, 10) WHEN 0 THEN 'u' WHEN 1 THEN 'r' ELSE 'c' END",
        "__table": "'business_events'",
        "__ts_ms": "1705312200000 + `seq`",
        "__deleted": "'false'",
    }
    columns = ", ".join(f"{generated[c.name]} AS {identifier(c.name)}" for c in RAW_COLUMNS)
    options = {
        "connector": "datagen",
        "fields.seq.kind": "sequence",
        "fields.seq.start": "1",
        "fields.seq.end": str(records),
        # datagen throttles to 10,000 rows/s by default: lift it, or the benchmark measures the throttle.
        "rows-per-second": str(10**9),
    }
    with_clause = ", ".join(f"{string_literal(k)} = {string_literal(v)}" for k, v in options.items())
    return [
        f"CREATE TABLE `generator` (`seq` BIGINT) WITH ({with_clause})",
        f"CREATE VIEW {identifier(RAW_TOPIC)} AS SELECT {columns} FROM `generator`",
    ]


def benchmark_routes(count: int) -> dict[str, object]:
    return {
        "routes": [
            {
                "id": f"route-{i}",
                "outputTopic": f"routed-{i}",
                "operations": ["create", "update", "snapshot"],
                "conditions": [
                    {"field": "event_type", "operator": "equals", "value": f"Type{i}"},
                    {"field": "event_data.amount", "operator": "greaterThanOrEqual", "value": 100},
                ],
            }
            for i in range(count)
        ]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--routes", type=int, default=20)
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()

    routes = parse_routes(benchmark_routes(args.routes), "benchmark")
    compiled = compile_routes(routes, RAW_TOPIC, {"connector": "blackhole"}, {"connector": "blackhole"})
    tables = [*generator_tables(args.records, args.routes + 5), *compiled.sink_ddl]

    # The EXPLAIN text holds the AST and two plans; count scans in the optimized execution plan only.
    set_scans = (
        explain(tables, compiled.statement_set).split("== Optimized Execution Plan ==")[-1].count("TableSourceScan(")
    )
    insert_scans = sum(
        explain(tables, insert).split("== Optimized Execution Plan ==")[-1].count("TableSourceScan(")
        for insert in compiled.inserts
    )

    start = time.perf_counter()
    run(tables, compiled.statement_set, batch=False)
    set_seconds = time.perf_counter() - start

    start = time.perf_counter()
    for insert in compiled.inserts:
        run(tables, insert, batch=False)
    separate_seconds = time.perf_counter() - start

    n, m = args.routes, args.records
    print(f"routing benchmark: {n} routes over {m:,} raw records, real Apache Flink, streaming, parallelism 1")
    print(
        f"  statement set (1 job):     {set_seconds:8.1f} s  {m / set_seconds:12,.0f} records/s  "
        f"source scans in EXPLAIN: {set_scans}"
    )
    print(
        f"  {n} separate INSERT jobs:  {separate_seconds:8.1f} s  {m / separate_seconds:12,.0f} records/s  "
        f"source scans in EXPLAINs: {insert_scans}"
    )
    print(f"  speed-up: {separate_seconds / set_seconds:.1f}x")
    print("  Confluent billing floor (each running statement >= 1 CFU-minute per minute):")
    print(f"    statement set: >= 1 CFU  = {HOURS_PER_MONTH:,} CFU-hours/month")
    print(f"    {n} statements: >= {n} CFU = {n * HOURS_PER_MONTH:,} CFU-hours/month")


if __name__ == "__main__":
    main()
