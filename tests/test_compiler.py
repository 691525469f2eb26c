"""The compiler's exact SQL, written out by hand from DESIGN.md "Routing rules" (no engine needed).

Each expected string is what the rule means in Flink SQL: `__op` restricted to the route's operations,
conditions joined by AND (`match: all`) or OR (`match: any`), raw columns compared directly,
`event_data.<path>` read with JSON_VALUE and, for numbers, TRY_CAST(... AS DOUBLE) so that integer and
decimal JSON numbers compare numerically and non-numeric text is NULL (no match). The engine tier
(test_flink_sql.py, test_rehearsal.py) proves the same SQL plans and routes on real Flink.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.raw_record import RAW_COLUMN_NAMES, key_json_schema, record_problems, value_json_schema
from flink_sql.compiler import compile_routes, identifier, number_literal, registry_options, string_literal
from flink_sql.routes import Condition, Route, parse_routes
from tests.helpers import RAW_KEY_SCHEMA

AMOUNT = "event_data.eventBody.entities[0].updatedAttributes.loan.loanAmount"
AMOUNT_SQL = "TRY_CAST(JSON_VALUE(`event_data`, '$.eventBody.entities[0].updatedAttributes.loan.loanAmount') AS DOUBLE)"
STATUS = "event_data.eventBody.status"
STATUS_SQL = "JSON_VALUE(`event_data`, '$.eventBody.status')"
COLUMNS = (
    "`id`, `event_name`, `event_type`, `created_date`, `saved_date`, `event_data`, `__op`, `__table`, `__ts_ms`, "
    "`__deleted`"
)
COLUMN_DEFINITIONS = """\
  `id` STRING,
  `event_name` STRING,
  `event_type` STRING,
  `created_date` STRING,
  `saved_date` STRING,
  `event_data` STRING,
  `__op` STRING,
  `__table` STRING,
  `__ts_ms` BIGINT,
  `__deleted` STRING"""
# A routed table as Confluent infers it from the routed key and value subjects: the key's NOT NULL `id`
# is not contained in the value (whose `id` is nullable), so it is its own `key_`-prefixed column.
SINK_COLUMN_DEFINITIONS = "  `key_id` STRING NOT NULL,\n" + COLUMN_DEFINITIONS


def where(*conditions: dict[str, Any], **route: Any) -> str:
    """The WHERE clause compiled for one route (`operations: [create]` unless given)."""
    document = {"routes": [{"id": "r", "outputTopic": "out", "conditions": list(conditions), **route}]}
    (insert,) = compile_routes(parse_routes(document, "routes.yaml"), "raw", {}).inserts
    head, clause = insert.split("\n  WHERE ")
    assert head.startswith("INSERT INTO `out`")
    return clause


def only(condition_sql: str, ops: str = "'c'") -> str:
    """The WHERE clause of a route with one condition."""
    return f"`__op` IN ({ops}) AND ({condition_sql})"


# --- operators -----------------------------------------------------------------------------------


def test_equals_compares_a_raw_column_with_a_string_literal() -> None:
    condition = {"field": "event_type", "operator": "equals", "value": "LoanCreated"}
    assert where(condition) == only("`event_type` = 'LoanCreated'")


def test_notequals_compiles_to_sql_not_equal_which_is_false_on_null() -> None:
    condition = {"field": "event_type", "operator": "notEquals", "value": "LoanCreated"}
    # `<>` (not IS DISTINCT FROM): a NULL event_type yields NULL, so the record does not match.
    assert where(condition) == only("`event_type` <> 'LoanCreated'")


def test_in_compiles_to_an_in_list_in_the_given_order() -> None:
    condition = {"field": "event_type", "operator": "in", "values": ["CarCreated", "LoanCreated"]}
    assert where(condition) == only("`event_type` IN ('CarCreated', 'LoanCreated')")


def test_notin_compiles_to_not_in_and_is_false_on_null() -> None:
    condition = {"field": "event_name", "operator": "notIn", "values": ["A", "B"]}
    # NOT IN on a NULL field is NULL in SQL: the record does not match, as DESIGN.md requires.
    assert where(condition) == only("`event_name` NOT IN ('A', 'B')")


def test_in_with_a_single_value() -> None:
    condition = {"field": "id", "operator": "in", "values": ["only"]}
    assert where(condition) == only("`id` IN ('only')")


@pytest.mark.parametrize(
    "operator, sql_operator",
    [
        ("greaterThan", ">"),
        ("lessThan", "<"),
        ("greaterThanOrEqual", ">="),
        ("lessThanOrEqual", "<="),
    ],
)
def test_comparison_operators_keep_their_direction_on_event_data_numbers(operator: str, sql_operator: str) -> None:
    condition = {"field": AMOUNT, "operator": operator, "value": 100000}
    assert where(condition) == only(f"{AMOUNT_SQL} {sql_operator} 100000")


def test_greater_than_on_a_numeric_raw_column_compares_the_bigint_directly() -> None:
    condition = {"field": "__ts_ms", "operator": "greaterThan", "value": 1705312200000}
    assert where(condition) == only("`__ts_ms` > 1705312200000")


def test_less_than_or_equal_on_a_numeric_raw_column() -> None:
    condition = {"field": "__ts_ms", "operator": "lessThanOrEqual", "value": 5}
    assert where(condition) == only("`__ts_ms` <= 5")


def test_equals_a_number_on_an_event_data_path_casts_the_json_text_to_double() -> None:
    condition = {"field": AMOUNT, "operator": "equals", "value": 50000}
    assert where(condition) == only(f"{AMOUNT_SQL} = 50000")


def test_not_equals_a_number_on_an_event_data_path_casts_to_double() -> None:
    condition = {"field": AMOUNT, "operator": "notEquals", "value": 0}
    assert where(condition) == only(f"{AMOUNT_SQL} <> 0")


def test_equals_a_number_on_the_numeric_raw_column_needs_no_cast() -> None:
    condition = {"field": "__ts_ms", "operator": "equals", "value": 7}
    assert where(condition) == only("`__ts_ms` = 7")


def test_in_numbers_on_an_event_data_path_casts_to_double() -> None:
    condition = {"field": AMOUNT, "operator": "in", "values": [1, 2.5]}
    assert where(condition) == only(f"{AMOUNT_SQL} IN (1, 2.5)")


def test_notin_numbers_on_an_event_data_path_casts_to_double() -> None:
    condition = {"field": AMOUNT, "operator": "notIn", "values": [3]}
    assert where(condition) == only(f"{AMOUNT_SQL} NOT IN (3)")


def test_between_is_inclusive_sql_between_on_the_cast_value() -> None:
    condition = {"field": AMOUNT, "operator": "between", "values": [1000, 50000]}
    assert where(condition) == only(f"{AMOUNT_SQL} BETWEEN 1000 AND 50000")


def test_between_on_the_numeric_raw_column() -> None:
    condition = {"field": "__ts_ms", "operator": "between", "values": [10, 20]}
    assert where(condition) == only("`__ts_ms` BETWEEN 10 AND 20")


def test_matches_is_flink_regexp_on_the_raw_column() -> None:
    condition = {"field": "event_name", "operator": "matches", "value": "^Loan.*(Created|Updated)$"}
    assert where(condition) == only("REGEXP(`event_name`, '^Loan.*(Created|Updated)$')")


def test_matches_on_an_event_data_path_reads_the_json_text_without_a_cast() -> None:
    condition = {"field": STATUS, "operator": "matches", "value": "act"}
    assert where(condition) == only(f"REGEXP({STATUS_SQL}, 'act')")


def test_isnull_on_an_event_data_path_is_the_only_test_true_for_a_missing_field() -> None:
    condition = {"field": STATUS, "operator": "isNull"}
    # No cast: a present but non-numeric value must not read as NULL.
    assert where(condition) == only(f"{STATUS_SQL} IS NULL")


def test_isnotnull_on_a_raw_column() -> None:
    condition = {"field": "saved_date", "operator": "isNotNull"}
    assert where(condition) == only("`saved_date` IS NOT NULL")


def test_isnotnull_on_an_event_data_path_reads_the_json_text_without_a_cast() -> None:
    condition = {"field": STATUS, "operator": "isNotNull"}
    assert where(condition) == only(f"{STATUS_SQL} IS NOT NULL")


def test_string_equals_on_an_event_data_path_compares_the_json_text() -> None:
    condition = {"field": STATUS, "operator": "equals", "value": "active"}
    assert where(condition) == only(f"{STATUS_SQL} = 'active'")


def test_string_in_on_an_event_data_path_compares_the_json_text() -> None:
    condition = {"field": STATUS, "operator": "in", "values": ["active", "closed"]}
    assert where(condition) == only(f"{STATUS_SQL} IN ('active', 'closed')")


def test_a_numeric_looking_string_on_an_event_data_path_stays_a_string_comparison() -> None:
    condition = {"field": STATUS, "operator": "equals", "value": "42"}
    assert where(condition) == only(f"{STATUS_SQL} = '42'")


def test_event_data_paths_keep_array_indexes_and_nesting() -> None:
    condition = {"field": "event_data.a[0][12].b_c.D9", "operator": "equals", "value": "x"}
    assert where(condition) == only("JSON_VALUE(`event_data`, '$.a[0][12].b_c.D9') = 'x'")


def test_an_operator_the_compiler_does_not_know_is_an_error_not_a_true_filter() -> None:
    route = Route("r", "out", ("c",), "all", (Condition("event_type", "resembles", ("X",)),))
    with pytest.raises(ValueError) as error:
        compile_routes([route], "raw", {})
    assert str(error.value) == "unknown operator resembles"


# --- number literals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, sql",
    [
        (0, "0"),
        (-3, "-3"),
        (100000, "100000"),
        (2500.5, "2500.5"),
        (-0.25, "-0.25"),
        (1.0, "1.0"),
        (1e20, "1e+20"),
    ],
)
def test_numbers_are_written_as_sql_numeric_literals(value: float, sql: str) -> None:
    condition = {"field": AMOUNT, "operator": "greaterThan", "value": value}
    assert where(condition) == only(f"{AMOUNT_SQL} > {sql}")


@pytest.mark.parametrize("value", [True, False, float("nan"), float("inf"), float("-inf"), "1", None])
def test_number_literal_refuses_what_is_not_a_finite_number(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^not a finite number: "):
        number_literal(value)


def test_number_literal_names_the_refused_value() -> None:
    with pytest.raises(ValueError) as error:
        number_literal(True)
    assert str(error.value) == "not a finite number: True"


# --- escaping ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, sql",
    [
        ("O'Brien", "'O''Brien'"),
        ("a''b", "'a''''b'"),
        ("'; DROP TABLE x; --", "'''; DROP TABLE x; --'"),
        ("back\\slash", "'back\\slash'"),  # one backslash, kept as is: no escape character in Flink SQL
        ("back`tick", "'back`tick'"),
        ("new\nline", "'new\nline'"),
        ("☃ ünïcode", "'☃ ünïcode'"),
    ],
)
def test_string_values_are_quoted_with_doubled_single_quotes(value: str, sql: str) -> None:
    condition = {"field": "event_type", "operator": "equals", "value": value}
    assert where(condition) == only(f"`event_type` = {sql}")
    assert string_literal(value) == sql


def test_regex_values_are_escaped_like_any_literal() -> None:
    condition = {"field": "event_name", "operator": "matches", "value": "it's\\d+"}
    assert where(condition) == only("REGEXP(`event_name`, 'it''s\\d+')")


def test_in_values_are_each_escaped() -> None:
    condition = {"field": "event_type", "operator": "notIn", "values": ["it's", "fine"]}
    assert where(condition) == only("`event_type` NOT IN ('it''s', 'fine')")


@pytest.mark.parametrize(
    "name, sql",
    [("plain", "`plain`"), ("back`tick", "`back``tick`"), ("two``", "`two`````"), ("it's", "`it's`")],
)
def test_identifiers_are_backquoted_with_doubled_backquotes(name: str, sql: str) -> None:
    assert identifier(name) == sql


# --- operations and match ------------------------------------------------------------------------


def test_no_conditions_filters_on_the_operations_only() -> None:
    assert where() == "`__op` IN ('c')"


def test_operations_default_to_create() -> None:
    assert where({"field": "id", "operator": "isNotNull"}) == "`__op` IN ('c') AND (`id` IS NOT NULL)"


@pytest.mark.parametrize(
    "operations, codes",
    [
        (["create"], "'c'"),
        (["update"], "'u'"),
        (["delete"], "'d'"),
        (["snapshot"], "'r'"),
        (["snapshot", "create"], "'r', 'c'"),
        (["create", "update", "delete", "snapshot"], "'c', 'u', 'd', 'r'"),
    ],
)
def test_operations_compile_to_debezium_op_codes(operations: list[str], codes: str) -> None:
    assert where(operations=operations) == f"`__op` IN ({codes})"


def test_match_all_joins_conditions_with_and_inside_parentheses() -> None:
    clause = where(
        {"field": "event_type", "operator": "equals", "value": "LoanCreated"},
        {"field": AMOUNT, "operator": "greaterThan", "value": 5},
        match="all",
        operations=["create", "update"],
    )
    assert clause == f"`__op` IN ('c', 'u') AND (`event_type` = 'LoanCreated' AND {AMOUNT_SQL} > 5)"


def test_match_defaults_to_all() -> None:
    clause = where(
        {"field": "event_type", "operator": "equals", "value": "A"},
        {"field": "event_name", "operator": "equals", "value": "B"},
    )
    assert clause == "`__op` IN ('c') AND (`event_type` = 'A' AND `event_name` = 'B')"


def test_match_any_joins_conditions_with_or_and_keeps_the_operation_filter_outside() -> None:
    clause = where(
        {"field": "event_type", "operator": "in", "values": ["CarCreated"]},
        {"field": "event_name", "operator": "equals", "value": "CarServiceDone"},
        {"field": STATUS, "operator": "isNull"},
        match="any",
        operations=["delete"],
    )
    # The parentheses keep `__op` binding every alternative: a create never passes a delete route.
    assert clause == (
        "`__op` IN ('d') AND "
        f"(`event_type` IN ('CarCreated') OR `event_name` = 'CarServiceDone' OR {STATUS_SQL} IS NULL)"
    )


def test_match_any_with_one_condition_is_that_condition() -> None:
    clause = where({"field": "id", "operator": "equals", "value": "x"}, match="any")
    assert clause == "`__op` IN ('c') AND (`id` = 'x')"


# --- whole statements ----------------------------------------------------------------------------


def _compile(document: dict[str, Any], **options: Any) -> Any:
    return compile_routes(parse_routes(document, "routes.yaml"), "raw-business-events", **options)


TWO_ROUTES = {
    "routes": [
        {"id": "a", "outputTopic": "topic-a", "conditions": [{"field": "id", "operator": "isNull"}]},
        {"id": "off", "outputTopic": "topic-off", "enabled": False},
        {"id": "b", "outputTopic": "topic.b", "operations": ["delete"]},
    ]
}


def test_insert_writes_the_raw_key_into_the_key_column_then_every_raw_column() -> None:
    compiled = _compile(TWO_ROUTES, source_options={})
    assert compiled.inserts == (
        f"INSERT INTO `topic-a` (`key_id`, {COLUMNS})\n"
        f"  SELECT `id` AS `key_id`, {COLUMNS}\n"
        "  FROM `raw-business-events`\n"
        "  WHERE `__op` IN ('c') AND (`id` IS NULL)",
        f"INSERT INTO `topic.b` (`key_id`, {COLUMNS})\n"
        f"  SELECT `id` AS `key_id`, {COLUMNS}\n"
        "  FROM `raw-business-events`\n"
        "  WHERE `__op` IN ('d')",
    )


def test_statement_set_holds_the_enabled_inserts_in_file_order() -> None:
    compiled = _compile(TWO_ROUTES, source_options={})
    first, second = compiled.inserts
    assert compiled.statement_set == f"EXECUTE STATEMENT SET\nBEGIN\n  {first};\n  {second};\nEND"


def test_source_ddl_declares_the_raw_columns_with_the_given_options_escaped() -> None:
    compiled = _compile(TWO_ROUTES, source_options={"connector": "filesystem", "path": "/tmp/it's"})
    assert compiled.source_ddl == (
        "CREATE TABLE `raw-business-events` (\n"
        f"{COLUMN_DEFINITIONS}\n"
        ") WITH (\n"
        "  'connector' = 'filesystem',\n"
        "  'path' = '/tmp/it''s'\n"
        ")"
    )


def test_one_sink_table_per_enabled_route_with_the_sink_options() -> None:
    compiled = _compile(TWO_ROUTES, source_options={}, sink_options={"value.format": "avro-registry"})
    assert compiled.sink_ddl == tuple(
        f"CREATE TABLE `{topic}` (\n{SINK_COLUMN_DEFINITIONS}\n) WITH (\n  'value.format' = 'avro-registry'\n)"
        for topic in ("topic-a", "topic.b")
    )


def test_per_topic_sink_options_win_over_the_shared_ones() -> None:
    compiled = _compile(
        TWO_ROUTES,
        source_options={},
        sink_options={"connector": "blackhole"},
        sink_options_for={"topic.b": {"connector": "filesystem", "path": "out/topic.b"}},
    )
    assert compiled.sink_ddl == (
        f"CREATE TABLE `topic-a` (\n{SINK_COLUMN_DEFINITIONS}\n) WITH (\n  'connector' = 'blackhole'\n)",
        f"CREATE TABLE `topic.b` (\n{SINK_COLUMN_DEFINITIONS}\n) WITH (\n"
        "  'connector' = 'filesystem',\n  'path' = 'out/topic.b'\n)",
    )


def test_per_topic_sink_options_alone_are_enough() -> None:
    compiled = _compile(TWO_ROUTES, source_options={}, sink_options_for={"topic-a": {"connector": "print"}})
    assert (
        compiled.sink_ddl[0]
        == f"CREATE TABLE `topic-a` (\n{SINK_COLUMN_DEFINITIONS}\n) WITH (\n  'connector' = 'print'\n)"
    )


def test_only_disabled_routes_compile_to_an_empty_statement_set() -> None:
    document = {"routes": [{"id": "off", "outputTopic": "t", "enabled": False}]}
    compiled = _compile(document, source_options={})
    assert compiled.inserts == ()
    assert compiled.sink_ddl == ()
    assert compiled.statement_set == "EXECUTE STATEMENT SET\nBEGIN\nEND"


@pytest.mark.parametrize(
    "value_format, registry_format",
    [("JSON_SR", "json-registry"), ("AVRO", "avro-registry"), ("PROTOBUF", "proto-registry")],
)
def test_deployed_tables_use_the_registry_format_of_the_cdc_value_format(
    value_format: str, registry_format: str
) -> None:
    assert registry_options(value_format) == {"value.format": registry_format}


# --- the routed key ------------------------------------------------------------------------------


def test_the_routed_key_schema_is_the_raw_primary_key_not_null_and_required() -> None:
    # What the connector's key converter writes for business_events' primary key: one non-optional
    # string field (Debezium: one key field per primary-key column).
    assert key_json_schema() == RAW_KEY_SCHEMA


def test_the_key_id_is_not_contained_in_the_value_because_the_values_id_is_nullable() -> None:
    """Confluent's inference: containment needs the same name AND type including nullability; the
    value's `id` is oneOf(null, string), the key's a plain string, hence the `key_id` column."""
    value_id = value_json_schema("t")["properties"]["id"]  # type: ignore[index]
    key_id = key_json_schema()["properties"]["id"]  # type: ignore[index]
    assert value_id == {"oneOf": [{"type": "null"}, {"type": "string"}]}
    assert key_id == {"type": "string"}
    (insert,) = compile_routes([Route("r", "t", ("c",), "all", ())], "raw", {}).inserts
    assert insert.startswith("INSERT INTO `t` (`key_id`, `id`, ")


def test_a_raw_record_with_a_null_primary_key_is_refused() -> None:
    record = {name: "x" for name in RAW_COLUMN_NAMES} | {"__op": "c", "__ts_ms": 1, "id": None}
    assert record_problems(record) == ["id is the primary key (the record's Kafka key): it cannot be null"]
    assert record_problems(record | {"id": "loan-1"}) == []


def test_a_wrongly_typed_primary_key_must_be_a_string_not_null() -> None:
    record = {name: "x" for name in RAW_COLUMN_NAMES} | {"__op": "c", "__ts_ms": 1, "id": 7}
    assert record_problems(record) == ["id must be string, got 7"]
    assert record_problems(record | {"id": "x", "event_type": 7}) == ["event_type must be string or null, got 7"]
