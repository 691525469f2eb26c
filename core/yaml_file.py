"""YAML input read defensively: one-line errors, no duplicate keys, no alias bombs, bounded size and depth.

Stack files and routes files are written by people: a duplicated key must not silently win (a second
`protect: false`), an alias bomb must not be expanded, and every problem is one line with
`file:line:column`. Parsing and composing run in libyaml (CSafeLoader, in PyYAML's wheels); the checks
walk the composed node graph before anything is constructed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from core.config_node import ConfigError
from core.input_file import MAX_BYTES, MAX_DEPTH, decode, read_bytes

__all__ = ["MAX_BYTES", "YamlError", "load_yaml", "parse_yaml"]
# Nodes after alias expansion: far above any real file, far below what exhausts memory.
MAX_EXPANDED_NODES = 2_000_000


class YamlError(ConfigError):
    """A problem in the YAML text itself, located by line and column (1-based)."""

    def __init__(self, file: str, line: int, column: int, message: str) -> None:
        super().__init__(file, f"{line}:{column}", message)
        self.args = (f"{file}:{line}:{column}: {message}",)

    def __str__(self) -> str:
        return str(self.args[0])


class _Loader(yaml.CSafeLoader):
    """Safe loading minus what a config never needs: timestamps stay strings (as Pulumi passes them),
    binary/set/ordered-map tags are refused, and a duplicate mapping key is an error."""

    file = "<yaml>"

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (dict, list)):
                raise _error(self.file, key_node, "a mapping key must be a scalar")
            if key in seen:
                first = seen[key].start_mark.line + 1
                raise _error(self.file, key_node, f"duplicate key {key!r} (first at line {first})")
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _timestamp_as_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


def _refused_tag(loader: _Loader, node: yaml.Node) -> Any:
    raise _error(loader.file, node, f"unsupported YAML tag {node.tag}")


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
for _tag in ("binary", "set", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refused_tag)
_Loader.add_constructor(None, _refused_tag)  # any other explicit tag (!!python/..., !custom)


def _error(file: str, node: yaml.Node, message: str) -> YamlError:
    return YamlError(file, node.start_mark.line + 1, node.start_mark.column + 1, message)


def load_yaml(path: Path, file: str) -> Any:
    """The document in `path`; `file` is how errors name it. Raises ConfigError (one line)."""
    try:
        data = read_bytes(str(path), "file")
    except ConfigError as error:
        raise ConfigError(file, "file", error.message) from None
    return parse_yaml(data, file)


def parse_yaml(data: bytes, file: str) -> Any:
    """Parse YAML bytes (UTF-8). Raises ConfigError (one line) for any problem."""
    text = decode(data, file, "file")
    loader = _Loader(text)
    loader.file = file
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(node, file)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(filter(None, (error.context, error.problem))) or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlError(file, line, column, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as error:
        raise YamlError(file, 1, 1, f"invalid YAML: {str(error).splitlines()[0]}") from None
    finally:
        loader.dispose()


def _check_graph(root: yaml.Node, file: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH and documents whose aliases expand past MAX_EXPANDED_NODES,
    without expanding anything (sizes are computed once per distinct node)."""
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        if depth > MAX_DEPTH:
            raise _error(file, node, f"nesting deeper than {MAX_DEPTH} levels")
        children = _children(node)
        if children_done:
            total = 1 + sum(size[id(child)] for child in children)
            if total > MAX_EXPANDED_NODES:
                raise _error(file, node, f"expands to more than {MAX_EXPANDED_NODES:,} values (alias bomb?)")
            size[id(node)] = total
            continue
        if id(node) in size:
            continue
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children if id(child) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
