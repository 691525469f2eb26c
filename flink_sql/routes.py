"""Routing rules (`routes.yaml`, format in DESIGN.md): loaded and fully validated into typed routes."""

from __future__ import annotations

import importlib
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config_node import ConfigError, Node
from core.naming import KAFKA_TOPIC
from core.raw_record import COLUMNS_BY_NAME, JSON_COLUMN
from core.yaml_file import load_yaml

OPERATIONS: dict[str, str] = {"create": "c", "update": "u", "delete": "d", "snapshot": "r"}
SCALAR_OPERATORS = ("equals", "notEquals")
LIST_OPERATORS = ("in", "notIn")
NUMERIC_OPERATORS = ("greaterThan", "lessThan", "greaterThanOrEqual", "lessThanOrEqual")
OPERATORS = (
    *SCALAR_OPERATORS,
    *LIST_OPERATORS,
    *NUMERIC_OPERATORS,
    "between",
    "matches",
    "isNull",
    "isNotNull",
)

ROUTE_ID = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
CONSUMER_NAME = r"[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?"
_JSON_SEGMENT = r"[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*"
JSON_PATH = rf"{_JSON_SEGMENT}(\.{_JSON_SEGMENT})*"

Scalar = str | int | float
# Python's regex parser (no public API; Python 3.11+ names): the routes tests fail if it moves.
re_parser: Any = importlib.import_module("re._parser")
re_constants: Any = importlib.import_module("re._constants")


@dataclass(frozen=True)
class Condition:
    """One test on a raw column or on a JSON path inside event_data."""

    field: str
    operator: str
    values: tuple[Scalar, ...] = ()

    @property
    def json_path(self) -> str | None:
        """The `$.…` path for an event_data field, None for a raw column."""
        prefix = JSON_COLUMN + "."
        return "$." + self.field[len(prefix) :] if self.field.startswith(prefix) else None


@dataclass(frozen=True)
class Route:
    """One routing rule: records of `operations` matching `conditions` go to `output_topic`."""

    id: str
    output_topic: str
    operations: tuple[str, ...]  # Debezium op codes: c u d r
    match: str  # all | any
    conditions: tuple[Condition, ...]
    enabled: bool = True
    consumer: str | None = None
    description: str = ""
    # When the route is added to a deployed statement set: a bounded statement routes the raw topic's
    # retained history into its topic too (README "Adding a route").
    backfill: bool = True


def consumers(routes: tuple[Route, ...]) -> tuple[str, ...]:
    """Distinct consumer principals of the enabled routes, in file order."""
    return tuple(dict.fromkeys(r.consumer for r in routes if r.enabled and r.consumer))


def load_routes(path: str | Path) -> tuple[Route, ...]:
    """Read and validate a routes file; ConfigError names the file and key path of any mistake."""
    return parse_routes(load_yaml(Path(path), str(path)), str(path))


def parse_routes(document: object, file: str) -> tuple[Route, ...]:
    """Validate an already-parsed routes document."""
    root = Node(document, file, "").fields(required=["routes"])["routes"]
    routes = tuple(_route(node) for node in root.items(min_items=1))
    _unique(root, routes, lambda r: r.id, "id")
    _unique(root, routes, lambda r: r.output_topic, "outputTopic")
    _no_metric_name_clash(root, routes)
    _no_overlapping_group_prefixes(root, routes)
    return routes


def route_writing(routes: tuple[Route, ...], topic: str) -> int | None:
    """Index of the first enabled route whose output is `topic` (None if none is)."""
    return next((i for i, route in enumerate(routes) if route.enabled and route.output_topic == topic), None)


def check_output_is_not_raw(routes: tuple[Route, ...], raw_topic: str, file: str) -> None:
    """A route writing the raw topic would feed the statement its own output."""
    index = route_writing(routes, raw_topic)
    if index is not None:
        raise ConfigError(file, f"routes[{index}].outputTopic", f"{raw_topic!r} is the raw topic routes read")


def _unique(root: Node, routes: tuple[Route, ...], key: object, name: str) -> None:
    seen: dict[str, int] = {}
    for index, route in enumerate(routes):
        value = key(route)  # type: ignore[operator]
        if value in seen:
            Node(value, root.file, f"routes[{index}].{name}").fail(f"{value!r} duplicates routes[{seen[value]}].{name}")
        seen[value] = index


