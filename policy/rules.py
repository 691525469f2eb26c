"""Policy rules over planned resources (type + engine-level inputs, camelCase as the engine sees them).

Plain functions so the same rules run inside the Pulumi policy pack and against offline plans.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from core.limits import MAX_CFU_VALUES

ROLE_BINDING = "confluentcloud:index/roleBinding:RoleBinding"
KAFKA_CLUSTER = "confluentcloud:index/kafkaCluster:KafkaCluster"
KAFKA_TOPIC = "confluentcloud:index/kafkaTopic:KafkaTopic"
COMPUTE_POOL = "confluentcloud:index/flinkComputePool:FlinkComputePool"

WORKLOAD_ROLES = ("DeveloperRead", "DeveloperWrite")
WORKLOAD_SCOPES = ("/topic=", "/group=", "/subject=", "/transactional-id=")
# Deployer roles and where each may be bound (a CRN fragment that must NOT appear, one that must).
DEPLOYER_ROLES = {
    "CloudClusterAdmin": ("/kafka=", "/cloud-cluster="),
    "FlinkDeveloper": ("/cloud-cluster=", "/environment="),
    "Assigner": ("/environment=", "/service-account="),
    "ResourceOwner": ("/kafka=", "/subject="),
}

Resource = tuple[str, Mapping[str, Any]]


def check_resource(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Violations of one resource's own rules."""
    if resource_type == ROLE_BINDING:
        return _role_binding(props)
    if resource_type == KAFKA_CLUSTER:
        dedicated = props.get("dedicated")
        if dedicated and props.get("availability") == "MULTI_ZONE" and int(dedicated.get("cku", 0)) < 2:
            return ["a MULTI_ZONE dedicated cluster needs cku >= 2"]
        return []
    if resource_type == KAFKA_TOPIC:
        config = props.get("config") or {}
        missing = [key for key in ("retention.ms", "cleanup.policy") if key not in config]
        problems = [f"topic {props.get('topicName')} must declare {', '.join(missing)}"] if missing else []
        if int(props.get("partitionsCount", 0)) < 1:
            problems.append(f"topic {props.get('topicName')} must have at least one partition")
        return problems
    if resource_type == COMPUTE_POOL and props.get("maxCfu") not in MAX_CFU_VALUES:
        return [f"maxCfu {props.get('maxCfu')} is not one of {MAX_CFU_VALUES}"]
    return []


def _role_binding(props: Mapping[str, Any]) -> list[str]:
    role, crn = str(props.get("roleName")), str(props.get("crnPattern"))
    if crn.rsplit("=", 1)[-1] == "*":
        # `topic=*` / `subject=*` name a scope but grant all of it: as wide as the cluster or registry.
        return [f"{role} on every resource of a kind ({crn}): name a resource or a prefix"]
    if role in WORKLOAD_ROLES:
        if not any(scope in crn for scope in WORKLOAD_SCOPES):
            return [f"{role} must be scoped to a topic, group, subject or transactional id, not {crn}"]
        return []
    if role in DEPLOYER_ROLES:
        forbidden, required = DEPLOYER_ROLES[role]
        if forbidden in crn or required not in crn:
            return [f"{role} bound at the wrong scope: {crn}"]
        return []
    return [f"role {role} is not allowed: workloads get Developer* on topics/groups/subjects only"]


def check_stack(resources: Iterable[Resource]) -> list[str]:
    """Cross-resource rules: no principal is both a deployer and a workload."""
    roles: dict[str, set[str]] = defaultdict(set)
    for resource_type, props in resources:
        if resource_type == ROLE_BINDING:
            roles[str(props.get("principal"))].add(str(props.get("roleName")))
    return [
        f"{principal} holds deployer and workload roles: {', '.join(sorted(held))}"
        for principal, held in roles.items()
        if held & set(WORKLOAD_ROLES) and held & set(DEPLOYER_ROLES)
    ]
