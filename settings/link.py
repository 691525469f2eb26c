"""The cluster link's settings rules: the `link` section and the mirror-status transition table."""

from __future__ import annotations

from core.config_node import Node
from settings.aws import AWS_REGION
from settings.model import STACK_REFERENCE, LinkSettings

# Mirror topic states Confluent lets a program set, and the moves between them it allows
# (terraform-provider-confluent resource_kafka_mirror_topic.go: ACTIVE <-> PAUSED, ACTIVE|PAUSED ->
# PROMOTED, ACTIVE|PAUSED -> FAILED_OVER; promotion and failover are final for a mirror). Back to ACTIVE
# from PROMOTED/FAILED_OVER is failback: NEW mirrors, once the stopped topics are deleted and their
# resources removed from state (`cdcctl link resume` prints the steps; infra/cluster_link.py warns).
MIRROR_STATUSES = ("ACTIVE", "PAUSED", "PROMOTED", "FAILED_OVER")
# Final: the mirror stopped mirroring (`cdcctl link promote|failover` did it; the setting records it).
STOPPING_STATUSES = ("PROMOTED", "FAILED_OVER")
MIRROR_TRANSITIONS = {
    "ACTIVE": {"ACTIVE", "PAUSED", "PROMOTED", "FAILED_OVER"},
    "PAUSED": {"PAUSED", "ACTIVE", "PROMOTED", "FAILED_OVER"},
    "PROMOTED": {"PROMOTED", "ACTIVE"},
    "FAILED_OVER": {"FAILED_OVER", "ACTIVE"},
}


def parse_link(node: Node, stack: str, region: str) -> LinkSettings:
    f = node.fields(required=["peerStack", "peerRegion"], optional=["mirrorStatus"])
    peer_stack = f["peerStack"].string(STACK_REFERENCE, "org/project/stack of the peer region stack")
    if peer_stack.rsplit("/", 1)[-1] == stack:
        f["peerStack"].fail("a region stack cannot link to itself: name the other region's stack")
    peer_region = f["peerRegion"].string(AWS_REGION, "an AWS region such as us-west-2")
    if peer_region == region:
        f["peerRegion"].fail(f"is this stack's own region {region}: the peer must be another region")
    status = f["mirrorStatus"].choice(MIRROR_STATUSES, default="ACTIVE")
    return LinkSettings(peer_stack, peer_region, status)


def mirror_transition_problem(previous: str | None, status: str) -> str | None:
    """Why the mirrors cannot move from the last deployed status to `status` (None: they can)."""
    if previous is None or status in MIRROR_TRANSITIONS.get(previous, {status}):
        return None
    return (
        f"mirror topics are {previous}, which cannot become {status} (Confluent allows ACTIVE <-> PAUSED, "
        "then PROMOTED or FAILED_OVER once; failback to ACTIVE re-creates them)"
    )
