"""Refactoring guard: every stack's plan is byte-identical to its reviewed golden copy.

A deliberate infrastructure change refreshes the copies with `make golden`; the diff then shows in
review exactly what each stack will register and export differently."""

from __future__ import annotations

import difflib

import pytest

from cdcctl.plan import Plan
from tests.helpers import GOLDEN, REPO, STACKS, golden_text


@pytest.mark.parametrize("stack", STACKS)
def test_plan_matches_its_golden_copy(plans: dict[str, Plan], stack: str) -> None:
    expected = (GOLDEN / f"{stack}.json").read_text(encoding="utf-8")
    actual = golden_text(plans[stack])
    if actual != expected:
        diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(), "golden", "plan", lineterm="", n=2)
        pytest.fail(
            f"plan of {stack} differs from tests/golden/{stack}.json (run `make golden` if meant):\n"
            + "\n".join(list(diff)[:60])
        )


@pytest.mark.parametrize("stack", STACKS)
def test_plans_do_not_depend_on_where_the_project_is_checked_out(plans: dict[str, Plan], stack: str) -> None:
    """Asset paths are relative to the project directory: a plan made elsewhere (CI's clone) is the same."""
    assert str(REPO) not in golden_text(plans[stack])
