"""Helpers the tests share: finding resources in a plan, principals' bindings, the golden plans."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from cdcctl.plan import Plan, PlannedResource
from monitoring.targets import ConnectorWatch, ConsumerWatch, MonitoringTargets

REPO = Path(__file__).resolve().parent.parent
STACKS = ("dev", "prod", "prod-east", "prod-west")
GOLDEN = REPO / "tests" / "golden"


def copy_project(target: Path, stacks: tuple[str, ...] = STACKS) -> Path:
    """The program, these stacks' files (and of the stacks they read: global stack, link peer) and the
    shipped routes, copied to `target` (a test's project)."""
    needed = set(stacks)
    for stack in stacks:
        config = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
        references = [config.get("cdc-platform:globalStack"), (config.get("cdc-platform:link") or {}).get("peerStack")]
        needed |= {str(r).rsplit("/", 1)[-1] for r in references if r}
    for name in ("Pulumi.yaml", "__main__.py", *(f"Pulumi.{stack}.yaml" for stack in sorted(needed))):
        shutil.copy(REPO / name, target / name)
    (target / "flink_sql").mkdir(exist_ok=True)
    shutil.copy(REPO / "flink_sql/routes.yaml", target / "flink_sql/routes.yaml")
    return target


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
)
