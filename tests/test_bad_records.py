"""Poison records: the raw table's error handling (an ALTER TABLE statement per region, named by a hash of
its SQL), the dead-letter topic it writes, and the statement principal's grants on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdcctl.plan import Plan, PlannedResource, plan
from tests.helpers import REPO, edit_stack, of_type, one, routing

REGION_STACKS = ("dev", "prod-east", "prod-west")
DLQ = "raw-business-events-dlq"


def table_settings(p: Plan) -> PlannedResource:
    return one(p, "FlinkStatement", lambda r: "-table-" in r.inputs["statementName"])


@pytest.mark.parametrize("stack", REGION_STACKS)
def test_the_raw_table_logs_what_it_cannot_deserialize_to_the_regions_dead_letter_topic(
    plans: dict[str, Plan], stack: str
) -> None:
    p = plans[stack]
    settings = table_settings(p)
    assert settings.inputs["statement"] == (
        f"ALTER TABLE `raw-business-events` SET ('error-handling.mode' = 'log', 'error-handling.log.target' = '{DLQ}')"
    )
    assert settings.inputs["statementName"].startswith(f"{stack}-table-")
    statement = routing(p)
    # Same catalog, database, pool, principal, endpoint and key as the statement set, which starts after it.
    for key in ("properties", "computePool", "principal", "restEndpoint", "credentials"):
        assert settings.inputs[key] == statement.inputs[key], key
    assert settings.urn in statement.dependencies
    assert settings.inputs["stopped"] is False
    # It completes, and a key rotation re-submits it under a new name: never protected (prod protects
    # the running statement set only), or that `up` could not delete the old one.
    assert not settings.protect and statement.protect == (stack != "dev")
    # The dead-letter topic is declared on the region's cluster, like every topic the statements write.
    (topic,) = [t for t in of_type(p, "KafkaTopic") if t.inputs["topicName"] == DLQ]
    raw = one(p, "KafkaTopic", lambda t: t.inputs["topicName"] == "raw-business-events")
    assert topic.inputs["partitionsCount"] == 1
    assert topic.inputs["config"]["retention.ms"] == raw.inputs["config"]["retention.ms"]
    assert p.outputs["monitoring"]["deadLetterTopic"] == DLQ


@pytest.mark.plans
def test_the_next_up_keeps_the_settings_statement_as_it_is(plans: dict[str, Plan]) -> None:
    first = plans["dev"]
    second = plan("dev", REPO, previous=first.raw_outputs)
    assert table_settings(second).as_json() == table_settings(first).as_json()


@pytest.mark.plans
def test_a_new_deployer_key_resubmits_the_settings_with_it(project: Path, plans: dict[str, Plan]) -> None:
    """Credentials may not change in place (REFERENCE.md "Flink"): like the statement set, the settings
    statement's name hashes its key generation, so a rotation submits it again (an idempotent SET)."""
    edit_stack(project, "dev", {"flink.deployerKeyGeneration": 2})
    rotated = plan("dev", project, previous=plans["dev"].raw_outputs)
    names = {r.inputs["statementName"] for r in of_type(rotated, "FlinkStatement") if "-table-" in r.name}
    assert len(names) == 1 and table_settings(plans["dev"]).inputs["statementName"] not in names
