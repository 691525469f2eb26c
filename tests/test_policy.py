"""The policy pack's rules hold on every stack's plan, and catch what they are meant to catch."""

from __future__ import annotations

from typing import Any

import pytest

from cdcctl.plan import Plan
from policy.rules import (
    COMPUTE_POOL,
    KAFKA_CLUSTER,
    KAFKA_TOPIC,
    ROLE_BINDING,
    Resource,
    check_resource,
    check_stack,
)
from tests.helpers import STACKS

ORG = "crn://confluent.cloud/organization=o"
ENV = f"{ORG}/environment=env-1"
CLUSTER = f"{ENV}/cloud-cluster=lkc-1"
KAFKA = f"{CLUSTER}/kafka=lkc-1"
REGISTRY = f"{ENV}/schema-registry=lsrc-1"
FLINK_REGION = f"{ENV}/flink-region=aws.us-east-1"
SERVICE_ACCOUNT = f"{ORG}/service-account=sa-9"
WORKLOAD_RULE = "must be scoped to a topic, group, subject or transactional id, not"


def binding(role: str, crn: str, principal: str = "User:sa-1") -> dict[str, Any]:
    return {"principal": principal, "roleName": role, "crnPattern": crn}


def stack_of(resources: list[tuple[str, dict[str, Any]]], protect: bool = False) -> list[Resource]:
    return [(kind, props, protect, f"r{i}") for i, (kind, props) in enumerate(resources)]


@pytest.mark.parametrize("stack", STACKS)
def test_plan_passes_policy(plans: dict[str, Plan], stack: str) -> None:
    resources = [(r.type, r.inputs, r.protect, r.name) for r in plans[stack].resources]
    violations = [v for t, props, protect, _ in resources for v in check_resource(t, props, protect)]
    assert violations + check_stack(resources) == []


# --- workload grants: only on named topics, groups, subjects, transactional ids -----------------------


@pytest.mark.parametrize(
    "crn",
    [
        f"{KAFKA}/topic=filtered-loan-created-events",
        f"{KAFKA}/topic=filtered-*",
        f"{KAFKA}/group=loan-consumer-*",
        f"{KAFKA}/transactional-id=_confluent-flink_*",
        f"{REGISTRY}/subject=filtered-loan-created-events-value",
    ],
)
@pytest.mark.parametrize("role", ["DeveloperRead", "DeveloperWrite"])
def test_workload_roles_on_a_named_resource_are_allowed(role: str, crn: str) -> None:
    assert check_resource(ROLE_BINDING, binding(role, crn)) == []


@pytest.mark.parametrize("crn", [KAFKA, CLUSTER, ENV, ORG, REGISTRY, FLINK_REGION])
@pytest.mark.parametrize("role", ["DeveloperRead", "DeveloperWrite"])
def test_cluster_wide_or_wider_workload_grants_are_refused(role: str, crn: str) -> None:
    assert check_resource(ROLE_BINDING, binding(role, crn)) == [f"{role} {WORKLOAD_RULE} {crn}"]


def test_a_workload_grant_without_a_crn_is_refused() -> None:
    props = {"principal": "User:sa-1", "roleName": "DeveloperRead"}
    assert check_resource(ROLE_BINDING, props) == [f"DeveloperRead {WORKLOAD_RULE} None"]


# --- deployer roles: each at its one scope -----------------------------------------------------------


@pytest.mark.parametrize(
    "role, crn",
    [
        ("CloudClusterAdmin", CLUSTER),
        ("FlinkDeveloper", ENV),
        ("Assigner", SERVICE_ACCOUNT),
        ("ResourceOwner", f"{REGISTRY}/subject=filtered-loan-created-events-value"),
    ],
)
def test_deployer_roles_at_their_scope_are_allowed(role: str, crn: str) -> None:
    assert check_resource(ROLE_BINDING, binding(role, crn)) == []


def test_the_metrics_viewer_on_its_environment_is_allowed() -> None:
    assert check_resource(ROLE_BINDING, binding("MetricsViewer", ENV)) == []


