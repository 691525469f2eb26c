"""What one region stack runs that its monitoring watches, by id, and the alert thresholds.

`MonitoringTargets` is exported by the region stack as `monitoring` (core.region_exports; camelCase
keys) and read back by `cdcctl status`; every id and name in it ends up inside PromQL label matchers
or API paths, so reading it back checks each one's characters, naming the file and key of a bad one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.config_node import ConfigError
from core.region_exports import REGION_EXPORTS

# Ids and names that may appear inside a PromQL "..." matcher or a URL path segment: Confluent ids
# (lkc-, lcc-, lfcp-, env-, org UUIDs), Kafka topic names, link and statement names, consumer names.
SAFE_NAME = r"[A-Za-z0-9._-]{1,249}"
SAFE_URL = r"https://[A-Za-z0-9.-]+(:\d+)?"


@dataclass(frozen=True)
class Thresholds:
    """When each alert fires (README "Monitoring" documents each default and where it comes from)."""

    cluster_load_percent: int = 80  # Confluent: above 80 % expect latency and throttling
    flink_pending_minutes: int = 10  # Confluent: pending records growing "> 10 minutes"
    flink_cfu_percent: int = 90
    consumer_lag_records: int = 10_000
    consumer_lag_minutes: int = 10
    missing_group_minutes: int = 15
    mirror_lag_records: int = 10_000
    mirror_lag_minutes: int = 10
    cdc_stall_minutes: int = 15
    # Records the previous hour's rate predicts for one stall window: at 10, silence by chance is ~e^-10.
    cdc_stall_expected_records: int = 10
    # Where Prometheus reads the Metrics API key's secret (None: /etc/prometheus/secrets/<stack>-...).
    api_secret_file: str | None = None


@dataclass(frozen=True)
class ConsumerWatch:
    """A route consumer: the group prefix its groups must use (and so the groups to expect)."""

    name: str
    group_prefix: str


@dataclass(frozen=True)
class LinkWatch:
    """This region's half of a cluster link: the mirror topics it hosts (lag is reported here)."""

    name: str
    mirror_topics: tuple[str, ...]


@dataclass(frozen=True)
class ConnectorWatch:
    id: str
    name: str
    # Where the connector's heartbeat records land, and how often (cdc.heartbeatIntervalMs; None/0: off).
    heartbeat_topic: str | None = None
    heartbeat_interval_ms: int = 0


@dataclass(frozen=True)
class MonitoringTargets:
    """One region stack's watched resources. The statements are the running routing statement(s)."""

    stack: str
    region: str
    organization_id: str
    environment_id: str
    cluster_id: str
    cluster_type: str  # STANDARD | DEDICATED: cluster load is reported for dedicated clusters only
    compute_pool_id: str
    flink_rest_endpoint: str
    statements: tuple[str, ...]
    connector: ConnectorWatch | None
    consumers: tuple[ConsumerWatch, ...]
    link: LinkWatch | None = None
    # Where the raw table's error handling writes records it cannot deserialize (None: older exports).
    dead_letter_topic: str | None = None

    def to_export(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "organizationId": self.organization_id,
            "environmentId": self.environment_id,
            "clusterId": self.cluster_id,
            "clusterType": self.cluster_type,
            "computePoolId": self.compute_pool_id,
            "flinkRestEndpoint": self.flink_rest_endpoint,
            "statements": list(self.statements),
            "connector": {
                "id": self.connector.id,
                "name": self.connector.name,
                "heartbeatTopic": self.connector.heartbeat_topic,
                "heartbeatIntervalMs": self.connector.heartbeat_interval_ms,
            }
            if self.connector
            else None,
            "consumers": [{"name": c.name, "groupPrefix": c.group_prefix} for c in self.consumers],
            "link": {"name": self.link.name, "mirrorTopics": list(self.link.mirror_topics)} if self.link else None,
            "deadLetterTopic": self.dead_letter_topic,
        }

    @classmethod
    def from_export(cls, exported: Any, source: str) -> MonitoringTargets:
        """Read an exported `monitoring` value back (from `source`, named in errors)."""
        reader = _Reader(exported, source, REGION_EXPORTS.monitoring)
        connector = reader.optional("connector")
        link = reader.optional("link")
        return cls(
            stack=reader.name("stack"),
            region=reader.name("region"),
            organization_id=reader.name("organizationId"),
            environment_id=reader.name("environmentId"),
            cluster_id=reader.name("clusterId"),
            cluster_type=reader.name("clusterType"),
            compute_pool_id=reader.name("computePoolId"),
            flink_rest_endpoint=reader.text("flinkRestEndpoint", SAFE_URL, "an https:// host"),
            statements=tuple(reader.names("statements")),
            connector=ConnectorWatch(
                connector.name("id"),
                connector.name("name"),
                connector.optional_name("heartbeatTopic"),
                connector.optional_count("heartbeatIntervalMs"),
            )
            if connector
            else None,
            consumers=tuple(ConsumerWatch(c.name("name"), c.name("groupPrefix")) for c in reader.mappings("consumers")),
            link=LinkWatch(link.name("name"), tuple(link.names("mirrorTopics"))) if link else None,
            dead_letter_topic=reader.optional_name("deadLetterTopic"),
        )


def _checked(value: Any, source: str, path: str, pattern: str = SAFE_NAME, hint: str = "") -> str:
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise ConfigError(source, path, f"{str(value)[:60]!r} is not {hint or 'an id or name of [A-Za-z0-9._-]'}")
    return value


class _Reader:
    """Typed, located access to an exported mapping: errors name the source and the key path."""

    def __init__(self, value: Any, source: str, path: str) -> None:
        if not isinstance(value, Mapping):
            raise ConfigError(source, path, "must be a mapping (the stack's `monitoring` output)")
        self.value = value
        self.source = source
        self.path = path

    def _get(self, key: str) -> Any:
        if key not in self.value:
            raise ConfigError(self.source, f"{self.path}.{key}", "is missing")
        return self.value[key]

    def _list(self, key: str) -> list[Any]:
        values = self._get(key)
        if not isinstance(values, list):
            raise ConfigError(self.source, f"{self.path}.{key}", "must be a list")
        return values

    def text(self, key: str, pattern: str, hint: str) -> str:
        return _checked(self._get(key), self.source, f"{self.path}.{key}", pattern, hint)

    def name(self, key: str) -> str:
        return _checked(self._get(key), self.source, f"{self.path}.{key}")

    def names(self, key: str) -> list[str]:
        return [_checked(v, self.source, f"{self.path}.{key}[{i}]") for i, v in enumerate(self._list(key))]

    def mappings(self, key: str) -> list[_Reader]:
        return [_Reader(v, self.source, f"{self.path}.{key}[{i}]") for i, v in enumerate(self._list(key))]

    def optional_name(self, key: str) -> str | None:
        """A name an older export may lack (None: absent or null)."""
        value = self.value.get(key)
        return None if value is None else _checked(value, self.source, f"{self.path}.{key}")

    def optional_count(self, key: str) -> int:
        value = self.value.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(self.source, f"{self.path}.{key}", f"{str(value)[:60]!r} is not a count")
        return value

    def optional(self, key: str) -> _Reader | None:
        value = self.value.get(key)
        return None if value is None else _Reader(value, self.source, f"{self.path}.{key}")
