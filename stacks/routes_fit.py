"""What neither the stack file nor the routes file can check alone, checked before anything registers.

Pure Python (settings, routes, the access policy as data): `cdcctl routes check --stack`, `sql` and
`routes diff` run it without loading Pulumi or any component."""

from __future__ import annotations

from core import naming
from core.cdc_source import written_heartbeat_topics
from core.config_node import ConfigError
from core.limits import MAX_PARTITIONS_PER_CLUSTER
from flink_sql.routes import Route, consumers, route_writing
from settings.model import (
    NAMESPACE,
    AllInOneStackSettings,
    GlobalStackSettings,
    RegionStackSettings,
    Settings,
    link_settings,
)
from stacks.access_policy import access_policy


def check_routes_fit_settings(settings: Settings, routes: tuple[Route, ...]) -> None:
    """What neither file can check alone: topic and principal names must not collide, and the region's
    topics must fit its cluster's partition limit."""
    builtin = set(access_policy((), settings.regions, settings.raw_topic))
    for index, route in enumerate(routes):
        if route.consumer in builtin:
            raise ConfigError(
                settings.routes_file, f"routes[{index}].consumer", f"{route.consumer!r} is a platform principal's name"
            )
    if isinstance(settings, GlobalStackSettings):
        return
    region = settings.region
    _check_no_route_writes_connector_topics(settings, routes)
    _check_deliveries(settings, routes)
    link = link_settings(settings)
    if link is not None:
        # Mirrors of the peer's topics are named `<peer region>.<topic>` on this cluster.
        # (A region stack keeps the default raw topic, which no region prefix starts.)
        prefix = naming.link_prefix(link.peer_region)
        for index, route in enumerate(routes):
            if route.enabled and route.output_topic.startswith(prefix):
                raise ConfigError(
                    settings.routes_file,
                    f"routes[{index}].outputTopic",
                    f"{route.output_topic!r} starts with {prefix!r}, the prefix of the peer's mirrors on this "
                    f"cluster (link to {link.peer_stack})",
                )
    routed = sum(1 for r in routes if r.enabled)
    raw, per_route = region.raw_topic_settings.partitions, region.routed_topic_settings.partitions
    total = raw + routed * per_route
    limit = MAX_PARTITIONS_PER_CLUSTER[region.kafka.type]
    if total > limit:
        raise ConfigError(
            settings.file,
            f"{NAMESPACE}:topics.routed.partitions",
            f"{routed} routed topics x {per_route} + raw {raw} = {total} partitions, "
            f"over a {region.kafka.type} cluster's {limit}",
        )


def _check_no_route_writes_connector_topics(
    settings: RegionStackSettings | AllInOneStackSettings, routes: tuple[Route, ...]
) -> None:
    """The raw topic and the heartbeat topic have one writer: the CDC connector."""
    region = settings.region
    writer = route_writing(routes, region.raw_topic)
    if writer is not None:
        raise ConfigError(
            settings.file,
            f"{NAMESPACE}:topics.raw.name",
            f"{region.raw_topic!r} is also routes[{writer}].outputTopic in {settings.routes_file}",
        )
    for heartbeat in written_heartbeat_topics(region.cdc, region.raw_topic):
        beat_writer = route_writing(routes, heartbeat)
        if beat_writer is not None:
            raise ConfigError(
                settings.routes_file,
                f"routes[{beat_writer}].outputTopic",
                f"{heartbeat!r} is the CDC connector's heartbeat topic (cdc.heartbeatIntervalMs)",
            )


def _check_deliveries(settings: RegionStackSettings | AllInOneStackSettings, routes: tuple[Route, ...]) -> None:
    """Delivery settings name route consumers only (a disabled route's consumer keeps its settings, so
    disabling a route is a routes-file change alone); a protected stack names who reads every enabled
    consumer's keys (an unprotected one leaves a consumer without readers to the account's IAM)."""
    known = consumers(routes)
    named = {r.consumer for r in routes if r.consumer}
    delivery = settings.region.credentials
    for name in delivery.consumers:
        if name not in named:
            raise ConfigError(
                settings.file,
                f"{NAMESPACE}:credentials.consumers.{name}",
                f"no route of {settings.routes_file} names consumer {name!r} "
                f"(its consumers: {', '.join(sorted(named)) or 'none'})",
            )
    for name in known:
        if settings.protect and not delivery.consumer(name).readers:
            raise ConfigError(
                settings.file,
                f"{NAMESPACE}:credentials.consumers.{name}.readers",
                "is required in a protected stack: the IAM role ARNs that may read this consumer's keys",
            )