@pytest.mark.parametrize(
    "role, crn",
    [
        # CloudClusterAdmin: one cluster, not the environment, nor a resource inside the cluster.
        ("CloudClusterAdmin", ENV),
        ("CloudClusterAdmin", KAFKA),
        ("CloudClusterAdmin", f"{KAFKA}/topic=x"),
        # FlinkDeveloper: the environment, not a cluster inside it, nor the organization.
        ("FlinkDeveloper", CLUSTER),
        ("FlinkDeveloper", ORG),
        # Assigner: one service account, not anything in an environment.
        ("Assigner", ORG),
        ("Assigner", ENV),
        ("Assigner", f"{ENV}/service-account=sa-9"),
        # ResourceOwner: schema subjects only, not topics, nor the whole registry.
        ("ResourceOwner", REGISTRY),
        ("ResourceOwner", f"{KAFKA}/topic=x"),
        ("ResourceOwner", f"{KAFKA}/subject=x"),
        ("ResourceOwner", ENV),
        # MetricsViewer (Prometheus' principal): the environment, not the organization nor one cluster.
        ("MetricsViewer", ORG),
        ("MetricsViewer", CLUSTER),
    ],
)
def test_deployer_roles_at_a_wrong_scope_are_refused(role: str, crn: str) -> None:
    assert check_resource(ROLE_BINDING, binding(role, crn)) == [f"{role} bound at the wrong scope: {crn}"]


@pytest.mark.parametrize(
    "role, crn",
    [
        ("EnvironmentAdmin", ENV),
        ("OrganizationAdmin", ORG),
        ("ResourceOwner ", f"{REGISTRY}/subject=x"),
        ("developerread", f"{KAFKA}/topic=x"),
        ("FlinkAdmin", ENV),
    ],
)
def test_roles_outside_the_allow_list_are_refused_at_any_scope(role: str, crn: str) -> None:
    assert check_resource(ROLE_BINDING, binding(role, crn)) == [
        f"role {role} is not allowed: workloads get Developer* on topics/groups/subjects only"
    ]


# --- the cluster link's credential: DeveloperManage on mirrored topics, Operator on its one cluster ----


def test_the_link_credentials_bindings_are_allowed() -> None:
    for role, crn in [
        ("DeveloperManage", f"{KAFKA}/topic=raw"),
        ("DeveloperRead", f"{KAFKA}/topic=raw"),
        ("Operator", CLUSTER),
    ]:
        assert check_resource(ROLE_BINDING, binding(role, crn)) == [], role


@pytest.mark.parametrize(
    "crn", [f"{KAFKA}/group=loan-consumer-*", f"{REGISTRY}/subject=s", f"{KAFKA}/transactional-id=t*"]
)
def test_developer_manage_beyond_topics_is_refused(crn: str) -> None:
    assert check_resource(ROLE_BINDING, binding("DeveloperManage", crn)) == [
        f"DeveloperManage is for a cluster link's mirrored topics only, not {crn}"
    ]


@pytest.mark.parametrize("crn", [ENV, ORG, KAFKA, f"{KAFKA}/topic=x"])
def test_operator_beyond_its_one_cluster_is_refused(crn: str) -> None:
    assert check_resource(ROLE_BINDING, binding("Operator", crn)) == [f"Operator bound at the wrong scope: {crn}"]


def test_a_binding_without_a_role_is_refused() -> None:
    assert check_resource(ROLE_BINDING, {"principal": "User:sa-1", "crnPattern": ENV}) == [
        "role None is not allowed: workloads get Developer* on topics/groups/subjects only"
    ]


# --- principal separation across the stack -----------------------------------------------------------


