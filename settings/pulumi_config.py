"""The bridge from a running Pulumi program's config to the settings (the only settings module that
imports Pulumi, and only when called): the stack's config and its secrets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from settings.model import Settings
from settings.parse import parse_settings

if TYPE_CHECKING:
    import pulumi


def read_secret(key: str) -> pulumi.Output[str]:
    """One of PROGRAM_SECRET_KEYS as a Pulumi secret output (parse_settings checked it is set, as a secret)."""
    import pulumi

    namespace, name = key.split(":", 1)
    return pulumi.Config(namespace).require_secret(name)


def load_settings() -> Settings:
    """Read and validate the running stack's config (real engine or mock runtime)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = frozenset(runtime_config.get_config_secret_keys_env()) | frozenset(runtime_config._SECRET_KEYS.get())
    return parse_settings(raw, pulumi.get_stack(), secret_keys)
