"""Prod's database side: the connector verifies the server, the proxy's role trusts only its own
account's RDS proxies in the stack's region."""

from __future__ import annotations

import json

import pytest

from cdcctl.plan import Plan
from tests.helpers import one


@pytest.mark.parametrize(("stack", "region"), [("prod-east", "us-east-1"), ("prod-west", "us-west-2")])
def test_proxy_role_is_assumable_only_by_this_accounts_proxies_in_its_region(
    plans: dict[str, Plan], stack: str, region: str
) -> None:
    role = one(plans[stack], "Role", lambda r: r.name.endswith("-proxy-role"))
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "rds.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "111122223333"}
    assert statement["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:rds:{region}:111122223333:db-proxy:*"}


@pytest.mark.parametrize("stack", ["prod-east", "prod-west"])
def test_prod_connector_verifies_the_database_fully(plans: dict[str, Plan], stack: str) -> None:
    connector = one(plans[stack], "Connector")
    assert connector.inputs["configNonsensitive"]["database.sslmode"] == "verify-full"
    assert connector.inputs["configSensitive"] == "[secret]"
