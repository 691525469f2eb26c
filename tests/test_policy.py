"""The policy pack's rules hold on every stack's plan, and catch what they are meant to catch."""

from __future__ import annotations

import pytest

from cdcctl.plan import Plan
from policy.rules import COMPUTE_POOL, KAFKA_CLUSTER, KAFKA_TOPIC, ROLE_BINDING, check_resource, check_stack
from tests.helpers import STACKS

CRN = "crn://confluent.cloud/organization=o/environment=env-1"
CLUSTER_CRN = f"{CRN}/cloud-cluster=lkc-1"


@pytest.mark.parametrize("stack", STACKS)
def test_plan_passes_policy(plans: dict[str, Plan], stack: str) -> None:
    resources = [(r.type, r.inputs) for r in plans[stack].resources]
    violations = [v for t, props in resources for v in check_resource(t, props)]
    assert violations + check_stack(resources) == []


@pytest.mark.parametrize(
    "role, crn",
    [
        ("EnvironmentAdmin", CRN),
        ("CloudClusterAdmin", f"{CLUSTER_CRN}/kafka=lkc-1/topic=x"),
        ("DeveloperRead", CLUSTER_CRN),
        ("DeveloperManage", f"{CLUSTER_CRN}/kafka=lkc-1/topic=x"),
        ("FlinkDeveloper", CLUSTER_CRN),
        ("Assigner", CRN),
    ],
)
def test_role_binding_above_its_scope_is_a_violation(role: str, crn: str) -> None:
    assert check_resource(ROLE_BINDING, {"principal": "User:sa-1", "roleName": role, "crnPattern": crn})


def test_principal_with_deployer_and_workload_roles_is_a_violation() -> None:
    bindings = [
        (ROLE_BINDING, {"principal": "User:sa-1", "roleName": "CloudClusterAdmin", "crnPattern": CLUSTER_CRN}),
        (
            ROLE_BINDING,
            {"principal": "User:sa-1", "roleName": "DeveloperRead", "crnPattern": f"{CLUSTER_CRN}/kafka=lkc-1/topic=t"},
        ),
    ]
    assert check_stack(bindings)
    assert not check_stack(bindings[:1])


@pytest.mark.parametrize(
    "resource_type, props",
    [
        (KAFKA_CLUSTER, {"availability": "MULTI_ZONE", "dedicated": {"cku": 1}}),
        (KAFKA_TOPIC, {"topicName": "t", "partitionsCount": 3, "config": {"cleanup.policy": "delete"}}),
        (
            KAFKA_TOPIC,
            {"topicName": "t", "partitionsCount": 0, "config": {"cleanup.policy": "delete", "retention.ms": "1"}},
        ),
        (COMPUTE_POOL, {"maxCfu": 7}),
    ],
)
def test_sizing_rules(resource_type: str, props: dict[str, object]) -> None:
    assert check_resource(resource_type, props)
