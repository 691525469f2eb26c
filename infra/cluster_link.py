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
- Replace-on-change: name, mode, clusters, endpoints; credentials and config update in place. But an
  update sends only `config` to Confluent (clusterLinkUpdate: `if d.HasChange(paramConfigs)`, the
  only API call): changed credentials are recorded in state, while the link keeps presenting the key
  it was created with (its `sasl.jaas.config`). So a rotated peer link key reaches the link only when
  that config is altered on the cluster (README "Credentials", link key), and the peer keeps its old
  key until then.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import pulumi
import pulumi_confluentcloud as confluent

from core import naming, rotation
from core.config_node import ConfigError
from core.naming import COMPONENT
from core.region_exports import LINK_EXPORT, REGION_EXPORTS, ClusterLinkExport
from settings.link import mirror_transition_problem
from settings.model import NAMESPACE, LinkSettings

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
    """What the peer region stack exported for its side of the link, read."""

    region: str
    cluster_id: str
    bootstrap_endpoint: str
    link_key: str
    link_secret: pulumi.Output[str]  # a Pulumi secret in the peer's outputs: kept one here
    topics: tuple[str, ...]


@dataclass
class PeerOutputs:
    """The peer region stack's exports this half reads (its StackReference's outputs)."""

    region: pulumi.Output[Any]
    cluster_id: pulumi.Output[Any]
    bootstrap_endpoint: pulumi.Output[Any]
    link_api_key: pulumi.Output[Any]
    link_api_secret: pulumi.Output[Any]
    linked_topics: pulumi.Output[Any]
    cluster_link: pulumi.Output[Any]  # the peer's half, once declared
    key_generations: pulumi.Output[Any]  # which of its link keys is current (core.rotation.LINK)

    @classmethod
    def from_stack(cls, peer: pulumi.StackReference) -> PeerOutputs:
        return cls(
            **{
                f.name: peer.get_output(getattr(REGION_EXPORTS, f.name))
                for f in fields(cls)  # the same field names as RegionExports
            }
        )


@dataclass
class ClusterLinkHalfArgs:
    link: LinkSettings
    environment_name: pulumi.Input[str]  # with both regions, the link's one name
    local_region: str
    local_cluster: confluent.KafkaCluster
    local_key: confluent.ApiKey  # the region's cluster manager (CloudClusterAdmin on this cluster)
    peer: PeerOutputs
    # This stack's last export of its half (None before the first): its mirror status to move from.
    previous: pulumi.Input[Any]
    group_prefixes: Sequence[str]
    protect: bool
    settings_file: str  # named in errors about the link settings


class ClusterLinkHalf(pulumi.ComponentResource):
    """One half of the link (local = this region's cluster) and one mirror per peer topic. Whether the
    link exists and which mirrors do depend on the peer's outputs, so both are declared once those are
    read (the component itself is not); `exported` is the half as the stack exports it
    (ClusterLinkExport), None while it is skipped.

    A peer without a cluster yet (its first `up` has not run: `pulumi stack init` it first, see README)
    skips both with a warning: the second region's `up` creates the second half after the first exists,
    which also avoids the provider's link-id race. The peer must be in `link.peerRegion`, and the mirror
    status may move only as Confluent allows (settings.link)."""

    def __init__(self, name: str, args: ClusterLinkHalfArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{COMPONENT}:ClusterLinkHalf", name, None, opts)
        self._name = name
        self._args = args
        peer = args.peer
        # Only non-secret peer outputs decide what is declared (a secret would make every export built
        # from them secret); the link secret goes to the resource as an Output of its own.
        values = pulumi.Output.all(
            environment=args.environment_name,
            cluster_id=peer.cluster_id,
            region=peer.region,
            bootstrap=peer.bootstrap_endpoint,
            link_key=peer.link_api_key,
            topics=peer.linked_topics,
            peer_half=peer.cluster_link,
            peer_keys=peer.key_generations,
            previous=args.previous,
        )
        self.exported: pulumi.Output[dict[str, Any] | None] = values.apply(self._declare)
        self.register_outputs({"link": self.exported})

    def _declare(self, v: dict[str, Any]) -> dict[str, Any] | None:
        link = self._args.link
        if not v["cluster_id"] or not v["link_key"]:
            pulumi.log.warn(
                f"cluster link to {link.peer_stack} skipped: the peer has no cluster yet. "
                f"Run `pulumi up --stack {link.peer_stack}`, then `pulumi up` here again."
            )
            return None
        self._check(v)
        # Mirrors need the link usable from both sides: each waits for the peer's half (Confluent's
        # example makes every mirror depend on both halves).
        topics = tuple(v["topics"]) if v["peer_half"] else ()
        if not v["peer_half"]:
            pulumi.log.warn(
                f"mirrors of {link.peer_stack}'s topics wait for its half of the link: "
                f"run `pulumi up --stack {link.peer_stack}`, then `pulumi up` here again."
            )
        name = naming.link_name(v["environment"], (self._args.local_region, link.peer_region))
        peer = Peer(
            v["region"], v["cluster_id"], v["bootstrap"], v["link_key"], self._args.peer.link_api_secret, topics
        )
        mirrors = self._resources(name, peer)
        # Which of the peer's link keys this half declares: the peer keeps older ones until it says the new
        # one (the link itself presents it once its sasl.jaas.config is altered: module docstring).
        presented = rotation.previous_generations(v["peer_keys"], rotation.LINK)
        exported = ClusterLinkExport(
            name,
            link.mirror_status,
            sorted(naming.mirror_topic(peer.region, t) for t in mirrors),
            presented[-1] if presented else 1,
        )
        return exported.to_export()

    def _check(self, v: dict[str, Any]) -> None:
        """The peer is where the settings say, and the mirrors may move to the configured status."""
        link, file = self._args.link, self._args.settings_file
        if v["region"] != link.peer_region:
            raise ConfigError(
                file,
                f"{NAMESPACE}:link.peerRegion",
                f"is {link.peer_region}, but {link.peer_stack} is in {v['region']}",
            )
        previous_status = (v["previous"] or {}).get(LINK_EXPORT.mirror_status)
        problem = mirror_transition_problem(previous_status, link.mirror_status)
        if problem:
            raise ConfigError(file, f"{NAMESPACE}:link.mirrorStatus", problem)

    def _resources(self, link_name: str, peer: Peer) -> dict[str, confluent.KafkaMirrorTopic]:
        """The link resource and the mirrors, by source topic."""
        args, name = self._args, self._name
        local = args.local_cluster
        local_secret: pulumi.Output[str] = pulumi.Output.secret(args.local_key.secret)
        self.link = confluent.ClusterLink(
            f"{name}-link",
            link=link_name,
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
        return {
            topic: confluent.KafkaMirrorTopic(
                f"{name}-mirror-{topic}",
                source_kafka_topic=confluent.KafkaMirrorTopicSourceKafkaTopicArgs(topic_name=topic),
                cluster_link=confluent.KafkaMirrorTopicClusterLinkArgs(link_name=link_name),
                kafka_cluster=confluent.KafkaMirrorTopicKafkaClusterArgs(
                    id=local.id, rest_endpoint=local.rest_endpoint, credentials=credentials
                ),
                mirror_topic_name=naming.mirror_topic(peer.region, topic),
                status=args.link.mirror_status,
                # After a promotion or failover the mirror is the only copy: never delete it with the program.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.link], retain_on_delete=True),
            )
            for topic in peer.topics
        }
