"""`cdcctl consumer`'s printed librdkafka settings, proven with a real client (confluent-kafka) against
the rehearsal's broker, whose users and ACLs are the stack's principals and grants: as printed (security
protocol, SASL mechanism, group id under its prefix), with only the API key and secret filled in and the
local CA trusted, a consumer reads its own topic, and is refused another consumer's topic and a group
outside its prefix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Producer

from cdcctl.commands.consumer import consumer_config
from cdcctl.rehearsal_kafka import rehearsal_kafka
from core import naming
from flink_sql.routes import consumers, load_routes
from rehearsal.kafka import LocalKafka, TopicLayout
from tests.helpers import REPO

pytestmark = [pytest.mark.engine, pytest.mark.plans]

ROUTES = load_routes(REPO / "flink_sql/routes.yaml")
OWN, OTHER = consumers(ROUTES)[:2]


def topic_of(consumer: str) -> str:
    return next(r.output_topic for r in ROUTES if r.enabled and r.consumer == consumer)


@pytest.fixture(scope="module")
def kafka() -> Iterator[LocalKafka]:
    with rehearsal_kafka(ROUTES, TopicLayout()) as broker:
        broker.create_topics({r.output_topic: 3 for r in ROUTES if r.enabled})
        # Written as the statement principal: its grants allow exactly the routed topics.
        producer = Producer(broker.client_config(naming.FLINK_STATEMENTS))
        for consumer in (OWN, OTHER):
            producer.produce(topic_of(consumer), key=b'{"id":"evt-1"}', value=f"for {consumer}".encode())
        assert producer.flush(30) == 0
        yield broker


def printed_settings(kafka: LocalKafka, consumer: str) -> dict[str, Any]:
    """The librdkafka settings as `cdcctl consumer` prints them for the dev stack, with what the operator
    fills in (the API key and secret) and what differs locally (bootstrap, the local CA)."""
    printed = consumer_config(consumer, "dev").librdkafka()
    assert (printed["sasl.username"], printed["sasl.password"]) == ("<kafkaApiKey>", "<kafkaApiSecret>")
    return {
        **printed,
        "bootstrap.servers": kafka.bootstrap,
        "sasl.username": consumer,
        "sasl.password": kafka.passwords[consumer],
        "ssl.ca.location": str(kafka.ca_file),
    }


def first_event(settings: dict[str, Any], topic: str) -> Any:
    client = Consumer(settings)
    try:
        client.subscribe([topic])
        for _ in range(60):
            message = client.poll(1.0)
            if message is not None:
                if message.error() is None:
                    client.commit(message, asynchronous=False)  # the group's offsets: its prefix's grant
                return message
        raise AssertionError(f"nothing from {topic} in 60 s")
    finally:
        client.close()


def test_the_printed_settings_consume_the_consumers_topic(kafka: LocalKafka) -> None:
    settings = printed_settings(kafka, OWN)
    assert (settings["security.protocol"], settings["sasl.mechanisms"]) == ("SASL_SSL", "PLAIN")
    message = first_event(settings, topic_of(OWN))
    assert message.error() is None and message.value() == f"for {OWN}".encode()
    assert message.key() == b'{"id":"evt-1"}'


def test_another_consumers_topic_is_refused(kafka: LocalKafka) -> None:
    message = first_event(printed_settings(kafka, OWN), topic_of(OTHER))
    assert message.error() is not None and message.error().code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_a_group_outside_the_consumers_prefix_is_refused(kafka: LocalKafka) -> None:
    settings = {**printed_settings(kafka, OWN), "group.id": f"{OTHER}-group"}
    message = first_event(settings, topic_of(OWN))
    assert message.error() is not None and message.error().code() == KafkaError.GROUP_AUTHORIZATION_FAILED


def test_the_raw_topic_is_not_a_consumers_to_read(kafka: LocalKafka) -> None:
    kafka.create_topics({kafka.layout.raw_topic: 1})
    message = first_event(printed_settings(kafka, OWN), kafka.layout.raw_topic)
    assert message.error() is not None and message.error().code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
