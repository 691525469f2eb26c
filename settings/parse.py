"""A stack's config (as Pulumi hands it to the program) validated into the settings model, before anything
registers: the layer dispatch and the keys every stack has; the region sections are in `settings.sections`.

Every error names the stack file and the key path, e.g.
`Pulumi.prod-east.yaml: cdc-platform:kafka.cku: must be >= 2 for a MULTI_ZONE dedicated cluster`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.config_node import ConfigError, Node
from core.naming import DEFAULT_ROUTES_FILE
from core.raw_record import RAW_TOPIC
from settings.aws import AWS_REGION
from settings.link import parse_link
from settings.model import (
    LAYER_KEY,
    NAMESPACE,
    PROGRAM_SECRET_KEYS,
    PROVIDER_SECRET_KEYS,
    STACK_REFERENCE,
    AllInOneStackSettings,
    EnvironmentSettings,
    GlobalSettings,
    GlobalStackSettings,
    RegionStackSettings,
    Settings,
    stack_file,
)
from settings.sections import parse_region

# Config namespaces a stack may use: the program's own, its providers' and Pulumi's.
KNOWN_NAMESPACES = (NAMESPACE, "confluentcloud", "aws", "vault", "pulumi")
LAYERS = ("global", "region", "all-in-one")
STREAM_GOVERNANCE_PACKAGES = ("ESSENTIALS", "ADVANCED")
ENVIRONMENT_NAME = r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?"

# Top-level keys of the cdc-platform namespace: how each is stored and which layers use it.
_REGION_KEYS = (
    "region",
    "kafka",
    "network",
    "topics",
    "flink",
    "cdc",
    "aurora",
    "monitoring",
    "credentials",
    "routesFile",
)
_KEYS_BY_LAYER: dict[str, tuple[str, ...]] = {
    "global": ("layer", "protect", "environment", "regions", "routesFile"),
    "region": ("layer", "protect", "globalStack", "link", *_REGION_KEYS),
    "all-in-one": ("layer", "protect", "environment", *_REGION_KEYS),
}
_SCALAR_KEYS = ("layer", "region", "globalStack", "routesFile")


def parse_settings(raw: Mapping[str, Any], stack: str, secret_keys: frozenset[str] = frozenset()) -> Settings:
    """Validate a stack's config (full keys such as `cdc-platform:kafka`, values already parsed)."""
    file = stack_file(stack)
    _check_namespaces(raw, file)
    own = {k: v for k, v in raw.items() if k.startswith(NAMESPACE + ":") and k not in PROGRAM_SECRET_KEYS}
    root = Node(own, file, "")
    for key in (*PROVIDER_SECRET_KEYS, *PROGRAM_SECRET_KEYS):
        if key in raw and key not in secret_keys:
            Node(raw[key], file, key).fail(f"must be set with `pulumi config set --secret {key}`")
    layer_node = Node(raw.get(LAYER_KEY), file, LAYER_KEY)
    if not layer_node.present:
        layer_node.fail(f"is required: one of {', '.join(LAYERS)}")
    layer = layer_node.choice(LAYERS)
    keys = _KEYS_BY_LAYER[layer]
    f = {k.split(":", 1)[1]: v for k, v in root.fields(optional=[f"{NAMESPACE}:{k}" for k in keys]).items()}
    for key, node in f.items():
        if key == "protect" or key in _SCALAR_KEYS:
            continue
        node.value = _parse_json(node)

    protect = _boolean(f["protect"], default=False)
    common = _common(f, stack, file, protect)
    # Each layer reads only its own keys (`fields` refused the others) into that layer's own type.
    if layer == "global":
        glob = GlobalSettings(_environment(f["environment"], stack), _regions(f["regions"]))
        return GlobalStackSettings(glob=glob, **common)
    if layer == "region":
        region = parse_region(f, stack, raw, protect)
        if region.raw_topic != RAW_TOPIC:
            # Its value subject's compatibility and owner are set by the global stack, which names no raw
            # topic: a rename here would leave the connector's subject unmanaged.
            raise ConfigError(
                file,
                f"{NAMESPACE}:topics.raw.name",
                f"{region.raw_topic!r}: a region stack keeps {RAW_TOPIC!r}, whose subject its global stack "
                "manages (rename the raw topic in an all-in-one stack only)",
            )
        link = parse_link(f["link"], stack, region.region) if f["link"].present else None
        return RegionStackSettings(region=region, global_stack=_global_stack(f, stack), link=link, **common)
    environment = _environment(f["environment"], stack)
    region = parse_region(f, stack, raw, protect)
    glob = GlobalSettings(environment, (region.region,))
    return AllInOneStackSettings(glob=glob, region=region, **common)


