"""Shared fixtures: offline plans of every stack in the repo, each planned once per session; a copy of the
project to edit; and the tiers' guard.

Tiers (markers registered in pyproject.toml): `engine` for a test that starts Flink, Debezium, PostgreSQL
or Kafka (`make test-fast` = `pytest -m "not engine"`), `plans` for a test that plans stacks (given to
every test that takes the `plans` fixture).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

import cdcctl.plan
import rehearsal.kafka
import rehearsal.postgres
import rehearsal.routing
from cdcctl.plan import Plan, plan
from tests.helpers import REPO, STACKS, copy_project

# What a test of each tier calls, and nothing else does: where the rehearsal finds its engines (the engine
# virtualenv's interpreter for Flink and Debezium, PostgreSQL's server binaries), and the program run of
# an offline plan (every plan, by a test or a command, goes through it).
TIERS: dict[str, tuple[tuple[ModuleType, str], ...]] = {
    "engine": (
        (rehearsal.routing, "engine_python"),
        (rehearsal.postgres, "_bin_dir"),
        (rehearsal.kafka, "broker_classpath"),
    ),
    "plans": ((cdcctl.plan, "_run_program"),),
}


@pytest.fixture(scope="session", autouse=True)
def _run_from_repo() -> Iterator[None]:
    """Plans, like the Pulumi CLI, run in the project directory."""
    previous = Path.cwd()
    os.chdir(REPO)
    yield
    os.chdir(previous)


@pytest.fixture(scope="session")
def plans(_run_from_repo: None) -> dict[str, Plan]:
    """Every stack's plan, for tests that only read one (never edit what they get)."""
    return {stack: plan(stack, REPO) for stack in STACKS}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project (tests.helpers.copy_project) as the working directory, to edit with
    `edit_stack` / `edit_routes` and plan. A module that needs more in it overrides this fixture with one
    that takes `project` and adds to it."""
    monkeypatch.chdir(copy_project(tmp_path))
    return tmp_path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Reading the session's plans is planning: such tests need no marker of their own. The engine tier
    runs first (file order kept within each tier): pytest-xdist hands out whole files (`--dist loadfile`)
    as workers free up, so the long files start early instead of finishing last on one worker."""
    for item in items:
        if "plans" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.plans)
    items.sort(key=lambda item: item.get_closest_marker("engine") is None)


def _refuse(marker: str) -> Callable[..., NoReturn]:
    def refused(*args: object, **kwargs: object) -> NoReturn:
        pytest.fail(f"this test needs the `{marker}` tier: mark it `@pytest.mark.{marker}` (tests/conftest.py)", False)

    return refused


_GUARD = pytest.StashKey[pytest.MonkeyPatch]()  # each test's tier guard, undone at its teardown


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Keeps the tiers honest: a test that starts an engine or plans a stack without its marker fails.
    Applied before any fixture of the test is set up (a module-scoped server fixture included); a child
    process (`python -m cdcctl rehearse`) finds no engine interpreter outside the engine tier."""
    guard = pytest.MonkeyPatch()
    item.stash[_GUARD] = guard
    for marker, entry_points in TIERS.items():
        if item.get_closest_marker(marker) is None:
            for module, name in entry_points:
                if not callable(getattr(module, name, None)):
                    raise pytest.UsageError(f"{module.__name__}.{name} is no longer the `{marker}` tier's entry")
                guard.setattr(module, name, _refuse(marker))
    if item.get_closest_marker("engine") is None:
        guard.setenv("CDC_ENGINE_PYTHON", "/refused-outside-the-engine-tier/python")


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    item.stash[_GUARD].undo()
