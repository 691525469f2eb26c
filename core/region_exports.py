"""The one definition of what a region stack exports, for the stack that writes the exports and every
reader: the peer region's half of the link, the next deployment of the same stack, `cdcctl status`,
`cdcctl consumer`, `cdcctl monitoring` and the monitoring targets.

Each type is a dataclass whose field names, in camelCase, are the export's keys. The stack fills one
with its outputs and exports `items()`; a reader takes the key from `names(Type)`, the same type
holding each key (`REGION_EXPORTS.cluster_link == "clusterLink"`), so no reader spells a key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Generic, TypeVar

from core.naming import camel_case

T = TypeVar("T")
E = TypeVar("E")


class Exported(Generic[T]):
    """Export keys from field names; None-valued fields are not exported."""

    def items(self) -> Iterator[tuple[str, T]]:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is not None:
                yield camel_case(f.name), value

    def to_export(self) -> dict[str, T]:
        return dict(self.items())


def names(cls: type[E]) -> E:
    """An instance of `cls` whose every field holds its own export key."""
    return cls(**{f.name: camel_case(f.name) for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True)
class RegionExports(Exported[T]):
    """A region stack's outputs. The last ones exist only with what they describe (None: not exported):
    a cluster link (link_*, linked_topics, cluster_link), an Aurora cluster (database_*), CDC, the idle
    stop."""

    region: T
    cluster_id: T
    bootstrap_endpoint: T
    rest_endpoint: T
    compute_pool_id: T
    routing_statement: T  # the deployed statement; the next deployment reads it back to replace it
    key_generations: T  # live key generations by kind (core.rotation); the next deployment reads them back
    schema_registry_endpoint: T
    consumers: T  # ConsumerExport by consumer
    monitoring: T  # monitoring.targets.MonitoringTargets.to_export()
    prometheus_scrape_config: T
    prometheus_rules: T
    metrics_api_key: T
    metrics_api_secret: T  # secret
    link_api_key: T  # what the peer's half presents to this cluster (a key id: plain)
    link_api_secret: T  # secret
    linked_topics: T  # this cluster's topics the peer mirrors
    cluster_link: T  # ClusterLinkExport: this half, once declared
    database_writer_endpoint: T
    database_proxy_endpoint: T  # what the applications use
    cdc_connector_id: T
    aurora_idle_stop_function: T  # the start path invokes it


@dataclass(frozen=True)
class ClusterLinkExport(Exported[T]):
    """This region's half of the cluster link, as exported (`cluster_link`)."""

    name: T
    mirror_status: T
    mirrors: T
    peer_key_generation: T  # the peer's link key generation this half presents (core.rotation)


@dataclass(frozen=True)
class ConsumerCredentials(Exported[T]):
    """One consumer app's keys (never exported: delivered in its own secret, DeliveredCredentials)."""

    kafka_api_key: T
    kafka_api_secret: T
    schema_registry_api_key: T
    schema_registry_api_secret: T


@dataclass(frozen=True)
class ConsumerExport(Exported[T]):
    """What a consumer app configures besides its keys, an entry of the `consumers` export."""

    topics: T  # its topics in this region
    group_prefix: T  # the group-id prefix its grants allow
    peer_mirrors: T  # None without a link; with one: the peer's same topics mirrored here (readable too)
    secret: T  # ConsumerSecretExport: where its keys are delivered


@dataclass(frozen=True)
class ConsumerSecretExport(Exported[T]):
    """Where one consumer's keys are (names only), the `secret` of its `consumers` entry."""

    aws_secret_name: T
    aws_secret_arn: T
    region: T
    key_generation: T
    vault_path: T  # None: no Vault; `<mount>/<name>` in Vault KV v2, where a Vault mount is configured


@dataclass(frozen=True)
class DeliveredCredentials(Exported[T]):
    """The document in a consumer's secret: what its client configures (cdcctl consumer)."""

    bootstrap_servers: T  # host:port
    schema_registry_url: T
    kafka_api_key: T
    kafka_api_secret: T
    schema_registry_api_key: T
    schema_registry_api_secret: T
    key_generation: T


REGION_EXPORTS: RegionExports[str] = names(RegionExports)
LINK_EXPORT: ClusterLinkExport[str] = names(ClusterLinkExport)
CONSUMER_CREDENTIALS: ConsumerCredentials[str] = names(ConsumerCredentials)
CONSUMER_EXPORT: ConsumerExport[str] = names(ConsumerExport)
CONSUMER_SECRET: ConsumerSecretExport[str] = names(ConsumerSecretExport)
DELIVERED: DeliveredCredentials[str] = names(DeliveredCredentials)
