"""The offline plan's SDK shortcuts (cdcctl/fast_mocks.py) change nothing but speed, and fail loudly
when a pulumi upgrade moves what they replace."""

from __future__ import annotations

import contextlib
import contextvars
import copy
import gc
import importlib.util
import json
import logging
import math
import subprocess
import sys
from importlib.machinery import PathFinder
from importlib.metadata import version
from types import CodeType, ModuleType
from typing import Any, Union

import pulumi
import pytest
from google.protobuf import json_format, struct_pb2
from hypothesis import given
from hypothesis import strategies as st
from pulumi import resource_hooks
from pulumi.runtime import _depends_on, mocks, resource, resource_cycle_breaker, rpc, sync_await

from cdcctl import fast_mocks
from cdcctl.mocks import PlanMocks
from cdcctl.plan import Plan, plan, struct_to_dict
from tests.helpers import REPO, STACKS

# Who calls each replaced function in pulumi 3.272 (looked up as a module global at each call).
CALLERS: dict[str, tuple[Any, ...]] = {
    "_get_stack_trace": (resource.register_resource, resource.read_resource),
    "_add_dep": (resource_cycle_breaker.declare_dependency,),
    "_reachable": (resource_cycle_breaker.declare_dependency,),
    "_resolve_depends_on": (_depends_on._resolve_depends_on_urns,),
    "create_urn": (resource.register_resource, resource.read_resource),
    "_copy": (pulumi.ResourceOptions.merge, resource_hooks.ResourceHookBinding.merge),
    "contains_unknowns": (rpc.serialize_property, pulumi.output._OutputData.__post_init__, pulumi.Output.future),
    "transfer_properties": (resource.register_resource, resource.read_resource),
    "unwrap_type": (rpc.serialize_property,),
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


class _RefusingMocks(pulumi.runtime.Mocks):
    """The provider refuses one resource; everything else is created as asked."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.name == "refused":
            raise ValueError("the provider refused it")
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


def _program_error(fast: bool, read_property: bool) -> str:
    """What a program whose registration fails raises at its end, with the shortcuts or without."""

    def run() -> str:
        pulumi.runtime.set_mocks(_RefusingMocks(), preview=False)

        @pulumi.runtime.test  # type: ignore[misc]
        def program() -> Any:
            import pulumi_confluentcloud as confluent

            confluent.ServiceAccount("fine", display_name="fine")
            refused = confluent.ServiceAccount("refused", display_name="refused")
            return refused.display_name.apply(str.upper) if read_property else None

        with fast_mocks.fast_mock_run() if fast else contextlib.nullcontext():
            try:
                program()
            except Exception as error:
                return f"{type(error).__name__}: {error}"
        return "no error"

    return contextvars.Context().run(run)


@pytest.mark.parametrize("read_property", [True, False], ids=["property-read", "property-unread"])
def test_a_failed_registration_fails_the_program_as_without_the_shortcuts(read_property: bool) -> None:
    """Property Outputs are not tracked (_transfer_properties_at_once): the program's end still raises the
    refusal, whether an apply reads the refused resource's property or nothing does."""
    fast, sdk = _program_error(True, read_property), _program_error(False, read_property)
    assert "the provider refused it" in fast
    assert fast == sdk


_JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=6), _JSON, max_size=6))
def test_a_recorded_struct_reads_as_json_format_reads_it(value: dict[str, Any]) -> None:
    struct = struct_pb2.Struct()
    struct.update(value)
    assert struct_to_dict(struct) == json_format.MessageToDict(struct)


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
def test_a_number_json_cannot_hold_is_refused_as_json_format_refuses_it(number: float) -> None:
    struct = struct_pb2.Struct()
    struct.update({"nested": [{"n": number}]})
    with pytest.raises(ValueError):
        json_format.MessageToDict(struct)
    with pytest.raises(ValueError):
        struct_to_dict(struct)


