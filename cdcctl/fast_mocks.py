"""What makes the offline plan fast: under the mock runtime only, pulumi SDK internals (SDK_SHORTCUTS)
are replaced by exact equivalents that skip work mocks never use, the provider SDK packages are imported
lean (LEAN_PACKAGES), and cyclic garbage collection pauses while the program runs. A real `pulumi up`
never imports this module.

Surviving an SDK upgrade: tests/test_fast_mocks.py fails if pulumi's version changes (re-diff the
replaced functions, then bump it), if the SDK stops calling a replaced function, if any plan's
resources, dependencies or outputs differ with the shortcuts off, or with the provider SDKs imported in
full. A function that disappears is simply not replaced: the plan gets slower, never wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import gc
import importlib
import importlib.abc
import importlib.machinery
import re
import sys
from collections.abc import Awaitable, Coroutine, Iterator, Sequence
from pathlib import Path
from types import CoroutineType, ModuleType
from typing import Any

import pulumi
import pulumi._types as sdk_types
import pulumi.log as sdk_log
import pulumi.output as sdk_output
import pulumi.resource_hooks as sdk_hooks
from google.protobuf import struct_pb2
from pulumi.output import _OutputData
from pulumi.runtime import _depends_on as sdk_depends_on
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import resource_cycle_breaker as sdk_cycle_breaker
from pulumi.runtime import rpc as sdk_rpc
from pulumi.runtime import settings as sdk_settings
from pulumi.runtime import sync_await as sdk_sync_await
from pulumi.runtime.proto import source_pb2


def _no_stack_trace() -> source_pb2.StackTrace:
    return source_pb2.StackTrace()


def _add_dep_in_place(from_resource: pulumi.Resource, to_resource: pulumi.Resource) -> None:
    """resource_cycle_breaker._add_dep without copying the set for every added dependency."""
    deps = getattr(from_resource, sdk_cycle_breaker._DEPENDENCIES_PROPERTY, None)
    if deps is None:
        setattr(from_resource, sdk_cycle_breaker._DEPENDENCIES_PROPERTY, {to_resource})
    else:
        deps.add(to_resource)


async def _resolve_depends_on_in_place(depends_on: Any) -> set[pulumi.Resource]:
    """_depends_on._resolve_depends_on with an in-place union instead of a new set per entry, and a resource
    entry taken as it is instead of through an Output of it (which resolves to it, from no resource)."""
    if not depends_on:
        return set()
    outer = pulumi.Output._from_input_shallow(depends_on)
    all_deps = set(await outer.resources())  # a copy: that set belongs to the Output
    for item in await outer.future() or []:
        if isinstance(item, pulumi.Resource):
            all_deps.add(item)
            continue
        inner = pulumi.Output.from_input(item)
        all_deps |= await inner.resources()
        direct = await inner.future()
        if direct is not None:
            all_deps.add(direct)
    return all_deps


def _reachable_without_generators(from_resource: pulumi.Resource, to_resource: pulumi.Resource) -> bool:
    """resource_cycle_breaker._reachable with a stack instead of a generator per visited resource (nested
    `yield from`: each resource passes through every generator above it): whether `to_resource` is
    `from_resource` or among its transitive dependencies, the same answer."""
    visited: set[pulumi.Resource] = set()
    pending = [from_resource]
    while pending:
        resource = pending.pop()
        if resource in visited:
            continue
        if resource == to_resource:
            return True
        visited.add(resource)
        pending.extend(getattr(resource, sdk_cycle_breaker._DEPENDENCIES_PROPERTY, ()))
    return False


_sdk_contains_unknowns = sdk_rpc.contains_unknowns
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _contains_unknowns_at_once(val: Any) -> bool:
    """rpc.contains_unknowns without its walk (a closure, a set, a type check per level) for a plain
    scalar, which is never an Unknown: the SDK asks for every Output's value, most of them text."""
    return type(val) not in _SCALARS and bool(_sdk_contains_unknowns(val))