def _no_metric_name_clash(root: Node, routes: tuple[Route, ...]) -> None:
    """Kafka's metric names replace '.' by '_': `a.b` and `a_b` would report as one topic."""
    seen: dict[str, int] = {}
    for index, route in enumerate(routes):
        metric_name = route.output_topic.replace(".", "_")
        if metric_name in seen:
            other = routes[seen[metric_name]].output_topic
            Node(route.output_topic, root.file, f"routes[{index}].outputTopic").fail(
                f"{route.output_topic!r} and routes[{seen[metric_name]}].outputTopic {other!r} differ only in "
                "'.' vs '_', which collide in Kafka's metric names"
            )
        seen[metric_name] = index


def _no_overlapping_group_prefixes(root: Node, routes: tuple[Route, ...]) -> None:
    """A consumer reads groups `<name>-*`: `loan` would also read `loan-consumer`'s groups."""
    first: dict[str, int] = {}
    for index, route in enumerate(routes):
        if not route.consumer or route.consumer in first:
            continue
        for other, other_index in first.items():
            shorter, longer = sorted((other, route.consumer), key=len)
            if f"{longer}-".startswith(f"{shorter}-"):
                Node(route.consumer, root.file, f"routes[{index}].consumer").fail(
                    f"{route.consumer!r} and routes[{other_index}].consumer {other!r} have overlapping group "
                    f"prefixes: {shorter}-* also matches {longer}'s groups"
                )
        first[route.consumer] = index


def _route(node: Node) -> Route:
    f = node.fields(
        required=["id", "outputTopic"],
        optional=["description", "consumer", "enabled", "backfill", "operations", "match", "conditions"],
    )
    operations = (
        tuple(OPERATIONS[op.choice(OPERATIONS)] for op in f["operations"].items(min_items=1))
        if f["operations"].present
        else ("c",)
    )
    if len(set(operations)) != len(operations):
        f["operations"].fail("lists an operation twice")
    return Route(
        id=f["id"].string(ROUTE_ID, "lowercase letters, digits and '-'"),
        description=f["description"].string(default=""),
        output_topic=f["outputTopic"].string(KAFKA_TOPIC, "a Kafka topic name ([A-Za-z0-9._-], <= 249)"),
        consumer=f["consumer"].string(CONSUMER_NAME, "lowercase [a-z0-9-], <= 40 chars", default=None),
        enabled=f["enabled"].boolean(default=True),
        backfill=f["backfill"].boolean(default=True),
        operations=operations,
        match=f["match"].choice(("all", "any"), default="all"),
        conditions=tuple(_condition(c) for c in f["conditions"].items()) if f["conditions"].present else (),
    )


def _condition(node: Node) -> Condition:
    f = node.fields(required=["field", "operator"], optional=["value", "values"])
    field = _field(f["field"])
    operator = f["operator"].choice(OPERATORS)
    value, values = f["value"], f["values"]
    column = COLUMNS_BY_NAME.get(field)  # None for an event_data path: strings and numbers both work
    numeric_field = column is None or column.numeric

    def reject(node: Node, why: str) -> None:
        if node.present:
            node.fail(f"{why} for operator {operator}")

    def scalar(node: Node) -> Scalar:
        value = node.value if isinstance(node.value, str) else node.number()
        if column is not None and column.numeric == isinstance(value, str):
            node.fail(f"{value!r} does not match column {field} ({column.flink_type})")
        return value

    def numeric(node: Node) -> int | float:
        if not numeric_field:
            node.fail(f"operator {operator} needs a numeric field; {field} is a string column")
        return node.number()

    if operator in ("isNull", "isNotNull"):
        reject(value, "no value allowed")
        reject(values, "no values allowed")
        return Condition(field, operator)
    if operator in LIST_OPERATORS or operator == "between":
        reject(value, "use 'values', not 'value',")
        if not values.present:
            values.fail(f"is required for operator {operator}")
        if operator == "between":
            bounds = values.items()
            if len(bounds) != 2:
                values.fail("between needs exactly two values [low, high]")
            low, high = numeric(bounds[0]), numeric(bounds[1])
            if low > high:
                values.fail(f"low bound {low} is greater than high bound {high}")
            return Condition(field, operator, (low, high))
        listed = tuple(scalar(v) for v in values.items(min_items=1))
        if len({isinstance(v, str) for v in listed}) > 1:
            values.fail("mixes strings and numbers: use one kind per condition")
        return Condition(field, operator, listed)
    reject(values, "use 'value', not 'values',")
    if not value.present:
        value.fail(f"is required for operator {operator}")
    if operator in NUMERIC_OPERATORS:
        return Condition(field, operator, (numeric(value),))
    if operator == "matches":
        if column is not None and column.numeric:
            # Flink: "Cannot apply 'REGEXP' to arguments of type 'REGEXP(<BIGINT>, ...)'".
            f["field"].fail(f"operator matches needs a string field; {field} is {column.flink_type}")
        pattern = value.string()
        problem = java_portable_problem(pattern)
        if problem:
            value.fail(problem)
        return Condition(field, operator, (pattern,))
    return Condition(field, operator, (scalar(value),))


