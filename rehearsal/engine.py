"""The rehearsal engine: real Apache Flink (PyFlink), run by cdcctl as a child process.

Runs in the engine virtualenv (.engine-venv), which cannot hold Pulumi (grpcio conflict), so it
imports only the standard library, PyFlink, pydbzengine and the project's pure-Python modules; the
engines are imported inside functions, so cdcctl (main virtualenv) can import the protocol constant.

  python -m rehearsal.engine run SPEC.json   run {"tables": [DDL...], "statement": SQL} to completion (batch)
  python -m rehearsal.engine serve           answer JSON lines {"tables": [...], "explain": SQL} on stdin
  python -m rehearsal.engine capture SPEC    run Debezium {"properties", "out": FILE, "producer": {...}} until
                                          stdin closes: each record produced to Kafka (its key and value
                                          as the JSON converter wrote them), and {"topic", "value"}
                                          appended to FILE
"""

from __future__ import annotations

import json
import select
import sys
import threading
import time
from typing import Any

# Lines of the serve protocol start with this, so stray output of the JVM bridge is never mistaken.
REPLY_PREFIX = "@@engine "


def table_environment(batch: bool) -> Any:
    from pyflink.table import EnvironmentSettings, TableEnvironment

    settings = EnvironmentSettings.in_batch_mode() if batch else EnvironmentSettings.in_streaming_mode()
    env = TableEnvironment.create(settings)
    # One slot: deterministic output files, and the machine has two cores. Flink's Kafka SQL connector is on
    # the JVM's class path (rehearsal/routing.py engine_command): the rehearsal's tables are Kafka topics.
    env.get_config().set("parallelism.default", "1")
    return env


def explain_sql(statement: str) -> str:
    """EXPLAIN form of a statement: the statement set is explained as a whole (one job)."""
    if statement.startswith("EXECUTE STATEMENT SET"):
        return "EXPLAIN " + statement.removeprefix("EXECUTE ")
    return f"EXPLAIN {statement}"


def explain(tables: list[str], statement: str) -> str:
    """Plan `statement` on real Flink (streaming, as deployed) after creating `tables`."""
    env = table_environment(batch=False)
    for ddl in tables:
        env.execute_sql(ddl)
    with env.execute_sql(explain_sql(statement)).collect() as rows:
        return "\n".join(str(row[0]) for row in rows)


def run(tables: list[str], statement: str, batch: bool = True, announce: bool = False) -> float:
    """Execute `statement` to completion; returns the wall time of the job in seconds. `announce`: tell
    the parent process (its progress line) when the JVM is up and the job starts."""
    env = table_environment(batch=batch)
    for ddl in tables:
        env.execute_sql(ddl)
    if announce:
        print(REPLY_PREFIX + json.dumps({"phase": "routing"}), flush=True)
    start = time.perf_counter()
    env.execute_sql(statement).wait()
    return time.perf_counter() - start


def capture(properties: dict[str, str], out_path: str, producer_config: dict[str, str] | None) -> None:
    """Run the real Debezium engine (embedded, in this process's JVM) until told to stop. Its records go
    to Kafka as Kafka Connect's producer sends them (idempotent, acks=all); a batch counts as handled
    (and the engine commits its offsets) only once Kafka has acknowledged all of it. Without a producer
    config, records go to `out_path` only."""
    from confluent_kafka import Producer
    from pydbzengine import BasePythonChangeHandler, DebeziumJsonEngine

    failures: list[BaseException] = []
    producer = (
        Producer({**producer_config, "enable.idempotence": "true", "acks": "all", "linger.ms": "5"})
        if producer_config is not None
        else None
    )
    with open(out_path, "a", encoding="utf-8") as out:

        class ProduceToKafka(BasePythonChangeHandler):  # type: ignore[misc]
            def handleJsonBatch(self, records: list[Any]) -> None:
                undelivered: list[str] = []
                for record in records:
                    value = record.value()
                    if value is None:  # a tombstone (the platform's connector emits none)
                        continue
                    topic, key = str(record.destination()), record.key()
                    if producer is not None:
                        producer.produce(
                            topic,
                            key=None if key is None else str(key).encode(),
                            value=str(value).encode(),
                            on_delivery=lambda error, _m: undelivered.append(str(error)) if error else None,
                        )
                    out.write(json.dumps({"topic": topic, "value": str(value)}) + "\n")
                if producer is not None and (producer.flush(60) or undelivered):
                    raise RuntimeError(f"Kafka refused captured records: {undelivered[:1] or 'flush timed out'}")
                out.flush()

        engine = DebeziumJsonEngine(properties=properties, handler=ProduceToKafka())

        def run_engine() -> None:
            try:
                engine.run()
            except BaseException as error:
                failures.append(error)

        thread = threading.Thread(target=run_engine, daemon=True)
        thread.start()
        print(REPLY_PREFIX + json.dumps({"started": True}), flush=True)
        while thread.is_alive() and not _stop_requested():
            pass
        engine.close()
        thread.join(timeout=60)
    if failures:
        raise RuntimeError(f"Debezium engine failed: {failures[0]}")


def _stop_requested() -> bool:
    """True once the parent writes a line (or closes stdin); waits at most a second."""
    ready, _, _ = select.select([sys.stdin], [], [], 1.0)
    return bool(ready)


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {"ok": True, "plan": explain(request.get("tables", []), request["explain"])}
        except Exception as error:
            reply = {"ok": False, "error": str(error)}
        print(REPLY_PREFIX + json.dumps(reply), flush=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:
        serve()
        return 0
    if len(argv) == 2 and argv[0] == "capture":
        with open(argv[1], encoding="utf-8") as spec_file:
            spec = json.load(spec_file)
        capture(spec["properties"], spec["out"], spec.get("producer"))
        return 0
    if len(argv) == 2 and argv[0] == "run":
        with open(argv[1], encoding="utf-8") as spec_file:
            spec = json.load(spec_file)
        seconds = run(spec["tables"], spec["statement"], batch=spec.get("batch", True), announce=True)
        print(REPLY_PREFIX + json.dumps({"ok": True, "seconds": seconds}), flush=True)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
