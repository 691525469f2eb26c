"""The one error the engines raise: an engine is missing or failed (cdcctl reports it, exit 1)."""

from __future__ import annotations


class EngineError(Exception):
    """The rehearsal engine is missing or failed."""
