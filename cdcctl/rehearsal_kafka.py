"""The rehearsal's local broker as a stack's cluster: one user per principal of the stack's access policy,
with ACLs of the same grants (topics read and written, group and transactional-id prefixes), and the
stack's raw topic name and partition counts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from core.cdc_source import written_heartbeat_topics
from flink_sql.routes import Route
from rehearsal.kafka import KafkaUser, LocalKafka, TopicLayout, local_kafka
from settings.model import RegionSettings
from stacks.access_policy import access_policy

# The rehearsal is one cluster: no peer region, so no link principal and no mirrors.
ONE_REGION = ("local",)


def kafka_users(routes: tuple[Route, ...], layout: TopicLayout) -> tuple[KafkaUser, ...]:
    """The workload principals (connector, statements, consumers) and their grants. Deployers are left
    out: the broker's super user stands in for the cluster manager that creates topics."""
    return tuple(
        KafkaUser(
            name,
            read_topics=grants.read_topics + grants.read_mirrors,
            write_topics=grants.write_topics,
            group_prefixes=grants.group_prefixes,
            transactional_id_prefixes=grants.transactional_id_prefixes,
        )
        for name, grants in access_policy(routes, ONE_REGION, layout.raw_topic, None, layout.heartbeat_topics).items()
        if grants.read_topics or grants.write_topics or grants.group_prefixes
    )


def stack_layout(region: RegionSettings) -> TopicLayout:
    """The stack's raw topic, its raw and routed partition counts, and the connector's heartbeat topic."""
    return TopicLayout(
        region.raw_topic,
        region.raw_topic_settings.partitions,
        region.routed_topic_settings.partitions,
        written_heartbeat_topics(region.cdc, region.raw_topic),
    )


@contextmanager
def rehearsal_kafka(routes: tuple[Route, ...], layout: TopicLayout) -> Iterator[LocalKafka]:
    """A local broker whose users and ACLs are those of `routes` (for a before/after comparison, pass
    both sides' routes together: the grants of either)."""
    with local_kafka(kafka_users(routes, layout), layout) as kafka:
        yield kafka
