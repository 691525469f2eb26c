"""pytest plugin for `make mutation` only (pyproject.toml [tool.mutmut]): the fast tier, cheapest first.

- A test that needs an engine (Flink or Debezium from .engine-venv, or a PostgreSQL server) is skipped
  where it asks for one: the engine tier is not part of the mutation run, and engine tests are found by
  what they do, so a new one needs no list kept up to date.
- Unit tests run before the tests that plan whole stacks: mutmut stops a mutant's run at its first
  failing test (-x), so a mutant the unit tests kill is done in well under a second.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

# Modules whose tests run the program under the mock runtime (an offline plan per test or per session).
PLANNING_MODULES = frozenset(
    {
        "test_bad_config.py",
        "test_cdc_plan.py",
        "test_consumer.py",
        "test_cost.py",
        "test_golden_plans.py",
        "test_plans.py",
        "test_source_health_plan.py",
        "test_statement_generations.py",
    }
)


def _plans_a_stack(item: pytest.Item) -> bool:
    return item.path.name in PLANNING_MODULES or "plans" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_plans_a_stack)  # stable: file order within each group


def _engine(*args: object, **kwargs: object) -> NoReturn:
    pytest.skip("needs an engine: the mutation run is the fast tier only")


def pytest_configure(config: pytest.Config) -> None:
    # Where cdcctl finds its engines: the engine virtualenv's interpreter, PostgreSQL's server binaries.
    # Replaced for the whole session (module-scoped fixtures start engines too); a rename fails here.
    import rehearsal.postgres
    import rehearsal.routing

    for module, name in ((rehearsal.routing, "engine_python"), (rehearsal.postgres, "_bin_dir")):
        if not callable(getattr(module, name, None)):
            raise pytest.UsageError(f"{module.__name__}.{name} is no longer how cdcctl finds an engine")
        setattr(module, name, _engine)
