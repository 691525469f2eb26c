"""The routing statement waits for everything it reads, writes and runs with (a first `pulumi up`
would otherwise submit it before its tables or grants exist)."""

from __future__ import annotations

import pytest

from cdcctl.plan import Plan
from tests.helpers import of_type, one, principal_ids, routing


@pytest.mark.parametrize("stack", ["dev", "prod-east"])
def test_statement_waits_for_topics_grants_and_connector(plans: dict[str, Plan], stack: str) -> None:
    p = plans[stack]
    statement = routing(p)
    waits_for = set(statement.dependencies)
    assert {t.urn for t in of_type(p, "KafkaTopic")} <= waits_for
    flink = principal_ids(plans["dev" if stack == "dev" else "prod"])["flink-statements"]
    grants = {r.urn for r in of_type(p, "RoleBinding") if r.inputs["principal"] == flink}
    assert grants and grants <= waits_for
    assert one(p, "Connector").urn in waits_for
    assert one(p, "FlinkComputePool").urn in waits_for
    if stack == "dev":  # one stack: the routed topics' schemas Flink infers the sink tables from
        assert {s.urn for s in of_type(p, "Schema")} <= waits_for
