"""The compiled routes on real Apache Flink, fed with raw records (`cdcctl rehearse`, `routes diff`).

The WHERE clauses and the statement set are exactly the deployed ones (same compiler, same routes);
only the tables' WITH clauses change, from the Confluent registry format to local JSON files.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from core.config_node import ConfigError
from core.input_file import parse_json, read_text
from core.progress import Progress, report
from core.raw_record import JSON_COLUMN, RAW_COLUMN_NAMES, RAW_TOPIC, record_problems
from flink_sql.compiler import compile_routes
from flink_sql.routes import Route
from rehearsal.children import child
from rehearsal.engine import REPLY_PREFIX
from rehearsal.errors import EngineError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def engine_python() -> Path:
    """The engine virtualenv's interpreter (`make engine` creates it; CDC_ENGINE_PYTHON overrides)."""
    path = Path(os.environ.get("CDC_ENGINE_PYTHON") or PROJECT_ROOT / ".engine-venv/bin/python")
    if not path.exists():
        raise EngineError(f"rehearsal engine not installed at {path}: run `make engine`")
    return path


def engine_command(*args: str, work: str | None = None) -> tuple[list[str], dict[str, str]]:
    """The engine child's command line and environment; with `work`, its temporary files go there (and
    are removed with it, even when the engine is killed)."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **({"TMPDIR": work} if work else {})}
    return [str(engine_python()), "-m", "rehearsal.engine", *args], env


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
    routes: Iterable[Route], records: list[dict[str, Any]], out_dir: Path, progress: Progress | None = None
) -> dict[str, int]:
    """Route `records` through the compiled statement set on Flink; writes out_dir/<topic>.jsonl."""
    enabled = [r for r in routes if r.enabled]
    with tempfile.TemporaryDirectory(prefix="cdc-rehearsal-") as work:
        source_dir, sinks = Path(work, "raw"), {r.output_topic: Path(work, "sinks", r.output_topic) for r in enabled}
        source_dir.mkdir()
        with (source_dir / "records.json").open("w", encoding="utf-8") as raw:
            raw.writelines(json.dumps(record) + "\n" for record in records)
        compiled = compile_routes(
            enabled,
            RAW_TOPIC,
            source_options=local_table_options(source_dir),
            sink_options_for={topic: local_table_options(path) for topic, path in sinks.items()},
        )
        if enabled:
            run_on_flink([compiled.source_ddl, *compiled.sink_ddl], compiled.statement_set, progress=progress)
        report(progress, f"writing {out_dir}")
        out_dir.mkdir(parents=True, exist_ok=True)
        return {topic: _collect(path, out_dir / f"{topic}.jsonl") for topic, path in sinks.items()}


def local_table_options(path: Path) -> dict[str, str]:
    """The rehearsal's stand-in for the registry-backed Kafka tables: JSON files."""
    return {"connector": "filesystem", "path": str(path), "format": "json"}


def _collect(sink_dir: Path, target: Path) -> int:
    """Gather a filesystem sink's part files into one JSONL file, every raw column in order."""
    rows = []
    if sink_dir.is_dir():
        for part in sorted(p for p in sink_dir.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))):
            rows += [json.loads(line) for line in part.read_text(encoding="utf-8").split("\n") if line.strip()]
    # "x": a file (or symlink) placed there meanwhile is an error, never followed or overwritten.
    with target.open("x", encoding="utf-8") as out:
        out.writelines(json.dumps({c: row.get(c) for c in RAW_COLUMN_NAMES}) + "\n" for row in rows)
    return len(rows)
