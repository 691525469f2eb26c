"""Path-tracking reader for YAML/JSON input, shared by the stack settings and the routes file.

Every value is read through a `Node` that knows its file and key path, so every error can say
exactly where it is (`Pulumi.prod-east.yaml: cdc-platform:kafka.cku: ...`,
`routes.yaml: routes[3].conditions[0].operator: ...`). Pure Python: imported by both environments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, NoReturn

_MISSING = object()


class ConfigError(Exception):
    """Bad input, located by file and key path."""

    def __init__(self, file: str, path: str, message: str) -> None:
        super().__init__(f"{file}: {path}: {message}" if path else f"{file}: {message}")
        self.file = file
        self.path = path
        self.message = message


def kind(value: Any) -> str:
    """What a value is, for an error message that must not echo the value itself (it may be huge, or
    a secret typed into the wrong key)."""
    if value is None or value is _MISSING:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class Node:
    """A value read from `file` at `path`; its typed readers raise ConfigError naming both."""

    def __init__(self, value: Any, file: str, path: str) -> None:
        self.value = value
        self.file = file
        self.path = path

    @property
    def present(self) -> bool:
        return self.value is not _MISSING and self.value is not None

    def fail(self, message: str) -> NoReturn:
        raise ConfigError(self.file, self.path, message)

    def _join(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fields(self, required: Iterable[str] = (), optional: Iterable[str] = ()) -> dict[str, Node]:
        """The mapping's keys as Nodes (absent optional keys included); unknown keys are errors.
        An absent mapping reads as an empty one."""
        required, optional = tuple(required), tuple(optional)
        mapping = self.value if self.present else {}
        if not isinstance(mapping, dict):
            self.fail(f"must be a mapping with keys {', '.join(required + optional)}")
        allowed = set(required) | set(optional)
        for key in mapping:
            if key not in allowed:
                Node(None, self.file, self._join(str(key))).fail(f"unknown key (allowed: {', '.join(sorted(allowed))})")
        result = {}
        for key in required + optional:
            node = Node(mapping.get(key, _MISSING), self.file, self._join(key))
            if key in required and not node.present:
                node.fail("is required")
            result[key] = node
        return result

    def items(self, min_items: int = 0) -> list[Node]:
        if not isinstance(self.value, list):
            self.fail(f"must be a list, not {kind(self.value)}")
        if len(self.value) < min_items:
            self.fail(f"must have at least {min_items} item{'s' if min_items > 1 else ''}")
        return [Node(v, self.file, f"{self.path}[{i}]") for i, v in enumerate(self.value)]

    def string(self, pattern: str | None = None, hint: str = "", default: Any = _MISSING) -> str:
        if not self.present and default is not _MISSING:
            return default  # type: ignore[no-any-return]
        if not isinstance(self.value, str):
            self.fail(f"must be a non-empty string, not {kind(self.value)}")
        if not self.value:
            self.fail("must be a non-empty string")
        if pattern is not None and not re.fullmatch(pattern, self.value):
            self.fail(f"{self.value!r} is not valid{': ' + hint if hint else ''}")
        return self.value

    def integer(self, minimum: int | None = None, default: Any = _MISSING) -> int:
        if not self.present and default is not _MISSING:
            return default  # type: ignore[no-any-return]
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            self.fail(f"must be an integer, not {kind(self.value)}")
        if minimum is not None and self.value < minimum:
            self.fail(f"must be >= {minimum}, got {self.value}")
        return self.value

    def number(self) -> int | float:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            self.fail(f"must be a finite number, not {kind(self.value)}")
        try:
            finite = math.isfinite(self.value)  # an int beyond a double's range overflows
        except OverflowError:
            finite = False
        if not finite:
            self.fail("must be a finite number within a double's range (Flink compares as DOUBLE)")
        return self.value

    def boolean(self, default: Any = _MISSING) -> bool:
        if not self.present and default is not _MISSING:
            return default  # type: ignore[no-any-return]
        if not isinstance(self.value, bool):
            self.fail(f"must be true or false, not {kind(self.value)}")
        return self.value

    def choice(self, options: Iterable[Any], default: Any = _MISSING) -> Any:
        if not self.present and default is not _MISSING:
            return default
        options = tuple(options)
        same_type = type(self.value) in {type(option) for option in options}
        if not same_type or self.value not in options:
            # A wrong value of the right type is shown (shortened); a wrong type only named.
            got = (
                repr(self.value if not isinstance(self.value, str) else self.value[:40])
                if same_type
                else kind(self.value)
            )
            self.fail(f"{got} is not one of {', '.join(map(str, options))}")
        return self.value
