"""Apply-time rules the mock runtime cannot enforce by itself, asserted on the plans: what a real
`pulumi up` needs (connector unwrapping off, prod protection, re-creatable non-prod names, key order)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from cdcctl.plan import Plan, PlannedResource, plan
from core import naming
from core.naming import aws_name
from tests.helpers import edit_stack, of_type, one, principal_ids
from tests.test_statement_generations import NEW_ROUTE, add_route, statements

# What a deletion in prod would break or lose (besides environment, clusters, topics and schemas).
PROTECTED_IN_PROD = {
    "prod": ("ServiceAccount",),
    "prod-east": (
        "Connector",
        "FlinkComputePool",
        "FlinkStatement",
        "Network",
        "PrivateLinkAccess",
        "VpcEndpoint",
        "Zone",
        "Record",
        "Secret",
        "Proxy",
    ),
}
RDS_NAME = re.compile(r"[a-z](-?[a-z0-9])*")


@pytest.mark.parametrize("stack", ["dev", "prod-east", "prod-west"])
def test_connector_leaves_unwrapping_to_our_transform(plans: dict[str, Plan], stack: str) -> None:
    """after.state.only=true would unwrap inside the connector: no __op/__table/__ts_ms, no route matches."""
    config = one(plans[stack], "Connector").inputs["configNonsensitive"]
    assert config["after.state.only"] == "false"
    assert config["transforms.extractNewState.add.fields"] == "op,table,ts_ms"


@pytest.mark.parametrize(("stack", "kinds"), PROTECTED_IN_PROD.items())
def test_prod_protects_what_a_deletion_would_break(plans: dict[str, Plan], stack: str, kinds: tuple[str, ...]) -> None:
    for kind in kinds:
        found = [r for r in of_type(plans[stack], kind) if not completes(r)]
        assert found, kind
        assert all(r.protect for r in found), [r.name for r in found if not r.protect]


def completes(resource: PlannedResource) -> bool:
    """A statement that completes (a table setting, a backfill) is deleted by Confluent after 30 days
    and by the next `up`: it is never protected."""
    name = str(resource.inputs.get("statementName", ""))
    return resource.type.endswith("FlinkStatement") and naming.statement_kind(name) in naming.COMPLETING_STATEMENTS


def test_prod_never_protects_a_statement_that_completes(plans: dict[str, Plan]) -> None:
    completing = [r for r in of_type(plans["prod-east"], "FlinkStatement") if completes(r)]
    assert completing and not any(r.protect for r in completing)


def test_role_bindings_stay_unprotected_so_routes_can_be_removed(plans: dict[str, Plan]) -> None:
    assert not [r.name for r in of_type(plans["prod-east"], "RoleBinding") if r.protect]


@pytest.mark.plans
def test_a_stopped_statement_generation_is_unprotected_so_the_next_run_can_drop_it(
    project: Path, plans: dict[str, Plan]
) -> None:
    add_route(project, NEW_ROUTE)
    second = statements(plan("prod-east", project, previous=plans["prod-east"].raw_outputs))
    assert {name: r.protect for name, r in second.items()} == {
        name: not r.inputs["stopped"] for name, r in second.items()
    }
    assert sorted(r.inputs["stopped"] for r in second.values()) == [False, True]


@pytest.fixture
def unprotected_copy(project: Path) -> Path:
    """prod-east's shape (proxy, PrivateLink) as an unprotected stack with an awkward name."""
    shutil.copy(project / "Pulumi.prod-east.yaml", project / "Pulumi.Team_B.Try--1.yaml")
    edit_stack(project, "Team_B.Try--1", {"protect": False, "link": None})  # a copy has no peer region stack
    return project


@pytest.mark.plans
def test_unprotected_stack_can_be_recreated_at_once_and_names_follow_aws_rules(unprotected_copy: Path) -> None:
    p = plan("Team_B.Try--1", unprotected_copy)
    assert not [r.name for r in p.resources if r.protect]
    # Every secret: the proxy's login and each consumer's keys.
    assert {s.inputs["recoveryWindowInDays"] for s in of_type(p, "Secret")} == {0}
    for kind in ("Proxy", "ClusterParameterGroup"):
        name = one(p, kind).inputs["name"]
        assert RDS_NAME.fullmatch(name) and len(name) <= 63, name
    assert one(p, "Proxy").inputs["name"] == "team-b-try-1-us-east-1-apps"


def test_protected_secret_keeps_the_recovery_window(plans: dict[str, Plan]) -> None:
    secrets = of_type(plans["prod-east"], "Secret")
    assert len(secrets) > 1 and not [s for s in secrets if "recoveryWindowInDays" in s.inputs]  # AWS default: 30 days


@pytest.mark.parametrize(
    "parts", [("dev", "us-east-1"), ("PR_12.x", "us-west-2"), ("9-lives", "cdc"), ("a" * 90, "apps"), ("--", "-")]
)
def test_aws_names_are_valid_for_any_stack_name(parts: tuple[str, ...]) -> None:
    name = aws_name(*parts)
    assert RDS_NAME.fullmatch(name) and len(name) <= 63, name


def test_flink_deployer_key_waits_for_its_grants_in_one_stack(plans: dict[str, Plan]) -> None:
    dev = plans["dev"]
    deployer = principal_ids(dev)["flink-deployer"]
    grants = {r.urn for r in of_type(dev, "RoleBinding") if r.inputs["principal"] == deployer}
    assert {r.inputs["roleName"] for r in of_type(dev, "RoleBinding") if r.urn in grants} == {
        "FlinkDeveloper",
        "Assigner",
    }
    key = one(dev, "ApiKey", lambda r: r.inputs.get("managedResource", {}).get("kind") == "Region")
    assert grants <= set(key.dependencies)
