"""Private prod as a real `pulumi up` needs it: every private hop of prod-east/prod-west is planned (the
statement on the private Flink endpoint, the connector's egress path to Aurora, the registry's private
endpoint, the proxy-to-cluster rule), dev stays public, and the first-deploy gate holds a statement
back until its raw table can be inferred."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdcctl import mocks
from cdcctl.plan import Plan, plan
from core.config_node import ConfigError
from tests.helpers import edit_stack, load_function, of_type, one, routing

handler = load_function("writer_follower")

PROD_REGIONS = [("prod-east", "us-east-1"), ("prod-west", "us-west-2")]


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def connector_config(p: Plan) -> dict[str, Any]:
    return dict(one(p, "Connector").inputs["configNonsensitive"])


@pytest.mark.parametrize("stack, region", PROD_REGIONS)
def test_nothing_in_a_prod_region_uses_a_public_flink_or_registry_endpoint(
    plans: dict[str, Plan], stack: str, region: str
) -> None:
    p = plans[stack]
    public_flink = mocks.LOOKUPS["getFlinkRegion"]({"region": region})["restEndpoint"]
    public_registry = mocks.LOOKUPS["getSchemaRegistryCluster"]({"environment": {"id": "x"}})["restEndpoint"]
    public_registry_host = public_registry.split("//")[1].split(".")[0]  # psrc-...: the public host
    values = [v for r in p.resources for v in strings(r.inputs)] + list(strings(p.outputs))
    assert not [v for v in values if v.startswith(public_flink)]
    assert not [v for v in values if "psrc-" in v or public_registry_host in v]
    suffix = one(p, "Network").outputs["endpointSuffix"]  # under the network's zone and its `*` record
    registry_key = one(p, "ApiKey", lambda r: "raw-schema-check" in r.inputs["displayName"])
    registry_id = registry_key.inputs["managedResource"]["id"]
    assert p.outputs["schemaRegistryEndpoint"] == f"https://{registry_id}{suffix}"
    statement = routing(p)
    assert statement.inputs["restEndpoint"] == "https://flink" + suffix


def test_dev_stays_public_and_cheap(plans: dict[str, Plan]) -> None:
    dev = plans["dev"]
    for kind in ("Network", "AccessPoint", "DnsRecord", "LoadBalancer", "VpcEndpointService", "ClusterLink"):
        assert not of_type(dev, kind), kind
    assert not [r for r in of_type(dev, "Function") if "egress" in r.name]  # no writer follower
    assert dev.outputs["schemaRegistryEndpoint"].startswith("https://psrc-")


@pytest.mark.parametrize("stack, region", PROD_REGIONS)
def test_the_connector_reaches_aurora_through_egress_privatelink(
    plans: dict[str, Plan], stack: str, region: str
) -> None:
    p = plans[stack]
    writer = p.outputs["databaseWriterEndpoint"]
    record = one(p, "DnsRecord")
    # The name the connector dials is the name Confluent's DNS resolves to the access point, and the
    # name on the writer's certificate (verify-full).
    assert connector_config(p)["database.hostname"] == record.inputs["domain"] == writer
    gateway = one(p, "Network").outputs["gateways"][0]["id"]
    access_point = one(p, "AccessPoint")
    assert access_point.inputs["gateway"]["id"] == record.inputs["gateway"]["id"] == gateway
    assert record.inputs["privateLinkAccessPoint"]["id"] == access_point.id
    service = one(p, "VpcEndpointService")
    endpoint = access_point.inputs["awsEgressPrivateLinkEndpoint"]
    assert endpoint["vpcEndpointServiceName"] == service.outputs["serviceName"]
    # A protected stack names Confluent's principal in its settings (no gateway lookup to depend on).
    configured = yaml.safe_load(Path(f"Pulumi.{stack}.yaml").read_text())["config"]["cdc-platform:network"]
    assert service.inputs["allowedPrincipals"] == [configured["egressPrincipalArn"]]
    nlb = one(p, "LoadBalancer")
    assert service.inputs["networkLoadBalancerArns"] == [nlb.outputs["arn"]]
    # The writer is in one zone (and moves): every zone forwards to it, and the endpoint spans zones.
    assert nlb.inputs["enableCrossZoneLoadBalancing"] is True and endpoint["enableHighAvailability"] is True
    assert nlb.inputs["internal"] is True and nlb.inputs["loadBalancerType"] == "network"
    assert nlb.inputs["enforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "off"
    zones = yaml.safe_load(Path(f"Pulumi.{stack}.yaml").read_text())["config"]["cdc-platform:network"]["zones"]
    assert nlb.inputs["subnets"] == [z["subnetId"] for z in zones]
    group = one(p, "TargetGroup")
    assert (group.inputs["targetType"], group.inputs["protocol"], group.inputs["port"]) == ("ip", "TCP", 5432)
    assert all(len(r.inputs["name"]) <= 32 for r in (nlb, group))
    # The connector starts only once the path exists and the writer is registered as the target.
    connector = one(p, "Connector")
    first_target = one(p, "Invocation")
    assert {access_point.urn, record.urn, first_target.urn} <= set(connector.dependencies)


@pytest.mark.plans
def test_without_a_gateway_principal_the_egress_asks_for_the_setting(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        mocks.LOOKUPS, "getGateway", lambda args: {"id": args["id"], "awsEgressPrivateLinkGateways": []}
    )
    for stack in ("prod-east", "prod-west"):  # prod-east's plan reads its link peer's
        path = project / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(path.read_text())
        del document["config"]["cdc-platform:network"]["egressPrincipalArn"]
        path.write_text(yaml.safe_dump(document))
    # A protected stack: refused by the settings, before anything is registered.
    with pytest.raises(ConfigError) as error:
        plan("prod-east", project)
    assert (error.value.file, error.value.path) == ("Pulumi.prod-east.yaml", "cdc-platform:network.egressPrincipalArn")
    assert "before its first `pulumi up`" in str(error.value)
    # Unprotected: the gateway is asked, and an empty answer asks for the setting.
    for stack in ("prod-east", "prod-west"):
        path = project / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(path.read_text())
        document["config"]["cdc-platform:protect"] = False
        path.write_text(yaml.safe_dump(document))
    with pytest.raises(Exception, match=r"network\.egressPrincipalArn: is required"):
        plan("prod-east", project)
    arn = "arn:aws:iam::123456789012:role/confluent-egress"
    for stack in ("prod-east", "prod-west"):  # prod-east's plan reads its link peer's
        edit_stack(project, stack, {"network.egressPrincipalArn": arn})
    assert one(plan("prod-east", project), "VpcEndpointService").inputs["allowedPrincipals"] == [arn]


@pytest.mark.parametrize("stack", ["prod-east", "prod-west"])
def test_the_writer_follower_listens_to_the_clusters_rds_events_and_a_schedule(
    plans: dict[str, Plan], stack: str
) -> None:
    p = plans[stack]
    function = one(p, "Function")
    variables = function.inputs["environment"]["variables"]
    cluster = yaml.safe_load(Path(f"Pulumi.{stack}.yaml").read_text())["config"]["cdc-platform:aurora"]
    assert variables["CLUSTER_ARN"].endswith(f":cluster:{cluster['clusterIdentifier']}")
    assert variables["WRITER_ENDPOINT"] == p.outputs["databaseWriterEndpoint"]
    assert variables["TARGET_GROUP_ARN"] == one(p, "TargetGroup").outputs["arn"]
    rules = {r.name: r for r in of_type(p, "EventRule")}
    (failover,) = [r for r in rules.values() if "eventPattern" in r.inputs]
    pattern = json.loads(failover.inputs["eventPattern"])
    # On the cluster's ARN, never on detail.SourceIdentifier (documented with and without `rds:`).
    assert pattern == {
        "source": ["aws.rds"],
        "detail-type": ["RDS DB Cluster Event"],
        "resources": [variables["CLUSTER_ARN"]],
    }
    assert function.inputs["timeout"] == handler.TIMEOUT_S
    # The first run waits for the writer's health: after the listener and the cluster's ingress rule from
    # the NLB, and the connector after it.
    first = one(p, "Invocation")
    rule = one(p, "SecurityGroupIngressRule", lambda r: r.name.endswith("-cluster-from-nlb"))
    assert rule.urn in first.dependencies and one(p, "Listener").urn in first.dependencies
    connector = one(p, "Connector")
    assert rule.urn in connector.dependencies and first.urn in connector.dependencies
    health = one(p, "TargetGroup").inputs["healthCheck"]
    # Healthy within the function's timeout: registration + 2 checks 10 s apart fit in TIMEOUT_S - MARGIN_S.
    assert (
        health["interval"] * health["healthyThreshold"] + handler.HEALTH_POLL_S < handler.TIMEOUT_S - handler.MARGIN_S
    )
    assert any(r.inputs.get("scheduleExpression", "").startswith("rate(") for r in rules.values())
    targets = of_type(p, "EventTarget")
    assert {t.inputs["rule"] for t in targets} == {r.outputs["name"] for r in rules.values()}
    policy = json.loads(one(p, "RolePolicy", lambda r: "follower" in r.name).inputs["policy"])
    scoped = [s for s in policy["Statement"] if "elasticloadbalancing:RegisterTargets" in s["Action"]]
    assert [s["Resource"] for s in scoped] == [variables["TARGET_GROUP_ARN"]]


@pytest.mark.parametrize("stack", ["prod-east", "prod-west"])
def test_the_cluster_admits_the_proxy_and_the_nlb_and_no_prod_group_is_open(plans: dict[str, Plan], stack: str) -> None:
    p = plans[stack]
    groups = {r.name: r for r in of_type(p, "SecurityGroup")}
    rules = of_type(p, "SecurityGroupIngressRule")
    cluster_groups = {r.inputs["securityGroupId"] for r in rules}
    assert len(cluster_groups) == 1  # the cluster's group
    admitted = {r.inputs["referencedSecurityGroupId"] for r in rules}
    proxy, nlb = (
        groups[next(n for n in groups if n.endswith("proxy-sg"))],
        groups[next(n for n in groups if n.endswith("nlb-sg"))],
    )
    assert admitted == {proxy.id, nlb.id}
    assert all((r.inputs["fromPort"], r.inputs["toPort"]) == (5432, 5432) for r in rules)
    for group in (proxy, nlb):
        assert [e["securityGroups"] for e in group.inputs["egress"]] == [sorted(cluster_groups)]
    for group in groups.values():
        cidrs = [
            c
            for rule in group.inputs.get("ingress", []) + group.inputs.get("egress", [])
            for c in rule.get("cidrBlocks", [])
        ]
        assert "0.0.0.0/0" not in cidrs, group.name


# --- the first-deploy gate -----------------------------------------------------------------------------


@pytest.fixture
def no_raw_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry as on a first deployment: the connector has produced nothing yet."""
    monkeypatch.setitem(mocks.LOOKUPS, "getSchemas", lambda args: {"schemas": []})


