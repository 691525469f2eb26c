"""A throw-away Apache Kafka broker for the rehearsal: single-node KRaft on loopback, SASL_SSL with PLAIN
users (as Confluent Cloud's API keys are), ACLs that mirror the stack's role bindings, removed afterwards.

The broker's jars come from rehearsal/maven/pom.xml (`make engine` puts them in .engine-jars/). Its
directory is private (0700: config with the users' passwords, TLS key, data), its ports are free loopback
ports, and `local_kafka` always stops the JVM: on success, failure, exception or Ctrl-C. Client work
(provisioning, producing, reading back) runs in the engine virtualenv (rehearsal/kafka_client.py).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.naming import CDC_CONNECTOR
from core.raw_record import RAW_TOPIC
from rehearsal.children import die_with_parent, stop_process
from rehearsal.errors import EngineError
from rehearsal.jvm import KAFKA, quick_start_options
from rehearsal.loopback import LOOPBACK, free_port, self_signed_certificate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
JARS = PROJECT_ROOT / ".engine-jars"
FLINK_JARS = JARS / "flink"
# The broker's super user: stands in for the stack's cluster manager (creates topics and ACLs).
ADMIN = "admin"
BROKER_HEAP = "-Xmx384m"
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
STARTED = "Kafka Server started"
# Flink's Kafka connector shades Kafka's client: its JAAS login module has the shaded name.
FLINK_PLAIN_LOGIN = "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.plain.PlainLoginModule"


@dataclass(frozen=True)
class KafkaUser:
    """One principal as a SASL/PLAIN user and the ACLs of its grants (names, or prefixes for groups and
    transactional ids)."""

    name: str
    read_topics: tuple[str, ...] = ()
    write_topics: tuple[str, ...] = ()
    group_prefixes: tuple[str, ...] = ()
    transactional_id_prefixes: tuple[str, ...] = ()

    def acls(self) -> list[dict[str, str]]:
        entries = [("read", "topic", t, "literal") for t in self.read_topics]
        entries += [("write", "topic", t, "literal") for t in self.write_topics]
        entries += [("read", "group", g, "prefixed") for g in self.group_prefixes]
        entries += [("write", "transactional_id", t, "prefixed") for t in self.transactional_id_prefixes]
        return [  # once each: grants merged from two route sets (routes diff) repeat, Kafka refuses duplicates
            {"principal": self.name, "access": access, "resource": resource, "name": name, "pattern": pattern}
            for access, resource, name, pattern in dict.fromkeys(entries)
        ]


@dataclass(frozen=True)
class TopicLayout:
    """The stack's topics as the rehearsal creates them: the raw topic's name and the partition counts."""

    raw_topic: str = RAW_TOPIC
    raw_partitions: int = 1
    routed_partitions: int = 1
    heartbeat_topics: tuple[str, ...] = ()  # the connector's (cdc.heartbeatIntervalMs): one partition each

    def source_topics(self) -> dict[str, int]:
        """What the connector writes, by partition count: the raw topic and its heartbeat topic."""
        return {self.raw_topic: self.raw_partitions, **dict.fromkeys(self.heartbeat_topics, 1)}


@dataclass
class LocalKafka:
    """A running broker: its SASL_SSL bootstrap address, the CA its clients trust, the users' passwords."""

    bootstrap: str
    ca_file: Path
    passwords: dict[str, str]
    work: Path
    process: subprocess.Popen[bytes]
    layout: TopicLayout

    def client_config(self, user: str = ADMIN) -> dict[str, str]:
        """librdkafka settings of `user`: what `cdcctl consumer` prints for Confluent Cloud, plus the CA."""
        return {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": "SASL_SSL",
            "sasl.mechanisms": "PLAIN",
            "sasl.username": user,
            "sasl.password": self.passwords[user],
            "ssl.ca.location": str(self.ca_file),
        }

    def flink_options(self, user: str) -> dict[str, str]:
        """The Kafka client settings of a Flink Kafka table (`properties.*`) for `user`."""
        password = self.passwords[user]
        return {
            "properties.bootstrap.servers": self.bootstrap,
            "properties.security.protocol": "SASL_SSL",
            "properties.sasl.mechanism": "PLAIN",
            "properties.sasl.jaas.config": f'{FLINK_PLAIN_LOGIN} required username="{user}" password="{password}";',
            "properties.ssl.truststore.type": "PEM",
            "properties.ssl.truststore.location": str(self.ca_file),
        }

    def client(self, operation: str, spec: dict[str, Any], user: str = ADMIN) -> None:
        """Run one rehearsal/kafka_client.py operation as `user` in the engine virtualenv."""
        from rehearsal.routing import engine_command

        spec_file = self.work / f"{operation}-{secrets.token_hex(4)}.json"
        _write_private(spec_file, json.dumps({**spec, "config": self.client_config(user)}))
        try:
            command, env = engine_command(operation, str(spec_file), module="rehearsal.kafka_client")
            result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        finally:
            spec_file.unlink()
        if result.returncode != 0:
            raise EngineError(f"Kafka {operation} as {user} failed: {result.stderr.strip()[-3000:]}")

    def create_topics(self, partitions: dict[str, int]) -> None:
        self.client("admin", {"create": partitions})

    def delete_topics(self, topics: Iterable[str]) -> None:
        """Remove a run's topics, so the broker serves the next run afresh."""
        self.client("admin", {"delete": list(topics)})

    def produce_records(self, records: Iterable[dict[str, Any]], user: str = CDC_CONNECTOR) -> None:
        """Raw records into the raw topic as the connector writes them: keyed by the primary key."""
        path = self.work / f"records-{secrets.token_hex(4)}.jsonl"
        path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
        try:
            self.client("produce", {"topic": self.layout.raw_topic, "records": str(path)}, user)
        finally:
            path.unlink()

    def read_back(self, topics: Iterable[str], user: str = ADMIN) -> list[dict[str, Any]]:
        """Every record of `topics`, per topic in partition then offset order: {"topic", "partition",
        "offset", "key", "value"} (key and value as the broker holds them, text)."""
        path = self.work / f"read-{secrets.token_hex(4)}.jsonl"
        try:
            self.client("consume", {"topics": list(topics), "out": str(path)}, user)
            return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        finally:
            path.unlink(missing_ok=True)

    def topic_counts(self, topics: Iterable[str]) -> dict[str, int]:
        path = self.work / f"counts-{secrets.token_hex(4)}.json"
        try:
            self.client("counts", {"topics": list(topics), "out": str(path)})
            return dict(json.loads(path.read_text(encoding="utf-8")))
        finally:
            path.unlink(missing_ok=True)


