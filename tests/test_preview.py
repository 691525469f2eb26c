"""`cdcctl preview`: real changes made to a copy of the project in a scratch git repository (the base
committed, the change left in the working tree), previewed as a pull request's first review gets it;
and the replacement table, complete over everything the shipped stacks register."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdcctl.__main__ import main
from cdcctl.plan import plan
from cdcctl.preview import load_rules
from tests.helpers import GOLDEN, REPO, the_one_error_line

pytestmark = pytest.mark.plans

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's files (tests and workflows aside) committed in a fresh repository."""
    root = tmp_path_factory.mktemp("project")
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in listed:
        if name.startswith(("tests/", ".github/", ".venv", ".engine-venv")) or not (REPO / name).is_file():
            continue
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, root / name)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "base"], cwd=root, check=True)
    return root


@pytest.fixture
def project(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    monkeypatch.chdir(root)
    return root


def edit_config(project: Path, stack: str, key: str, change: Any) -> None:
    path = project / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    change(document["config"][f"cdc-platform:{key}"])
    path.write_text(yaml.safe_dump(document))


def preview(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["preview", "--base", "main", "--json", *args])
    captured = capsys.readouterr()
    assert captured.out, captured.err
    return code, json.loads(captured.out)


def by_kind(report: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """Provider resources of a kind (not the program's components of the same name)."""
    return {
        r["name"]: r
        for r in report["resources"]
        if r["type"].rsplit(":", 1)[-1] == kind and not r["type"].startswith("cdc:")
    }


def test_an_unchanged_tree_changes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = preview(capsys, "--stack", "dev", "--fail-on-replace")
    assert code == 0
    assert {k: v for k, v in report["summary"].items() if v} == {"unchanged": len(report["resources"])}


def test_a_changed_availability_replaces_the_dev_cluster_and_its_topics(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_config(project, "dev", "kafka", lambda kafka: kafka.update(availability="MULTI_ZONE"))
    code, report = preview(capsys, "--stack", "dev")
    assert code == 0  # reported, not failed, without --fail-on-replace
    (cluster,) = by_kind(report, "KafkaCluster").values()
    assert cluster["change"] == "replace"
    assert cluster["replacementForcedBy"] == ["availability"]
    assert cluster["flagged"] and "topic" in cluster["stateful"]
    # The topics name the cluster's id (ForceNew kafka_cluster block): they go with it.
    topics = by_kind(report, "KafkaTopic")
    assert topics and {t["change"] for t in topics.values()} == {"replace"}
    assert all(t["replacementForcedBy"][0].startswith("kafkaCluster (") for t in topics.values())
    # A replacement is no in-place update the provider could refuse.
    assert not [r for r in report["resources"] if r["change"] == "replace" and r["refusedInPlace"]]
    assert report["summary"]["create"] == report["summary"]["delete"] == 0

    code, _ = preview(capsys, "--stack", "dev", "--fail-on-replace")
    assert code == 3


def test_a_partition_decrease_replaces_the_topic_and_an_increase_updates_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_config(project, "dev", "topics", lambda topics: topics["raw"].update(partitions=2))
    code, report = preview(capsys, "--stack", "dev", "--fail-on-replace")
    assert code == 3
    topics = by_kind(report, "KafkaTopic")
    raw = topics["us-east-1-kafka-topic-raw-business-events"]
    assert raw["change"] == "replace" and raw["flagged"]
    assert raw["replacementForcedBy"] == ["partitionsCount (decreased 3 -> 2: Kafka only adds partitions)"]
    assert {name for name, t in topics.items() if t["change"] != "unchanged"} == {raw["name"]}

    edit_config(project, "dev", "topics", lambda topics: topics["raw"].update(partitions=6))
    code, report = preview(capsys, "--stack", "dev", "--fail-on-replace")
    raw = by_kind(report, "KafkaTopic")["us-east-1-kafka-topic-raw-business-events"]
    assert code == 0
    assert (raw["change"], raw["changedInputs"], raw["refusedInPlace"]) == ("update", ["partitionsCount"], [])


def test_a_route_change_starts_a_new_statement_generation_and_stops_the_old_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = project / "flink_sql/routes.yaml"
    document = yaml.safe_load(routes.read_text())
    document["routes"].append(
        {
            "id": "big-loans",
            "outputTopic": "filtered-big-loans",
            "conditions": [{"field": "event_type", "operator": "equals", "value": "Big"}],
        }
    )
    routes.write_text(yaml.safe_dump(document))
    code, report = preview(capsys, "--stack", "dev", "--fail-on-replace")
    statements = by_kind(report, "FlinkStatement")
    changes = sorted((s["change"], s["changedInputs"]) for s in statements.values())
    # The successor and the added route's backfill are created; the predecessor is stopped in place; the
    # raw table's settings statement is unchanged.
    assert changes == [("create", []), ("create", []), ("unchanged", []), ("update", ["stopped"])]
    assert len([name for name in statements if "-backfill-" in name]) == 1
    assert not [s for s in statements.values() if s["refusedInPlace"]]
    assert by_kind(report, "KafkaTopic")["us-east-1-kafka-topic-filtered-big-loans"]["change"] == "create"
    assert code == 0  # nothing stateful is replaced or deleted


def test_the_text_report_names_what_forces_the_replacement(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_config(project, "dev", "kafka", lambda kafka: kafka.update(availability="MULTI_ZONE"))
    assert main(["preview", "--stack", "dev", "--base", "main"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\+- replace\s+confluentcloud:KafkaCluster\s+us-east-1-kafka-cluster", out)
    assert "replaced because: availability" in out
    assert "FLAGGED:" in out and "loses every topic on it" in out


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--base", "no-such-ref"], "no-such-ref: --base: names no commit"),
        (["--base=--all"], "--all: --base: is not a git revision"),
        (["--base", "main", "--outputs", "missing.json"], "missing.json"),
        (["--base", "main", "--stack", "nope"], "Pulumi.nope.yaml: config: no stack file for stack 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str], names: str
) -> None:
    assert main(["preview", "--stack", "dev", *args]) == 2  # a later --stack wins
    assert names in the_one_error_line(capsys)


def test_a_stack_new_in_the_working_tree_is_named(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(project / "Pulumi.dev.yaml", project / "Pulumi.dev2.yaml")
    assert main(["preview", "--stack", "dev2", "--base", "main"]) == 2
    assert "has no Pulumi.dev2.yaml" in the_one_error_line(capsys)


# --- the replacement table ------------------------------------------------------------------------------


def registered_types() -> set[str]:
    """Every type the shipped stacks register (the reviewed golden plans), components aside."""
    types = set()
    for path in GOLDEN.glob("*.json"):
        types |= {r["type"] for r in json.loads(path.read_text())["resources"] if not r["type"].startswith("cdc:")}
    return types


def test_every_registered_type_has_a_replacement_rule() -> None:
    assert registered_types()
    assert registered_types() <= set(load_rules().types), registered_types() - set(load_rules().types)


def test_every_rule_names_real_inputs_of_the_pulumi_class() -> None:
    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(word.title() for word in rest)

    for token, rule in load_rules().types.items():
        package, rest = token.split(":", 1)
        if package not in ("confluentcloud", "aws"):
            continue
        module, cls = rest.split(":")[0].split("/")[0], rest.rsplit(":", 1)[-1]
        if package == "aws":
            module = f"pulumi_aws.{'lambda_' if module == 'lambda' else module}"
        else:
            module = "pulumi_confluentcloud"
        signature = inspect.signature(getattr(importlib.import_module(module), cls)._internal_init)
        inputs = {camel(p) for p in signature.parameters}
        named = {p.split(".")[0] for p in (*rule.replace, *(rule.updatable or ()))}
        assert named <= inputs, f"{token}: {named - inputs}"


def test_the_table_names_the_provider_versions_it_was_read_from() -> None:
    lock = (REPO / "requirements.lock").read_text()
    for provider in load_rules().providers.values():
        assert f"{provider['package']}=={provider['version']}" in lock, provider
        assert provider["source"]


def test_the_base_is_planned_by_its_own_code_not_the_working_trees(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A base commit whose infra/ declared compacted topics: the working tree's code (delete) shows as an
    # update of every topic's config, which planning the base with today's code would hide.
    kafka = project / "infra/kafka.py"
    kafka.write_text(kafka.read_text().replace('{"cleanup.policy": "delete"', '{"cleanup.policy": "compact"'))
    subprocess.run([*GIT, "commit", "-qam", "compacted topics"], cwd=project, check=True)
    subprocess.run(["git", "checkout", "-q", "HEAD~1", "--", "infra/kafka.py"], cwd=project, check=True)
    code, report = preview(capsys, "--stack", "dev", "--fail-on-replace")
    topics = by_kind(report, "KafkaTopic")
    assert {(t["change"], tuple(t["changedInputs"])) for t in topics.values()} == {("update", ("config",))}
    assert code == 0  # a config update loses nothing


def test_removing_a_route_in_prod_flags_the_protected_topic_it_deletes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routes = project / "flink_sql/routes.yaml"
    document = yaml.safe_load(routes.read_text())
    document["routes"] = [r for r in document["routes"] if r["outputTopic"] != "filtered-car-created-events"]
    routes.write_text(yaml.safe_dump(document))
    # Its consumer's key delivery goes with it, in both regions (settings naming a consumer no route has
    # are refused, and the plan of prod-east plans its peer).
    for region_stack in ("prod-east", "prod-west"):
        stack_file = project / f"Pulumi.{region_stack}.yaml"
        stack = yaml.safe_load(stack_file.read_text())
        del stack["config"]["cdc-platform:credentials"]["consumers"]["car-consumer"]
        stack_file.write_text(yaml.safe_dump(stack))
    code, report = preview(capsys, "--stack", "prod-east", "--fail-on-replace")
    assert code == 3
    topic = by_kind(report, "KafkaTopic")["us-east-1-kafka-topic-filtered-car-created-events"]
    assert (topic["change"], topic["protect"], topic["flagged"]) == ("delete", True, True)
    assert topic in report["flagged"]
    # This stack's mirror of the peer's topic of that route goes too; nothing is replaced.
    mirrors = by_kind(report, "KafkaMirrorTopic")
    assert mirrors["us-east-1-link-mirror-filtered-car-created-events"]["change"] == "delete"
    assert report["summary"]["replace"] == 0


def test_the_deployed_outputs_stand_for_the_stacks_last_deployment_on_both_sides(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Deployed: an older statement generation still running (outputs as `pulumi stack output --json`).
    outputs = plan("dev", project).raw_outputs
    # (its SQL routes the same topics: no route is added, so nothing is backfilled)
    outputs["routingStatement"] = {**outputs["routingStatement"], "name": "dev-routes-deadbeef00"}
    (project / "outputs.json").write_text(json.dumps(outputs))
    code, report = preview(capsys, "--stack", "dev", "--outputs", "outputs.json")
    statements = by_kind(report, "FlinkStatement")
    assert code == 0 and report["outputs"] == "outputs.json"
    # Both sides carry over from the deployed generation: it is declared (stopped) and nothing differs.
    generations = [name for name in statements if "-routes-" in name]
    assert len(generations) == 2 and any("deadbeef00" in name for name in generations)
    assert {s["change"] for s in statements.values()} == {"unchanged"}
    _, without = preview(capsys, "--stack", "dev")
    assert len([name for name in by_kind(without, "FlinkStatement") if "-routes-" in name]) == 1