def java_portable_problem(pattern: str) -> str | None:
    """Why `pattern` is not in the regex subset that means the same to Python (which checks it here)
    and Java (which runs it: Flink's REGEXP), or is prone to catastrophic backtracking; None if fine.

    Refused: syntax Java reads differently or not at all (named groups `(?P<x>..)`, conditionals,
    `{,n}`, `\\Z`, the a/L/u flags, `&&` or nested sets in a class) and a repeated group that itself
    contains a repeat (`(a+)+`, `(\\w+\\s?)*`) unless made atomic/possessive. Uses Python's own parser
    (re._parser): a change there fails the routes tests, not silently.
    """
    if re.search(r"(?<!\\)\{,\d", pattern):
        return "'{,n}' is Python syntax; Java (Flink) needs '{0,n}'"
    if re.search(r"\(\?[a-zA-Z]*[aLu]", pattern):
        return "the inline flags a, L and u mean different things to Java (Flink): leave them out"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # FutureWarning: a set operation Java reads differently
            parsed = re_parser.parse(pattern)
    except FutureWarning:
        return "a set operation in a class ('&&', '--', '~~', a nested '[') that Java reads differently"
    except re.error as error:
        return f"invalid regular expression: {error}"
    if parsed.state.groupdict:
        return "named groups (?P<name>...) are Python syntax; Flink's REGEXP is Java's: use (...)"
    return _portable_items(parsed, repeated=False)


_REPEATS = (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT)


def _portable_items(items: Any, repeated: bool) -> str | None:
    for op, arg in items:
        if op == re_constants.GROUPREF_EXISTS:
            return "conditional groups (?(1)...) are Python syntax, unknown to Java (Flink)"
        if op == re_constants.AT and arg == re_constants.AT_END_STRING:
            return "\\Z means 'end of input' to Python but 'before a final line break' to Java: use $"
        if op in _REPEATS:
            _low, high, body = arg
            if repeated and high > 1:
                return "a repeated group contains a repeat (catastrophic backtracking): make it atomic (?>...)"
            problem = _portable_items(body, repeated or high > 1)
        elif op == re_constants.SUBPATTERN:
            problem = _portable_items(arg[-1], repeated)
        elif op == re_constants.BRANCH:
            problem = next(filter(None, (_portable_items(b, repeated) for b in arg[1])), None)
        else:  # atomic groups and possessive repeats never backtrack; the rest holds no subpattern
            problem = None
        if problem:
            return problem
    return None


def _field(node: Node) -> str:
    name = node.string()
    if name in COLUMNS_BY_NAME:
        return name
    prefix = JSON_COLUMN + "."
    if name.startswith(prefix):
        if not re.fullmatch(JSON_PATH, name[len(prefix) :]):
            node.fail(f"{name!r} is not a valid JSON path (e.g. {prefix}eventBody.entities[0].entityType)")
        return name
    node.fail(f"unknown field {name!r}: use a raw column ({', '.join(COLUMNS_BY_NAME)}) or {prefix}<path>")
