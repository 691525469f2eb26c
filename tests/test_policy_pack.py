"""The policy pack driven through the policy SDK's own analyzer, with requests shaped as the Pulumi
engine sends them (unknown values as the engine's sentinels during a preview, protect in the options)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi_policy.policy import EnforcementLevel, _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from cdcctl.plan import Plan
from policy.pack import NAME, POLICIES
from policy.rules import CONNECTOR, KAFKA_CLUSTER, PROTECTED_IN_PROD, ROLE_BINDING, SECURITY_GROUP
from tests.helpers import REPO, STACKS

PACK_FILE = REPO / "policy" / "PulumiPolicy.yaml"
KAFKA = "crn://confluent.cloud/organization=o/environment=env-1/cloud-cluster=lkc-1/kafka=lkc-1"


def analyzer() -> _PolicyAnalyzerServicer:
    version = yaml.safe_load(PACK_FILE.read_text())["version"]
    return _PolicyAnalyzerServicer(NAME, version, POLICIES, EnforcementLevel.MANDATORY)


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(props, struct_pb2.Struct())


def analyze(kind: str, props: dict[str, Any], protect: bool = False) -> proto.AnalyzeResponse:
    request = proto.AnalyzeRequest(
        type=kind,
        properties=_struct(props),
        urn=f"urn:pulumi:prod-east::cdc-platform::{kind}::r",
        name="r",
        options=proto.AnalyzerResourceOptions(protect=protect),
    )
    return analyzer().Analyze(request, None)


def analyze_stack(resources: list[tuple[str, dict[str, Any], bool]]) -> proto.AnalyzeResponse:
    request = proto.AnalyzeStackRequest(
        resources=[
            proto.AnalyzerResource(
                type=kind,
                properties=_struct(props),
                urn=f"urn:pulumi:prod-east::cdc-platform::{kind}::r{i}",
                name=f"r{i}",
                options=proto.AnalyzerResourceOptions(protect=protect),
            )
            for i, (kind, props, protect) in enumerate(resources)
        ]
    )
    return analyzer().AnalyzeStack(request, None)


def violations(response: proto.AnalyzeResponse) -> list[str]:
    """Mandatory violations, without the policy description the SDK puts on the first line."""
    return [d.message.split("\n", 1)[-1] for d in response.diagnostics if d.enforcementLevel == proto.MANDATORY]


def skipped(response: proto.AnalyzeResponse) -> list[str]:
    return [d.message for d in response.diagnostics if "during preview" in d.message]


def test_the_pack_has_a_semantic_version() -> None:
    version = str(yaml.safe_load(PACK_FILE.read_text())["version"])
    assert [part.isdigit() for part in version.split(".")] == [True, True, True]


def test_a_forbidden_role_is_refused_even_while_its_crn_is_unknown() -> None:
    response = analyze(
        ROLE_BINDING, {"principal": "User:sa-1", "roleName": "OrganizationAdmin", "crnPattern": UNKNOWN_STRING_VALUE}
    )
    assert violations(response) == [
        "role OrganizationAdmin is not allowed: workloads get Developer* on topics/groups/subjects only"
    ]


def test_an_allowed_role_with_an_unknown_crn_is_checked_once_known() -> None:
    preview = analyze(
        ROLE_BINDING, {"principal": "User:sa-1", "roleName": "DeveloperRead", "crnPattern": UNKNOWN_STRING_VALUE}
    )
    assert violations(preview) == [] and len(skipped(preview)) == 1
    known = analyze(ROLE_BINDING, {"principal": "User:sa-1", "roleName": "DeveloperRead", "crnPattern": KAFKA})
    assert violations(known) and not skipped(known)


@pytest.mark.parametrize("kind", ["topic", "group", "transactional-id"])
def test_bare_wildcards_are_refused(kind: str) -> None:
    crn = f"{KAFKA}/{kind}=*"
    response = analyze(ROLE_BINDING, {"principal": "User:sa-1", "roleName": "DeveloperRead", "crnPattern": crn})
    assert violations(response) == [f"DeveloperRead on every resource of a kind ({crn}): name a resource or a prefix"]


def test_a_protected_cluster_without_a_private_network_is_refused() -> None:
    public = {"availability": "MULTI_ZONE", "dedicated": {"cku": 2}}
    assert violations(analyze(KAFKA_CLUSTER, public, protect=False)) == []
    assert violations(analyze(KAFKA_CLUSTER, public, protect=True)) == [
        "a protected (prod) cluster must sit on a private network, not public endpoints"
    ]
    private = {**public, "network": {"id": "n-1"}}
    assert violations(analyze(KAFKA_CLUSTER, private, protect=True)) == []


@pytest.mark.parametrize("key", ["database.password", "kafka.api.secret", "sasl.jaas.config", "database.sslkey"])
def test_credentials_in_the_connectors_nonsensitive_config_are_refused(key: str) -> None:
    props = {"configNonsensitive": {"connector.class": "PostgresCdcSourceV2", key: "x"}}
    assert violations(analyze(CONNECTOR, props)) == [
        f"connector config {key} is a credential: put it in config_sensitive, not configNonsensitive"
    ]


def test_ordinary_connector_settings_pass() -> None:
    props = {"configNonsensitive": {"database.user": "cdc", "database.sslmode": "verify-full", "slot.name": "s"}}
    assert violations(analyze(CONNECTOR, props)) == []


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0"])
def test_ingress_open_to_everyone_is_refused(cidr: str) -> None:
    field = "ipv6CidrBlocks" if ":" in cidr else "cidrBlocks"
    props = {"ingress": [{"protocol": "tcp", "fromPort": 5432, "toPort": 5432, field: ["10.0.0.0/16", cidr]}]}
    assert violations(analyze(SECURITY_GROUP, props)) == [f"ingress open to {cidr}: admit the clients' networks only"]


def test_open_egress_and_named_ingress_pass() -> None:
    props = {
        "ingress": [{"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["10.10.0.0/16"]}],
        "egress": [{"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["0.0.0.0/0"]}],
    }
    assert violations(analyze(SECURITY_GROUP, props)) == []


def test_a_standalone_ingress_rule_open_to_everyone_is_refused() -> None:
    props = {"securityGroupId": "sg-1", "cidrIpv4": "0.0.0.0/0", "fromPort": 443, "toPort": 443, "ipProtocol": "tcp"}
    assert violations(analyze("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", props))


@pytest.mark.parametrize("kind", PROTECTED_IN_PROD)
def test_in_a_protected_stack_everything_a_deletion_would_lose_is_protected(kind: str) -> None:
    anchor = ("confluentcloud:index/environment:Environment", {"displayName": "cdc-prod"}, True)
    response = analyze_stack([anchor, (kind, {}, False)])
    assert violations(response) == [f"{kind.rsplit(':', 1)[-1]} r1 is not protected in a protected (prod) stack"]


def test_an_unprotected_stack_and_a_stopped_statement_generation_need_no_protection() -> None:
    statement = "confluentcloud:index/flinkStatement:FlinkStatement"
    assert violations(analyze_stack([(kind, {}, False) for kind in PROTECTED_IN_PROD])) == []
    anchor = ("confluentcloud:index/environment:Environment", {}, True)
    assert violations(analyze_stack([anchor, (statement, {"stopped": True}, False)])) == []
    # Statements that complete (the raw table's settings, a backfill): a later `up` deletes or re-submits them.
    for name in ("prod-east-table-0123456789", "prod-east-backfill-0123456789"):
        assert violations(analyze_stack([anchor, (statement, {"statementName": name}, False)])) == []
    running = (statement, {"statementName": "prod-east-routes-0123456789"}, False)
    assert violations(analyze_stack([anchor, running])) == [
        "FlinkStatement r1 is not protected in a protected (prod) stack"
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_every_stacks_plan_passes_the_pack(plans: dict[str, Plan], stack: str) -> None:
    resources = [(r.type, r.inputs, r.protect) for r in plans[stack].resources]
    assert violations(analyze_stack(resources)) == []
    for kind, props, protect in resources:
        assert violations(analyze(kind, props, protect)) == [], kind


def test_the_pack_file_names_the_program_virtualenv() -> None:
    pack = yaml.safe_load(PACK_FILE.read_text())
    assert (REPO / "policy" / pack["runtime"]["options"]["virtualenv"]).resolve() == (REPO / ".venv").resolve()
    assert Path(REPO / "policy" / "__main__.py").is_file()


# --- one writer per topic, one consumer's keys per output (issue 24) ------------------------------------

RAW = "raw-business-events"
CONNECTOR_CONFIG = {
    "kafka.service.account.id": "sa-cdc",
    "transforms.routeToRawTopic.replacement": RAW,
}
STATEMENT = {
    "principal": {"id": "sa-flink"},
    "stopped": False,
    "statement": "EXECUTE STATEMENT SET\nBEGIN\n  INSERT INTO `filtered-a` (`id`)"
    " SELECT `id` FROM `raw-business-events`;\nEND;",
}


def writes(principal: str, topic: str) -> tuple[str, dict[str, Any], bool]:
    return (
        ROLE_BINDING,
        {"principal": principal, "roleName": "DeveloperWrite", "crnPattern": f"{KAFKA}/topic={topic}"},
        False,
    )


def pipeline(*extra: tuple[str, dict[str, Any], bool]) -> list[tuple[str, dict[str, Any], bool]]:
    return [
        (CONNECTOR, {"configNonsensitive": CONNECTOR_CONFIG}, False),
        ("confluentcloud:index/flinkStatement:FlinkStatement", STATEMENT, False),
        writes("User:sa-cdc", RAW),
        writes("User:sa-flink", "filtered-a"),
        *extra,
    ]


def test_the_connector_and_the_statement_principal_are_the_only_writers() -> None:
    assert violations(analyze_stack(pipeline())) == []


def test_a_second_writer_on_the_raw_topic_is_refused() -> None:
    assert violations(analyze_stack(pipeline(writes("User:sa-ingestion-api", RAW)))) == [
        f"topic {RAW} may be written by the CDC connector only, not User:sa-ingestion-api"
    ]


def test_a_routed_topic_written_by_anyone_but_the_statement_principal_is_refused() -> None:
    assert violations(analyze_stack(pipeline(writes("User:sa-team", "filtered-a")))) == [
        "topic filtered-a may be written by the Flink statement principal only, not User:sa-team"
    ]


def test_any_other_topic_has_one_writer() -> None:
    found = violations(analyze_stack(pipeline(writes("User:sa-1", "team-a"), writes("User:sa-2", "team-a"))))
    assert found == ["topic team-a has 2 writers (User:sa-1, User:sa-2): one only"]


def test_a_stack_output_with_several_consumers_keys_is_refused() -> None:
    keys = {"kafkaApiKey": "K", "kafkaApiSecret": "S", "schemaRegistryApiKey": "R", "schemaRegistryApiSecret": "T"}
    outputs = {"consumerCredentials": {"loan-consumer": keys, "car-consumer": keys}, "one": {"loan-consumer": keys}}
    assert violations(analyze_stack([("pulumi:pulumi:Stack", outputs, False)])) == [
        "output consumerCredentials holds the credentials of 2 principals: deliver each consumer's keys on its own"
    ]
