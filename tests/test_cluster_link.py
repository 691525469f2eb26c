"""Active-active offline: each prod region stack declares its half of ONE bidirectional link to the
peer (read from the peer's own offline plan, as a StackReference would), mirrors every peer topic once,
syncs the consumers' offsets, and skips its half while the peer has no cluster."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdcctl.plan import Plan, PlannedResource, plan
from core.config_node import ConfigError
from flink_sql.routes import load_routes
from infra.cluster_link import LINK_CONFIG_KEYS, link_config
from tests.helpers import REPO, bindings_of, edit_routes, edit_stack, of_type, one, principal_ids

PAIRS = [("prod-east", "prod-west"), ("prod-west", "prod-east")]
REGIONAL_TOPICS = {"raw-business-events-heartbeat", "raw-business-events-dlq"}
ROUTES = load_routes(str(REPO / "flink_sql/routes.yaml"))
CONSUMER_PREFIXES = sorted({f"{r.consumer}-" for r in ROUTES if r.consumer})


def link_of(p: Plan) -> PlannedResource:
    return one(p, "ClusterLink")


def mirrors_of(p: Plan) -> dict[str, PlannedResource]:
    return {m.inputs["mirrorTopicName"]: m for m in of_type(p, "KafkaMirrorTopic")}


def region_of(stack: str) -> str:
    return str(yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]["cdc-platform:region"])


@pytest.mark.parametrize("stack, peer", PAIRS)
def test_each_half_links_its_own_cluster_to_the_peer(plans: dict[str, Plan], stack: str, peer: str) -> None:
    p, q = plans[stack], plans[peer]
    link = link_of(p)
    assert link.inputs["link"] == link_of(q).inputs["link"]  # one link, two halves, one explicit name
    assert (link.inputs["linkMode"], link.inputs["connectionMode"]) == ("BIDIRECTIONAL", "OUTBOUND")
    local, remote = link.inputs["localKafkaCluster"], link.inputs["remoteKafkaCluster"]
    assert local["id"] == p.outputs["clusterId"] and local["restEndpoint"] == p.outputs["restEndpoint"]
    assert remote["id"] == q.outputs["clusterId"] and remote["bootstrapEndpoint"] == q.outputs["bootstrapEndpoint"]
    # Local credentials: this region's cluster manager key (creating links needs CloudClusterAdmin).
    manager_key = one(p, "ApiKey", lambda r: r.name.endswith("-kafka-manager-key"))
    assert manager_key.urn in link.dependencies
    assert manager_key.inputs["managedResource"]["id"] == p.outputs["clusterId"]
    # The secrets stay secrets in the plan.
    assert local["credentials"]["secret"] == "[secret]"
    assert "[secret]" in json.dumps(remote["credentials"])
    assert link.protect


@pytest.mark.parametrize("stack, peer", PAIRS)
def test_every_peer_topic_is_mirrored_once_under_the_peers_prefix(
    plans: dict[str, Plan], stack: str, peer: str
) -> None:
    p, q = plans[stack], plans[peer]
    prefix = region_of(peer) + "."
    assert link_of(p).inputs["config"]["cluster.link.prefix"] == prefix
    # The connector's heartbeat topic only shows that region's connector is alive, the dead-letter topic
    # holds that region's undeserializable records: never mirrored.
    peer_topics = {t.inputs["topicName"] for t in of_type(q, "KafkaTopic")} - REGIONAL_TOPICS
    mirrors = mirrors_of(p)
    assert set(mirrors) == {prefix + t for t in peer_topics}
    for name, mirror in mirrors.items():
        assert mirror.inputs["sourceKafkaTopic"]["topicName"] == name.removeprefix(prefix)
        assert mirror.inputs["clusterLink"]["linkName"] == link_of(p).inputs["link"]
        assert mirror.inputs["kafkaCluster"]["id"] == p.outputs["clusterId"]
        assert mirror.inputs["status"] == "ACTIVE"
        assert link_of(p).urn in mirror.dependencies
        assert mirror.retain_on_delete  # after a promotion it is the only copy
    assert not {t.inputs["topicName"] for t in of_type(p, "KafkaTopic")} & set(mirrors)
    # What the stack exports (and its monitoring watches for mirror lag) are these very mirrors.
    assert p.outputs["clusterLink"]["mirrors"] == sorted(mirrors)
    assert p.outputs["monitoring"]["link"]["mirrorTopics"] == sorted(mirrors)


@pytest.mark.parametrize("stack, peer", PAIRS)
def test_the_link_principal_holds_only_what_confluents_security_table_lists(
    plans: dict[str, Plan], stack: str, peer: str
) -> None:
    p = plans[stack]
    principal = principal_ids(plans["prod"])[f"cluster-link-{region_of(stack)}"]
    held = {(role, crn.rsplit("/", 1)[-1]) for role, crn in bindings_of(p, principal)}
    topics = {t.inputs["topicName"] for t in of_type(p, "KafkaTopic")} - REGIONAL_TOPICS
    expected = {(role, f"topic={t}") for t in topics for role in ("DeveloperRead", "DeveloperManage")}
    expected |= {("DeveloperRead", f"group={prefix}*") for prefix in CONSUMER_PREFIXES}
    expected |= {("Operator", f"cloud-cluster={p.outputs['clusterId']}")}
    assert held == expected
    key = one(p, "ApiKey", lambda r: r.name.endswith("cluster-link-" + region_of(stack) + "-key"))
    assert key.inputs["owner"]["id"] == principal.removeprefix("User:")
    # The peer's half presents exactly this key: this stack exports it, as a secret.
    assert p.outputs["linkApiKey"] == key.id and p.outputs["linkApiSecret"] == "[secret]"
    assert sorted(p.outputs["linkedTopics"]) == sorted(topics)


@pytest.mark.parametrize("stack, peer", PAIRS)
def test_consumers_read_their_topics_and_the_mirrors_and_their_offsets_follow(
    plans: dict[str, Plan], stack: str, peer: str
) -> None:
    p = plans[stack]
    config = link_of(p).inputs["config"]
    assert config["consumer.offset.sync.enable"] == "true" and config["acl.sync.enable"] == "false"
    assert config["consumer.group.prefix.enable"] == "false"  # a consumer keeps its group name in both regions
    filters = json.loads(config["consumer.offset.group.filters"])["groupFilters"]
    assert sorted(f["name"] for f in filters) == [f"{c}{region_of(peer)}-" for c in CONSUMER_PREFIXES]
    assert {(f["patternType"], f["filterType"]) for f in filters} == {("PREFIXED", "INCLUDE")}
    ids = principal_ids(plans["prod"])
    for consumer in {r.consumer for r in ROUTES if r.consumer}:
        read = {crn.rsplit("topic=", 1)[-1] for role, crn in bindings_of(p, ids[consumer]) if "/topic=" in crn}
        own = {r.output_topic for r in ROUTES if r.enabled and r.consumer == consumer}
        assert read == own | {region_of(peer) + "." + t for t in own}


def test_the_program_never_drops_a_link_config_key_it_once_set() -> None:
    """Removing a key fails at apply ("reset ... not supported"): every key is always sent."""
    for prefixes in ([], ["loan-consumer-"], CONSUMER_PREFIXES):
        assert tuple(sorted(link_config("us-west-2", prefixes))) == tuple(sorted(LINK_CONFIG_KEYS))
    assert link_config("us-west-2", [])["consumer.offset.sync.enable"] == "false"


# --- first deployment, failover settings, bad settings -----------------------------------------------


def set_link(project: Path, stack: str, **values: Any) -> None:
    edit_stack(project, stack, {f"link.{key}": value for key, value in values.items()})


@pytest.fixture(scope="module")
def first_deployments() -> dict[str, dict[str, Any]]:
    """prod-east's exports after a first deployment, by mirrorStatus: each planned once per module."""
    return {}