def _shallow_copy(options: Any) -> Any:
    """ResourceOptions._copy / ResourceHookBinding._copy (copy.copy of a plain object: no slots, no
    __copy__ or __reduce__ of its own) without copy's protocol lookups and reduce tuple: a new object of
    the same class with the same attributes. Every resource merges its options twice."""
    copied = object.__new__(type(options))
    copied.__dict__.update(options.__dict__)
    return copied


_sdk_unwrap_type = sdk_types.unwrap_type
_UNWRAPPED: dict[int, tuple[Any, Any]] = {}  # id(annotation) -> (annotation, unwrapped): kept alive, so ids stay its


def _unwrap_type_once(val: Any) -> Any:
    """_types.unwrap_type once per annotation object: a pure function of the type (its origin and args),
    which rpc.serialize_property asks of every property of every resource, walking typing's machinery
    each time. Keyed by identity, not equality: typing's Union equality ignores the order of its args,
    which unwrap_type reads."""
    known = _UNWRAPPED.get(id(val))
    if known is not None and known[0] is val:
        return known[1]
    unwrapped = _sdk_unwrap_type(val)
    _UNWRAPPED[id(val)] = (val, unwrapped)
    return unwrapped


_sdk_create_urn = sdk_resource.create_urn


def _create_urn_at_once(
    name: Any, type_: Any, parent: Any = None, project: str | None = None, stack: str | None = None
) -> pulumi.Output[str]:
    """resource.create_urn without its four Outputs when every part is a plain string, as in the
    SDK's call for each registration: the same URN, known, not secret, from no resource."""
    if not (isinstance(name, str) and isinstance(type_, str) and (parent is None or isinstance(parent, str))):
        return _sdk_create_urn(name, type_, parent, project, stack)
    if parent is not None:
        prefix = parent[0 : parent.rfind("::")] + "$"
    else:
        stack = sdk_settings.get_stack() if stack is None else stack
        project = sdk_settings.get_project() if project is None else project
        prefix = "urn:pulumi:" + stack + "::" + project + "::"
    return _settled(prefix + type_ + "::" + name)


def _settled(value: str) -> pulumi.Output[str]:
    """Output.from_input of a plain value (known, not secret, from no resource), its future done at once
    and so not tracked: the SDK's tracking of a done future only schedules its removal."""
    data: asyncio.Future[_OutputData[str]] = asyncio.Future()
    data.set_result(_OutputData(resources=set(), value=value, is_known=True, is_secret=False))
    return _untracked(data)


def _untracked(data: asyncio.Future[_OutputData[Any]]) -> pulumi.Output[Any]:
    """Output._from_data of a future without its _track (SETTINGS.outputs): see the callers for why."""
    output: pulumi.Output[Any] = object.__new__(pulumi.Output)
    output._data = data
    return output


def _resolve_output_data(
    res: pulumi.Resource,
    data: asyncio.Future[_OutputData[Any]],
    value: Any,
    is_known: bool,
    is_secret: bool,
    deps: set[pulumi.Resource] | None,
    failed: Exception | None,
) -> None:
    """One property's resolver, called as rpc.resolve_outputs calls the SDK's."""
    if failed is not None:
        data.set_exception(failed)
        return
    resources = set(deps) if deps else set()  # the property's dependencies and the resource, as the SDK's
    resources.add(res)
    data.set_result(_OutputData(resources=resources, value=value, is_known=is_known, is_secret=is_secret))