def broker_classpath() -> str:
    """The broker's classpath; also checks that Flink's Kafka connector is there (both from the pom)."""
    kafka_jars = JARS / "kafka"
    if not any(kafka_jars.glob("kafka_2.13-*.jar")) or not any(FLINK_JARS.glob("flink-sql-connector-kafka-*.jar")):
        raise EngineError(f"Kafka jars (rehearsal/maven/pom.xml) not found in {JARS}: run `make engine`")
    return f"{kafka_jars}/*"


def server_properties(work: Path, port: int, controller_port: int, passwords: dict[str, str]) -> str:
    """KRaft broker+controller on loopback. Clients: SASL_SSL with PLAIN users (Confluent Cloud's API keys
    are PLAIN over TLS). The controller listener: SASL_PLAINTEXT as the admin, never anonymous."""
    users = " ".join(f'user_{name}="{password}"' for name, password in passwords.items())
    login = "org.apache.kafka.common.security.plain.PlainLoginModule required"
    admin = f'username="{ADMIN}" password="{passwords[ADMIN]}"'
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{LOOPBACK}:{controller_port}",
        "listeners": f"SASL_SSL://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        "advertised.listeners": f"SASL_SSL://{LOOPBACK}:{port}",
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "SASL_SSL",
        "sasl.enabled.mechanisms": "PLAIN",
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.sasl_ssl.plain.sasl.jaas.config": f"{login} {admin} {users};",
        "listener.name.controller.plain.sasl.jaas.config": f'{login} {admin} user_{ADMIN}="{passwords[ADMIN]}";',
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(work / "broker.pem"),
        # The broker checks at start that a client trusting its own truststore can connect.
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(work / "ca.pem"),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN}",
        "allow.everyone.if.no.acl.found": "false",
        "auto.create.topics.enable": "false",
        "log.dirs": str(work / "data"),
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "2",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


@contextmanager
def local_kafka(users: Iterable[KafkaUser], layout: TopicLayout) -> Iterator[LocalKafka]:
    """Start the broker with one PLAIN user (random password) per principal and the principals' ACLs;
    stop it and remove its directory whatever happens."""
    from rehearsal.routing import engine_python

    users = tuple(users)
    classpath = broker_classpath()
    engine_python()  # its clients provision the broker: missing, fail before any JVM starts
    work = Path(tempfile.mkdtemp(prefix="cdc-rehearsal-kafka-"))  # 0700
    process: subprocess.Popen[bytes] | None = None
    try:
        passwords = {ADMIN: secrets.token_urlsafe(24), **{u.name: secrets.token_urlsafe(24) for u in users}}
        self_signed_certificate(work / "broker.key", work / "ca.pem")
        _write_private(work / "broker.pem", (work / "broker.key").read_text() + (work / "ca.pem").read_text())
        port, controller_port = free_port(), free_port()
        properties = work / "server.properties"
        _write_private(properties, server_properties(work, port, controller_port, passwords))
        java = ["java", BROKER_HEAP, *quick_start_options(KAFKA), "-cp", classpath]
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        formatted = subprocess.run(
            [*java, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(properties)],
            capture_output=True,
            text=True,
            check=False,
        )
        if formatted.returncode != 0:
            raise EngineError(f"formatting the Kafka log directory failed: {formatted.stderr.strip()[-2000:]}")
        log = work / "broker.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [*java, "kafka.Kafka", str(properties)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                preexec_fn=die_with_parent,
            )
        _wait_until_started(process, log)
        kafka = LocalKafka(f"{LOOPBACK}:{port}", work / "ca.pem", passwords, work, process, layout)
        acls = [acl for user in users for acl in user.acls()]
        if acls:
            kafka.client("admin", {"acls": acls})
        yield kafka
    finally:
        if process is not None:
            stop_process(process, STOP_TIMEOUT_S)
        shutil.rmtree(work, ignore_errors=True)


def _write_private(path: Path, text: str) -> None:
    """A new file only its owner reads (it holds passwords or the TLS key)."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as out:
        out.write(text)


def _wait_until_started(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while STARTED not in log.read_text(encoding="utf-8", errors="replace"):
        if process.poll() is not None:
            raise EngineError(f"Kafka broker exited (code {process.returncode}):\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise EngineError(f"Kafka broker not started after {START_TIMEOUT_S:.0f} s:\n{_tail(log)}")
        time.sleep(0.1)


def _tail(log: Path) -> str:
    """The first error the broker logged (its shutdown follows it), else the log's end."""
    text = log.read_text(encoding="utf-8", errors="replace")
    return text[text.find(" ERROR ") :][:4000] if " ERROR " in text else text[-4000:]
