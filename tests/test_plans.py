"""The offline plan of every stack registers what the architecture says, wired right."""

from __future__ import annotations

import json
import re

import pytest

from cdcctl.__main__ import main
from cdcctl.plan import Plan
from core.raw_record import RAW_COLUMN_NAMES
from flink_sql.routes import load_routes
from tests.helpers import RAW_KEY_SCHEMA, REPO, STACKS, bindings_of, dumped, of_type, one, principal_ids, routing

ROUTES = load_routes(REPO / "flink_sql/routes.yaml")
ROUTED_TOPICS = {r.output_topic for r in ROUTES if r.enabled}
STATEFUL = ("Environment", "KafkaCluster", "KafkaTopic")


def test_global_stack_registers_environment_and_principals_but_no_cluster(plans: dict[str, Plan]) -> None:
    prod = plans["prod"]
    env = one(prod, "Environment")
    assert env.inputs["displayName"] == "cdc-prod"
    assert env.inputs["streamGovernance"] == {"package": "ADVANCED"}
    accounts = {r.inputs["displayName"] for r in of_type(prod, "ServiceAccount")}
    expected = {"cdc-connector", "flink-statements", "flink-deployer", "schema-manager", "metrics-viewer"}
    expected |= {"cluster-manager-us-east-1", "cluster-manager-us-west-2"}
    expected |= {"cluster-link-us-east-1", "cluster-link-us-west-2"}  # two regions: one link principal each
    expected |= {r.consumer for r in ROUTES if r.consumer}
    assert accounts == {f"cdc-prod-{name}" for name in expected}
    assert not of_type(prod, "KafkaCluster") and not of_type(prod, "KafkaTopic")


def test_flink_deployer_may_only_develop_flink_and_assign_the_statement_principal(plans: dict[str, Plan]) -> None:
    prod = plans["prod"]
    ids = principal_ids(prod)
    env_crn = prod.outputs["principals"] and one(prod, "Environment").id
    roles = bindings_of(prod, ids["flink-deployer"])
    assert {role for role, _ in roles} == {"FlinkDeveloper", "Assigner"}
    (assign_crn,) = [crn for role, crn in roles if role == "Assigner"]
    assert assign_crn.endswith("/service-account=" + ids["flink-statements"].removeprefix("User:"))
    (dev_crn,) = [crn for role, crn in roles if role == "FlinkDeveloper"]
    assert dev_crn.endswith(f"/environment={env_crn}")


@pytest.mark.parametrize("stack", ["prod-east", "dev"])
def test_the_statement_principal_holds_exactly_what_confluents_flink_rbac_page_lists(
    plans: dict[str, Plan], stack: str
) -> None:
    """CC flink/operate-and-deploy/flink-rbac: DeveloperRead + DeveloperWrite on transactional ids
    `_confluent-flink_*`, DeveloperRead on topics read, DeveloperWrite on topics written, DeveloperRead
    on the subjects of both (key and value: every one of them is keyed); no consumer group. And the raw
    table's dead-letter topic (configure-dlq): DeveloperWrite on it and on its value subject, whose fixed
    schema Flink registers when the ALTER TABLE naming it runs."""
    p = plans[stack]
    ids = principal_ids(plans["prod"] if stack == "prod-east" else p)
    held = {(role, crn.rsplit("/", 1)[-1]) for role, crn in bindings_of(p, ids["flink-statements"])}
    routed = {r.output_topic for r in ROUTES if r.enabled}
    expected = {("DeveloperRead", "transactional-id=_confluent-flink_*")}
    expected |= {("DeveloperWrite", "transactional-id=_confluent-flink_*")}
    expected |= {("DeveloperRead", "topic=raw-business-events")}
    expected |= {("DeveloperRead", f"subject=raw-business-events-{part}") for part in ("key", "value")}
    expected |= {("DeveloperWrite", f"topic={topic}") for topic in routed}
    expected |= {("DeveloperRead", f"subject={topic}-{part}") for topic in routed for part in ("key", "value")}
    expected |= {
        ("DeveloperWrite", "topic=raw-business-events-dlq"),
        ("DeveloperWrite", "subject=raw-business-events-dlq-value"),
    }
    assert held == expected


@pytest.mark.parametrize("stack, region", [("prod-east", "us-east-1"), ("prod-west", "us-west-2")])
def test_region_stack_reads_global_stack_and_registers_no_org_objects(
    plans: dict[str, Plan], stack: str, region: str
) -> None:
    p = plans[stack]
    ref = one(p, "StackReference", lambda r: r.name == "global-stack")
    assert ref.inputs["name"] == "acme-lending/cdc-platform/prod"
    assert not of_type(p, "Environment") and not of_type(p, "ServiceAccount")
    cluster = one(p, "KafkaCluster")
    assert cluster.inputs["region"] == region
    assert cluster.inputs["availability"] == "MULTI_ZONE" and cluster.inputs["dedicated"] == {"cku": 2}
    # The environment id is the one the global stack exported.
    assert cluster.inputs["environment"]["id"] == plans["prod"].outputs["environmentId"]


