"""The raw topic is named once, in the settings, and both layers follow it: with `topics.raw.name`
renamed in an all-in-one stack, the connector writes, Flink reads, and the global layer sets the
compatibility of and owns the renamed topic's subject; the default name appears nowhere in the plan."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cdcctl.__main__ import main
from cdcctl.plan import Plan, plan
from tests.helpers import bindings_of, copy_project, of_type, principal_ids, the_one_error_line

pytestmark = pytest.mark.plans

RENAMED = "raw-renamed-events"


def renamed(project: Path, stack: str) -> None:
    path = project / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["config"].setdefault("cdc-platform:topics", {}).setdefault("raw", {})["name"] = RENAMED
    path.write_text(yaml.safe_dump(document), encoding="utf-8")


@pytest.fixture(scope="module")
def dev_renamed(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    project = copy_project(tmp_path_factory.mktemp("renamed"))
    renamed(project, "dev")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        return plan("dev", project)


def test_the_global_layer_sets_the_renamed_raw_subjects_compatibility(dev_renamed: Plan) -> None:
    levels = {r.inputs["subjectName"]: r.inputs["compatibilityLevel"] for r in of_type(dev_renamed, "SubjectConfig")}
    assert levels[f"{RENAMED}-value"] == "BACKWARD_TRANSITIVE"
    assert "raw-business-events-value" not in levels


def test_the_schema_manager_owns_the_renamed_raw_subject(dev_renamed: Plan) -> None:
    owned = {
        crn.rsplit("/subject=", 1)[1]
        for role, crn in bindings_of(dev_renamed, principal_ids(dev_renamed)["schema-manager"])
        if role == "ResourceOwner"
    }
    assert f"{RENAMED}-value" in owned
    assert "raw-business-events-value" not in owned


def test_the_default_raw_topic_name_appears_nowhere_in_the_plan(dev_renamed: Plan) -> None:
    inputs = [r.as_json() for r in dev_renamed.resources]
    assert "raw-business-events" not in yaml.safe_dump(inputs) + yaml.safe_dump(dev_renamed.outputs)
    assert RENAMED in {r.inputs["topicName"] for r in of_type(dev_renamed, "KafkaTopic")}


def test_a_region_stack_renaming_the_raw_topic_is_refused_before_anything_registers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = copy_project(tmp_path)
    renamed(project, "prod-east")
    monkeypatch.chdir(project)
    assert main(["plan", "--stack", "prod-east"]) == 2
    assert the_one_error_line(capsys).startswith(
        f"error: Pulumi.prod-east.yaml: cdc-platform:topics.raw.name: '{RENAMED}': a region stack keeps"
    )
