"""The offline plan's SDK shortcuts (cdcctl/fast_mocks.py) change nothing but speed, and fail loudly
when a pulumi upgrade moves what they replace."""

from __future__ import annotations

import contextvars
import gc
import importlib.util
import json
import logging
import subprocess
import sys
from importlib.machinery import PathFinder
from importlib.metadata import version
from types import CodeType, ModuleType
from typing import Any

import pulumi
import pytest
from pulumi.runtime import _depends_on, mocks, resource, resource_cycle_breaker, rpc, sync_await

from cdcctl import fast_mocks
from cdcctl.mocks import PlanMocks
from cdcctl.plan import Plan, plan
from tests.helpers import REPO, STACKS

# Who calls each replaced function in pulumi 3.272 (looked up as a module global at each call).
CALLERS: dict[str, tuple[Any, ...]] = {
    "_get_stack_trace": (resource.register_resource, resource.read_resource),
    "_add_dep": (resource_cycle_breaker.declare_dependency,),
    "_resolve_depends_on": (_depends_on._resolve_depends_on_urns,),
    "create_urn": (resource.register_resource, resource.read_resource),
    "transfer_properties": (resource.register_resource, resource.read_resource),
    "debug": (resource.register_resource, resource.read_resource),
    "_sync_await": (mocks.MockMonitor.RegisterResource, mocks.MockMonitor.ReadResource, mocks.MockMonitor.Invoke),
}


def _names_called(code: CodeType) -> set[str]:
    """The globals a function's code looks up, its nested functions' (e.g. do_register) included."""
    nested = (const for const in code.co_consts if isinstance(const, CodeType))
    return set(code.co_names).union(*map(_names_called, nested))


def test_shortcuts_were_reviewed_for_this_pulumi_version() -> None:
    # On an upgrade: diff the replaced functions against the new SDK, then update this version.
    assert version("pulumi") == "3.272.0"


@pytest.mark.parametrize(
    ("module", "name", "shortcut"), fast_mocks.SDK_SHORTCUTS, ids=[name for _, name, _ in fast_mocks.SDK_SHORTCUTS]
)
def test_the_sdk_still_calls_what_the_plan_replaces(module: Any, name: str, shortcut: Any) -> None:
    assert hasattr(module, name), f"pulumi no longer has {module.__name__}.{name}"
    for caller in CALLERS[name]:
        assert name in _names_called(caller.__code__), f"{caller.__qualname__} no longer calls {name}"


@pytest.mark.parametrize("stack", STACKS)
def test_plans_are_the_same_with_and_without_the_shortcuts(
    plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch, stack: str
) -> None:
    monkeypatch.setattr(fast_mocks, "SDK_SHORTCUTS", ())
    monkeypatch.setattr(fast_mocks, "MOCK_RPC_ON_THE_LOOP", False)  # the SDK's own thread pool
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


# A fresh interpreter: each stack planned with the provider SDKs imported in full beforehand (the lean
# import then has nothing to do) or not, printing what the in-session comparison above compares.
_PLAN_IN_A_FRESH_PROCESS = """
import importlib, json, sys
from cdcctl.plan import plan
if sys.argv[1] == "full":
    import pulumi_aws, pulumi_confluentcloud, pulumi_vault
    for sub in ("cloudwatch", "ec2", "iam", "lambda_", "lb", "rds", "route53", "secretsmanager", "sns", "vpc"):
        dir(getattr(pulumi_aws, sub))
summary = {}
for stack in sys.argv[2:]:
    p = plan(stack)
    resources = [[r.urn, r.inputs, r.parent, r.protect, sorted(r.dependencies), r.outputs] for r in p.resources]
    summary[stack] = resources, p.outputs
loaded = sorted(m for m in sys.modules if m.startswith("pulumi_confluentcloud."))
print(json.dumps({"plans": summary, "loaded": loaded}))
"""


def _plan_in_a_fresh_process(imports: str) -> dict[str, Any]:
    command = [sys.executable, "-c", _PLAN_IN_A_FRESH_PROCESS, imports, *STACKS]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_plans_are_the_same_with_the_provider_sdks_imported_in_full_or_lean() -> None:
    full, lean = _plan_in_a_fresh_process("full"), _plan_in_a_fresh_process("lean")
    assert lean["plans"] == full["plans"]
    # The lean import loaded only what the program uses, not the ~150 modules of the package.
    assert "pulumi_confluentcloud.ksql_cluster" in full["loaded"]
    assert "pulumi_confluentcloud.ksql_cluster" not in lean["loaded"]


def _package(name: str, finder: Any) -> ModuleType:
    """A fresh module object of a package, executed as `finder` finds it (its submodules are shared)."""
    parent, _, _ = name.rpartition(".")
    spec = finder.find_spec(name, importlib.import_module(parent).__path__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_lean_package_has_every_name_of_the_full_one() -> None:
    full, lean = _package("pulumi_vault.kv", PathFinder), _package("pulumi_vault.kv", fast_mocks._LeanPackages())
    assert "SecretV2" not in vars(lean)  # nothing star-imported yet
    assert lean.SecretV2 is full.SecretV2  # found by its file name, secret_v2.py
    assert lean.AwaitableGetSecretV2Result is full.AwaitableGetSecretV2Result  # not found so: every star import
    names = {
        name for name, value in vars(full).items() if not name.startswith("__") and not isinstance(value, ModuleType)
    }
    assert {name: getattr(lean, name) for name in names} == {name: getattr(full, name) for name in names}


def test_a_serialization_that_waits_is_finished_on_the_loop_as_before() -> None:
    loop = sync_await._ensure_event_loop()  # type: ignore[no-untyped-call]

    def waiting_properties() -> dict[str, Any]:
        later = loop.create_future()
        loop.call_soon(later.set_result, "value")
        return {"plain": 1, "later": pulumi.Output.from_input(later)}

    fast = fast_mocks._sync_await_at_once(rpc.serialize_properties(waiting_properties(), {}))
    sdk = sync_await._sync_await(rpc.serialize_properties(waiting_properties(), {}))
    assert fast == sdk
    assert dict(fast) == {"plain": 1, "later": "value"}


def test_the_sdks_debug_lines_still_reach_the_mock_engines_logger(caplog: pytest.LogCaptureFixture) -> None:
    def log_under_mocks() -> None:
        pulumi.runtime.set_mocks(PlanMocks("dev", {}, {}), preview=False)
        caplog.clear()  # the SDK's own lines about the stack resource
        fast_mocks._debug_at_once("resource registration prepared")

    with caplog.at_level(logging.DEBUG):
        contextvars.Context().run(log_under_mocks)
    assert caplog.messages == ["resource registration prepared"]
