"""The rehearsal's Kafka client work, in the engine virtualenv (confluent-kafka, librdkafka): provisioning
the local broker as its super user, producing raw records as the connector does, reading routed topics
back. cdcctl runs it as a child (`python -m rehearsal.kafka_client OPERATION SPEC.json`); the spec file
holds the credentials (0600, in the broker's private directory).

  admin    {"config", "acls": [...], "create": {topic: partitions}, "delete": [topic...]}
  produce  {"config", "topic", "records": FILE}: JSONL raw records, each keyed by its primary key
  counts   {"config", "topics": [...], "out": FILE}: records per topic (end minus start offsets), as JSON
  consume  {"config", "topics": [...], "out": FILE}: every record of each topic, from the first offset to
           the end, as JSON lines {"topic", "partition", "offset", "key", "value"} (key and value as text)
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)

TIMEOUT_S = 60.0
READ_BACK_GROUP = "cdc-rehearsal-read-back"  # the admin's: librdkafka wants one, nothing is committed to it
# What each grant allows, as Confluent's role of the same meaning does on its resource
# (CC security/access-control/rbac/predefined-rbac-roles): DeveloperRead on a topic = READ + DESCRIBE,
# DeveloperWrite = WRITE + DESCRIBE; DeveloperRead on a group = READ + DESCRIBE; DeveloperWrite on a
# transactional id = WRITE + DESCRIBE.
OPERATIONS = {
    "read": (AclOperation.READ, AclOperation.DESCRIBE),
    "write": (AclOperation.WRITE, AclOperation.DESCRIBE),
}
RESOURCES = {
    "topic": ResourceType.TOPIC,
    "group": ResourceType.GROUP,
    "transactional_id": ResourceType.TRANSACTIONAL_ID,
}
PATTERNS = {"literal": ResourcePatternType.LITERAL, "prefixed": ResourcePatternType.PREFIXED}


def record_key(record: dict[str, Any]) -> bytes:
    """The raw topic's key as the connector writes it locally: the primary key `{id}` through Kafka
    Connect's JsonConverter with schemas disabled (compact JSON, Jackson's separators)."""
    return json.dumps({"id": record["id"]}, separators=(",", ":"), ensure_ascii=False).encode()


def admin(config: dict[str, Any], spec: dict[str, Any]) -> None:
    client = AdminClient(config)
    if spec.get("delete"):
        _wait(client.delete_topics(spec["delete"], operation_timeout=TIMEOUT_S))
    if spec.get("create"):
        topics = [NewTopic(name, num_partitions=count, replication_factor=1) for name, count in spec["create"].items()]
        _wait(client.create_topics(topics, operation_timeout=TIMEOUT_S))
    if spec.get("acls"):
        bindings = [
            AclBinding(
                RESOURCES[acl["resource"]],
                acl["name"],
                PATTERNS[acl["pattern"]],
                f"User:{acl['principal']}",
                "*",
                operation,
                AclPermissionType.ALLOW,
            )
            for acl in spec["acls"]
            for operation in OPERATIONS[acl["access"]]
        ]
        _wait(client.create_acls(bindings, request_timeout=TIMEOUT_S))


def _wait(futures: dict[Any, Any]) -> None:
    for future in futures.values():
        future.result(timeout=TIMEOUT_S)


def produce(config: dict[str, str], topic: str, records_file: str) -> None:
    """acks=all with one request in flight: no reordering across retries, as with the connector's
    idempotent producer. Not idempotent itself (librdkafka asks for a producer id only once its
    connection is up, 500 ms after creation: its PID timer): a retry after a lost acknowledgement
    would write a batch twice, older versions again after newer ones, which the read-back shows. On a
    loopback broker that practically never happens; the wait would happen every run."""
    failures: list[str] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(str(error))

    producer = Producer({**config, "acks": "all", "max.in.flight.requests.per.connection": "1", "linger.ms": "5"})
    with open(records_file, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                producer.produce(topic, key=record_key(record), value=line.rstrip("\n").encode(), on_delivery=delivered)
                producer.poll(0)
    if producer.flush(TIMEOUT_S) or failures:
        raise KafkaException(f"producing to {topic} failed: {failures[:1] or 'flush timed out'}")


def consume(config: dict[str, str], topics: list[str], out_file: str) -> None:
    """Read every partition of `topics` from its first offset to its end offset at start, all assigned at
    once (one partition at a time costs a fetch round trip each); no group offsets are committed."""
    consumer = Consumer(
        {
            "group.id": "cdc-rehearsal-read-back",
            **config,
            "enable.auto.commit": "false",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        ends = _end_offsets(consumer, topics)
        consumer.assign([TopicPartition(topic, partition, 0) for topic, partition in ends])
        entries: list[dict[str, Any]] = []
        remaining = set(ends)
        deadline = time.monotonic() + TIMEOUT_S
        while remaining:
            # consume() waits for its whole batch or its timeout: a short one, so the last batch returns.
            messages = consumer.consume(num_messages=10_000, timeout=0.2)
            if messages:
                deadline = time.monotonic() + TIMEOUT_S  # a timeout of silence, not of the whole read
            elif time.monotonic() > deadline:
                raise KafkaException(f"nothing new for {TIMEOUT_S:.0f} s reading {sorted(remaining)}")
            for message in messages:
                if message.error() is not None:
                    raise KafkaException(message.error())
                position = (str(message.topic()), message.partition() or 0)
                offset = message.offset() or 0
                if offset >= ends[position] - 1:
                    remaining.discard(position)
                key, value = message.key(), message.value()
                entries.append(
                    {
                        "topic": position[0],
                        "partition": position[1],
                        "offset": offset,
                        "key": key.decode() if key is not None else None,
                        "value": value.decode() if value is not None else None,
                    }
                )
    finally:
        consumer.close()
    entries.sort(key=lambda e: (topics.index(e["topic"]), e["partition"], e["offset"]))
    with open(out_file, "w", encoding="utf-8") as out:
        out.writelines(json.dumps(entry) + "\n" for entry in entries)


def _end_offsets(consumer: Consumer, topics: list[str]) -> dict[tuple[str, int], int]:
    """The end offset of every partition that holds records."""
    ends = {}
    for topic in topics:
        metadata = consumer.list_topics(topic, timeout=TIMEOUT_S).topics[topic]
        if metadata.error is not None:
            raise KafkaException(metadata.error)
        for partition in sorted(metadata.partitions):
            _, end = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=TIMEOUT_S)
            if end > 0:
                ends[(topic, partition)] = end
    return ends


def counts(config: dict[str, str], topics: list[str], out_file: str) -> None:
    consumer = Consumer({"group.id": READ_BACK_GROUP, **config})
    try:
        result = {}
        for topic in topics:
            partitions = consumer.list_topics(topic, timeout=TIMEOUT_S).topics[topic].partitions
            offsets = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT_S) for p in partitions]
            result[topic] = sum(high - low for low, high in offsets)
    finally:
        consumer.close()
    with open(out_file, "w", encoding="utf-8") as out:
        json.dump(result, out)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("admin", "produce", "consume", "counts"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as spec_file:
        spec = json.load(spec_file)
    if argv[0] == "admin":
        admin(spec["config"], spec)
    elif argv[0] == "produce":
        produce(spec["config"], spec["topic"], spec["records"])
    elif argv[0] == "counts":
        counts(spec["config"], spec["topics"], spec["out"])
    else:
        consume(spec["config"], spec["topics"], spec["out"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
