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
- The provider fails over or promotes only from ACTIVE/PAUSED in STATE (resource_kafka_mirror_topic.go,
  update), so a refresh during an outage (state: SOURCE_UNAVAILABLE) makes `FAILED_OVER` unappliable:
  `cdcctl link` does promotions and failovers, and with PROMOTED/FAILED_OVER configured the program
  ignores `status` changes (the setting records what was done; nothing calls Confluent again).
- Create ignores `status` (same file, create): a mirror declared while the status is not ACTIVE would
  start ACTIVE, so new mirrors are declared only while ACTIVE (a warning names the ones held back).
- Replace-on-change: link name, mode, clusters, endpoints (resource_cluster_link.go), and a mirror's
  link name, topic names and cluster (resource_kafka_mirror_topic.go); credentials and config update in
  place, but an update sends only `config` to Confluent (clusterLinkUpdate: `if d.HasChange(paramConfigs)`,
  the only API call): changed credentials are recorded in state while the link keeps presenting the key
  it was created with (its `sasl.jaas.config`), so a rotated peer link key reaches the link only when
  that config is altered on the cluster (README "Credentials", link key). Pulumi creates a replacement
  before deleting the old one, under the same explicit name here ("already exists"): the link is
  `delete_before_replace`. A replaced mirror would start over from the
  source while the old topic is retained on delete: a change that renames the link (environment or
  regions) is refused while mirrors exist.
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
from settings.link import STOPPING_STATUSES, mirror_transition_problem
from settings.model import NAMESPACE, LinkSettings

# How often a link half syncs the peer-homed groups' offsets (Confluent's default, 30 s, stated here rather
# than assumed): a consumer that moves region re-reads at most this much (README, DR targets).
OFFSET_SYNC_MS = 30_000
LINK_CONFIG_KEYS = (
    "cluster.link.prefix",
    "consumer.offset.sync.enable",
    "consumer.offset.sync.ms",
    "consumer.offset.group.filters",
    "consumer.group.prefix.enable",
    "acl.sync.enable",
)


