"""This region's half of the bidirectional cluster link, and the mirrors of the peer's topics.

Rules relied on (MULTI-REGION-FACTS.md sections 1, 2, 8; terraform-provider-confluent
resource_cluster_link.go / resource_kafka_mirror_topic.go):
- Both halves carry the SAME explicit `link` name (Pulumi would auto-name each half differently),
  `link_mode` BIDIRECTIONAL. The provider calls only the LOCAL cluster's REST endpoint, with the
  local credentials (creating links and mirrors there needs CloudClusterAdmin: the region's cluster
  manager); an OUTBOUND half also presents the REMOTE credentials: the peer's link principal.
- OUTBOUND on both halves (Confluent's regular bidirectional example), not OUTBOUND/INBOUND (their
  advanced example, for a side that cannot be dialled: a public cluster facing a private one). Both
  clusters here are private Dedicated clusters of one organization in regions where Cluster Linking
  over PrivateLink needs no Network Link, so either side can dial; symmetric halves mean either stack
  can be re-created alone with the same code.
- `config` keys only from the provider's allow-list; removing a key later FAILS at apply ("reset ...
  not supported"), so LINK_CONFIG_KEYS is a fixed set, always sent, defaults where unused.
- Mirror topics: named `<cluster.link.prefix><source topic>`, depend on the link, `status` moves
  ACTIVE <-> PAUSED and once to PROMOTED/FAILED_OVER (checked in settings); destroying one deletes the
  topic even after promotion (then the only copy): `retain_on_delete`.
- Replace-on-change: name, mode, clusters, endpoints; credentials and config update in place.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_confluentcloud as confluent

from core import naming
from core.naming import COMPONENT

LINK_CONFIG_KEYS = (
    "cluster.link.prefix",
    "consumer.offset.sync.enable",
    "consumer.offset.group.filters",
    "consumer.group.prefix.enable",
    "acl.sync.enable",
)


def link_config(peer_region: str, group_prefixes: Sequence[str]) -> dict[str, str]:
    """Every key of LINK_CONFIG_KEYS, whatever the routes: mirrors carry the peer's region as prefix
    (same-named topics in both clusters require it); consumer groups of the route consumers sync their
    offsets (so a consumer moves region with its position) under their own names (no group prefix);
    ACLs are not synced (access is RBAC, bound per region)."""
    filters = [{"name": prefix, "patternType": "PREFIXED", "filterType": "INCLUDE"} for prefix in group_prefixes]
    return {
        "cluster.link.prefix": naming.link_prefix(peer_region),
        "consumer.offset.sync.enable": "true" if filters else "false",
        "consumer.offset.group.filters": json.dumps({"groupFilters": filters}, sort_keys=True),
        "consumer.group.prefix.enable": "false",
        "acl.sync.enable": "false",
    }


@dataclass(frozen=True)
class Peer:
    """What the peer region stack exports for its side of the link (read through a StackReference)."""

    region: str
    cluster_id: str
    bootstrap_endpoint: str
    link_key: str
    link_secret: pulumi.Output[str]  # a Pulumi secret in the peer's outputs: kept one here
    topics: tuple[str, ...]


@dataclass
class ClusterLinkHalfArgs:
    link_name: str
    local_cluster: confluent.KafkaCluster
    local_key: confluent.ApiKey  # the region's cluster manager (CloudClusterAdmin on this cluster)
    peer: Peer
    group_prefixes: Sequence[str]
    mirror_status: str
    protect: bool


class ClusterLinkHalf(pulumi.ComponentResource):
    """One half of the link (local = this region's cluster) and one mirror per peer topic."""

    def __init__(self, name: str, args: ClusterLinkHalfArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:ClusterLinkHalf", name, None, opts)
        peer = args.peer
        local = args.local_cluster
        local_secret: pulumi.Output[str] = pulumi.Output.secret(
            args.local_key.secret
        )  # declared inside an apply: say so
        self.link = confluent.ClusterLink(
            f"{name}-link",
            link=args.link_name,
            link_mode="BIDIRECTIONAL",
            connection_mode="OUTBOUND",
            local_kafka_cluster=confluent.ClusterLinkLocalKafkaClusterArgs(
                id=local.id,
                rest_endpoint=local.rest_endpoint,
                credentials=confluent.ClusterLinkLocalKafkaClusterCredentialsArgs(
                    key=args.local_key.id, secret=local_secret
                ),
            ),
            remote_kafka_cluster=confluent.ClusterLinkRemoteKafkaClusterArgs(
                id=peer.cluster_id,
                bootstrap_endpoint=peer.bootstrap_endpoint,
                credentials=confluent.ClusterLinkRemoteKafkaClusterCredentialsArgs(
                    key=peer.link_key, secret=pulumi.Output.secret(peer.link_secret)
                ),
            ),
            config=link_config(peer.region, args.group_prefixes),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[args.local_key]),
        )
        credentials = confluent.KafkaMirrorTopicKafkaClusterCredentialsArgs(key=args.local_key.id, secret=local_secret)
        self.mirrors = {
            topic: confluent.KafkaMirrorTopic(
                f"{name}-mirror-{topic}",
                source_kafka_topic=confluent.KafkaMirrorTopicSourceKafkaTopicArgs(topic_name=topic),
                cluster_link=confluent.KafkaMirrorTopicClusterLinkArgs(link_name=args.link_name),
                kafka_cluster=confluent.KafkaMirrorTopicKafkaClusterArgs(
                    id=local.id, rest_endpoint=local.rest_endpoint, credentials=credentials
                ),
                mirror_topic_name=naming.mirror_topic(peer.region, topic),
                status=args.mirror_status,
                # After a promotion or failover the mirror is the only copy: never delete it with the program.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.link], retain_on_delete=True),
            )
            for topic in peer.topics
        }
        self.register_outputs({"link": args.link_name, "mirrors": list(self.mirrors)})
