"""Who may do what: every principal of the platform and its least-privilege grants, as data."""

from __future__ import annotations

from core import naming
from core.grants import Grants
from flink_sql.routes import Route, consumers


def access_policy(
    routes: tuple[Route, ...],
    regions: tuple[str, ...],
    raw_topic: str,
    peer_region: str | None = None,
    heartbeat_topics: tuple[str, ...] = (),
) -> dict[str, Grants]:
    """Principals by name. Workloads get topic/group/subject scope only; deployers get their one role.
    (Which principals exist does not depend on the raw topic's name, only their grants do.) With a
    cluster link (several regions in the global layer; `peer_region` in a region layer), each region
    has a link principal, and consumers also read their topics' mirrors of the peer's."""
    enabled = tuple(r for r in routes if r.enabled)
    policy = _platform(enabled, raw_topic, heartbeat_topics)
    linked = len(regions) > 1 or peer_region is not None
    for region in regions:
        policy |= _regional(region, routes, raw_topic, linked)
    for consumer in consumers(routes):
        topics = tuple(r.output_topic for r in enabled if r.consumer == consumer)
        mirrors = tuple(naming.mirror_topic(peer_region, t) for t in topics) if peer_region else ()
        policy[consumer] = Grants(
            f"Consumer application {consumer}",
            read_topics=topics,
            # Its deserializers fetch the key's schema as well as the value's: read on both subjects.
            keyed_topics=topics,
            read_mirrors=mirrors,
            group_prefixes=(naming.consumer_group_prefix(consumer),),
        )
    return policy


def _platform(enabled: tuple[Route, ...], raw_topic: str, heartbeat_topics: tuple[str, ...]) -> dict[str, Grants]:
    """The workloads and deployers every environment has, whatever its regions."""
    return {
        naming.CDC_CONNECTOR: Grants(
            "Managed Postgres CDC connector: writes the raw change topic (and its heartbeat topic)",
            write_topics=(raw_topic, *heartbeat_topics),
            keyed_topics=(raw_topic, *heartbeat_topics),
        ),
        naming.FLINK_STATEMENTS: Grants(
            "Identity the routing Flink statements run as: reads raw, writes routed topics and the dead-letter "
            "topic (and registers its schema: the raw table's error handling)",
            read_topics=(raw_topic,),
            write_topics=(*(r.output_topic for r in enabled), naming.dead_letter_topic(raw_topic)),
            registers_subjects_of=(naming.dead_letter_topic(raw_topic),),
            # Every topic it touches is keyed: the routed ones carry the raw key (key subjects to read).
            keyed_topics=(raw_topic, *(r.output_topic for r in enabled)),
            # Exactly what CC flink/operate-and-deploy/flink-rbac lists for a statement's principal:
            # DeveloperRead + DeveloperWrite on transactional ids `_confluent-flink_*` (exactly-once),
            # DeveloperRead/Write on the topics read/written, DeveloperRead on their subjects. No
            # consumer-group binding: the page's 2025 rewrite dropped the older DeveloperManage on
            # `_confluent-flink_*` groups (Flink tracks offsets in its own state, not in groups).
            transactional_id_prefixes=(naming.FLINK_TRANSACTIONAL_ID_PREFIX,),
            registers_schemas=False,
        ),
        naming.SCHEMA_MANAGER: Grants(
            "Deployer: registers the routed topics' key and value schemas and sets their and the raw value "
            "subject's compatibility (the connector registers the raw topic's schemas)",
            owned_subjects=(
                naming.subject(raw_topic),
                *(naming.subject(r.output_topic, part) for r in enabled for part in ("key", "value")),
            ),
        ),
        naming.FLINK_DEPLOYER: Grants(
            "Deployer: submits Flink statements as the statement principal",
            flink_developer=True,
            may_assign=(naming.FLINK_STATEMENTS,),
        ),
        naming.METRICS_VIEWER: Grants(
            "Monitoring: reads the Metrics API export of the environment's clusters, connectors and pools",
            metrics_viewer=True,
        ),
    }


def _regional(region: str, routes: tuple[Route, ...], raw_topic: str, linked: bool) -> dict[str, Grants]:
    """A region's cluster manager and, with a cluster link, the link's credential on its cluster."""
    grants = {
        naming.cluster_manager(region): Grants(
            f"Deployer: manages topics and cluster links of the {region} cluster only", cluster_admin=True
        )
    }
    if linked:
        grants[naming.link_principal(region)] = Grants(
            f"The cluster link's credential on the {region} cluster: what the peer mirrors from it",
            mirrored_topics=(raw_topic, *(r.output_topic for r in routes if r.enabled)),
            group_prefixes=tuple(naming.consumer_group_prefix(c) for c in consumers(routes)),
            cluster_operator=True,
        )
    return grants
