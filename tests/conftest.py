"""Shared fixtures: offline plans of every stack in the repo, each planned once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdcctl.plan import Plan, plan
from tests.helpers import REPO, STACKS


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