def _transfer_properties_at_once(res: pulumi.Resource, props: Any, custom: bool) -> dict[str, Any]:
    """rpc.transfer_properties with one future of the Output's data per property instead of four futures
    and a task that gathers them: the same resolver arguments, the same values, known and secret flags and
    dependencies (the resource and the property's own), the same error.

    The Outputs are not tracked: the SDK tracks every Output (SETTINGS.outputs: a lock, a set, a done
    callback and a loop turn each) so that the program's end (stack.wait_for_rpcs) waits for it and raises
    its error. A property's future is settled within its registration's RPC, which the program's end
    awaits first, and a registration that fails fails its RPC (do_register re-raises after resolving
    every property with the error), so the program ends with that error either way."""
    resolvers: dict[str, Any] = {}
    for name in props:
        if name == "urn" or (name == "id" and custom):
            continue  # the SDK resolves these itself
        data: asyncio.Future[_OutputData[Any]] = asyncio.Future()
        resolvers[name] = functools.partial(_resolve_output_data, res, data)
        res.__dict__[name] = _untracked(data)
    return resolvers


_sdk_sync_await = sdk_sync_await._sync_await


def _sync_await_at_once(awaitable: Awaitable[Any]) -> Any:
    """sync_await._sync_await for a serialize_properties coroutine (the mock monitor serializes each answer
    with it): a bag of plain JSON values is turned into its Struct directly, as serialize_properties would
    (a top-level None left out, no dependencies); any other bag is stepped by hand, in a context copy as a
    task would: serializing a mock's answer never waits, so it ends without a task and a loop run on the
    monitor's thread. One that does wait is finished on the loop as before."""
    if getattr(awaitable, "cr_code", None) is not sdk_rpc.serialize_properties.__code__:
        return _sdk_sync_await(awaitable)
    coroutine: CoroutineType[Any, Any, Any] = awaitable  # type: ignore[assignment]  # checked just above
    frame = coroutine.cr_frame  # an unstarted coroutine's frame holds its arguments
    arguments = frame.f_locals if frame is not None else {}
    if _plain_bag(arguments):
        coroutine.close()
        struct = struct_pb2.Struct()
        for name, value in arguments["inputs"].items():
            if value is not None:
                struct[name] = value
                arguments["property_deps"][name] = []
        return struct
    context = contextvars.copy_context()
    try:
        waiting = context.run(coroutine.send, None)
    except StopIteration as done:
        return done.value
    return _sdk_sync_await(_step_on(coroutine, context, waiting))


def _plain_bag(arguments: dict[str, Any]) -> bool:
    """serialize_properties(inputs, property_deps) with no other argument, `inputs` all plain JSON."""
    others = ("resource_obj", "input_transformer", "typ", "keep_output_values", "exclude_resource_refs_from_deps")
    return (
        not any(arguments.get(name) for name in others)
        and type(arguments.get("property_deps")) is dict
        and type(arguments.get("inputs")) is dict
        and _plain(arguments["inputs"])
    )


def _plain(value: Any) -> bool:
    """JSON as serialize_property returns it unchanged (dicts with text keys, lists, text, numbers, bools,
    None): no Output, resource, asset, input type, tuple or subclass to convert."""
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int or kind is float:
        return True
    if kind is dict:
        return all(type(key) is str and _plain(item) for key, item in value.items())
    return kind is list and all(_plain(item) for item in value)


async def _step_on(coroutine: Coroutine[Any, Any, Any], context: contextvars.Context, waiting: Any) -> Any:
    """Go on stepping a started coroutine as its task would: resume it when what it waits for is done."""
    while True:
        if waiting is None:
            await asyncio.sleep(0)  # a bare yield: one loop turn
        else:
            waiting._asyncio_future_blocking = False
            await asyncio.wait([waiting])
        try:
            waiting = context.run(coroutine.send, None)
        except StopIteration as done:
            return done.value


_sdk_debug = sdk_log.debug


def _debug_at_once(
    msg: str, resource: pulumi.Resource | None = None, stream_id: int | None = None, ephemeral: bool | None = None
) -> None:
    """log.debug handed straight to the mock engine's logger, as MockEngine.Log hands it a DEBUG
    LogRequest's message, without building the request."""
    engine = sdk_settings.get_engine()
    if resource is None and isinstance(engine, sdk_mocks.MockEngine):
        engine.logger.debug(msg)
    else:
        _sdk_debug(msg, resource, stream_id, ephemeral)


