"""AWS identifiers in settings: regions, availability-zone ids, VPC/subnet ids and CIDRs."""

from __future__ import annotations

import ipaddress
import re

from core.config_node import Node

AWS_REGION = r"[a-z]{2}(-gov)?-[a-z]+-\d"
SUBNET_ID = r"subnet-[0-9a-f]{8,17}"
VPC_ID = r"vpc-[0-9a-f]{8,17}"


def az_id_prefix(region: str) -> str:
    """The prefix of a region's availability-zone ids: us-east-1 -> use1, ap-southeast-2 -> apse2,
    us-gov-west-1 -> usgw1 (AWS's AZ-id scheme)."""
    *words, number = region.split("-")
    country, rest = words[0], words[1:]
    initials = "".join("g" if w == "gov" else "".join(d[0] for d in _DIRECTIONS.findall(w)) for w in rest)
    return f"{country}{initials}{number}"


_DIRECTIONS = re.compile(r"north|south|east|west|central")


def cidr(node: Node, protect: bool) -> str:
    """An IPv4 network (10.0.0.0/16); a protected stack never opens to everyone (/0)."""
    text = node.string()
    try:
        network = ipaddress.IPv4Network(text, strict=True)
    except ValueError as error:
        node.fail(f"{text!r} is not an IPv4 CIDR such as 10.0.0.0/16 ({error})")
    if "/" not in text:  # ipaddress reads a bare address as /32; AWS wants the prefix written
        node.fail(f"{text!r} has no prefix length: write an IPv4 CIDR such as 10.0.0.0/16")
    if protect and network.prefixlen == 0:
        node.fail(f"{text} is open to every address: a protected stack names its networks")
    return text
