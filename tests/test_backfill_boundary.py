"""The backfill's boundary on real Flink and a real Kafka broker (the Kafka rehearsal, rehearsal/kafka.py):
the successor starts at the predecessor's stop offsets (what `sql.tables.initial-offset-from` carries
over), the backfill reads the raw topic from its earliest record bounded at the predecessor's
`latest_offsets_timestamp`, both into the added route's topic. Every record before the stop offsets
arrives once, every record after it once, except those appended after the stop offsets and before the
timestamp, which arrive twice: the documented window. With the open-source connector's
`scan.bounded.mode` = specific-offsets (not documented for Confluent Cloud) the boundary is exact."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from core.naming import CDC_CONNECTOR, FLINK_STATEMENTS
from flink_sql.compiler import compile_routes, insert_statement, statement_set
from flink_sql.routes import parse_routes
from flink_sql.statement import History, StatementSpec, backfill_sql, bound_millis
from rehearsal import kafka as kafka_rehearsal
from rehearsal import routing
from stacks.access_policy import access_policy
from tests.test_rehearsal_input import raw_record

pytestmark = pytest.mark.engine

RAW = "raw-business-events"
ROUTE = parse_routes(
    {
        "routes": [
            {
                "id": "big-loans",
                "outputTopic": "big-loans",
                "conditions": [{"field": "event_type", "operator": "equals", "value": "Big"}],
            },
            {
                "id": "exact",
                "outputTopic": "big-loans-exact",
                "conditions": [{"field": "event_type", "operator": "equals", "value": "Big"}],
            },
        ]
    },
    "routes.yaml",
)


def records(prefix: str, count: int) -> list[dict[str, Any]]:
    """`count` routed records and as many the route skips (the backfill must filter as the route does)."""
    routed = [raw_record(f"{prefix}-{i}", "Big", __ts_ms=i) for i in range(count)]
    skipped = [raw_record(f"{prefix}-other-{i}", "Small", __ts_ms=i) for i in range(count)]
    return routed + skipped


def users() -> list[Any]:
    """The connector and the statement principal with their grants' ACLs (the broker's admin creates topics)."""
    policy = access_policy(ROUTE, ("us-east-1",), RAW)
    return [
        kafka_rehearsal.KafkaUser(name, read_topics=g.read_topics, write_topics=g.write_topics)
        for name, g in policy.items()
        if name in (CDC_CONNECTOR, FLINK_STATEMENTS)
    ]


def ids(entries: list[dict[str, Any]], topic: str) -> Counter[str]:
    return Counter(json.loads(e["value"])["id"] for e in entries if e["topic"] == topic)


def test_history_before_the_boundary_and_the_stream_after_it_arrive_once() -> None:
    route, exact = ROUTE
    layout = kafka_rehearsal.TopicLayout(raw_topic=RAW, raw_partitions=2, routed_partitions=1)
    with kafka_rehearsal.local_kafka(users(), layout) as kafka:
        kafka.create_topics({RAW: 2, route.output_topic: 1, exact.output_topic: 1})
        kafka.produce_records(records("before", 30))  # read by the predecessor, which then stops
        stop = Counter(e["partition"] for e in kafka.read_back([RAW]))  # its latest_offsets: next offset per partition
        kafka.produce_records(records("window", 5))  # appended after the stop offsets, before they were recorded
        stopped_at = int(time.time() * 1000)  # its latest_offsets_timestamp
        time.sleep(1.5)
        kafka.produce_records(records("after", 30))  # the stream after the boundary
        offsets = ";".join(f"partition:{p},offset:{stop[p]}" for p in range(2))

        def source(**hints: str) -> str:
            options = {**routing.kafka_table_options(kafka, RAW, source=True, bounded=False), **hints}
            return compile_routes([route], RAW, options).source_ddl

        sinks = list(
            compile_routes(
                [route, exact],
                RAW,
                {},
                sink_options_for={r.output_topic: routing.kafka_table_options(kafka, r.output_topic) for r in ROUTE},
            ).sink_ddl
        )
        # The successor: the route's INSERT from the stop offsets (bounded here only so the job ends).
        successor = compile_routes([route], RAW, {}).inserts[0]
        carried = source(
            **{
                "scan.startup.mode": "specific-offsets",
                "scan.startup.specific-offsets": offsets,
                "scan.bounded.mode": "latest-offset",
            }
        )
        routing.run_on_flink([carried, *sinks], successor)
        from_successor = ids(kafka.read_back([route.output_topic]), route.output_topic)
        # The backfill exactly as the program declares it, bounded at the stop timestamp.
        spec = StatementSpec("s", "", {}, history=History("dev", RAW, (route,)))
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stopped_at // 1000)) + f".{stopped_at % 1000:03d}Z"
        assert bound_millis(iso) == str(stopped_at)
        # Beside it in one job (each INSERT carries its own hints), the open-source connector's exact bound.
        exact_hints = {
            "scan.startup.mode": "earliest-offset",
            "scan.bounded.mode": "specific-offsets",
            "scan.bounded.specific-offsets": offsets,
        }
        backfill_and_exact = [backfill_sql(spec, route, bound_millis(iso)), insert_statement(exact, RAW, exact_hints)]
        routing.run_on_flink([source(), *sinks], statement_set(backfill_and_exact))
        routed = kafka.read_back([route.output_topic, exact.output_topic])

    before = {f"before-{i}" for i in range(30)}
    window = {f"window-{i}" for i in range(5)}
    after = {f"after-{i}" for i in range(30)}
    assert set(from_successor) == window | after and set(from_successor.values()) == {1}
    both = ids(routed, route.output_topic)
    assert set(both) == before | window | after  # no gap, nothing the route skips
    assert {i for i, n in both.items() if n == 2} == window  # the duplicate window, and only it
    assert {n for i, n in both.items() if i not in window} == {1}
    assert ids(routed, exact.output_topic) == Counter(before)  # exact: history up to the stop offsets, once


def test_a_record_the_source_cannot_deserialize_locally() -> None:
    """What open-source Flink does with one corrupt raw record (a value the JSON format cannot read: a
    string where `__ts_ms` is BIGINT). Its Kafka connector has no `error-handling.*` option (Confluent's):
    the format decides. Default: the job fails at the record, after routing what came before it (its
    sink flushes), and routes nothing after it, as Confluent's `fail` stops every route. With
    `value.json.ignore-parse-errors` the job goes on and the record is routed with the field it could not
    read as NULL (Flink 2.2's JSON format nulls the field, it does not drop the row): not Confluent's
    `ignore` (which skips the record) nor `log` (the dead-letter table), which have no open-source
    counterpart to run here."""
    (route, _) = ROUTE
    layout = kafka_rehearsal.TopicLayout(raw_topic=RAW, raw_partitions=1, routed_partitions=1)
    with kafka_rehearsal.local_kafka(users(), layout) as kafka:
        kafka.create_topics({RAW: 1, route.output_topic: 1})
        good = records("good", 10)  # 10 routed records, then 10 the route skips
        poison = raw_record("poison", "Big", __ts_ms="not-a-number")
        kafka.produce_records([*good[:5], poison, *good[5:]])
        sink = compile_routes(
            [route],
            RAW,
            {},
            sink_options_for={route.output_topic: routing.kafka_table_options(kafka, route.output_topic)},
        ).sink_ddl
        options = routing.kafka_table_options(kafka, RAW, source=True)
        statement = compile_routes([route], RAW, options).inserts[0]
        with pytest.raises(routing.EngineError, match=r"(?s)Flink job failed.*(not-a-number|[Dd]eserializ)"):
            routing.run_on_flink([compile_routes([route], RAW, options).source_ddl, *sink], statement)
        failed = ids(kafka.read_back([route.output_topic]), route.output_topic)
        ignoring = {**options, "value.json.ignore-parse-errors": "true"}
        routing.run_on_flink([compile_routes([route], RAW, ignoring).source_ddl, *sink], statement)
        second = kafka.read_back([route.output_topic])
        routed = ids(second, route.output_topic) - failed
    assert failed == Counter(f"good-{i}" for i in range(5))  # what came before the poison record, only
    assert routed == Counter([*(f"good-{i}" for i in range(10)), "poison"])
    (nulled,) = [json.loads(e["value"]) for e in second if json.loads(e["value"])["id"] == "poison"]
    assert nulled["__ts_ms"] is None and nulled["event_type"] == "Big"