def gate_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "not deployed" in r.getMessage()]


@pytest.mark.plans
@pytest.mark.parametrize("stack", ["prod-east", "dev"])
def test_without_the_raw_schema_a_first_statement_waits_with_a_warning(
    project: Path, no_raw_schema: None, caplog: pytest.LogCaptureFixture, stack: str
) -> None:
    with caplog.at_level(logging.WARNING):
        p = plan(stack, project)
    assert not of_type(p, "FlinkStatement")
    assert p.outputs.get("routingStatement") is None
    (warning,) = gate_warnings(caplog)
    assert "raw-business-events-value has no schema yet" in warning and "`pulumi up` again" in warning


@pytest.mark.plans
@pytest.mark.parametrize("stack", ["prod-east", "dev"])
def test_with_the_raw_schema_the_statement_is_planned(
    project: Path, caplog: pytest.LogCaptureFixture, stack: str
) -> None:
    with caplog.at_level(logging.WARNING):
        p = plan(stack, project)
    statement = routing(p)
    assert not gate_warnings(caplog)
    check = one(p, "ApiKey", lambda r: "raw-schema-check" in r.inputs["displayName"])
    assert check.inputs["owner"]["id"] == statement.inputs["principal"]["id"]


@pytest.mark.plans
def test_a_running_statement_is_never_taken_down_by_the_gate(
    project: Path, plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = plans["prod-east"]
    monkeypatch.setitem(mocks.LOOKUPS, "getSchemas", lambda args: {"schemas": []})
    second = plan("prod-east", project, previous=first.raw_outputs)
    assert [r.as_json() for r in of_type(second, "FlinkStatement")] == [
        r.as_json() for r in of_type(first, "FlinkStatement")
    ]


@pytest.mark.plans
def test_without_cdc_nothing_writes_the_raw_topic_and_no_statement_is_deployed(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    edit_stack(project, "dev", {"cdc.enabled": False})
    with caplog.at_level(logging.WARNING):
        p = plan("dev", project)
    assert not of_type(p, "FlinkStatement") and not of_type(p, "Connector")
    (warning,) = gate_warnings(caplog)
    assert "cdc.enabled is false" in warning


@pytest.mark.plans
def test_a_network_whose_endpoint_suffix_is_not_the_dot_form_is_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`flink` + a dash-form suffix (`-n-abc.us-east-1...`) is not one label under the private zone: its `*`
    record would not answer it, so private Flink and registry names would not resolve."""

    def dash_form(resource_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        answer = original(resource_id, inputs)
        return {**answer, "endpointSuffix": "-" + answer["endpointSuffix"][1:]}

    original = mocks.RESOURCE_TYPES["Network"].outputs
    monkeypatch.setitem(mocks.RESOURCE_TYPES, "Network", mocks.MockType("n", dash_form))
    with pytest.raises(ConfigError) as error:
        plan("prod-east", project)
    assert (error.value.file, error.value.path) == ("Pulumi.prod-east.yaml", "cdc-platform:network.type")
    assert "is not `.n-" in str(error.value)
