"""Errors cdcctl reports in one line: bad input (exit 2) and a missing or failing engine (exit 1)."""

from __future__ import annotations

from core.config_node import ConfigError
from rehearsal.errors import EngineError

EXIT_BAD_INPUT = 2
EXIT_ENGINE_FAILED = 1


__all__ = ["EXIT_BAD_INPUT", "EXIT_ENGINE_FAILED", "ConfigError", "EngineError"]
