"""The rehearsal's data path on a real Kafka broker: raw records keyed by the primary key, routed topics
keyed by id, so every change of one row lands on one partition of each routed topic, in commit order.
And the broker itself: private, and gone after any exit of its context."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from cdcctl.__main__ import main
from cdcctl.rehearsal_kafka import kafka_users
from flink_sql.routes import load_routes
from rehearsal.kafka import TopicLayout, local_kafka
from tests.helpers import REPO
from tests.test_rehearsal_input import raw_record

pytestmark = pytest.mark.engine

IDS = 40
VERSIONS = 5
ROUTES = """
routes:
  - id: loans
    outputTopic: loan-changes
    operations: [create, update]
    conditions:
      - {field: event_type, operator: in, values: [LoanCreated, LoanUpdated]}
  - id: big-loans
    outputTopic: big-loan-changes
    operations: [create, update]
    conditions:
      - {field: event_data.amount, operator: greaterThanOrEqual, value: 500}
"""
PROD_EAST_ROUTED_PARTITIONS = 6  # Pulumi.prod-east.yaml topics.routed.partitions


def amount(rid: int, version: int) -> int:
    return (version * 397 + rid * 131) % 1000


def interleaved_changes() -> list[dict[str, Any]]:
    """Version v of every id, then version v+1 of every id...: one id's changes are never adjacent, and
    __ts_ms is the commit order."""
    return [
        raw_record(
            f"loan-{rid}",
            "LoanCreated" if version == 0 else "LoanUpdated",
            __op="c" if version == 0 else "u",
            __ts_ms=1705312200000 + version * IDS + rid,
            event_data=json.dumps({"amount": amount(rid, version), "version": version}),
        )
        for version in range(VERSIONS)
        for rid in range(IDS)
    ]


def murmur2(data: bytes) -> int:
    """Kafka's Utils.murmur2 (the default partitioner of its producers, Java and librdkafka's
    murmur2_random alike): partition = (murmur2(key) & 0x7fffffff) % partitions."""
    m, r, mask = 0x5BD1E995, 24, 0xFFFFFFFF
    h = (0x9747B28C ^ len(data)) & mask
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    tail = data[whole:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h


def key_partition(key: dict[str, Any], partitions: int) -> int:
    data = json.dumps(key, separators=(",", ":")).encode()
    return (murmur2(data) & 0x7FFFFFFF) % partitions


def test_murmur2_matches_kafkas_reference_values() -> None:
    # From Kafka's UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/common/utils).
    assert murmur2(b"21") == 0xFFFFFFFF & -973932308
    assert murmur2(b"foobar") == 0xFFFFFFFF & -790332482
    assert murmur2(b"a-little-bit-long-string") == 0xFFFFFFFF & -985981536
    assert murmur2(b"a-little-bit-longer-string") == 0xFFFFFFFF & -1486304829
    assert murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == 0xFFFFFFFF & -58897971
    assert murmur2(bytes([ord("a"), ord("b"), ord("c")])) == 0xFFFFFFFF & 479470107


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("keyed")
    (tmp / "routes.yaml").write_text(ROUTES)
    (tmp / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in interleaved_changes()))
    args = ["rehearse", "--routes", str(tmp / "routes.yaml"), "--records", str(tmp / "records.jsonl")]
    assert main([*args, "--stack", "prod-east", "--out", str(tmp / "out")]) == 0
    return tmp / "out"


def read(out: Path, topic: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    rows = [json.loads(line) for line in (out / f"{topic}.jsonl").read_text().splitlines()]
    meta = [json.loads(line) for line in (out / f"{topic}.meta.jsonl").read_text().splitlines()]
    assert len(rows) == len(meta)
    return list(zip(rows, meta, strict=True))


EXPECTED_TS = {
    "loan-changes": {f"loan-{i}": [1705312200000 + v * IDS + i for v in range(VERSIONS)] for i in range(IDS)},
    "big-loan-changes": {
        f"loan-{i}": [1705312200000 + v * IDS + i for v in range(VERSIONS) if amount(i, v) >= 500] for i in range(IDS)
    },
}


@pytest.mark.parametrize("topic", sorted(EXPECTED_TS))
def test_each_routed_record_is_keyed_by_its_id(routed: Path, topic: str) -> None:
    for row, meta in read(routed, topic):
        assert meta["key"] == {"id": row["id"]}


@pytest.mark.parametrize("topic", sorted(EXPECTED_TS))
def test_every_change_of_an_id_is_on_the_partition_its_key_hashes_to(routed: Path, topic: str) -> None:
    partitions: dict[str, set[int]] = defaultdict(set)
    for row, meta in read(routed, topic):
        partitions[row["id"]].add(meta["partition"])
    assert all(len(p) == 1 for p in partitions.values())
    # Kafka's default partitioner on the JSON key: the partition the connector's producer picks for
    # the same key, so a routed record sits where its raw record's key hashes.
    assert {i: p.pop() for i, p in partitions.items()} == {
        i: key_partition({"id": i}, PROD_EAST_ROUTED_PARTITIONS) for i in partitions
    }
    used = {meta["partition"] for _, meta in read(routed, topic)}
    assert len(used) > 1  # the ids really are spread, so one partition per id means something


@pytest.mark.parametrize("topic", sorted(EXPECTED_TS))
def test_each_ids_changes_come_out_in_commit_order(routed: Path, topic: str) -> None:
    seen: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for row, meta in read(routed, topic):
        seen[row["id"]].append((meta["offset"], row["__ts_ms"]))
    in_offset_order = {rid: [ts for _, ts in sorted(pairs)] for rid, pairs in seen.items()}
    expected = {rid: ts for rid, ts in EXPECTED_TS[topic].items() if ts}
    assert in_offset_order == expected


def test_the_broker_leaves_no_process_and_no_directory_after_an_exception() -> None:
    users = kafka_users(load_routes(REPO / "flink_sql/routes.yaml"), TopicLayout())
    with pytest.raises(KeyboardInterrupt), local_kafka(users, TopicLayout()) as kafka:
        process, work = kafka.process, kafka.work
        assert stat.S_IMODE(work.stat().st_mode) == 0o700
        assert stat.S_IMODE((work / "server.properties").stat().st_mode) == 0o600
        assert stat.S_IMODE((work / "broker.pem").stat().st_mode) == 0o600
        assert kafka.bootstrap.startswith("127.0.0.1:")
        raise KeyboardInterrupt  # what Ctrl-C raises in cdcctl
    assert process.poll() is not None
    assert not work.exists()


def test_no_broker_outlives_a_killed_cdcctl(tmp_path: Path) -> None:
    """SIGKILL runs no clean-up code at all: the kernel still ends the broker (PR_SET_PDEATHSIG)."""
    script = (
        "import sys, time\n"
        "from rehearsal.kafka import TopicLayout, local_kafka\n"
        "with local_kafka([], TopicLayout()) as kafka:\n"
        "    print(kafka.process.pid, kafka.work, flush=True)\n"
        "    time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pid, work = parent.stdout.readline().split()
    broker = int(pid)
    os.kill(broker, 0)  # running
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _alive(broker):
        time.sleep(0.2)
    shutil.rmtree(work)  # what SIGKILL left: the directory (no process)
    assert not _alive(broker)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited (its parent, now init, reaps it)