# (module, function, replacement) in pulumi 3.272.
SDK_SHORTCUTS: tuple[tuple[Any, str, Any], ...] = (
    # resource.py register_resource/read_resource capture each registration's Python stack
    # (traceback.extract_stack + a file URI per frame) for the engine's messages; mocks never read it,
    # and no SDK setting turns it off. ~2.6 s CPU at 1,000 routes.
    (sdk_resource, "_get_stack_trace", _no_stack_trace),
    # resource_cycle_breaker.py and _depends_on.py build a new set per dependency: quadratic in a
    # resource's dependency count (upstream fix offered: an in-place add/union, same result).
    (sdk_cycle_breaker, "_add_dep", _add_dep_in_place),
    # resource.py and resource_hooks.py copy options through copy.copy's generic protocol on every merge.
    (pulumi.ResourceOptions, "_copy", _shallow_copy),
    (sdk_hooks.ResourceHookBinding, "_copy", _shallow_copy),
    # resource_cycle_breaker.py checks every declared dependency for a cycle with nested generators.
    (sdk_cycle_breaker, "_reachable", _reachable_without_generators),
    (sdk_depends_on, "_resolve_depends_on", _resolve_depends_on_in_place),
    # output.py asks whether a value contains unknowns for every Output's data (_OutputData) and every
    # read of its value, rpc.py for every serialized Output.
    (sdk_rpc, "contains_unknowns", _contains_unknowns_at_once),
    (sdk_output, "contains_unknowns", _contains_unknowns_at_once),
    # resource.py register_resource/read_resource compute a URN for a monitor-less run through
    # Output.all(...).apply(...) (four Outputs, three tasks) and await it before the monitor call even
    # when the monitor answers.
    (sdk_resource, "create_urn", _create_urn_at_once),
    # rpc.py serialize_property unwraps the annotation of every property it serializes (~5% of a
    # 1,000-route plan), the same few annotation objects over and over.
    (sdk_types, "unwrap_type", _unwrap_type_once),
    # rpc.py transfer_properties gives every output property of every resource four futures and an
    # Output whose task awaits them.
    (sdk_rpc, "transfer_properties", _transfer_properties_at_once),
    # mocks.py MockMonitor serializes every answer through _sync_await: a task and a run of an event loop
    # on the monitor's thread per registration, for a coroutine that never waits.
    (sdk_mocks, "_sync_await", _sync_await_at_once),
    # The SDK logs a few debug lines per registration; log.py builds an engine LogRequest for each, which
    # the mock engine unpacks for its logger.
    (sdk_log, "debug", _debug_at_once),
)


# The SDK sends every registration and lookup to the monitor with loop.run_in_executor(None, call): a
# pool of up to cores + 4 threads, then a thread-safe wake-up of the loop (a byte through its self-pipe
# and a selector wake per call) to hand the answer back. The mock monitor answers in-process, holding the
# GIL, so the loop's own thread answers each call as the SDK submits it, and the answer is handed to the
# awaiting coroutine by loop.call_soon: the same place in the loop's ready queue as the thread-safe hand-
# over (asyncio.futures._chain_future: call_soon_threadsafe), so the same order and the same plan (False
# keeps the SDK's pool). Its serializations never wait for the loop (_sync_await_at_once); one that
# would is run by the SDK's _sync_await, which steps a running loop.
MOCK_RPC_ON_THE_LOOP = True


def _answer_on_the_loop(loop: asyncio.AbstractEventLoop) -> Any:
    """loop.run_in_executor for the default executor: the call runs at once, its result or error reaches
    the returned future on the loop's next turn, unless that future was cancelled meanwhile."""
    pooled = loop.run_in_executor

    def run_in_executor(executor: Any, call: Any, *args: Any) -> asyncio.Future[Any]:
        if executor is not None:
            return pooled(executor, call, *args)
        future = loop.create_future()
        try:
            answer = call(*args)
        except BaseException as error:  # as a pool's worker hands any error to its future
            loop.call_soon(_settle, future, None, error)
        else:
            loop.call_soon(_settle, future, answer, None)
        return future

    return run_in_executor


