"""Offline plan: run the real program for a stack under Pulumi's mock runtime and record every resource.

No credentials, no network: lookups and StackReferences are answered with plausible values. A region
stack's reference to its global stack is answered with the exports of that stack's own offline plan,
so the plan also proves that the two layers agree on what crosses between them.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import logging
import math
import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, Mocks
from pulumi.runtime.settings import get_root_resource

from cdcctl.fast_mocks import fast_mock_run
from cdcctl.mocks import LOOKUPS, RESOURCE_TYPES, PlanMocks
from cdcctl.stack_config import SECRET, stack_config
from core.config_node import ConfigError
from core.yaml_file import MAX_BYTES
from settings.model import NAMESPACE, stack_file

# Pulumi's secret envelope in serialized properties (pulumi.runtime.rpc).
T = TypeVar("T")
_SECRET_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"


@dataclass
class PlannedResource:
    """One registration: what `cdcctl plan --json` prints per resource."""

    type: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    protect: bool
    urn: str = ""
    id: str = ""
    dependencies: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    retain_on_delete: bool = False
    replace_on_changes: list[str] = field(default_factory=list)  # the resource option, input paths
    ignore_changes: list[str] = field(default_factory=list)  # the resource option, input paths
    outputs: dict[str, Any] = field(default_factory=dict)  # what the mock provider answered

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "inputs": self.inputs,
            "protect": self.protect,
        }


@dataclass
class Plan:
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]  # stack exports, secrets rendered as "[secret]"
    raw_outputs: dict[str, Any]  # stack exports with secret values (to answer StackReferences)


def render(value: Any) -> Any:
    """Replace Pulumi secret envelopes by "[secret]" (recursively)."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) == _SECRET_SIG_VALUE:
            return SECRET
        return {k: render(v) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf Structs carry every number as a double
    return value


def unwrap(value: Any) -> Any:
    """Strip Pulumi secret envelopes, keeping the values (for StackReference answers)."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) == _SECRET_SIG_VALUE:
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """json_format.MessageToDict of a Struct, without its lookups in the message's descriptor for every
    value (twice per registration): the same dict, the same error for a number JSON cannot hold."""
    return {key: _from_value(value) for key, value in struct.fields.items()}


def _from_value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return struct_to_dict(value.struct_value)
    if kind == "list_value":
        return [_from_value(item) for item in value.list_value.values]
    if kind == "bool_value":
        return value.bool_value
    if kind == "number_value":
        number = value.number_value
        if math.isinf(number) or math.isnan(number):
            raise ValueError(f"Fail to serialize {number} for Value.number_value, which would parse as string_value")
        return number
    return None  # null_value, or no kind set


class RecordingMonitor(MockMonitor):
    """MockMonitor that also keeps parent, protect, dependencies and raw inputs (secrets wrapped)."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.planned: list[PlannedResource] = []

    def _record(self, request: Any, urn: str, resource_id: str, properties: Any, outputs: Any) -> None:
        self.planned.append(
            PlannedResource(
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                inputs=struct_to_dict(properties),
                protect=bool(getattr(request, "protect", False)),
                urn=urn,
                id=resource_id,
                dependencies=list(getattr(request, "dependencies", [])),
                delete_before_replace=bool(getattr(request, "deleteBeforeReplace", False)),
                retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
                replace_on_changes=list(getattr(request, "replaceOnChanges", [])),
                ignore_changes=list(getattr(request, "ignoreChanges", [])),
                outputs=struct_to_dict(outputs),
            )
        )

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, response.urn, response.id, request.object, response.object)
        return response

    def ReadResource(self, request: Any) -> Any:
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self._record(request, response.urn, request.id, request.properties, response.properties)
        return response


def plan(
    stack: str,
    root: Path | None = None,
    previous: dict[str, Any] | None = None,
    peer_stage: int = 2,
    peer_outputs: dict[str, Any] | None = None,
) -> Plan:
    """Plan `stack` of the project in `root` (default: the current directory, as for the Pulumi CLI).

    `previous` stands in for the stack's last deployed outputs (default: a first deployment). The
    global stack's and the link peer's outputs come from their own offline plans; `peer_stage` says
    how far the peer has come: 2 its half of the link is up (steady state), 1 its cluster but not its
    half, 0 nothing yet (its stack exists, as `pulumi stack init` leaves it); `peer_outputs` stands in
    for the peer's deployed outputs instead (e.g. from before its last `up`).
    Raises ConfigError (file and key) on bad config; nothing is registered then."""
    root = root or Path.cwd()
    config, secret_keys = stack_config(stack, root)
    peer = _peer(stack, root, config)
    references = {
        reference: peer_outputs
        if peer_outputs is not None and peer is not None and reference == peer[0]
        else _exports(target, root, stage)
        if stage is not None
        else {}
        for reference, target, stage in _references(stack, root, config, peer_stage)
    }
    # Each plan runs in a fresh context: Pulumi's runtime settings and config live in contextvars.
    mocks = PlanMocks(stack, references, previous or {})
    result = contextvars.Context().run(_run_program, stack, config, secret_keys, mocks, root)
    if previous is None and peer_outputs is None:
        _EXPORTS.setdefault(_inputs_key(stack, root, peer_stage), result.raw_outputs)
    return result


