"""The offline plan's SDK shortcuts (cdcctl/fast_mocks.py) change nothing but speed, and fail loudly
when a pulumi upgrade moves what they replace."""

from __future__ import annotations

import gc
from importlib.metadata import version
from types import CodeType
from typing import Any

import pytest
from pulumi.runtime import _depends_on, resource, resource_cycle_breaker

from cdcctl import fast_mocks
from cdcctl.plan import Plan, plan
from tests.helpers import REPO, STACKS

# Who calls each replaced function in pulumi 3.272 (looked up as a module global at each call).
CALLERS: dict[str, tuple[Any, ...]] = {
    "_get_stack_trace": (resource.register_resource, resource.read_resource),
    "_add_dep": (resource_cycle_breaker.declare_dependency,),
    "_resolve_depends_on": (_depends_on._resolve_depends_on_urns,),
    "create_urn": (resource.register_resource, resource.read_resource),
}


def _names_called(code: CodeType) -> set[str]:
    """The globals a function's code looks up, its nested functions' (e.g. do_register) included."""
    nested = (const for const in code.co_consts if isinstance(const, CodeType))
    return set(code.co_names).union(*map(_names_called, nested))


def test_shortcuts_were_reviewed_for_this_pulumi_version() -> None:
    # On an upgrade: diff the replaced functions against the new SDK, then update this version.
    assert version("pulumi") == "3.272.0"


@pytest.mark.parametrize(("module", "name", "shortcut"), fast_mocks.SDK_SHORTCUTS, ids=lambda v: str(v)[:40])
def test_the_sdk_still_calls_what_the_plan_replaces(module: Any, name: str, shortcut: Any) -> None:
    assert hasattr(module, name), f"pulumi no longer has {module.__name__}.{name}"
    for caller in CALLERS[name]:
        assert name in _names_called(caller.__code__), f"{caller.__qualname__} no longer calls {name}"


@pytest.mark.parametrize("stack", STACKS)
def test_plans_are_the_same_with_and_without_the_shortcuts(
    plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch, stack: str
) -> None:
    monkeypatch.setattr(fast_mocks, "SDK_SHORTCUTS", ())
    monkeypatch.setattr(fast_mocks, "MOCK_RPC_WORKERS", 0)  # the SDK's own thread pool
    plain, fast = plan(stack, REPO), plans[stack]
    assert [(r.urn, r.inputs, r.parent, r.protect) for r in plain.resources] == [
        (r.urn, r.inputs, r.parent, r.protect) for r in fast.resources
    ]
    assert {r.urn: sorted(r.dependencies) for r in plain.resources} == {
        r.urn: sorted(r.dependencies) for r in fast.resources
    }
    assert plain.outputs == fast.outputs


def test_the_collector_runs_again_after_a_plan(plans: dict[str, Plan]) -> None:
    assert gc.isenabled()
