"""A stack's config as the Pulumi CLI would hand it to the program, read from the repo's files alone.

Used by the offline plan and, without any plan, by `cdcctl rehearse` and the CDC benchmark (a stack's
validated settings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.config_node import ConfigError
from core.yaml_file import load_yaml
from settings.model import (
    NAMESPACE,
    PROGRAM_SECRET_KEYS,
    PROVIDER_SECRET_KEYS,
    GlobalStackSettings,
    RegionStackSettings,
    Settings,
    stack_file,
)
from settings.parse import parse_settings

SECRET = "[secret]"


def stack_config(stack: str, root: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """The config Pulumi would hand the program: project defaults overlaid by the stack file.

    Values are strings (structured ones as JSON), as the real engine passes them; secure values and
    the provider's secret keys become "[secret]" placeholders marked secret."""
    root = root or Path.cwd()
    path = root / stack_file(stack)
    if not path.is_file():
        raise ConfigError(stack_file(stack), "config", f"no stack file for stack {stack!r} in {root}")
    project = load_yaml(root / "Pulumi.yaml", "Pulumi.yaml")
    document = load_yaml(path, stack_file(stack)) or {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ConfigError(stack_file(stack), "config", "must be a mapping of config keys")
    config: dict[str, str] = {}
    for key, spec in (project.get("config") or {}).items():
        value = spec.get("default", spec.get("value")) if isinstance(spec, dict) else spec
        if value is not None:
            config[_full_key(key, project["name"])] = _config_string(value)
    # Users set credentials and passwords with --secret; the plan stands in placeholders for them.
    secret_keys = [*PROVIDER_SECRET_KEYS, *PROGRAM_SECRET_KEYS]
    config.update({key: SECRET for key in secret_keys})
    for key, value in (document.get("config") or {}).items():
        key = _full_key(key, project["name"])
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = SECRET
            secret_keys.append(key)
        else:
            config[key] = _config_string(value)
            if key in secret_keys:
                secret_keys.remove(key)  # written in clear text: the program must refuse it
    return config, secret_keys


def stack_settings(stack: str, root: Path | None = None) -> Settings:
    """A stack's validated settings, from its files alone (no program run)."""
    config, secret_keys = stack_config(stack, root)
    return parse_settings(config, stack, frozenset(secret_keys))


def environment_name(settings: Settings, root: Path | None = None) -> str:
    """The stack's Confluent environment: a region stack's is its global stack's, read from that file."""
    if not isinstance(settings, RegionStackSettings):
        return settings.glob.environment.name
    global_stack = settings.global_stack.rsplit("/", 1)[-1]
    global_settings = stack_settings(global_stack, root)
    if not isinstance(global_settings, GlobalStackSettings):
        raise ConfigError(settings.file, f"{NAMESPACE}:globalStack", f"{global_stack!r} is not a global stack")
    return global_settings.glob.environment.name


def _full_key(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)
