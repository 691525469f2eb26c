"""`matches` patterns are checked by Python but run by Java (Flink's REGEXP): the accepted subset must
mean the same on both, and what is refused really differs. Proven on real Apache Flink."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from cdcctl.rehearsal_kafka import rehearsal_kafka
from flink_sql.compiler import string_literal
from flink_sql.routes import Condition, Route, java_portable_problem
from rehearsal.engine import REPLY_PREFIX
from rehearsal.kafka import TopicLayout
from rehearsal.routing import engine_command, rehearse
from tests.test_rehearsal_input import raw_record

pytestmark = pytest.mark.engine

SUBJECTS = ["LoanCreated", "loancreated", "Loan Created", "CarCreated", "LoanUpdated", "A123", "x\nLoanCreated", ""]
# Accepted: Python and Java agree on every subject.
PORTABLE = [
    "^Loan",
    "Created$",
    "Loan(Created|Updated)",
    "[A-Z][a-z]+Created",
    "(?i)^loancreated$",
    "^[A-Z]\\d{3}$",
    "Loan\\s",
    "a{0,2}n",
    "(?>Loan)+C",
    "^$",
]
# Refused, with a subject where Python and Java disagree. Java compiles neither ("Unknown inline
# modifier", "Illegal repetition"): Flink's REGEXP then matches nothing and the job goes on (Flink 2.2).
PYTHON_ONLY = ["(?P<kind>Loan)Created", "^A\\d{,3}$"]


@pytest.fixture(scope="module")
def on_flink(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """The ids each pattern routes on Flink: every pattern a route of one rehearsal over SUBJECTS."""
    patterns = PORTABLE + PYTHON_ONLY
    out = tmp_path_factory.mktemp("regex") / "out"
    records = [raw_record(f"s{i}", event_type=subject) for i, subject in enumerate(SUBJECTS)]
    routes = tuple(route(i, p) for i, p in enumerate(patterns))
    with rehearsal_kafka(routes, TopicLayout()) as kafka:
        rehearse(routes, records, out, kafka)
    return {
        p: {json.loads(line)["id"] for line in (out / f"t{i}.jsonl").read_text().split("\n") if line}
        for i, p in enumerate(patterns)
    }


def route(index: int, pattern: str) -> Route:
    return Route(f"r{index}", f"t{index}", ("c",), "all", (Condition("event_type", "matches", (pattern,)),))


def python_ids(pattern: str) -> set[str]:
    return {f"s{i}" for i, subject in enumerate(SUBJECTS) if re.search(pattern, subject)}


def test_accepted_patterns_match_the_same_records_on_flink_as_in_python(on_flink: dict[str, set[str]]) -> None:
    assert [p for p in PORTABLE if java_portable_problem(p)] == []
    assert {p: on_flink[p] for p in PORTABLE} == {p: python_ids(p) for p in PORTABLE}


@pytest.mark.parametrize("pattern", PYTHON_ONLY)
def test_refused_patterns_really_differ_on_flink(on_flink: dict[str, set[str]], pattern: str) -> None:
    assert java_portable_problem(pattern)
    assert python_ids(pattern)  # Python would happily route something
    assert on_flink[pattern] != python_ids(pattern)


@contextmanager
def regexp_job(pattern: str, subject: str, work: Path) -> Iterator[subprocess.Popen[str]]:
    """A Flink job evaluating REGEXP(subject, pattern), killed (its JVM too) if still running at the end.
    Its stdout carries the engine's replies: the job's start, then its time without the JVM's start."""
    spec = work / f"spec-{len(list(work.iterdir()))}.json"
    rows = f"(VALUES ({string_literal(subject)})) AS t(s)"
    spec.write_text(
        json.dumps(
            {
                "tables": ["CREATE TABLE sink (matched BOOLEAN) WITH ('connector' = 'blackhole')"],
                "statement": f"INSERT INTO sink SELECT REGEXP(s, {string_literal(pattern)}) FROM {rows}",
                "batch": True,
            }
        )
    )
    command, env = engine_command("run", str(spec))
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True
    )
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def replies(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    return (json.loads(line.removeprefix(REPLY_PREFIX)) for line in lines if line.startswith(REPLY_PREFIX))


def first_reply(process: subprocess.Popen[str], timeout: float) -> dict[str, Any] | None:
    """The engine's first reply on its stdout within `timeout` seconds (None: it exited without one)."""
    stdout = process.stdout
    assert stdout is not None
    found: queue.Queue[dict[str, Any] | None] = queue.Queue()
    threading.Thread(target=lambda: found.put(next(replies(stdout), None)), daemon=True).start()
    return found.get(timeout=timeout)


def test_a_nested_repeat_can_backtrack_catastrophically_on_flink(tmp_path: Path) -> None:
    """Why nested repeats are refused. Java 17 memoizes plain `(a+)+$`, but a backreference turns that
    off: `(a+)+\\1b` on 40 characters does not finish (~2^40 steps); an accepted pattern on the same
    subject finishes at once. Timed from each job's own start (the engine's replies), JVM start aside:
    the nested job gets 5 s more than the whole accepted job took."""
    subject = "a" * 40
    assert java_portable_problem("(a+)+\\1b") and not java_portable_problem("a+b")
    with regexp_job("a+b", subject, tmp_path) as accepted, regexp_job("(a+)+\\1b", subject, tmp_path) as nested:
        out, _ = accepted.communicate(timeout=120)
        *_, done = replies(out.splitlines())
        assert accepted.returncode == 0 and done["ok"] is True
        assert first_reply(nested, timeout=120) == {"phase": "routing"}  # its job has started
        with pytest.raises(subprocess.TimeoutExpired):
            nested.wait(timeout=done["seconds"] + 5)
