"""Shared fixtures: offline plans of every stack in the repo, each planned once per session."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cdcctl.plan import Plan, PlannedResource, plan

REPO = Path(__file__).resolve().parent.parent
STACKS = ("dev", "prod", "prod-east", "prod-west")


@pytest.fixture(scope="session", autouse=True)
def _run_from_repo() -> Iterator[None]:
    """Plans, like the Pulumi CLI, run in the project directory."""
    previous = Path.cwd()
    os.chdir(REPO)
    yield
    os.chdir(previous)


@pytest.fixture(scope="session")
def plans(_run_from_repo: None) -> dict[str, Plan]:
    return {stack: plan(stack, REPO) for stack in STACKS}


def of_type(p: Plan, kind: str) -> list[PlannedResource]:
    """Provider resources (not our components) whose type ends with `kind` (e.g. "KafkaTopic")."""
    return [r for r in p.resources if r.type.rsplit(":", 1)[-1] == kind and not r.type.startswith("cdc:")]


def one(p: Plan, kind: str, where: Callable[[PlannedResource], bool] = lambda r: True) -> PlannedResource:
    found = [r for r in of_type(p, kind) if where(r)]
    assert len(found) == 1, f"expected one {kind}, found {[r.name for r in found]}"
    return found[0]


def dumped(p: Plan) -> str:
    return json.dumps([r.as_json() for r in p.resources]) + json.dumps(p.outputs)


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
