"""Real PostgreSQL + real Debezium (`cdcctl rehearse --changes`), configured from the stack's own
connector settings, capture the raw records into the local broker's raw topic (keyed by the primary key,
as the connector's key converter writes it), which the compiled routes then route on real Flink."""

from __future__ import annotations

import json
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.cdc_source import CdcSettings, connector_config, heartbeat_topic
from core.config_node import ConfigError
from core.naming import CDC_CONNECTOR
from core.raw_record import record_problems, table_drift
from rehearsal.children import child
from rehearsal.debezium import open_source_properties
from rehearsal.engine import REPLY_PREFIX
from rehearsal.errors import EngineError
from rehearsal.kafka import LocalKafka
from rehearsal.postgres import LocalPostgres, local_postgres
from rehearsal.routing import engine_command, engine_failure

CAPTURE_TIMEOUT_S = 180.0
LOCALHOST = "127.0.0.1"


class Capture:
    """A running Debezium engine child appending captured records to a file."""

    def __init__(self, process: subprocess.Popen[str], out: Path) -> None:
        self.process = process
        self.out = out

    def entries(self, skip_topic: str | None = None) -> list[dict[str, str]]:
        """The captured {"topic", "value"} entries so far, without those of `skip_topic`."""
        text = self.out.read_text(encoding="utf-8") if self.out.exists() else ""
        complete = text[: text.rfind("\n") + 1]  # not a line the engine is still writing
        entries = [json.loads(line) for line in complete.splitlines() if line]
        return [e for e in entries if e["topic"] != skip_topic]

    def count(self, skip_topic: str | None = None) -> int:
        return len(self.entries(skip_topic))

    def wait_until(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + CAPTURE_TIMEOUT_S
        while not done():
            if self.process.poll() is not None:
                failure = engine_failure(self._stderr(), self.out.parent)
                raise EngineError(f"Debezium engine exited while waiting for {what}: {failure}")
            if time.monotonic() > deadline:
                raise EngineError(f"timed out after {CAPTURE_TIMEOUT_S:.0f} s waiting for {what}")
            time.sleep(0.2)

    def _stderr(self) -> str:
        return (self.process.stderr.read() if self.process.stderr else "")[-4000:]


@contextmanager
def debezium_capture(
    properties: dict[str, str], out: Path, producer: dict[str, str] | None = None
) -> Iterator[Capture]:
    """Debezium in a child process, producing each record to Kafka with `producer` (librdkafka settings)
    and appending it to `out` (what the parent counts and checks). Without `producer`, to `out` only
    (what a slot's behaviour needs: no broker)."""
    spec = out.with_suffix(".spec.json")
    spec.write_text(json.dumps({"properties": properties, "out": str(out), "producer": producer}))
    command, env = engine_command("capture", str(spec), work=str(out.parent))
    # Run in the work directory: the engine writes its logs/ (and the JVM its crash files) there, and they
    # go with it. On any error or interrupt `child` stops the engine's whole process group.
    with child(
        "Debezium engine",
        command,
        env=env,
        cwd=out.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        yield Capture(process, out)
        try:
            stdout, stderr = process.communicate(input="stop\n", timeout=90)
        except subprocess.TimeoutExpired:
            raise EngineError("Debezium engine did not stop") from None
        if process.returncode != 0 or REPLY_PREFIX not in stdout:
            raise EngineError(
                f"Debezium engine failed (exit {process.returncode}): {engine_failure(stderr, out.parent)}"
            )


@dataclass(frozen=True)
class SourceDatabase:
    """The local PostgreSQL as the stack's source database: its prerequisites applied (publication, slot
    user, heartbeat table), the connector user's password generated for this run."""

    cdc: CdcSettings
    pg: LocalPostgres
    password: str = field(repr=False)

    def debezium_properties(self, raw_topic: str) -> dict[str, str]:
        """The stack's connector config as open-source Debezium properties, pointed at this server."""
        managed = connector_config(
            self.cdc, name="cdc-rehearsal", hostname=LOCALHOST, service_account_id="rehearsal", raw_topic=raw_topic
        )
        return open_source_properties(
            managed, hostname=LOCALHOST, port=self.pg.port, password=self.password, root_cert=str(self.pg.certificate)
        )


@contextmanager
def source_database(cdc: CdcSettings, before: Path | None = None) -> Iterator[SourceDatabase]:
    """A local PostgreSQL with the stack's prerequisites, then `before` (rows the initial snapshot will
    read), its table checked. Started before the broker: a script that removes or retypes a column is
    refused (exit 2) before any other engine starts."""
    with local_postgres(cdc.database) as pg:
        source = SourceDatabase(cdc, pg, secrets.token_hex(16))
        pg.apply_prerequisites(cdc, source.password)
        if before is not None:
            pg.run_script(before)
        _check_table(pg, cdc, str(before) if before else "db/migrations", "--before")
        yield source


def capture_changes(source: SourceDatabase, changes: Path, kafka: LocalKafka) -> list[dict[str, Any]]:
    """The source's rows arrive through the initial snapshot (`__op` r), then `changes` stream in, into
    the raw topic (created here with the stack's partition count) as the connector's principal."""
    cdc, pg = source.cdc, source.pg
    raw_topic = kafka.layout.raw_topic
    with tempfile.TemporaryDirectory(prefix="cdc-capture-") as work:
        table = f'"{cdc.schema}"."{cdc.table}"'
        snapshot_rows = int(pg.scalar(f"SELECT count(*) FROM {table}"))
        out = Path(work, "captured.jsonl")
        # Heartbeat records (cdc.heartbeatIntervalMs) go to their own topic: no consumer reads them here.
        beats = heartbeat_topic(raw_topic)
        kafka.create_topics(kafka.layout.source_topics())
        properties = source.debezium_properties(raw_topic)
        with debezium_capture(properties, out, kafka.client_config(CDC_CONNECTOR)) as capture:
            # Streaming has begun (slot active) and the snapshot is in: changes from now on stream.
            capture.wait_until(
                lambda: _slot_active(pg, cdc.slot_name) and capture.count(beats) >= snapshot_rows,
                "the initial snapshot",
            )
            baseline = pg.row_changes(cdc.table)
            pg.run_script(changes)
            _check_table(pg, cdc, str(changes), "--changes")
            expected = snapshot_rows + pg.row_changes(cdc.table) - baseline
            capture.wait_until(lambda: capture.count(beats) >= expected, f"{expected} change records")
            time.sleep(0.5)  # anything beyond (a key update is a delete and a create) arrives too
        entries = capture.entries(beats)
    return [_raw_record(number, entry, raw_topic) for number, entry in enumerate(entries, start=1)]


def _check_table(pg: LocalPostgres, cdc: CdcSettings, file: str, argument: str) -> None:
    """A removed or retyped source column is refused before anything is routed (exit 2, naming the
    script that changed the table); an added one is left to the records (routing ignores it)."""
    # Schema and table are PostgreSQL identifiers (settings admit [a-z0-9_] only): safe as literals.
    rows = pg.psql(
        "-A",
        "-t",
        "-F",
        "\t",
        "-c",
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = '{cdc.schema}' AND table_name = '{cdc.table}'",
    )
    columns = dict(line.split("\t", 1) for line in rows.splitlines() if line)
    problems, _ = table_drift(columns, cdc.table)
    if problems:
        raise ConfigError(file, argument, "; ".join(problems))


def _slot_active(pg: LocalPostgres, slot: str) -> bool:
    return pg.scalar(f"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{slot}' AND active") == "1"


def _raw_record(number: int, entry: dict[str, str], raw_topic: str) -> dict[str, Any]:
    """A captured record must be a raw record on the raw topic: anything else fails loudly."""
    if entry["topic"] != raw_topic:
        raise EngineError(f"captured record {number} went to topic {entry['topic']!r}, not {raw_topic!r}")
    record = json.loads(entry["value"])
    problems = record_problems(record)
    if problems:
        raise EngineError(f"captured record {number} is not a raw record: {'; '.join(problems)}: {entry['value']}")
    return dict(record)
