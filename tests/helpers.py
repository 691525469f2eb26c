"""Helpers the tests share: finding resources in a plan, principals' bindings, the golden plans."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from cdcctl.plan import Plan, PlannedResource
from monitoring.targets import ConnectorWatch, ConsumerWatch, MonitoringTargets

REPO = Path(__file__).resolve().parent.parent
STACKS = ("dev", "prod", "prod-east", "prod-west")
GOLDEN = REPO / "tests" / "golden"


def copy_project(target: Path) -> Path:
    """What a plan or a command reads of the project (entry point, every stack file, the shipped routes
    and sample records), copied to `target`: a test's project to edit (the `project` fixture)."""
    for path in (REPO / "Pulumi.yaml", REPO / "__main__.py", *sorted(REPO.glob("Pulumi.*.yaml"))):
        shutil.copy(path, target / path.name)
    (target / "flink_sql").mkdir(exist_ok=True)
    shutil.copy(REPO / "flink_sql/routes.yaml", target / "flink_sql/routes.yaml")
    shutil.copytree(REPO / "flink_sql/samples", target / "flink_sql/samples", dirs_exist_ok=True)
    return target


def edit_stack(project: Path, stack: str, changes: Mapping[str, Any]) -> None:
    """The one stack editor: set each `key.sub.sub` of the project's Pulumi.<stack>.yaml (a first segment
    without a namespace is a cdc-platform key) to its value; None deletes the key."""
    path = project / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        head, *rest = dotted.split(".")
        node, key = document["config"], head if ":" in head else f"cdc-platform:{head}"
        for part in rest:
            node, key = node.setdefault(key, {}), part
        if value is None:
            node.pop(key, None)
        else:
            node[key] = value
    path.write_text(yaml.safe_dump(document))


def edit_routes(project: Path, change: Callable[[list[dict[str, Any]]], None]) -> None:
    """Rewrite the project's flink_sql/routes.yaml: `change` edits its list of routes in place."""
    path = project / "flink_sql/routes.yaml"
    document = yaml.safe_load(path.read_text())
    change(document["routes"])
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def load_function(name: str) -> ModuleType:
    """A Lambda handler of functions/<name>/handler.py, imported as the Lambda runtime does (a file,
    not a package of the program)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "functions" / name / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def the_one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """What a refused command printed: nothing on stdout, exactly one line on stderr, no traceback."""
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def of_type(p: Plan, kind: str) -> list[PlannedResource]:
    """Provider resources (not our components) whose type ends with `kind` (e.g. "KafkaTopic")."""
    return [r for r in p.resources if r.type.rsplit(":", 1)[-1] == kind and not r.type.startswith("cdc:")]


def one(p: Plan, kind: str, where: Callable[[PlannedResource], bool] = lambda r: True) -> PlannedResource:
    found = [r for r in of_type(p, kind) if where(r)]
    assert len(found) == 1, f"expected one {kind}, found {[r.name for r in found]}"
    return found[0]


def routing(p: Plan) -> PlannedResource:
    """The plan's one running routing statement set (not the raw table's settings, not a backfill)."""
    return one(p, "FlinkStatement", lambda r: "-routes-" in r.inputs["statementName"])


def dumped(p: Plan) -> str:
    return json.dumps([r.as_json() for r in p.resources]) + json.dumps(p.outputs)


def golden_text(p: Plan) -> str:
    """A stack's plan as stored in tests/golden: every resource as `cdcctl plan --json` prints it,
    and the stack's exports (secrets as "[secret]")."""
    document = {"resources": [r.as_json() for r in p.resources], "outputs": p.outputs}
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def principal_ids(p: Plan) -> dict[str, str]:
    """Service-account ids by principal name, from the global layer's exports."""
    return {name: f"User:{ref['id']}" for name, ref in p.outputs["principals"].items()}


def bindings_of(p: Plan, principal: str) -> set[tuple[str, str]]:
    """(role, crn pattern) of every role binding held by `principal` ("User:sa-...")."""
    return {
        (r.inputs["roleName"], r.inputs["crnPattern"])
        for r in of_type(p, "RoleBinding")
        if r.inputs["principal"] == principal
    }


# One region's watched resources with made-up ids, for monitoring tests that need no plan.
EXAMPLE_TARGETS = MonitoringTargets(
    stack="prod-east",
    region="us-east-1",
    organization_id="org",
    environment_id="env-1",
    cluster_id="lkc-1",
    cluster_type="DEDICATED",
    compute_pool_id="lfcp-1",
    flink_rest_endpoint="https://flink.us-east-1.aws.confluent.cloud",
    statements=("prod-east-routes-1",),
    connector=ConnectorWatch("lcc-1", "cdc-prod-us-east-1-postgres-cdc", "raw-business-events-heartbeat", 60_000),
    consumers=(ConsumerWatch("loan-consumer", "loan-consumer-"),),
    dead_letter_topic="raw-business-events-dlq",
)


def deployed_loan_consumer_outputs(directory: Path, group_prefix: str = "loan-consumer-") -> Path:
    """prod-east's outputs as `pulumi stack output --json` prints them for loan-consumer, with real-looking
    (non-mock) endpoints, written to `directory`/outputs.json."""
    outputs = {
        "bootstrapEndpoint": "SASL_SSL://lkc-real.us-east-1.aws.private.confluent.cloud:9092",
        "schemaRegistryEndpoint": "https://psrc-real.us-east-1.aws.confluent.cloud",
        "consumers": {
            "loan-consumer": {
                "topics": ["filtered-loan-created-events"],
                "groupPrefix": group_prefix,
                "secret": {
                    "awsSecretName": "cdc-platform/prod-east/loan-consumer",
                    "awsSecretArn": "arn:aws:secretsmanager:us-east-1:111122223333:secret:loan-AbCdEf",
                    "region": "us-east-1",
                    "keyGeneration": 1,
                },
            }
        },
        "monitoring": {"stack": "prod-east"},
        "region": "us-east-1",
    }
    path = directory / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


# The raw topic's key as the connector writes it for business_events' primary key (Debezium: one
# non-optional field per primary-key column), written out by hand: what the routed key subjects must hold.
RAW_KEY_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "business_events.Key",
    "type": "object",
    "properties": {"id": {"type": "string"}},
    "required": ["id"],
    "additionalProperties": False,
}
