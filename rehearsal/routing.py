"""The compiled routes on real Apache Flink and a real Kafka broker, fed with raw records (`cdcctl
rehearse`, `routes diff`).

The WHERE clauses and the statement set are exactly the deployed ones (same compiler, same routes);
only the tables' WITH clauses change, from the Confluent registry format to the local broker's topics
with JSON values and keys.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from core.config_node import ConfigError
from core.naming import FLINK_STATEMENTS
from core.progress import Progress, report
from core.raw_record import RAW_COLUMN_NAMES, RAW_TOPIC, record_problems
from flink_sql.compiler import compile_routes
from flink_sql.routes import Route
from rehearsal.engine import REPLY_PREFIX
from rehearsal.errors import EngineError
from rehearsal.kafka import LocalKafka

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def engine_python() -> Path:
    """The engine virtualenv's interpreter (`make engine` creates it; CDC_ENGINE_PYTHON overrides)."""
    path = Path(os.environ.get("CDC_ENGINE_PYTHON") or PROJECT_ROOT / ".engine-venv/bin/python")
    if not path.exists():
        raise EngineError(f"rehearsal engine not installed at {path}: run `make engine`")
    return path


def engine_command(*args: str, module: str = "rehearsal.engine") -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return [str(engine_python()), "-m", module, *args], env


def run_on_flink(tables: list[str], statement: str, batch: bool = True, progress: Progress | None = None) -> float:
    """Run one statement to completion on real Flink; returns the job's wall time in seconds. The engine
    reports when its JVM is up and the job starts, so `progress` shows engine start and routing apart."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
        json.dump({"tables": tables, "statement": statement, "batch": batch}, spec)
    report(progress, "starting the Flink engine")
    replies: list[dict[str, Any]] = []
    try:
        command, env = engine_command("run", spec.name)
        # stderr to a file: the JVM logs a lot, and a full pipe nobody reads would block the engine.
        with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
            process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
            assert process.stdout is not None
            try:
                for line in process.stdout:
                    if line.startswith(REPLY_PREFIX):
                        reply = json.loads(line.removeprefix(REPLY_PREFIX))
                        if "phase" in reply:
                            report(progress, f"engine up; {reply['phase']} on Flink")
                        else:
                            replies.append(reply)
            except BaseException:  # interrupted: never leave a JVM running behind
                process.kill()
                process.wait()
                raise
            returncode = process.wait()
            errors.seek(0)
            stderr = errors.read()
    finally:
        os.unlink(spec.name)
    if returncode != 0 or not replies:
        raise EngineError(f"Flink job failed (exit {returncode}):\n{stderr[-4000:]}")
    return float(replies[-1]["seconds"])


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
    command, env = engine_command("serve")
    process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield FlinkPlanner(process)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=60)


def read_records(path: Path, option: str = "--records") -> list[dict[str, Any]]:
    """JSONL raw records; a missing, non-UTF-8 or malformed file fails with file and line (or the
    `option` that named it), before Flink starts. Lines end at "\n" only: U+2028 and friends are legal
    inside JSON strings."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise ConfigError(str(path), option, f"cannot read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(str(path), option, f"is not UTF-8 text (offset {error.start})") from None
    records = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise ConfigError(str(path), f"line {number}", f"invalid JSON: {error}") from None
        problems = record_problems(record)
        if problems:
            raise ConfigError(str(path), f"line {number}", "; ".join(problems))
        records.append(record)
    return records


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
        compiled = compile_routes(
            enabled,
            RAW_TOPIC,
            source_options=kafka_table_options(kafka, layout.raw_topic, source=True),
            sink_options_for={topic: kafka_table_options(kafka, topic) for topic in routed},
        )
        run_on_flink([compiled.source_ddl, *compiled.sink_ddl], compiled.statement_set, progress=progress)
        report(progress, "reading the routed topics back")
        read = kafka.read_back(routed)
    # The broker can serve another run (routes diff: the other side). After a failure it is stopped anyway.
    kafka.delete_topics([layout.raw_topic, *routed])
    report(progress, f"writing {out_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    return {topic: _write_topic(out_dir, topic, [e for e in read if e["topic"] == topic]) for topic in routed}


def kafka_table_options(kafka: LocalKafka, topic: str, source: bool = False, bounded: bool = True) -> dict[str, str]:
    """The rehearsal's stand-in for the registry-backed Kafka tables: the same topic on the local broker,
    JSON values (the connector's local converter), as the statement principal. The raw topic is read
    from its first offset (`bounded`: to the end offsets at start, so the job finishes); a routed
    topic's key is the record's id, as JSON, so the sink's partitioner hashes it as Kafka's producers do."""
    options = {"connector": "kafka", "topic": topic, **kafka.flink_options(FLINK_STATEMENTS), "value.format": "json"}
    if source:
        return {**options, "scan.startup.mode": "earliest-offset"} | (
            {"scan.bounded.mode": "latest-offset"} if bounded else {}
        )
    return {**options, "key.format": "json", "key.fields": "id"}


@contextmanager
def streaming_job(tables: list[str], statement: str, work: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A streaming job on Flink that runs until the context ends (`cdcctl local`): the engine and its
    JVM in their own process group, stopped together (SIGTERM, SIGKILL after 30 s)."""
    spec = work / "flink-job.json"
    with os.fdopen(os.open(spec, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as out:
        json.dump({"tables": tables, "statement": statement, "batch": False}, out)
    command, env = engine_command("run", str(spec))
    with (work / "flink.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        yield process
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group, SIGKILL to whatever of it is left once the engine exits (or after 30 s)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            continue


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