@pytest.mark.parametrize("stack", ["prod-east", "prod-west", "dev"])
def test_every_topic_is_declared_on_its_stacks_cluster(plans: dict[str, Plan], stack: str) -> None:
    p = plans[stack]
    cluster = one(p, "KafkaCluster")
    topics = of_type(p, "KafkaTopic")
    declared = {"raw-business-events", "raw-business-events-heartbeat", "raw-business-events-dlq"} | ROUTED_TOPICS
    assert {t.inputs["topicName"] for t in topics} == declared
    for topic in topics:
        assert topic.inputs["kafkaCluster"]["id"] == cluster.id
        assert topic.inputs["restEndpoint"].startswith(f"https://{cluster.id}.")
        assert topic.inputs["partitionsCount"] >= 1
        assert int(topic.inputs["config"]["retention.ms"]) > 0


def test_prod_east_topic_sizes_come_from_settings(plans: dict[str, Plan]) -> None:
    sizes = {t.inputs["topicName"]: t.inputs["partitionsCount"] for t in of_type(plans["prod-east"], "KafkaTopic")}
    assert sizes.pop("raw-business-events") == 12
    assert sizes.pop("raw-business-events-heartbeat") == 1
    assert sizes.pop("raw-business-events-dlq") == 1
    assert set(sizes.values()) == {6}


@pytest.mark.parametrize(
    "stack, region", [("prod-east", "us-east-1"), ("prod-west", "us-west-2"), ("dev", "us-east-1")]
)
def test_cluster_manager_key_is_owned_by_its_regions_manager_and_waits_for_its_grant(
    plans: dict[str, Plan], stack: str, region: str
) -> None:
    p = plans[stack]
    ids = principal_ids(plans["dev" if stack == "dev" else "prod"])
    manager = ids[f"cluster-manager-{region}"]
    cluster = one(p, "KafkaCluster")
    key = one(p, "ApiKey", lambda r: r.name.endswith("-manager-key"))
    assert "User:" + key.inputs["owner"]["id"] == manager
    assert key.inputs["managedResource"]["id"] == cluster.id
    admin = one(p, "RoleBinding", lambda r: r.inputs["roleName"] == "CloudClusterAdmin")
    assert admin.inputs["principal"] == manager
    assert admin.inputs["crnPattern"].endswith(f"/cloud-cluster={cluster.id}")
    assert admin.urn in key.dependencies


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_every_value_subject_has_an_explicit_compatibility_level(plans: dict[str, Plan], stack: str) -> None:
    p = plans[stack]
    configs = {c.inputs["subjectName"]: c for c in of_type(p, "SubjectConfig")}
    schemas = {s.inputs["subjectName"]: s for s in of_type(p, "Schema")}
    assert set(configs) == set(schemas) | {"raw-business-events-value"}
    levels = {subject: c.inputs["compatibilityLevel"] for subject, c in configs.items()}
    # Routed: Confluent's recommendation for subjects Flink uses. Raw: the connector evolves it alone.
    assert levels == {**{s: "FULL_TRANSITIVE" for s in schemas}, "raw-business-events-value": "BACKWARD_TRANSITIVE"}
    for subject, schema in schemas.items():
        # Deleting a config after its subject's last schema fails (404): the config goes first.
        assert schema.urn in configs[subject].dependencies
    assert all(c.protect == (stack == "prod") for c in configs.values())


@pytest.mark.parametrize("stack", ["prod-east", "prod-west"])
def test_prod_cluster_sits_behind_privatelink_and_keys_wait_for_dns(plans: dict[str, Plan], stack: str) -> None:
    p = plans[stack]
    network = one(p, "Network")
    assert network.inputs["connectionTypes"] == ["PRIVATELINK"]
    assert one(p, "KafkaCluster").inputs["network"]["id"] == network.id
    endpoint = one(p, "VpcEndpoint")
    assert endpoint.inputs["privateDnsEnabled"] is False
    records = {r.urn for r in of_type(p, "Record")}
    assert len(records) == 1 + len(network.inputs["zones"])
    for key in of_type(p, "ApiKey"):
        if key.inputs.get("managedResource", {}).get("apiVersion") == "cmk/v2":  # Kafka keys, over PrivateLink
            assert records <= set(key.dependencies), key.name


def test_dev_is_all_in_one_on_a_public_standard_cluster(plans: dict[str, Plan]) -> None:
    dev = plans["dev"]
    assert {r.name for r in of_type(dev, "StackReference")} == {"previous-deployment"}
    assert not of_type(dev, "Network")
    assert one(dev, "Environment").inputs["displayName"] == "cdc-dev"
    cluster = one(dev, "KafkaCluster")
    assert "standard" in cluster.inputs and "dedicated" not in cluster.inputs
    assert "network" not in cluster.inputs