def link_config(peer_region: str, group_prefixes: Sequence[str]) -> dict[str, str]:
    """Every key of LINK_CONFIG_KEYS, whatever the routes: mirrors carry the peer's region as prefix
    (same-named topics in both clusters require it); ACLs are not synced (access is RBAC, bound per region).

    Offsets: a consumer names its groups after its home region, `<consumer>-<region>-...`
    (naming.consumer_home_groups). This half syncs, under their own names (no group prefix), only the groups
    homed in the PEER's region: a group consuming here in its home region is never a sync target, so its
    live offsets are never overwritten (whatever Confluent does with groups active on the destination:
    unconfirmed), and a consumer that moves here from the peer keeps its group id and resumes at the offsets
    synced into this cluster's mirrors of its topics (their offsets are the source's: mirrors preserve them)."""
    filters = [
        {"name": naming.consumer_home_groups(prefix, peer_region), "patternType": "PREFIXED", "filterType": "INCLUDE"}
        for prefix in group_prefixes
    ]
    return {
        "cluster.link.prefix": naming.link_prefix(peer_region),
        "consumer.offset.sync.enable": "true" if filters else "false",
        "consumer.offset.sync.ms": str(OFFSET_SYNC_MS),
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
    local_topics: Sequence[str]  # this cluster's topics the peer's half mirrors (`linkedTopics`)
    previous_topics: pulumi.Input[Any]  # the same, as this stack's last deployment exported them
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
            previous_topics=args.previous_topics,
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
        name = naming.link_name(v["environment"], (self._args.local_region, link.peer_region))
        previous = v["previous"] or {}
        self._check_name(name, previous)
        # Mirrors need the link usable from both sides: each waits for the peer's half (Confluent's
        # example makes every mirror depend on both halves).
        topics = self._declarable(tuple(v["topics"]), previous) if v["peer_half"] else ()
        if not v["peer_half"]:
            pulumi.log.warn(
                f"mirrors of {link.peer_stack}'s topics wait for its half of the link: "
                f"run `pulumi up --stack {link.peer_stack}`, then `pulumi up` here again."
            )
        else:
            self._warn_unmirrored(v["peer_half"], v["previous_topics"])
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
        if link.mirror_status in STOPPING_STATUSES and previous_status not in STOPPING_STATUSES:
            action = {"PROMOTED": "promote", "FAILED_OVER": "failover"}[link.mirror_status]
            pulumi.log.warn(
                f"`mirrorStatus: {link.mirror_status}` records what `cdcctl link {action} --stack "
                f"{pulumi.get_stack()}` did; it does not do it (the provider could not after a refresh during "
                "an outage): run that first if it has not run"
            )
        if previous_status in STOPPING_STATUSES and link.mirror_status == "ACTIVE":
            pulumi.log.warn(
                f"failback from {previous_status}: stopped mirrors never mirror again; only mirrors deleted in "
                "Confluent and removed from this stack's state are created anew (`cdcctl link resume` prints the "
                "steps)"
            )

    def _check_name(self, name: str, previous: dict[str, Any]) -> None:
        """A new link name replaces the link AND every mirror (its `cluster_link.link_name` forces it):
        the retained old topics would block the new ones, and the new ones start over from the source."""
        before, mirrors = previous.get(LINK_EXPORT.name), previous.get(LINK_EXPORT.mirrors) or []
        if before and mirrors and before != name:
            raise ConfigError(
                self._args.settings_file,
                f"{NAMESPACE}:link",
                f"the link would be renamed {before} -> {name} (a renamed environment or region), which replaces "
                f"it and its {len(mirrors)} mirror topics: keep the environment name, or remove the link first "
                "(README, 'Active-active')",
            )

    def _declarable(self, topics: tuple[str, ...], previous: dict[str, Any]) -> tuple[str, ...]:
        """The peer topics to mirror: while the status is not ACTIVE, only those already mirrored (a new
        mirror would start ACTIVE whatever `status` says)."""
        link = self._args.link
        if link.mirror_status == "ACTIVE":
            return topics
        known = set(previous.get(LINK_EXPORT.mirrors) or [])
        held = [t for t in topics if naming.mirror_topic(link.peer_region, t) not in known]
        if held:
            pulumi.log.warn(
                f"new mirrors held back while `link.mirrorStatus` is {link.mirror_status} (Confluent would start "
                f"them ACTIVE): {', '.join(held)}; they are declared once it is ACTIVE again."
            )
        return tuple(t for t in topics if t not in held)

    def _warn_unmirrored(self, peer_half: dict[str, Any], previous_topics: list[str] | None) -> None:
        """The peer's half mirrors this cluster's topics as of ITS last `up`: topics this deployment adds
        are mirrored there only when the peer stack runs again (routes added in one deploy)."""
        if previous_topics is None:  # a first deployment: the peer's next `up` is already asked for
            return
        link, local = self._args.link, self._args.local_region
        mirrored = set(peer_half.get(LINK_EXPORT.mirrors) or [])
        added = [t for t in self._args.local_topics if t not in previous_topics]
        missing = sorted(t for t in added if naming.mirror_topic(local, t) not in mirrored)
        if missing:
            pulumi.log.warn(
                f"{link.peer_stack} does not mirror {', '.join(missing)} yet: run `pulumi up --stack "
                f"{link.peer_stack}` after this deployment (until then they are not mirrored there; README, "
                "'first-deploy order')."
            )

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
            # Same explicit name on the replacement: the old link must go first ("already exists").
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, depends_on=[args.local_key], delete_before_replace=True
            ),
        )
        credentials = confluent.KafkaMirrorTopicKafkaClusterCredentialsArgs(key=args.local_key.id, secret=local_secret)
        # Promotion and failover are done by `cdcctl link`; the setting records them (see module docstring).
        recorded = ["status"] if args.link.mirror_status in STOPPING_STATUSES else []
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
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[self.link], retain_on_delete=True, ignore_changes=recorded
                ),
            )
            for topic in peer.topics
        }
