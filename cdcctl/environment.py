"""Variables a command needs from its environment (keys, libpq's target): all missing ones named at once,
so one run tells the operator everything to set."""

from __future__ import annotations

import os
from collections.abc import Sequence

from core.config_node import ConfigError


def required_variables(names: Sequence[str], hint: str) -> dict[str, str]:
    """The values of `names`; unset or empty ones fail together in one line."""
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise ConfigError("environment", ", ".join(missing), f"{'is' if len(missing) == 1 else 'are'} not set ({hint})")
    return {name: os.environ[name] for name in names}