@pytest.mark.parametrize("stack", ["prod", "prod-east", "prod-west"])
def test_prod_stateful_resources_are_protected(plans: dict[str, Plan], stack: str) -> None:
    stateful = [r for kind in STATEFUL for r in of_type(plans[stack], kind)]
    assert stateful
    assert all(r.protect for r in stateful), [r.name for r in stateful if not r.protect]


def test_dev_protects_nothing(plans: dict[str, Plan]) -> None:
    assert not [r.name for r in plans["dev"].resources if r.protect]


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_value_appears_in_plain_text(plans: dict[str, Plan], stack: str) -> None:
    text = dumped(plans[stack])
    assert not re.search(r"mock-api-secret-", text)
    for key in of_type(plans[stack], "KafkaTopic"):
        assert key.inputs["credentials"] == "[secret]"
    for version in of_type(plans[stack], "SecretVersion"):  # the consumers' delivered keys among them
        assert version.inputs["secretString"] == "[secret]"


def test_consumer_reads_only_its_topics_and_its_own_groups(plans: dict[str, Plan]) -> None:
    east = plans["prod-east"]
    ids = principal_ids(plans["prod"])
    cluster_id = one(east, "KafkaCluster").id
    for consumer in {r.consumer for r in ROUTES if r.consumer}:
        topics = {r.output_topic for r in ROUTES if r.consumer == consumer}
        held = bindings_of(east, ids[consumer])
        assert {role for role, _ in held} == {"DeveloperRead"}
        topic_grants = {crn.rsplit("/topic=", 1)[1] for _, crn in held if "/topic=" in crn}
        assert topic_grants == topics | {f"us-west-2.{t}" for t in topics}  # and the peer's, mirrored here
        subjects = {crn.rsplit("/subject=", 1)[1] for _, crn in held if "/subject=" in crn}
        # Keyed topics: its deserializers fetch both schemas; mirrors carry the source subjects' ids.
        assert subjects == {f"{t}-{part}" for t in topics for part in ("key", "value")}
        groups = {crn.rsplit("/group=", 1)[1] for _, crn in held if "/group=" in crn}
        assert groups == {f"{consumer}-*"}
        assert all(f"/kafka={cluster_id}/" in crn for _, crn in held if "/subject=" not in crn)
        key = one(east, "ApiKey", lambda r, c=consumer: r.name.endswith(f"-{c}-key"))
        assert "User:" + key.inputs["owner"]["id"] == ids[consumer]
        assert key.inputs["managedResource"]["id"] == cluster_id
        registry_key = one(east, "ApiKey", lambda r, c=consumer: r.name.endswith(f"-{c}-registry-key"))
        assert "User:" + registry_key.inputs["owner"]["id"] == ids[consumer]
        assert registry_key.inputs["managedResource"]["id"] == plans["prod"].outputs["schemaRegistry"]["id"]


def test_connector_only_writes_the_raw_topic_and_flink_reads_raw_writes_routed(plans: dict[str, Plan]) -> None:
    east = plans["prod-east"]
    ids = principal_ids(plans["prod"])
    connector = bindings_of(east, ids["cdc-connector"])
    assert {role for role, _ in connector} == {"DeveloperWrite"}
    assert {crn.rsplit("=", 1)[1] for _, crn in connector} == {
        "raw-business-events",
        "raw-business-events-key",
        "raw-business-events-value",
        "raw-business-events-heartbeat",
        "raw-business-events-heartbeat-key",
        "raw-business-events-heartbeat-value",
    }
    flink = bindings_of(east, ids["flink-statements"])
    reads = {crn.rsplit("/topic=", 1)[1] for role, crn in flink if role == "DeveloperRead" and "/topic=" in crn}
    writes = {crn.rsplit("/topic=", 1)[1] for role, crn in flink if role == "DeveloperWrite" and "/topic=" in crn}
    assert reads == {"raw-business-events"} and writes == {*ROUTED_TOPICS, "raw-business-events-dlq"}
    # It registers no subject but the dead-letter topic's value (Flink registers the DLQ's fixed schema).
    registers = {
        crn.rsplit("/subject=", 1)[1] for role, crn in flink if role == "DeveloperWrite" and "/subject=" in crn
    }
    assert registers == {"raw-business-events-dlq-value"}
    assert any("/transactional-id=_confluent-flink_*" in crn for _, crn in flink)