def test_a_principal_holding_a_deployer_and_a_workload_role_is_refused() -> None:
    resources = [
        (ROLE_BINDING, binding("DeveloperWrite", f"{KAFKA}/topic=t", "User:sa-2")),
        (ROLE_BINDING, binding("CloudClusterAdmin", CLUSTER)),
        (ROLE_BINDING, binding("DeveloperRead", f"{KAFKA}/topic=t")),
        (ROLE_BINDING, binding("FlinkDeveloper", ENV, "User:sa-3")),
    ]
    assert check_stack(stack_of(resources)) == [
        "User:sa-1 holds deployer and workload roles: CloudClusterAdmin, DeveloperRead"
    ]


@pytest.mark.parametrize("deployer_role", ["CloudClusterAdmin", "FlinkDeveloper", "Assigner", "ResourceOwner"])
@pytest.mark.parametrize("workload_role", ["DeveloperRead", "DeveloperWrite"])
def test_every_deployer_role_is_exclusive_of_every_workload_role(deployer_role: str, workload_role: str) -> None:
    resources = [
        (ROLE_BINDING, binding(workload_role, f"{KAFKA}/topic=t", "User:sa-7")),
        (ROLE_BINDING, binding(deployer_role, CLUSTER, "User:sa-7")),
    ]
    held = ", ".join(sorted([deployer_role, workload_role]))
    assert check_stack(stack_of(resources)) == [f"User:sa-7 holds deployer and workload roles: {held}"]


def test_each_offending_principal_is_named_with_all_its_roles() -> None:
    resources = [
        (ROLE_BINDING, binding("DeveloperWrite", f"{KAFKA}/topic=t", "User:sa-2")),
        (ROLE_BINDING, binding("Assigner", SERVICE_ACCOUNT, "User:sa-2")),
        (ROLE_BINDING, binding("DeveloperRead", f"{KAFKA}/topic=t", "User:sa-2")),
        (ROLE_BINDING, binding("ResourceOwner", f"{REGISTRY}/subject=s", "User:sa-5")),
        (ROLE_BINDING, binding("DeveloperRead", f"{KAFKA}/topic=t", "User:sa-5")),
    ]
    assert check_stack(stack_of(resources)) == [
        "User:sa-2 holds deployer and workload roles: Assigner, DeveloperRead, DeveloperWrite",
        "User:sa-5 holds deployer and workload roles: DeveloperRead, ResourceOwner",
    ]


def test_separate_deployer_and_workload_principals_are_allowed() -> None:
    resources = [
        (ROLE_BINDING, binding("CloudClusterAdmin", CLUSTER, "User:sa-1")),
        (ROLE_BINDING, binding("FlinkDeveloper", ENV, "User:sa-1")),
        (ROLE_BINDING, binding("DeveloperRead", f"{KAFKA}/topic=t", "User:sa-2")),
        (ROLE_BINDING, binding("DeveloperWrite", f"{KAFKA}/topic=t", "User:sa-2")),
    ]
    assert check_stack(stack_of(resources)) == []


def test_only_role_bindings_count_towards_a_principals_roles() -> None:
    lookalike = binding("CloudClusterAdmin", CLUSTER)
    resources = [(KAFKA_TOPIC, lookalike), (ROLE_BINDING, binding("DeveloperRead", f"{KAFKA}/topic=t"))]
    assert check_stack(stack_of(resources)) == []


def test_roles_outside_both_sets_do_not_make_a_principal_a_deployer() -> None:
    resources = [
        (ROLE_BINDING, binding("EnvironmentAdmin", ENV)),
        (ROLE_BINDING, binding("DeveloperRead", f"{KAFKA}/topic=t")),
    ]
    assert check_stack(stack_of(resources)) == []


# --- sizing and declared topics ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "props",
    [
        {"availability": "MULTI_ZONE", "dedicated": {"cku": 1}},
        {"availability": "MULTI_ZONE", "dedicated": {"cku": "1"}},
        {"availability": "MULTI_ZONE", "dedicated": {"region": "x"}},
    ],
)
def test_a_multi_zone_dedicated_cluster_below_two_cku_is_refused(props: dict[str, Any]) -> None:
    assert check_resource(KAFKA_CLUSTER, props) == ["a MULTI_ZONE dedicated cluster needs cku >= 2"]


