"""The test tiers hold: a test without the `engine` marker cannot start an engine, one without `plans`
cannot plan a stack (tests/conftest.py), so `make test-fast` (`-m "not engine"`) starts no engine."""

from __future__ import annotations

import pytest

import rehearsal.postgres
import rehearsal.routing
from cdcctl.plan import plan
from tests.helpers import REPO


def test_an_unmarked_test_cannot_start_flink_or_postgresql() -> None:
    for find in (rehearsal.routing.engine_python, rehearsal.postgres._bin_dir):
        with pytest.raises(pytest.fail.Exception, match=r"mark it `@pytest.mark.engine`"):
            find()


def test_an_unmarked_test_cannot_plan() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"mark it `@pytest.mark.plans`"):
        plan("prod", REPO)


@pytest.mark.plans
def test_a_test_marked_plans_plans() -> None:
    assert plan("prod", REPO).stack == "prod"
