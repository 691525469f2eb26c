"""Consumer keys delivered one secret per consumer (issue 24), keys rotated over consecutive plans, and
the bad settings refused. Each run's `previous` is the exports of the run before, as Pulumi reads them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdcctl.__main__ import main
from cdcctl.plan import Plan, plan
from core.naming import consumer_secret_name
from flink_sql.routes import consumers, load_routes
from policy.rules import check_outputs
from tests.helpers import REPO, STACKS, edit_routes, edit_stack, of_type, one, the_one_error_line

pytestmark = pytest.mark.plans

CONSUMERS = consumers(load_routes(REPO / "flink_sql/routes.yaml"))
READER = "arn:aws:iam::111122223333:role/{}-app"


def keys_of(p: Plan, consumer: str) -> list[str]:
    return sorted(k.name for k in of_type(p, "ApiKey") if k.parent == f"us-east-1-{consumer}")


# --- delivery ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["prod-east", "prod-west"])
def test_each_consumer_gets_one_secret_readable_only_by_its_roles(plans: dict[str, Plan], stack: str) -> None:
    p = plans[stack]
    region = p.outputs["region"]
    secrets = of_type(p, "Secret")
    names = {s.inputs["name"] for s in secrets}
    assert {consumer_secret_name(stack, c) for c in CONSUMERS} <= names
    for consumer in CONSUMERS:
        name = consumer_secret_name(stack, consumer)
        secret = one(p, "Secret", lambda r, name=name: r.inputs["name"] == name)  # type: ignore[misc]
        assert secret.protect and secret.inputs.get("recoveryWindowInDays") is None
        (policy,) = [r for r in of_type(p, "SecretPolicy") if r.parent == secret.parent]
        document = json.loads(policy.inputs["policy"])
        allow, deny = document["Statement"]
        assert allow["Principal"] == {"AWS": [READER.format(consumer)]}
        assert deny["Effect"] == "Deny" and deny["Action"] == "secretsmanager:GetSecretValue"
        # Nobody else: the consumer's role and the deployer's (which writes the value) only.
        assert deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == [
            READER.format(consumer),
            "arn:aws:iam::111122223333:role/deployer",
        ]
        assert policy.inputs["blockPublicPolicy"] is True
        (version,) = [r for r in of_type(p, "SecretVersion") if r.parent == secret.parent]
        assert version.inputs["secretString"] == "[secret]"
        exported = p.outputs["consumers"][consumer]["secret"]
        assert exported["awsSecretName"] == consumer_secret_name(stack, consumer)
        assert exported["region"] == region and exported["awsSecretArn"] == secret.outputs["arn"]


@pytest.mark.parametrize("stack", STACKS)
def test_no_output_holds_more_than_one_consumers_keys(plans: dict[str, Plan], stack: str) -> None:
    assert "consumerCredentials" not in plans[stack].outputs
    assert check_outputs(plans[stack].raw_outputs) == []


def test_the_old_shared_output_is_what_the_rule_refuses() -> None:
    keys = {"kafkaApiKey": "K", "kafkaApiSecret": "S", "schemaRegistryApiKey": "R", "schemaRegistryApiSecret": "T"}
    assert check_outputs({"consumerCredentials": {"a": keys, "b": keys}}) == [
        "output consumerCredentials holds the credentials of 2 principals: deliver each consumer's keys on its own"
    ]
    assert check_outputs({"loan": {"a": keys}}) == []


def test_an_unprotected_stack_without_readers_leaves_reading_to_the_accounts_iam(plans: dict[str, Plan]) -> None:
    p = plans["dev"]
    assert len(of_type(p, "Secret")) == len(CONSUMERS)
    assert of_type(p, "SecretPolicy") == []
    assert all(s.inputs["recoveryWindowInDays"] == 0 for s in of_type(p, "Secret"))


def test_the_vault_variant_writes_kv_v2_readable_by_the_same_roles(project: Path) -> None:
    edit_stack(project, "prod-east", {"credentials.vault": {"mount": "kv-cdc"}})
    edit_stack(project, "prod-east", {"credentials.kmsKeyId": "arn:aws:kms:us-east-1:111122223333:alias/cdc-consumers"})
    p = plan("prod-east", project)
    for consumer in CONSUMERS:
        name = consumer_secret_name("prod-east", consumer)
        kv = one(p, "SecretV2", lambda r, name=name: r.inputs["name"] == name)  # type: ignore[misc]
        assert kv.inputs["mount"] == "kv-cdc" and kv.inputs["dataJson"] == "[secret]"
        (policy,) = [r for r in of_type(p, "Policy") if r.parent == kv.parent]
        assert policy.inputs["policy"].count("path ") == 2 and f'"kv-cdc/data/{name}"' in policy.inputs["policy"]
        (role,) = [r for r in of_type(p, "AuthBackendRole") if r.parent == kv.parent]
        assert role.inputs["boundIamPrincipalArns"] == [READER.format(consumer)]
        assert role.inputs["tokenPolicies"] == [policy.inputs["name"]] and role.inputs["authType"] == "iam"
        assert p.outputs["consumers"][consumer]["secret"]["vaultPath"] == f"kv-cdc/{name}"
    secrets = [s for s in of_type(p, "Secret") if s.inputs["name"].startswith("cdc-platform/")]
    assert {s.inputs["kmsKeyId"] for s in secrets} == {"arn:aws:kms:us-east-1:111122223333:alias/cdc-consumers"}


def test_cdcctl_consumer_names_the_secret_and_how_to_read_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consumer", "loan-consumer", "--stack", "prod-east", "--json"]) == 0
    secrets = json.loads(capsys.readouterr().out)["secrets"]
    assert secrets["awsSecret"] == "cdc-platform/prod-east/loan-consumer" and secrets["region"] == "us-east-1"
    assert "--secret-id cdc-platform/prod-east/loan-consumer" in secrets["command"]
    assert secrets["externalSecret"]["spec"]["dataFrom"] == [
        {"extract": {"key": "cdc-platform/prod-east/loan-consumer"}}
    ]
    assert "kafkaApiSecret" in secrets["keys"] and "bootstrapServers" in secrets["keys"]


# --- rotation over consecutive plans --------------------------------------------------------------------


def test_a_consumer_key_generation_keeps_the_old_key_one_more_up(project: Path) -> None:
    first = plan("dev", project)
    assert keys_of(first, "loan-consumer") == ["us-east-1-loan-consumer-key", "us-east-1-loan-consumer-registry-key"]
    edit_stack(project, "dev", {"credentials.consumers.loan-consumer": {"keyGeneration": 2}})
    second = plan("dev", project, previous=first.raw_outputs)
    # The new keys exist beside the old ones; the secret now holds the new generation.
    assert keys_of(second, "loan-consumer") == [
        "us-east-1-loan-consumer-key",
        "us-east-1-loan-consumer-key-g2",
        "us-east-1-loan-consumer-registry-key",
        "us-east-1-loan-consumer-registry-key-g2",
    ]
    assert second.outputs["keyGenerations"]["consumer:loan-consumer"] == [1, 2]
    assert second.outputs["consumers"]["loan-consumer"]["secret"]["keyGeneration"] == 2
    # Other consumers' keys are untouched.
    assert keys_of(second, "car-consumer") == keys_of(first, "car-consumer")
    third = plan("dev", project, previous=second.raw_outputs)
    assert keys_of(third, "loan-consumer") == [
        "us-east-1-loan-consumer-key-g2",
        "us-east-1-loan-consumer-registry-key-g2",
    ]
    assert third.outputs["keyGenerations"]["consumer:loan-consumer"] == [2]


def test_the_metrics_key_rotates_and_the_scrape_config_follows(project: Path) -> None:
    first = plan("dev", project)
    edit_stack(project, "dev", {"credentials.metricsKeyGeneration": 2})
    second = plan("dev", project, previous=first.raw_outputs)
    keys = {k.name: k for k in of_type(second, "ApiKey") if k.parent == "us-east-1-monitoring"}
    assert set(keys) == {"us-east-1-monitoring-key", "us-east-1-monitoring-key-g2"}
    new = keys["us-east-1-monitoring-key-g2"]
    assert (
        second.outputs["metricsApiKey"] == new.id and f"username: {new.id}" in second.outputs["prometheusScrapeConfig"]
    )
    third = plan("dev", project, previous=second.raw_outputs)
    assert [k.name for k in of_type(third, "ApiKey") if k.parent == "us-east-1-monitoring"] == [new.name]


def test_an_old_link_key_stays_until_the_peers_half_presents_the_new_one(project: Path) -> None:
    def link_keys(p: Plan) -> list[str]:
        return sorted(k.name for k in of_type(p, "ApiKey") if k.parent == "us-east-1-cluster-link-us-east-1")

    west_before = plan("prod-west", project).raw_outputs  # presents east's link key generation 1
    assert west_before["clusterLink"]["peerKeyGeneration"] == 1
    first = plan("prod-east", project, peer_outputs=west_before)
    edit_stack(project, "prod-east", {"credentials.linkKeyGeneration": 2})
    second = plan("prod-east", project, previous=first.raw_outputs, peer_outputs=west_before)
    assert link_keys(second) == ["us-east-1-cluster-link-us-east-1-key", "us-east-1-cluster-link-us-east-1-key-g2"]
    assert second.outputs["linkApiKey"] == one(second, "ApiKey", lambda k: k.name.endswith("-key-g2")).id
    # prod-west has not run `up` since: its half still presents generation 1, so east keeps it.
    third = plan("prod-east", project, previous=second.raw_outputs, peer_outputs=west_before)
    assert link_keys(third) == link_keys(second)
    # prod-west's `up` moves its half to generation 2 (credentials update in place)...
    west_after = plan("prod-west", project, previous=west_before)
    assert west_after.outputs["clusterLink"]["peerKeyGeneration"] == 2
    # ...and only then does east's next `up` delete the old key.
    fourth = plan("prod-east", project, previous=third.raw_outputs, peer_outputs=west_after.raw_outputs)
    assert link_keys(fourth) == ["us-east-1-cluster-link-us-east-1-key-g2"]


# --- bad settings ------------------------------------------------------------------------------------------

BAD = [
    (
        "credentials.consumers.loan-consumer.readers",
        ["arn:aws:iam::1234:user/alice"],
        "cdc-platform:credentials.consumers.loan-consumer.readers[0]",
    ),
    ("credentials.consumers.nobody", {"readers": [READER.format("x")]}, "cdc-platform:credentials.consumers.nobody"),
    ("credentials.vault", {"mount": "/kv/../sys"}, "cdc-platform:credentials.vault.mount"),
    ("credentials.kmsKeyId", "arn:aws:kms:us-west-2:111122223333:alias/x", "cdc-platform:credentials.kmsKeyId"),
    (
        "credentials.consumers.car-consumer",
        {"keyGeneration": 1},
        "cdc-platform:credentials.consumers.car-consumer.readers",
    ),
]


@pytest.mark.parametrize("key, value, path", BAD, ids=[b[2].rsplit(".", 1)[-1] for b in BAD])
def test_bad_credentials_settings_name_file_and_key(
    project: Path, capsys: pytest.CaptureFixture[str], key: str, value: Any, path: str
) -> None:
    edit_stack(project, "prod-east", {key: value})
    assert main(["plan", "--stack", "prod-east"]) == 2
    assert the_one_error_line(capsys).startswith(f"error: Pulumi.prod-east.yaml: {path}: ")


def test_disabling_a_route_keeps_its_consumers_delivery_settings_valid(project: Path) -> None:
    """Disabling a route is a routes-file change alone: its consumer's settings stay, no secret is made."""

    def disable_car(routes: list[dict[str, Any]]) -> None:
        for route in routes:
            if route.get("consumer") == "car-consumer":
                route["enabled"] = False

    edit_routes(project, disable_car)
    east = plan("prod-east", project)
    assert "car-consumer" not in {s.inputs["name"].rsplit("/", 1)[-1] for s in of_type(east, "Secret")}
    assert {s.inputs["name"].rsplit("/", 1)[-1] for s in of_type(east, "Secret")} >= {"loan-consumer"}