class _Node:
    """A resource as the cycle breaker sees it: its declared dependencies."""

    def __init__(self) -> None:
        setattr(self, resource_cycle_breaker._DEPENDENCIES_PROPERTY, set())


@given(st.integers(2, 8).flatmap(lambda n: st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)))))
def test_reachability_is_the_sdks_on_any_dependency_graph(edges: list[tuple[int, int]]) -> None:
    nodes = [_Node() for _ in range(max((max(e) for e in edges), default=1) + 1)]
    for start, end in edges:
        getattr(nodes[start], resource_cycle_breaker._DEPENDENCIES_PROPERTY).add(nodes[end])
    for a in nodes:
        for b in nodes:
            sdk = resource_cycle_breaker._reachable(from_resource=a, to_resource=b)  # type: ignore[arg-type]
            assert fast_mocks._reachable_without_generators(a, b) == sdk  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        "text",
        7,
        1.5,
        True,
        None,
        pulumi.output.Unknown(),
        {"a": pulumi.output.Unknown()},
        [1, {"b": [pulumi.output.Unknown()]}],
        {"a": ["b"]},
    ],
    ids=["text", "int", "float", "bool", "none", "unknown", "nested-unknown", "deep-unknown", "known-dict"],
)
def test_unknowns_are_found_as_the_sdk_finds_them(value: Any) -> None:
    assert fast_mocks._contains_unknowns_at_once(value) == rpc.contains_unknowns(value)


@pulumi.input_type
class _SomeArgs:
    """An input type, for unwrap_type's InputType[T] reading."""


@pytest.mark.plans
def test_annotations_are_unwrapped_as_the_sdk_unwraps_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every annotation a plan serializes, and two unions equal to typing but not to unwrap_type."""
    seen: list[Any] = []
    sdk_unwrap = fast_mocks._sdk_unwrap_type
    monkeypatch.setattr(fast_mocks, "_UNWRAPPED", {})
    monkeypatch.setattr(fast_mocks, "_sdk_unwrap_type", lambda val: seen.append(val) or sdk_unwrap(val))
    plan("dev", REPO)
    planned = list(seen)
    assert len(planned) > 50 and len({id(val) for val in planned}) == len(planned)  # once per annotation
    first, second = Union[_SomeArgs, dict], Union[dict, _SomeArgs]  # noqa: UP007  # the SDK's own spelling
    assert first == second and sdk_unwrap(first) is _SomeArgs and sdk_unwrap(second) is second
    for val in [*planned, first, second, first, second]:
        assert fast_mocks._unwrap_type_once(val) is sdk_unwrap(val)


@pytest.mark.parametrize(
    "options",
    [
        pulumi.ResourceOptions(),
        pulumi.ResourceOptions(protect=True, depends_on=[], ignore_changes=["a"], custom_timeouts=None),
        resource_hooks.ResourceHookBinding(),
    ],
    ids=["empty-options", "options", "hooks"],
)
def test_options_are_copied_as_copy_copies_them(options: Any) -> None:
    fast, sdk = fast_mocks._shallow_copy(options), copy.copy(options)
    assert type(fast) is type(sdk) and fast is not options
    assert fast.__dict__ == sdk.__dict__
    assert all(fast.__dict__[k] is v for k, v in options.__dict__.items())  # shallow, as copy.copy


@given(st.dictionaries(st.text(max_size=6), _JSON, max_size=6))
def test_a_plain_answer_becomes_the_struct_the_sdks_serializer_makes(bag: dict[str, Any]) -> None:
    sync_await._ensure_event_loop()  # type: ignore[no-untyped-call]
    fast_deps: dict[str, Any] = {}
    sdk_deps: dict[str, Any] = {}
    fast = fast_mocks._sync_await_at_once(rpc.serialize_properties(bag, fast_deps))
    sdk = sync_await._sync_await(rpc.serialize_properties(bag, sdk_deps))
    assert fast == sdk
    assert fast_deps == sdk_deps