def _check_namespaces(raw: Mapping[str, Any], file: str) -> None:
    """A misspelt namespace (`cdc-platfrom:protect`) would be silently ignored: refuse it."""
    for key in raw:
        namespace = key.split(":", 1)[0] if ":" in key else ""
        if namespace not in KNOWN_NAMESPACES:
            close = difflib.get_close_matches(namespace, KNOWN_NAMESPACES, n=1)
            hint = f"; did you mean {close[0]}:?" if close else ""
            Node(None, file, key).fail(
                f"unknown config namespace {namespace!r} (allowed: {', '.join(KNOWN_NAMESPACES)}){hint}"
            )


def _common(f: dict[str, Node], stack: str, file: str, protect: bool) -> dict[str, Any]:
    return {
        "stack": stack,
        "file": file,
        "protect": protect,
        "routes_file": _routes_file(f["routesFile"]),
    }


def _routes_file(node: Node) -> str:
    """A path inside the project directory (where Pulumi runs the program): never `..` out of it."""
    if not node.present:
        return DEFAULT_ROUTES_FILE
    path = node.string()
    try:
        structured = json.loads(path)
    except ValueError:
        structured = path
    if not isinstance(structured, str):
        node.fail("must be a file path (a string), not a structured value")
    project = Path.cwd().resolve()
    if Path(path).is_absolute() or not (project / path).resolve().is_relative_to(project):
        node.fail(f"{path!r} must be a path inside the project directory")
    return path


def _regions(node: Node) -> tuple[str, ...]:
    if not node.present:
        node.fail("is required: the regions whose stacks use this global layer")
    regions = tuple(r.string(AWS_REGION, "an AWS region such as us-east-1") for r in node.items(min_items=1))
    if len(set(regions)) != len(regions):
        node.fail("lists a region twice")
    return regions


def _global_stack(f: dict[str, Node], stack: str) -> str:
    node = f["globalStack"]
    if not node.present:
        node.fail("is required for a region stack: the global stack, e.g. acme/cdc-platform/prod")
    global_stack = node.string(STACK_REFERENCE, "org/project/stack")
    if global_stack.rsplit("/", 1)[-1] == stack:
        node.fail("a region stack cannot reference itself as its global stack")
    return global_stack


def _parse_json(node: Node) -> Any:
    """Pulumi hands structured config to programs as JSON strings."""
    if isinstance(node.value, str):
        try:
            return json.loads(node.value)
        except ValueError:
            node.fail("must be a structured value (a YAML mapping or list)")
    return node.value


def _boolean(node: Node, default: bool) -> bool:
    if isinstance(node.value, str) and node.value in ("true", "false"):
        return node.value == "true"
    return node.boolean(default=default)


def _environment(node: Node, stack: str) -> EnvironmentSettings:
    f = node.fields(optional=["name", "streamGovernance"])
    return EnvironmentSettings(
        # Default derives from the stack so `pr-N` stacks copied from dev never collide.
        name=f["name"].string(ENVIRONMENT_NAME, "lowercase [a-z0-9-], <= 32 chars")
        if f["name"].present
        else _default_environment_name(f["name"], stack),
        stream_governance=f["streamGovernance"].choice(STREAM_GOVERNANCE_PACKAGES, default="ESSENTIALS"),
    )


def _default_environment_name(node: Node, stack: str) -> str:
    name = f"cdc-{stack}"
    if not re.fullmatch(ENVIRONMENT_NAME, name):
        node.fail(
            f"the default {name!r} (from the stack name) is not valid: set a lowercase [a-z0-9-] name, <= 32 chars"
        )
    return name
