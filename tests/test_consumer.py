"""`cdcctl consumer`: the client configuration of a route consumer, checked against the stack's plan
(its exports and the grants it registers) and against the routes file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdcctl.__main__ import main
from cdcctl.plan import Plan
from core import naming
from flink_sql.routes import consumers, load_routes
from tests.helpers import REPO, bindings_of, deployed_loan_consumer_outputs, of_type, principal_ids, the_one_error_line

ROUTES = load_routes(REPO / "flink_sql/routes.yaml")
CONSUMERS = consumers(ROUTES)


def consumer_json(name: str, stack: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    assert main(["consumer", name, "--stack", stack, "--json", *extra]) == 0
    return dict(json.loads(capsys.readouterr().out))


def topics_of(consumer: str) -> list[str]:
    return [r.output_topic for r in ROUTES if r.enabled and r.consumer == consumer]


@pytest.mark.parametrize("stack", ["dev", "prod-east", "prod-west"])
def test_region_stacks_export_each_consumers_topics_and_group_prefix(plans: dict[str, Plan], stack: str) -> None:
    exported = plans[stack].outputs["consumers"]
    assert set(exported) == set(CONSUMERS)
    peer = {"prod-east": "us-west-2", "prod-west": "us-east-1"}.get(stack)
    for consumer in CONSUMERS:
        expected: dict[str, Any] = {
            "topics": topics_of(consumer),
            "groupPrefix": f"{consumer}-",
            "secret": exported[consumer]["secret"],  # tests/test_credentials.py checks it
        }
        if peer:  # with the cluster link it may also read the peer's topics mirrored here
            expected["peerMirrors"] = sorted(f"{peer}.{t}" for t in topics_of(consumer))
        assert exported[consumer] == expected


@pytest.mark.parametrize("stack", ["dev", "prod-east", "prod-west"])
def test_the_configuration_is_the_plans(plans: dict[str, Plan], stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    plan = plans[stack]
    for consumer in CONSUMERS:
        config = consumer_json(consumer, stack, capsys)
        bootstrap = plan.outputs["bootstrapEndpoint"].removeprefix("SASL_SSL://")
        (cluster,) = of_type(plan, "KafkaCluster")
        assert config["bootstrapServers"] == bootstrap and bootstrap.startswith(f"{cluster.id}.")
        assert config["schemaRegistryUrl"] == plan.outputs["schemaRegistryEndpoint"]
        assert config["librdkafka"]["bootstrap.servers"] == config["java"]["bootstrap.servers"] == bootstrap
        assert config["java"]["schema.registry.url"] == plan.outputs["schemaRegistryEndpoint"]
        assert config["topics"] == topics_of(consumer)
        assert config["librdkafka"]["group.id"].startswith(config["groupPrefix"])
        assert config["java"]["group.id"].startswith(config["groupPrefix"])
        # Homed in the stack's region: the link syncs its offsets out of this region only.
        assert config["librdkafka"]["group.id"].startswith(f"{config['groupPrefix']}{plan.outputs['region']}-")


def test_what_it_may_read_is_what_its_role_bindings_grant(
    plans: dict[str, Plan], capsys: pytest.CaptureFixture[str]
) -> None:
    plan = plans["prod-east"]
    principal = principal_ids(plans["prod"])["loan-consumer"]
    granted = {crn.rsplit("/", 1)[-1] for role, crn in bindings_of(plan, principal) if role == "DeveloperRead"}
    config = consumer_json("loan-consumer", "prod-east", capsys)
    assert {f"topic={t}" for t in config["topics"]} | {f"group={config['groupPrefix']}*"} <= granted


def test_it_deserializes_the_routed_key_with_the_key_subject_it_may_read(
    plans: dict[str, Plan], capsys: pytest.CaptureFixture[str]
) -> None:
    """Routed records carry the raw key `{id}`, registered as JSON Schema under `<topic>-key`: the
    JSON Schema deserializer reads it, with the read grant on that subject the consumer holds."""
    plan = plans["prod-east"]
    principal = principal_ids(plans["prod"])["loan-consumer"]
    granted = {crn.rsplit("/", 1)[-1] for role, crn in bindings_of(plan, principal) if role == "DeveloperRead"}
    config = consumer_json("loan-consumer", "prod-east", capsys)
    assert config["java"]["key.deserializer"] == "io.confluent.kafka.serializers.json.KafkaJsonSchemaDeserializer"
    assert {f"subject={t}-{part}" for t in config["topics"] for part in ("key", "value")} <= granted
    key_formats = {
        s.inputs["format"] for s in of_type(plans["prod"], "Schema") if s.inputs["subjectName"].endswith("-key")
    }
    assert key_formats == {"JSON"}


@pytest.mark.plans
def test_with_two_regions_it_names_the_mirrors_in_the_peer_region(capsys: pytest.CaptureFixture[str]) -> None:
    east = consumer_json("loan-consumer", "prod-east", capsys)
    west = consumer_json("loan-consumer", "prod-west", capsys)
    assert east["mirrors"] == {"us-west-2": [naming.mirror_topic("us-east-1", t) for t in east["topics"]]}
    assert west["mirrors"] == {"us-east-1": ["us-west-2.filtered-loan-created-events"]}
    assert consumer_json("loan-consumer", "dev", capsys)["mirrors"] == {}  # one region, no link


@pytest.mark.plans
def test_it_says_how_to_read_its_secret_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consumer", "car-consumer", "--stack", "prod-east"]) == 0
    text = capsys.readouterr().out
    command = "aws secretsmanager get-secret-value --region us-east-1 --secret-id cdc-platform/prod-east/car-consumer"
    assert command in text and "External Secrets" in text
    for key in ("kafkaApiKey", "kafkaApiSecret", "schemaRegistryApiKey", "schemaRegistryApiSecret"):
        assert key in text
    assert "## librdkafka" in text and "## Java" in text
    assert "sasl.mechanisms=PLAIN" in text and "sasl.jaas.config=" in text


def test_deployed_outputs_replace_the_plans_placeholders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = deployed_loan_consumer_outputs(tmp_path)
    config = consumer_json("loan-consumer", "prod-east", capsys, "--outputs", str(path))
    assert config["bootstrapServers"] == "lkc-real.us-east-1.aws.private.confluent.cloud:9092"
    assert config["schemaRegistryUrl"] == "https://psrc-real.us-east-1.aws.confluent.cloud"
    assert config["source"] == f"{path} (deployed outputs)"


def test_an_unknown_consumer_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consumer", "no-such-consumer", "--stack", "prod-east"]) == 2
    line = the_one_error_line(capsys)
    assert line.startswith("error: flink_sql/routes.yaml: consumer: ") and "'no-such-consumer'" in line


def test_a_global_stack_has_no_consumer_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consumer", "loan-consumer", "--stack", "prod"]) == 2
    assert the_one_error_line(capsys).startswith("error: Pulumi.prod.yaml: cdc-platform:layer: is global")


@pytest.mark.parametrize(
    "content, reason",
    [
        (None, "--outputs: cannot read: No such file or directory"),
        ("{not json", "--outputs: invalid JSON: "),
        (
            json.dumps(
                {"bootstrapEndpoint": "SASL_SSL://x:9092", "monitoring": {"stack": "prod-east"}, "region": "us-east-1"}
            ),
            "consumers.loan-consumer: missing",
        ),
    ],
)
def test_bad_deployed_outputs_exit_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, reason: str
) -> None:
    path = tmp_path / "outputs.json"
    if content is not None:
        path.write_text(content)
    assert main(["consumer", "loan-consumer", "--stack", "prod-east", "--outputs", str(path)]) == 2
    assert the_one_error_line(capsys).startswith(f"error: {path}: {reason}")