@pytest.mark.plans
def test_a_peer_without_a_cluster_yet_skips_the_half_with_a_warning(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        p = plan("prod-east", project, peer_stage=0)
    assert not of_type(p, "ClusterLink") and not of_type(p, "KafkaMirrorTopic")
    assert of_type(p, "KafkaCluster") and of_type(p, "FlinkStatement")  # everything else deploys
    (warning,) = [r.getMessage() for r in caplog.records if "cluster link" in r.getMessage()]
    assert "pulumi up --stack acme-lending/cdc-platform/prod-west" in warning
    assert p.outputs["linkApiSecret"] == "[secret]"  # the peer's later `up` can build its half


@pytest.mark.plans
def test_before_the_peers_half_exists_the_half_is_created_without_mirrors(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        p = plan("prod-west", project, peer_stage=1)  # prod-east has its cluster, not yet its half
    assert of_type(p, "ClusterLink") and not of_type(p, "KafkaMirrorTopic")
    (warning,) = [r.getMessage() for r in caplog.records if "mirrors of" in r.getMessage()]
    assert "pulumi up --stack acme-lending/cdc-platform/prod-east" in warning


def test_link_outputs_that_others_read_stay_readable(plans: dict[str, Plan]) -> None:
    """Only the link secret is secret: exports built from the peer's outputs are not (a secret there would
    hide the mirrors and the monitoring targets from `pulumi stack output` and `cdcctl status`)."""
    p = plans["prod-east"]
    assert isinstance(p.outputs["clusterLink"], dict) and isinstance(p.outputs["monitoring"], dict)
    assert isinstance(p.outputs["routingStatement"], dict)


@pytest.mark.plans
def test_failover_is_a_settings_change_carried_to_every_mirror(project: Path) -> None:
    first = plan("prod-west", project)
    set_link(project, "prod-west", mirrorStatus="FAILED_OVER")
    second = plan("prod-west", project, previous=first.raw_outputs)
    assert {m.inputs["status"] for m in of_type(second, "KafkaMirrorTopic")} == {"FAILED_OVER"}
    assert second.outputs["clusterLink"]["mirrorStatus"] == "FAILED_OVER"


@pytest.mark.plans
@pytest.mark.parametrize(
    "before, after, allowed",
    [
        ("ACTIVE", "PAUSED", True),
        ("PAUSED", "ACTIVE", True),
        ("PAUSED", "PROMOTED", True),
        ("ACTIVE", "FAILED_OVER", True),
        ("PROMOTED", "ACTIVE", True),  # failback: new mirrors (warned)
        ("FAILED_OVER", "PAUSED", False),
        ("PROMOTED", "FAILED_OVER", False),
    ],
)
def test_only_the_status_moves_confluent_allows_are_planned(
    project: Path, first_deployments: dict[str, dict[str, Any]], before: str, after: str, allowed: bool
) -> None:
    if before not in first_deployments:
        set_link(project, "prod-east", mirrorStatus=before)
        first_deployments[before] = plan("prod-east", project).raw_outputs
    set_link(project, "prod-east", mirrorStatus=after)
    if allowed:
        plan("prod-east", project, previous=first_deployments[before])
        return
    with pytest.raises(Exception, match=f"mirror topics are {before}, which cannot become {after}"):
        plan("prod-east", project, previous=first_deployments[before])


@pytest.mark.plans
@pytest.mark.parametrize(
    "values, key, message",
    [
        ({"peerRegion": "us-east-1"}, "cdc-platform:link.peerRegion", "is this stack's own region us-east-1"),
        ({"peerStack": "acme-lending/cdc-platform/prod-south"}, "cdc-platform:link.peerStack", "names no stack file"),
        ({"peerStack": "acme-lending/cdc-platform/prod-east"}, "cdc-platform:link.peerStack", "cannot link to itself"),
        ({"mirrorStatus": "STOPPED"}, "cdc-platform:link.mirrorStatus", "'STOPPED' is not one of"),
    ],
)
def test_bad_link_settings_name_file_and_key(project: Path, values: dict[str, str], key: str, message: str) -> None:
    set_link(project, "prod-east", **values)
    with pytest.raises(ConfigError) as error:
        plan("prod-east", project)
    assert (error.value.file, error.value.path) == ("Pulumi.prod-east.yaml", key)
    assert message in str(error.value)


@pytest.mark.plans
def test_a_route_topic_under_the_link_prefix_is_refused(project: Path) -> None:
    edit_routes(project, lambda routes: routes[0].update(outputTopic="us-west-2.loans"))
    with pytest.raises(ConfigError) as error:
        plan("prod-east", project)
    assert error.value.path == "routes[0].outputTopic" and "the prefix of the peer's mirrors" in str(error.value)


def add_route(project: Path, topic: str) -> None:
    path = project / "flink_sql/routes.yaml"
    document = yaml.safe_load(path.read_text())
    document["routes"].append(
        {
            "id": "loan-closed",
            "outputTopic": topic,
            "conditions": [{"field": "event_type", "operator": "equals", "value": "LoanClosed"}],
        }
    )
    path.write_text(yaml.safe_dump(document))


@pytest.mark.plans
def test_recorded_failover_never_calls_confluent_again(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    """`cdcctl link failover` did it; the setting records it: status changes are ignored then, so a stale
    ACTIVE (or a refreshed SOURCE_UNAVAILABLE) in state never reaches the provider's transition check."""
    first = plan("prod-east", project)
    assert {tuple(m.ignore_changes) for m in of_type(first, "KafkaMirrorTopic")} == {()}
    for status, action in (("FAILED_OVER", "failover"), ("PROMOTED", "promote")):
        set_link(project, "prod-east", mirrorStatus=status)
        with caplog.at_level(logging.WARNING):
            second = plan("prod-east", project, previous=first.raw_outputs)
        assert [r for r in caplog.records if f"what `cdcctl link {action} --stack prod-east` did" in r.getMessage()]
        assert {tuple(m.ignore_changes) for m in of_type(second, "KafkaMirrorTopic")} == {("status",)}
        assert {m.retain_on_delete for m in of_type(second, "KafkaMirrorTopic")} == {True}


def test_the_link_is_deleted_before_its_replacement_under_the_same_name(plans: dict[str, Plan]) -> None:
    assert link_of(plans["prod-east"]).delete_before_replace


@pytest.mark.plans
def test_new_mirrors_wait_while_the_status_is_not_active(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    set_link(project, "prod-east", mirrorStatus="PAUSED")
    first = plan("prod-east", project)  # first deployment already paused: every mirror would start ACTIVE
    assert not of_type(first, "KafkaMirrorTopic")
    set_link(project, "prod-east", mirrorStatus="ACTIVE")
    second = plan("prod-east", project, previous=first.raw_outputs)
    before = set(mirrors_of(second))
    set_link(project, "prod-east", mirrorStatus="PAUSED")
    add_route(project, "filtered-loan-closed-events")
    with caplog.at_level(logging.WARNING):
        third = plan("prod-east", project, previous=second.raw_outputs)
    assert set(mirrors_of(third)) == before  # the peer's new topic is not mirrored while paused
    assert third.outputs["clusterLink"]["mirrors"] == sorted(before)
    (warning,) = [
        r.getMessage() for r in caplog.records if "held back" in r.getMessage() and "closed" in r.getMessage()
    ]
    assert "while `link.mirrorStatus` is PAUSED" in warning
    set_link(project, "prod-east", mirrorStatus="ACTIVE")
    fourth = plan("prod-east", project, previous=third.raw_outputs)
    assert set(mirrors_of(fourth)) == before | {"us-west-2.filtered-loan-closed-events"}


@pytest.mark.plans
def test_renaming_the_link_under_existing_mirrors_is_refused(project: Path) -> None:
    first = plan("prod-east", project)
    path = project / "Pulumi.prod.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["cdc-platform:environment"]["name"] = "cdc-production"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError) as error:
        plan("prod-east", project, previous=first.raw_outputs)
    assert (error.value.file, error.value.path) == ("Pulumi.prod-east.yaml", "cdc-platform:link")
    assert "replaces it and its 5 mirror topics" in str(error.value)


@pytest.mark.plans
def test_a_route_added_in_one_deploy_names_the_catch_up_run(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The peer mirrors this region's topics as of its own last `up`: prod-west deployed before the new route
    existed, so prod-east warns that prod-west must run again; once it has, no warning."""
    east_before, west_before = plan("prod-east", project).raw_outputs, plan("prod-west", project).raw_outputs
    add_route(project, "filtered-loan-closed-events")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        plan("prod-east", project, previous=east_before, peer_outputs=west_before)
    (warning,) = [r.getMessage() for r in caplog.records if "does not mirror" in r.getMessage()]
    assert "does not mirror filtered-loan-closed-events yet" in warning
    assert "pulumi up --stack acme-lending/cdc-platform/prod-west" in warning
    west_after = plan("prod-west", project).raw_outputs
    assert "us-east-1.filtered-loan-closed-events" in west_after["clusterLink"]["mirrors"]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        plan("prod-east", project, previous=east_before, peer_outputs=west_after)
    assert not [r for r in caplog.records if "does not mirror" in r.getMessage()]


def synced(filters: str, group: str) -> bool:
    """Confluent's group filters: INCLUDE/EXCLUDE, LITERAL (whole name) or PREFIXED; an exclusion wins."""
    rules = json.loads(filters)["groupFilters"]

    def matches(rule: dict[str, str]) -> bool:
        name = rule["name"]
        return group == name or name == "*" if rule["patternType"] == "LITERAL" else group.startswith(name)

    included = any(matches(r) for r in rules if r["filterType"] == "INCLUDE")
    return included and not any(matches(r) for r in rules if r["filterType"] == "EXCLUDE")


@pytest.mark.parametrize("stack, peer", PAIRS)
def test_offsets_sync_only_out_of_a_groups_home_region(plans: dict[str, Plan], stack: str, peer: str) -> None:
    """A group consuming in its home region is never overwritten there; one homed in the peer's region
    arrives here with its offsets, so its consumer moves region under the same group id."""
    filters = link_of(plans[stack]).inputs["config"]["consumer.offset.group.filters"]
    here, there = region_of(stack), region_of(peer)
    for prefix in CONSUMER_PREFIXES:
        assert not synced(filters, f"{prefix}{here}-ledger")  # live here: its offsets are its own
        assert synced(filters, f"{prefix}{there}-ledger")  # moves here from the peer with its offsets
        assert not synced(filters, f"{prefix}ledger")  # no home region: never synced either way
    assert not synced(filters, f"payments-{there}-ledger")  # not a route consumer's group
    # Each group is synced in exactly one direction: the two halves' filters never both take a group.
    other = link_of(plans[peer]).inputs["config"]["consumer.offset.group.filters"]
    for prefix in CONSUMER_PREFIXES:
        for region in (here, there):
            assert synced(filters, f"{prefix}{region}-g") != synced(other, f"{prefix}{region}-g")


@pytest.mark.plans
def test_failback_to_active_is_planned_with_a_warning_and_status_followed_again(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = plan("prod-east", project)
    set_link(project, "prod-east", mirrorStatus="FAILED_OVER")
    second = plan("prod-east", project, previous=first.raw_outputs)
    set_link(project, "prod-east", mirrorStatus="ACTIVE")
    with caplog.at_level(logging.WARNING):
        third = plan("prod-east", project, previous=second.raw_outputs)
    assert [r for r in caplog.records if r.getMessage().startswith("failback from FAILED_OVER")]
    assert {tuple(m.ignore_changes) for m in of_type(third, "KafkaMirrorTopic")} == {()}