@pytest.mark.parametrize("stack, region, cfu", [("prod-east", "us-east-1", 20), ("dev", "us-east-1", 5)])
def test_flink_pool_and_regional_flink_key(plans: dict[str, Plan], stack: str, region: str, cfu: int) -> None:
    p = plans[stack]
    pool = one(p, "FlinkComputePool")
    assert pool.inputs["maxCfu"] == cfu and pool.inputs["region"] == region
    ids = principal_ids(plans["dev" if stack == "dev" else "prod"])
    key = one(p, "ApiKey", lambda r: r.inputs.get("managedResource", {}).get("kind") == "Region")
    assert key.inputs["managedResource"]["id"] == f"aws.{region}"
    assert "User:" + key.inputs["owner"]["id"] == ids["flink-deployer"]


@pytest.mark.parametrize("stack", STACKS)
def test_components_own_their_children(plans: dict[str, Plan], stack: str) -> None:
    names = {r.name for r in plans[stack].resources}
    for r in plans[stack].resources:
        if r.type.startswith(("confluentcloud:index/", "aws:ec2", "aws:route53")):
            assert r.parent in names, f"{r.name} has no component parent"


@pytest.mark.parametrize("stack", STACKS)
def test_text_plan_shows_every_resource_once_under_its_parent(
    plans: dict[str, Plan], stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--stack", stack]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.lstrip().startswith("+ ")]
    assert sorted(line.split()[2] for line in lines) == sorted(r.name for r in plans[stack].resources)
    depth = {line.split()[2]: (len(line) - len(line.lstrip())) // 4 for line in lines}
    for r in plans[stack].resources:
        assert depth[r.name] == (depth[r.parent] + 1 if r.parent else 0), r.name


@pytest.mark.parametrize("stack", STACKS)
def test_logical_names_are_unique_so_parents_are_unambiguous(plans: dict[str, Plan], stack: str) -> None:
    names = [r.name for r in plans[stack].resources]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_routed_topic_schemas_live_in_the_global_layer_owned_by_the_schema_manager(
    plans: dict[str, Plan], stack: str
) -> None:
    p = plans[stack]
    schemas = {s.inputs["subjectName"]: s for s in of_type(p, "Schema")}
    assert set(schemas) == {f"{t}-{part}" for t in ROUTED_TOPICS for part in ("key", "value")}
    owner = principal_ids(p)["schema-manager"]
    owned = {crn.rsplit("/subject=", 1)[1] for role, crn in bindings_of(p, owner) if role == "ResourceOwner"}
    assert owned == set(schemas) | {"raw-business-events-value"}  # the raw one: its compatibility only
    assert {role for role, _ in bindings_of(p, owner)} == {"ResourceOwner"}
    for subject, schema in schemas.items():
        document = json.loads(schema.inputs["schema"])
        assert list(document["properties"]) == (["id"] if subject.endswith("-key") else list(RAW_COLUMN_NAMES))
        assert document["additionalProperties"] is False
        owning = one(
            p,
            "RoleBinding",
            lambda r, s=subject: r.inputs["roleName"] == "ResourceOwner" and r.inputs["crnPattern"].endswith(s),
        )
        assert owning.urn in schema.dependencies
    if stack == "dev":  # one stack: the routing statement waits for the schemas Flink infers tables from
        statement = routing(p)
        assert {s.urn for s in schemas.values()} <= set(statement.dependencies)


@pytest.mark.parametrize("stack", ["prod-east", "prod-west"])
def test_region_stacks_register_no_schemas(plans: dict[str, Plan], stack: str) -> None:
    """The registry is shared by both regions: a region's destroy must not delete a subject."""
    assert not of_type(plans[stack], "Schema")


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_every_routed_topic_has_a_key_subject_holding_the_raw_key_schema(plans: dict[str, Plan], stack: str) -> None:
    """The routed records keep the raw record's key: each routed topic's key subject holds the raw
    topic's key schema, the primary key `id` as a required, NOT NULL string (the connector's key)."""
    schemas = {s.inputs["subjectName"]: s.inputs for s in of_type(plans[stack], "Schema")}
    raw_key = RAW_KEY_SCHEMA
    for topic in ROUTED_TOPICS:
        key = schemas[f"{topic}-key"]
        assert key["format"] == "JSON"
        assert json.loads(key["schema"]) == raw_key
        # Contained in the value by name and type, but not by nullability: Flink infers `key_id`.
        assert json.loads(schemas[f"{topic}-value"]["schema"])["properties"]["id"] != raw_key["properties"]["id"]


@pytest.mark.parametrize("stack", ["prod-east", "dev"])
def test_the_deployed_statement_writes_the_raw_key_into_every_routed_topic(plans: dict[str, Plan], stack: str) -> None:
    sql = routing(plans[stack]).inputs["statement"]
    for topic in ROUTED_TOPICS:
        assert f"INSERT INTO `{topic}` (`key_id`, `id`, " in sql
    assert sql.count("SELECT `id` AS `key_id`, `id`, ") == len(ROUTED_TOPICS)