def _references(stack: str, root: Path, config: dict[str, str], peer_stage: int) -> list[tuple[str, str, int | None]]:
    """(reference, stack, stage to plan it at) of each stack this one reads: its global stack, and its link
    peer one stage earlier (the peer's half needs this stack's outputs in turn); stage None: the peer has
    no outputs yet."""
    found: list[tuple[str, str, int | None]] = []
    global_stack = _referenced_stack(stack, root, f"{NAMESPACE}:globalStack", config.get(f"{NAMESPACE}:globalStack"))
    if global_stack and global_stack[1] != stack:
        found.append((*global_stack, 0))
    peer = _peer(stack, root, config)
    if peer:
        found.append((*peer, peer_stage - 1 if peer_stage else None))
    return found


def _peer(stack: str, root: Path, config: dict[str, str]) -> tuple[str, str] | None:
    """(reference, stack) of the link peer, if the stack has a link."""
    link = json.loads(config.get(f"{NAMESPACE}:link") or "{}")
    return _referenced_stack(stack, root, f"{NAMESPACE}:link.peerStack", link.get("peerStack"))


# A referenced stack's exports by everything its plan reads (see _inputs_key): a region plan reads its
# global stack and its peer, which reads this stack one stage earlier, so without it one `cdcctl plan`
# of prod-east ran the program six times (prod three times), and a test session hundreds of times.
_EXPORTS: dict[tuple[object, ...], dict[str, Any]] = {}


def _exports(stack: str, root: Path, peer_stage: int) -> dict[str, Any]:
    """A referenced stack's exports from its own offline plan (quietly: its warnings are its own), planned
    once per process for the same inputs."""
    key = _inputs_key(stack, root, peer_stage)
    if key not in _EXPORTS:
        _EXPORTS[key] = _quietly(lambda: plan(stack, root, peer_stage=peer_stage).raw_outputs)
    return _EXPORTS[key]


def _inputs_key(stack: str, root: Path, peer_stage: int) -> tuple[object, ...]:
    """Everything a first-deployment plan depends on besides the program's code: the stack's config (stack
    and project files), its routes file and entry point by content, the mock runtime's answers (tests
    replace some), and the same of every stack it reads."""
    config, secret_keys = stack_config(stack, root)
    return (
        stack,
        peer_stage,
        tuple(sorted(config.items())),
        tuple(secret_keys),
        _digest(root / config.get(f"{NAMESPACE}:routesFile", "")),
        _digest(root / "__main__.py"),
        tuple(LOOKUPS.items()),
        tuple(RESOURCE_TYPES.items()),
        tuple(
            _inputs_key(target, root, stage) if stage is not None else None
            for _, target, stage in _references(stack, root, config, peer_stage)
        ),
    )


def _digest(path: Path) -> str | None:
    """A small regular file's content hash; None for anything else (the plan refuses it, nothing is kept)."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _referenced_stack(stack: str, root: Path, key: str, reference: object) -> tuple[str, str] | None:
    """(reference, stack name) of a stack this one reads, which the repo must hold a file of."""
    if not isinstance(reference, str) or not reference:
        return None
    target = reference.rsplit("/", 1)[-1]
    if not (root / stack_file(target)).is_file():
        raise ConfigError(
            stack_file(stack),
            key,
            f"{reference!r} names no stack file in this repo ({stack_file(target)}) to plan it from",
        )
    return reference, target


def _quietly(run: Callable[[], T]) -> T:
    """Run a nested plan without its warnings (they belong to the other stack)."""
    previous = logging.root.manager.disable  # nested plans nest this too
    logging.disable(logging.WARNING)
    try:
        return run()
    finally:
        logging.disable(previous)


def _run_program(stack: str, config: dict[str, str], secret_keys: list[str], mocks: PlanMocks, root: Path) -> Plan:
    pulumi.runtime.set_all_config(config, secret_keys)
    monitor = RecordingMonitor(mocks)
    # Organization as the Pulumi CLI reports it for the stack (the global stack's, else the DIY default).
    reference = config.get(f"{NAMESPACE}:globalStack", "")
    organization = reference.split("/")[0] if reference.count("/") == 2 else "organization"
    pulumi.runtime.set_mocks(
        monitor.mocks, project="cdc-platform", stack=stack, preview=False, monitor=monitor, organization=organization
    )

    exports: dict[str, Any] = {}

    async def serialize_exports() -> None:
        # Stack exports are never registered under mocks: serialize them as the engine would
        # receive them (secret values in Pulumi's secret envelope).
        stack = get_root_resource()
        struct = await rpc.serialize_properties(getattr(stack, "outputs", {}), {})
        exports.update(struct_to_dict(struct))

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[None]:
        runpy.run_path(str(root / "__main__.py"), run_name="__main__")
        return pulumi.Output.from_input(asyncio.ensure_future(serialize_exports()))

    try:
        with fast_mock_run():
            program()
    except pulumi.RunError as error:
        if isinstance(error.__cause__, ConfigError):
            if monitor.planned:
                raise RuntimeError(f"bad config detected after {len(monitor.planned)} registrations") from error
            raise error.__cause__ from None
        raise
    # Registrations arrive from worker threads in varying order: sort, so plans of one config diff clean.
    monitor.planned.sort(key=lambda r: r.urn)
    names = {r.urn: r.name for r in monitor.planned}
    for resource in monitor.planned:
        resource.parent = names.get(resource.parent or "")
        resource.inputs = render(resource.inputs)
    return Plan(stack, monitor.planned, render(exports), unwrap(exports))
