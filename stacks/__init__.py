"""Composition of the infra components into the global and region layers."""

from __future__ import annotations

import pulumi

from core import naming
from core.cdc_source import written_heartbeat_topics
from core.config_node import ConfigError
from core.limits import MAX_PARTITIONS_PER_CLUSTER
from flink_sql.routes import Route, load_routes, route_writing
from infra.settings import (
    NAMESPACE,
    AllInOneStackSettings,
    GlobalStackSettings,
    RegionStackSettings,
    Settings,
    link_settings,
    load_settings,
)
from stacks.access_policy import access_policy
from stacks.global_layer import GlobalExports, global_layer
from stacks.region_layer import RegionLayer, region_principal_names


def load() -> tuple[Settings, tuple[Route, ...]]:
    """Settings and routes, validated together, before any resource is registered."""
    settings = load_settings()
    # Relative to the project directory, which is the working directory Pulumi runs programs in.
    routes = load_routes(settings.routes_file)
    check_routes_fit_settings(settings, routes)
    return settings, routes


def check_routes_fit_settings(settings: Settings, routes: tuple[Route, ...]) -> None:
    """What neither file can check alone: topic and principal names must not collide, and the region's
    topics must fit its cluster's partition limit."""
    builtin = set(access_policy((), settings.regions))
    for index, route in enumerate(routes):
        if route.consumer in builtin:
            raise ConfigError(
                settings.routes_file, f"routes[{index}].consumer", f"{route.consumer!r} is a platform principal's name"
            )
    if isinstance(settings, GlobalStackSettings):
        return
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
    link = link_settings(settings)
    if link is not None:
        # Mirrors of the peer's topics are named `<peer region>.<topic>` on this cluster.
        prefix = naming.link_prefix(link.peer_region)
        if region.raw_topic.startswith(prefix):
            raise ConfigError(
                settings.file, f"{NAMESPACE}:topics.raw.name", f"starts with {prefix!r}, the link's prefix for mirrors"
            )
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


def compose(settings: Settings, routes: tuple[Route, ...]) -> None:
    """Build the stack's layer(s): global, region (reading the global stack), or both in one stack."""
    match settings:
        case GlobalStackSettings():
            global_layer(settings, routes).export()
        case RegionStackSettings():
            names = region_principal_names(settings, routes)
            exports = GlobalExports.from_stack(settings.global_stack, names)
            # The peer region stack must exist (`pulumi stack init`, even before its first `up`).
            peer = pulumi.StackReference("link-peer", stack_name=settings.link.peer_stack) if settings.link else None
            RegionLayer(settings, routes, exports, previous_deployment(), peer).export()
        case AllInOneStackSettings():
            exports = global_layer(settings, routes)
            exports.export()
            RegionLayer(settings, routes, exports, previous_deployment()).export()


def previous_deployment() -> pulumi.StackReference:
    """This stack's own last outputs: what the routing statement was, to replace it safely."""
    self_name = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    return pulumi.StackReference("previous-deployment", stack_name=self_name)


__all__ = ["compose", "load"]