@pytest.mark.parametrize(
    "props",
    [
        {"availability": "MULTI_ZONE", "dedicated": {"cku": 2}},
        {"availability": "SINGLE_ZONE", "dedicated": {"cku": 1}},
        {"availability": "MULTI_ZONE", "standard": {}},
        {"availability": "SINGLE_ZONE", "basic": {}},
    ],
)
def test_valid_cluster_sizes_are_allowed(props: dict[str, Any]) -> None:
    assert check_resource(KAFKA_CLUSTER, props) == []


def test_a_topic_declaring_retention_cleanup_and_partitions_is_allowed() -> None:
    props = {"topicName": "t", "partitionsCount": 1, "config": {"retention.ms": "-1", "cleanup.policy": "delete"}}
    assert check_resource(KAFKA_TOPIC, props) == []


@pytest.mark.parametrize(
    "config, missing",
    [
        ({"cleanup.policy": "delete"}, "retention.ms"),
        ({"retention.ms": "604800000"}, "cleanup.policy"),
        ({}, "retention.ms, cleanup.policy"),
        (None, "retention.ms, cleanup.policy"),
    ],
)
def test_a_topic_must_declare_retention_and_cleanup(config: dict[str, str] | None, missing: str) -> None:
    props = {"topicName": "raw", "partitionsCount": 6, "config": config}
    assert check_resource(KAFKA_TOPIC, props) == [f"topic raw must declare {missing}"]


@pytest.mark.parametrize("partitions", [0, -1, "0", None])
def test_a_topic_needs_at_least_one_partition(partitions: Any) -> None:
    props = {"topicName": "t", "config": {"retention.ms": "1", "cleanup.policy": "delete"}}
    if partitions is not None:
        props["partitionsCount"] = partitions
    assert check_resource(KAFKA_TOPIC, props) == ["topic t must have at least one partition"]


def test_a_topic_reports_every_problem() -> None:
    assert check_resource(KAFKA_TOPIC, {"topicName": "t", "partitionsCount": 0}) == [
        "topic t must declare retention.ms, cleanup.policy",
        "topic t must have at least one partition",
    ]


@pytest.mark.parametrize("cfu", [5, 10, 20, 30, 40, 50])
def test_compute_pool_sizes_confluent_offers_are_allowed(cfu: int) -> None:
    assert check_resource(COMPUTE_POOL, {"maxCfu": cfu}) == []


@pytest.mark.parametrize("cfu", [7, 0, 100, "5", None])
def test_other_compute_pool_sizes_are_refused(cfu: Any) -> None:
    assert check_resource(COMPUTE_POOL, {"maxCfu": cfu}) == [f"maxCfu {cfu} is not one of (5, 10, 20, 30, 40, 50)"]


def test_other_resource_types_have_no_rules() -> None:
    assert check_resource("confluentcloud:index/serviceAccount:ServiceAccount", {"maxCfu": 7, "roleName": "X"}) == []


@pytest.mark.parametrize(
    ("role", "crn"),
    [
        ("DeveloperRead", f"{KAFKA}/topic=*"),
        ("DeveloperWrite", f"{KAFKA}/transactional-id=*"),
        ("DeveloperRead", f"{KAFKA}/group=*"),
        ("DeveloperWrite", f"{REGISTRY}/subject=*"),
        ("ResourceOwner", f"{REGISTRY}/subject=*"),
    ],
)
def test_a_bare_wildcard_grants_the_whole_kind_and_is_refused(role: str, crn: str) -> None:
    assert check_resource(ROLE_BINDING, binding(role, crn)) == [
        f"{role} on every resource of a kind ({crn}): name a resource or a prefix"
    ]


def test_a_prefix_wildcard_stays_allowed() -> None:
    assert check_resource(ROLE_BINDING, binding("DeveloperRead", f"{KAFKA}/group=loan-consumer-*")) == []