def _settle(future: asyncio.Future[Any], answer: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(answer)


# Provider SDK packages whose __init__ star-imports every module of the package (pulumi_confluentcloud:
# ~150, pulumi_aws.ec2: ~180), though a plan uses a few of each: ~0.3 s of a prod-east process.
LEAN_PACKAGES = re.compile(r"pulumi_confluentcloud(\..+)?|pulumi_vault(\..+)?|pulumi_aws\..+")
_STAR_IMPORT = re.compile(r"from \.(\w+) import \*\n")


class _LeanPackages(importlib.abc.MetaPathFinder):
    """Imports a LEAN_PACKAGES package as its own __init__ minus the star imports (its registrations, lazy
    subpackages and `outputs` stay); a name is then bound on first use by the star import of the module
    that defines it (found by the generated SDK's file naming, its __all__ checked), and any name the
    naming does not find runs every star import, as the __init__ would have. Same objects, later."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if not LEAN_PACKAGES.fullmatch(fullname):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.submodule_search_locations is None or spec.origin is None:
            return None
        spec.loader = _LeanLoader(spec.origin)
        return spec


class _LeanLoader(importlib.abc.Loader):
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def exec_module(self, module: ModuleType) -> None:
        source = Path(self.origin).read_text(encoding="utf-8")
        deferred = tuple(_STAR_IMPORT.findall(source))
        eager = _STAR_IMPORT.sub("\n", source)  # blank lines: tracebacks keep the file's line numbers
        exec(compile(eager, self.origin, "exec"), module.__dict__)
        module.__dict__["__getattr__"] = lambda name: _bind_on_use(module, deferred, name)


def _bind_on_use(package: ModuleType, deferred: tuple[str, ...], name: str) -> Any:
    base = re.sub(r"(_output|Result|Args|ArgsDict)$", "", name)
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base).lower()
    for candidate in (snake, "_inputs"):
        if candidate in deferred and name in getattr(
            importlib.import_module(f"{package.__name__}.{candidate}"), "__all__", ()
        ):
            exec(f"from .{candidate} import *", package.__dict__)
            return package.__dict__[name]
    for module in deferred:
        exec(f"from .{module} import *", package.__dict__)
    del package.__dict__["__getattr__"]
    if name in package.__dict__:
        return package.__dict__[name]
    raise AttributeError(f"module {package.__name__!r} has no attribute {name!r}")


@contextlib.contextmanager
def fast_mock_run() -> Iterator[None]:
    """Run a mock program with the SDK shortcuts in place and the cyclic collector paused.

    The program constructs every resource before the event loop registers any, so ~2,300 objects per
    route stay alive to the end and every full collection walks them all (~45% of a 1,000-route run).
    Afterwards what the run built is frozen, not collected: freezing spares the one ~2 s collection of
    the run's garbage; a `cdcctl` process exits right after its plan anyway."""
    present = [(m, name, new, getattr(m, name)) for m, name, new in SDK_SHORTCUTS if hasattr(m, name)]
    collecting = gc.isenabled()
    gc.disable()
    for module, name, new, _ in present:
        setattr(module, name, new)
    loop = sdk_sync_await._ensure_event_loop()  # type: ignore[no-untyped-call]  # the mock runtime's loop
    if MOCK_RPC_ON_THE_LOOP:
        loop.run_in_executor = _answer_on_the_loop(loop)  # this loop only
    lean = _LeanPackages()
    sys.meta_path.insert(0, lean)
    try:
        yield
    finally:
        sys.meta_path.remove(lean)
        loop.__dict__.pop("run_in_executor", None)  # the class's method again
        for module, name, _, original in present:
            setattr(module, name, original)
        gc.freeze()
        if collecting:
            gc.enable()
