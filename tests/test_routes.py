"""Routing rules: the validator refuses bad files naming file and key path; the compiler quotes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdcctl.__main__ import main
from core.config_node import ConfigError
from flink_sql.compiler import compile_routes, registry_options
from flink_sql.routes import Condition, Route, check_output_is_not_raw, consumers, load_routes, parse_routes
from tests.helpers import REPO


def cond(**fields: Any) -> dict[str, Any]:
    return {"field": "event_type", "operator": "equals", "value": "X", **fields}


def route(**fields: Any) -> dict[str, Any]:
    return {"id": "r0", "outputTopic": "t-0", **fields}


def routes(*items: dict[str, Any]) -> dict[str, Any]:
    return {"routes": list(items)}


LOAN_AMOUNT = "event_data.eventBody.entities[0].updatedAttributes.loan.loanAmount"

OPERATOR_NAMES = (
    "equals, notEquals, in, notIn, greaterThan, lessThan, greaterThanOrEqual, lessThanOrEqual, between, matches, "
    "isNull, isNotNull"
)
RAW_COLUMN_LIST = "id, event_name, event_type, created_date, saved_date, event_data, __op, __table, __ts_ms, __deleted"
BAD_PATH = "is not a valid JSON path (e.g. event_data.eventBody.entities[0].entityType)"
C0 = "routes[0].conditions[0]"
JAVA_FLAGS = "the inline flags a, L and u mean different things to Java (Flink): leave them out"
SET_OPERATION = "a set operation in a class ('&&', '--', '~~', a nested '[') that Java reads differently"
NAMED_GROUP = "named groups (?P<name>...) are Python syntax; Flink's REGEXP is Java's: use (...)"
BACKTRACKING = "a repeated group contains a repeat (catastrophic backtracking): make it atomic (?>...)"

# (case id, document, key path the error must name, what the message after the key path starts with)
BAD_ROUTES: list[tuple[str, Any, str, str]] = [
    (
        "unknown-operator",
        routes(route(conditions=[cond(operator="resembles")])),
        f"{C0}.operator",
        f"'resembles' is not one of {OPERATOR_NAMES}",
    ),
    (
        "operator-not-a-string",
        routes(route(conditions=[cond(operator=1)])),
        f"{C0}.operator",
        "a number is not one of equals",
    ),
    (
        "missing-value",
        routes(route(conditions=[{"field": "event_type", "operator": "equals"}])),
        f"{C0}.value",
        "is required for operator equals",
    ),
    (
        "numeric-operator-string-value",
        routes(route(conditions=[cond(field=LOAN_AMOUNT, operator="greaterThan")])),
        f"{C0}.value",
        "must be a finite number, not a string",
    ),
    (
        "numeric-operator-boolean-value",
        routes(route(conditions=[cond(field=LOAN_AMOUNT, operator="greaterThan", value=True)])),
        f"{C0}.value",
        "must be a finite number, not true/false",
    ),
    (
        "equals-boolean-on-event-data",
        routes(route(conditions=[cond(field=LOAN_AMOUNT, value=True)])),
        f"{C0}.value",
        "must be a finite number, not true/false",
    ),
    (
        "null-in-an-in-list",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "in", "values": ["a", None]}])),
        f"{C0}.values[1]",
        "must be a finite number, not null",
    ),
    (
        "numeric-operator-on-string-column",
        routes(route(conditions=[cond(operator="lessThan", value=3)])),
        f"{C0}.value",
        "operator lessThan needs a numeric field; event_type is a string column",
    ),
    (
        "numeric-operator-string-on-numeric-column",
        routes(route(conditions=[cond(field="__ts_ms", operator="lessThan", value="1")])),
        f"{C0}.value",
        "must be a finite number, not a string",
    ),
    (
        "string-for-numeric-column",
        routes(route(conditions=[cond(field="__ts_ms", value="soon")])),
        f"{C0}.value",
        "'soon' does not match column __ts_ms (BIGINT)",
    ),
    (
        "number-for-string-column",
        routes(route(conditions=[cond(value=1)])),
        f"{C0}.value",
        "1 does not match column event_type (STRING)",
    ),
    (
        "number-in-list-for-string-column",
        routes(route(conditions=[{"field": "event_type", "operator": "in", "values": ["a", 1]}])),
        f"{C0}.values[1]",
        "1 does not match column event_type (STRING)",
    ),
    (
        "string-in-list-for-numeric-column",
        routes(route(conditions=[{"field": "__ts_ms", "operator": "notIn", "values": [1, "a"]}])),
        f"{C0}.values[1]",
        "'a' does not match column __ts_ms (BIGINT)",
    ),
    (
        "between-one-value",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "between", "values": [1]}])),
        f"{C0}.values",
        "between needs exactly two values [low, high]",
    ),
    (
        "between-three-values",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "between", "values": [1, 2, 3]}])),
        f"{C0}.values",
        "between needs exactly two values [low, high]",
    ),
    (
        "between-reversed",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "between", "values": [9, 1]}])),
        f"{C0}.values",
        "low bound 9 is greater than high bound 1",
    ),
    (
        "between-reversed-decimals",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "between", "values": [0.5, -0.5]}])),
        f"{C0}.values",
        "low bound 0.5 is greater than high bound -0.5",
    ),
    (
        "between-string-bound",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "between", "values": ["a", 1]}])),
        f"{C0}.values[0]",
        "must be a finite number, not a string",
    ),
    (
        "between-infinite-bound",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "between", "values": [1, float("inf")]}])),
        f"{C0}.values[1]",
        "must be a finite number",
    ),
    (
        "between-on-string-column",
        routes(route(conditions=[{"field": "event_type", "operator": "between", "values": [1, 2]}])),
        f"{C0}.values[0]",
        "operator between needs a numeric field; event_type is a string column",
    ),
    (
        "between-with-value",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "between", "value": 1}])),
        f"{C0}.value",
        "use 'values', not 'value', for operator between",
    ),
    (
        "between-without-values",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "between"}])),
        f"{C0}.values",
        "is required for operator between",
    ),
    (
        "invalid-regex",
        routes(route(conditions=[cond(operator="matches", value="([a-z")])),
        f"{C0}.value",
        "invalid regular expression: unterminated character set at position 1",
    ),
    (
        "regex-nothing-to-repeat",
        routes(route(conditions=[cond(operator="matches", value="*a")])),
        f"{C0}.value",
        "invalid regular expression: nothing to repeat at position 0",
    ),
    *[
        (f"regex-{case}", routes(route(conditions=[cond(operator="matches", value=pattern)])), f"{C0}.value", reason)
        for case, pattern, reason in [
            ("open-lower-bound", "^A\\d{,3}$", "'{,n}' is Python syntax; Java (Flink) needs '{0,n}'"),
            ("ascii-flag", "(?a)\\w+", JAVA_FLAGS),
            ("locale-flag", "(?L)x", JAVA_FLAGS),
            ("unicode-flag-after-others", "(?iu)loan", JAVA_FLAGS),
            ("set-intersection", "[a-z&&b]", SET_OPERATION),
            ("set-difference", "[a-z--b]", SET_OPERATION),
            ("set-symmetric-difference", "[a~~b]", SET_OPERATION),
            ("nested-set", "[[a]", SET_OPERATION),
            ("named-group", "(?P<kind>Loan)Created", NAMED_GROUP),
            (
                "conditional-group",
                "(a)?(?(1)b|c)",
                "conditional groups (?(1)...) are Python syntax, unknown to Java (Flink)",
            ),
            (
                "end-of-input",
                "Created\\Z",
                "\\Z means 'end of input' to Python but 'before a final line break' to Java: use $",
            ),
            ("repeated-repeat", "(a+)+$", BACKTRACKING),
            ("repeated-optional-spaces", "(\\w+\\s?)*x", BACKTRACKING),
            ("repeat-in-a-repeated-branch", "(?:x|a+)+", BACKTRACKING),
            ("counted-repeat-in-a-repeat", "(?:a{2})*", BACKTRACKING),
            ("repeat-in-a-counted-repeat", "(?:a+){2}", BACKTRACKING),
            ("lazy-repeat-in-a-repeat", "(a+?)+", BACKTRACKING),
            ("repeat-in-a-lazy-repeat", "(a*)+?", BACKTRACKING),
            ("repeat-in-a-group-in-a-repeat", "((a)+)+", BACKTRACKING),
        ]
    ],
    (
        "regex-not-a-string",
        routes(route(conditions=[cond(operator="matches", value=5)])),
        f"{C0}.value",
        "must be a non-empty string, not a number",
    ),
    ("duplicate-id", routes(route(), route(outputTopic="t-1")), "routes[1].id", "'r0' duplicates routes[0].id"),
    (
        "duplicate-id-names-the-first-holder",
        routes(route(), route(id="r1", outputTopic="t-1"), route(id="r1", outputTopic="t-2")),
        "routes[2].id",
        "'r1' duplicates routes[1].id",
    ),
    (
        "duplicate-output-topic",
        routes(route(), route(id="r1")),
        "routes[1].outputTopic",
        "'t-0' duplicates routes[0].outputTopic",
    ),
    (
        "duplicate-output-topic-of-a-disabled-route",
        routes(route(enabled=False), route(id="r1")),
        "routes[1].outputTopic",
        "'t-0' duplicates routes[0].outputTopic",
    ),
    (
        "invalid-topic-name",
        routes(route(outputTopic="bad topic!")),
        "routes[0].outputTopic",
        "'bad topic!' is not valid: a Kafka topic name ([A-Za-z0-9._-], <= 249)",
    ),
    (
        "dot-dot-topic-name",
        routes(route(outputTopic="..")),
        "routes[0].outputTopic",
        "'..' is not valid: a Kafka topic",
    ),
    (
        "topic-name-too-long",
        routes(route(outputTopic="a" * 250)),
        "routes[0].outputTopic",
        f"'{'a' * 250}' is not valid: a Kafka topic",
    ),
    (
        "unknown-field",
        routes(route(conditions=[cond(field="eventType")])),
        f"{C0}.field",
        f"unknown field 'eventType': use a raw column ({RAW_COLUMN_LIST}) or event_data.<path>",
    ),
    (
        "field-not-a-string",
        routes(route(conditions=[cond(field=3)])),
        f"{C0}.field",
        "must be a non-empty string, not a number",
    ),
    (
        "bad-json-path",
        routes(route(conditions=[cond(field="event_data.a..b")])),
        f"{C0}.field",
        f"'event_data.a..b' {BAD_PATH}",
    ),
    (
        "empty-json-path",
        routes(route(conditions=[cond(field="event_data.")])),
        f"{C0}.field",
        f"'event_data.' {BAD_PATH}",
    ),
    (
        "json-path-non-numeric-index",
        routes(route(conditions=[cond(field="event_data.a[x]")])),
        f"{C0}.field",
        f"'event_data.a[x]' {BAD_PATH}",
    ),
    (
        "json-path-starting-with-a-digit",
        routes(route(conditions=[cond(field="event_data.1a")])),
        f"{C0}.field",
        f"'event_data.1a' {BAD_PATH}",
    ),
    (
        "empty-in-list",
        routes(route(conditions=[{"field": "event_type", "operator": "in", "values": []}])),
        f"{C0}.values",
        "must have at least 1 item",
    ),
    (
        "mixed-in-list",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "in", "values": ["a", 1]}])),
        f"{C0}.values",
        "mixes strings and numbers: use one kind per condition",
    ),
    (
        "in-with-value",
        routes(route(conditions=[cond(operator="in")])),
        f"{C0}.value",
        "use 'values', not 'value', for operator in",
    ),
    (
        "in-with-value-and-values",
        routes(route(conditions=[cond(operator="in", values=["X"])])),
        f"{C0}.value",
        "use 'values', not 'value', for operator in",
    ),
    (
        "notin-without-values",
        routes(route(conditions=[{"field": "event_type", "operator": "notIn"}])),
        f"{C0}.values",
        "is required for operator notIn",
    ),
    (
        "equals-with-values",
        routes(route(conditions=[{"field": "event_type", "operator": "equals", "values": ["X"]}])),
        f"{C0}.values",
        "use 'value', not 'values', for operator equals",
    ),
    (
        "is-null-with-value",
        routes(route(conditions=[cond(operator="isNull")])),
        f"{C0}.value",
        "no value allowed for operator isNull",
    ),
    (
        "is-not-null-with-values",
        routes(route(conditions=[{"field": "id", "operator": "isNotNull", "values": ["x"]}])),
        f"{C0}.values",
        "no values allowed for operator isNotNull",
    ),
    (
        "not-a-number",
        routes(route(conditions=[cond(field=LOAN_AMOUNT, operator="lessThan", value=float("nan"))])),
        f"{C0}.value",
        "must be a finite number",
    ),
    (
        "misspelt-condition-key",
        routes(route(conditions=[cond(valeu=1)])),
        f"{C0}.valeu",
        "unknown key (allowed: field, operator, value, values)",
    ),
    ("condition-without-field", routes(route(conditions=[{"operator": "isNull"}])), f"{C0}.field", "is required"),
    (
        "condition-not-a-mapping",
        routes(route(conditions=["event_type"])),
        C0,
        "must be a mapping with keys field, operator, value, values",
    ),
    (
        "topics-colliding-in-metric-names",
        routes(
            route(outputTopic="loan.events"), route(id="r1", outputTopic="x"), route(id="r2", outputTopic="loan_events")
        ),
        "routes[2].outputTopic",
        "'loan_events' and routes[0].outputTopic 'loan.events' differ only in '.' vs '_', which collide in Kafka's "
        "metric names",
    ),
    (
        "consumer-prefix-of-a-later-consumer",
        routes(route(consumer="loan"), route(id="r1", outputTopic="t-1", consumer="loan-consumer")),
        "routes[1].consumer",
        "'loan-consumer' and routes[0].consumer 'loan' have overlapping group prefixes: loan-* also matches "
        "loan-consumer's groups",
    ),
    (
        "consumer-prefix-after-routes-without-new-consumers",
        routes(
            route(consumer="loan"),
            route(id="r1", outputTopic="t-1"),
            route(id="r2", outputTopic="t-2", consumer="loan"),
            route(id="r3", outputTopic="t-3", consumer="loan-eu"),
        ),
        "routes[3].consumer",
        "'loan-eu' and routes[0].consumer 'loan' have overlapping group prefixes: loan-* also matches loan-eu's groups",
    ),
    (
        "consumer-prefix-of-an-earlier-consumer",
        routes(
            route(consumer="car-consumer"),
            route(id="r1", outputTopic="t-1", consumer="loan-consumer-eu"),
            route(id="r2", outputTopic="t-2", consumer="loan-consumer"),
        ),
        "routes[2].consumer",
        "'loan-consumer' and routes[1].consumer 'loan-consumer-eu' have overlapping group prefixes: "
        "loan-consumer-* also matches loan-consumer-eu's groups",
    ),
    ("missing-id", routes({"outputTopic": "t-0"}), "routes[0].id", "is required"),
    ("missing-output-topic", routes({"id": "r0"}), "routes[0].outputTopic", "is required"),
    (
        "uppercase-id",
        routes(route(id="Loan")),
        "routes[0].id",
        "'Loan' is not valid: lowercase letters, digits and '-'",
    ),
    ("id-ending-with-a-dash", routes(route(id="a-")), "routes[0].id", "'a-' is not valid: lowercase letters"),
    (
        "unknown-operation",
        routes(route(operations=["insert"])),
        "routes[0].operations[0]",
        "'insert' is not one of create, update, delete, snapshot",
    ),
    ("empty-operations", routes(route(operations=[])), "routes[0].operations", "must have at least 1 item"),
    (
        "operations-not-a-list",
        routes(route(operations="create")),
        "routes[0].operations",
        "must be a list, not a string",
    ),
    (
        "repeated-operation",
        routes(route(operations=["create", "create"])),
        "routes[0].operations",
        "lists an operation twice",
    ),
    ("bad-match", routes(route(match="some")), "routes[0].match", "'some' is not one of all, any"),
    ("boolean-match", routes(route(match=True)), "routes[0].match", "true/false is not one of all, any"),
    ("enabled-not-boolean", routes(route(enabled="yes")), "routes[0].enabled", "must be true or false, not a string"),
    ("backfill-not-boolean", routes(route(backfill="no")), "routes[0].backfill", "must be true or false, not a string"),
    ("empty-description", routes(route(description="")), "routes[0].description", "must be a non-empty string"),
    (
        "misspelt-key",
        routes(route(outputtopic="x")),
        "routes[0].outputtopic",
        "unknown key (allowed: backfill, conditions, consumer, description, enabled, id, match, operations, "
        "outputTopic)",
    ),
    (
        "bad-consumer-name",
        routes(route(consumer="Loan Consumer")),
        "routes[0].consumer",
        "'Loan Consumer' is not valid: lowercase [a-z0-9-], <= 40 chars",
    ),
    (
        "consumer-name-too-long",
        routes(route(consumer="c" * 41)),
        "routes[0].consumer",
        f"'{'c' * 41}' is not valid: lowercase [a-z0-9-], <= 40 chars",
    ),
    (
        "conditions-not-a-list",
        routes(route(conditions={"field": "id"})),
        "routes[0].conditions",
        "must be a list, not a mapping",
    ),
    (
        "route-not-a-mapping",
        {"routes": ["r0"]},
        "routes[0]",
        "must be a mapping with keys id, outputTopic, description, consumer, enabled, backfill, operations, match, "
        "conditions",
    ),
    ("routes-not-a-list", {"routes": {"id": "r0"}}, "routes", "must be a list, not a mapping"),
    ("no-routes-key", {"rules": []}, "rules", "unknown key (allowed: routes)"),
    ("empty-file", None, "routes", "is required"),
    ("empty-routes", routes(), "routes", "must have at least 1 item"),
]


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write_routes(document: Any, name: str = "bad-routes.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
        return path

    return write_routes


@pytest.mark.parametrize("case, document, key, reason", BAD_ROUTES, ids=[c[0] for c in BAD_ROUTES])
def test_routes_check_exits_2_naming_file_key_path_and_reason(
    write: Any, capsys: pytest.CaptureFixture[str], case: str, document: Any, key: str, reason: str
) -> None:
    path = write(document)
    assert main(["routes", "check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: {path}: {key}: {reason}"), err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.plans
@pytest.mark.parametrize("case, document, key, reason", BAD_ROUTES, ids=[c[0] for c in BAD_ROUTES])
def test_plan_of_any_stack_refuses_bad_routes(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    document: Any,
    key: str,
    reason: str,
) -> None:
    (project / "flink_sql/routes.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    # prod-east plans prod first: whichever stack reads the routes first refuses them.
    assert main(["plan", "--stack", "prod-east"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: flink_sql/routes.yaml: {key}: {reason}"), err


def test_routes_check_of_a_missing_file_says_it_cannot_read_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nowhere.yaml"
    assert main(["routes", "check", str(path)]) == 2
    assert capsys.readouterr().err == f"error: {path}: file: cannot read: No such file or directory\n"


def test_routes_check_of_invalid_yaml_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("routes: [unclosed\n")
    assert main(["routes", "check", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {path}:2:1: invalid YAML: ")


def test_shipped_routes_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "check", str(REPO / "flink_sql/routes.yaml")]) == 0
    assert "4 routes valid" in capsys.readouterr().out


def test_shipped_routes_keep_snapshot_rows() -> None:
    """The seeds' `__op = 'c'` filter dropped rows read by the initial snapshot."""
    for r in load_routes(REPO / "flink_sql/routes.yaml"):
        assert "r" in r.operations, r.id


def test_rehearsal_and_deployment_share_the_statement_set() -> None:
    """Only WITH clauses differ between the deployed tables and the rehearsal's."""
    rs = load_routes(REPO / "flink_sql/routes.yaml")
    deployed = compile_routes(rs, "raw-business-events", registry_options("JSON_SR"), registry_options("JSON_SR"))
    local = compile_routes(rs, "raw-business-events", {"connector": "filesystem"}, {"connector": "blackhole"})
    assert deployed.statement_set == local.statement_set
    assert deployed.source_ddl.split("WITH")[0] == local.source_ddl.split("WITH")[0]
    assert "'value.format' = 'json-registry'" in deployed.source_ddl


def test_statement_set_holds_every_enabled_route_once() -> None:
    document = routes(route(), route(id="r1", outputTopic="t-1", enabled=False), route(id="r2", outputTopic="t-2"))
    compiled = compile_routes(parse_routes(document, "x.yaml"), "raw", registry_options("AVRO"))
    assert compiled.statement_set.count("INSERT INTO") == 2
    assert "`t-1`" not in compiled.statement_set
    assert compiled.statement_set.startswith("EXECUTE STATEMENT SET\nBEGIN\n")
    assert "'value.format' = 'avro-registry'" in compiled.source_ddl


def test_sql_prints_each_deployed_statement_under_its_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "--stack", "prod-east"]) == 0
    out = capsys.readouterr().out
    assert len(re.findall(r"^-- statement: prod-east-routes-[0-9a-f]{10}$", out, flags=re.MULTILINE)) == 1
    assert "-- sql.current-catalog = cdc-prod" in out and "-- sql.current-database = cdc-prod-us-east-1" in out
    assert out.count("EXECUTE STATEMENT SET") == 1 and "CREATE TABLE" not in out
    enabled = len([r for r in load_routes(REPO / "flink_sql/routes.yaml") if r.enabled])
    # Each route's INSERT in the set, and commented out below it, the backfill it would get if added later.
    assert out.count("\n  INSERT INTO") == enabled and out.count("\n--   INSERT INTO") == enabled


# --- valid but unusual: accepted, and parsed to exactly what the file says -------------------------


def parsed(*items: dict[str, Any]) -> tuple[Route, ...]:
    return parse_routes(routes(*items), "routes.yaml")


def only_condition(**fields: Any) -> Condition:
    (r,) = parsed(route(conditions=[fields]))
    (c,) = r.conditions
    return c


def test_a_route_with_only_id_and_topic_gets_the_documented_defaults() -> None:
    assert parsed(route()) == (
        Route(
            id="r0",
            output_topic="t-0",
            operations=("c",),
            match="all",
            conditions=(),
            enabled=True,
            consumer=None,
            description="",
            backfill=True,
        ),
    )
    assert parsed(route(backfill=False))[0].backfill is False


def test_every_route_key_is_read() -> None:
    (r,) = parsed(
        route(
            description="Loans — ünïcode ☃",
            consumer="loan-consumer",
            enabled=False,
            operations=["snapshot", "delete", "update", "create"],
            match="any",
            conditions=[cond(value="LoanCreated")],
        )
    )
    assert r == Route(
        id="r0",
        output_topic="t-0",
        operations=("r", "d", "u", "c"),
        match="any",
        conditions=(Condition("event_type", "equals", ("LoanCreated",)),),
        enabled=False,
        consumer="loan-consumer",
        description="Loans — ünïcode ☃",
    )


def test_explicit_match_all_and_enabled_true_are_accepted() -> None:
    (r,) = parsed(route(match="all", enabled=True))
    assert (r.match, r.enabled) == ("all", True)


def test_match_any_with_one_condition_is_accepted() -> None:
    (r,) = parsed(route(match="any", conditions=[cond()]))
    assert r.match == "any" and len(r.conditions) == 1


def test_an_empty_conditions_list_means_every_record_of_the_operations() -> None:
    (r,) = parsed(route(conditions=[], operations=["delete"]))
    assert (r.conditions, r.operations) == ((), ("d",))


def test_between_with_equal_bounds_is_accepted() -> None:
    assert only_condition(field=LOAN_AMOUNT, operator="between", values=[5, 5]) == Condition(
        LOAN_AMOUNT, "between", (5, 5)
    )


def test_between_accepts_negative_and_decimal_bounds() -> None:
    assert only_condition(field="__ts_ms", operator="between", values=[-2.5, 0]).values == (-2.5, 0)


def test_comparisons_accept_negative_and_decimal_numbers() -> None:
    assert only_condition(field=LOAN_AMOUNT, operator="greaterThan", value=-0.001).values == (-0.001,)
    assert only_condition(field="__ts_ms", operator="lessThanOrEqual", value=1.5).values == (1.5,)


def test_unicode_and_quote_literals_are_kept_verbatim() -> None:
    assert only_condition(field="event_type", operator="equals", value="O'Brien ☃ `x` \\ ''").values == (
        "O'Brien ☃ `x` \\ ''",
    )


def test_event_data_paths_with_array_indexes_are_accepted() -> None:
    c = only_condition(field="event_data.items[0][10].a_b.C2", operator="isNull")
    assert c == Condition("event_data.items[0][10].a_b.C2", "isNull", ())
    assert c.json_path == "$.items[0][10].a_b.C2"


def test_a_raw_column_has_no_json_path() -> None:
    assert only_condition(field="event_data", operator="equals", value="{}").json_path is None
    assert only_condition(field="event_type", operator="isNull").json_path is None


def test_event_data_paths_take_strings_or_numbers() -> None:
    assert only_condition(field=LOAN_AMOUNT, operator="equals", value=50000).values == (50000,)
    assert only_condition(field=LOAN_AMOUNT, operator="notEquals", value="50000").values == ("50000",)
    assert only_condition(field=LOAN_AMOUNT, operator="in", values=[1, 2.5]).values == (1, 2.5)
    assert only_condition(field=LOAN_AMOUNT, operator="notIn", values=["a", "b"]).values == ("a", "b")


def test_the_numeric_raw_column_takes_numbers() -> None:
    assert only_condition(field="__ts_ms", operator="equals", value=7).values == (7,)
    assert only_condition(field="__ts_ms", operator="in", values=[1, 2]).values == (1, 2)
    assert only_condition(field="__ts_ms", operator="greaterThan", value=1).values == (1,)


@pytest.mark.parametrize(
    "operator", ["equals", "notEquals", "greaterThan", "lessThan", "greaterThanOrEqual", "lessThanOrEqual"]
)
def test_single_value_operators_keep_their_operator(operator: str) -> None:
    assert only_condition(field=LOAN_AMOUNT, operator=operator, value=1) == Condition(LOAN_AMOUNT, operator, (1,))


@pytest.mark.parametrize("operator", ["isNull", "isNotNull"])
def test_null_tests_take_no_value(operator: str) -> None:
    assert only_condition(field="saved_date", operator=operator) == Condition("saved_date", operator, ())


def test_matches_keeps_the_pattern_and_accepts_any_column() -> None:
    assert only_condition(field="event_name", operator="matches", value="^Loan(.*)$").values == ("^Loan(.*)$",)


def test_a_null_value_is_absent() -> None:
    assert only_condition(field="id", operator="isNull", value=None, values=None) == Condition("id", "isNull", ())


def test_names_at_their_limits_are_accepted() -> None:
    longest_consumer = "c" + "-" * 38 + "c"
    (r,) = parsed(route(id="a", outputTopic="A._-" + "z" * 245, consumer=longest_consumer))
    assert (r.id, r.output_topic, r.consumer) == ("a", "A._-" + "z" * 245, longest_consumer)


def test_consumers_are_distinct_in_file_order_and_only_of_enabled_routes() -> None:
    rs = parsed(
        route(id="a", outputTopic="a", consumer="zeta"),
        route(id="b", outputTopic="b"),
        route(id="c", outputTopic="c", consumer="alpha"),
        route(id="d", outputTopic="d", consumer="zeta"),
        route(id="e", outputTopic="e", consumer="off", enabled=False),
    )
    assert consumers(rs) == ("zeta", "alpha")


def test_disabled_routes_are_parsed_and_validated() -> None:
    (r,) = parsed(route(enabled=False, conditions=[cond()]))
    assert r.enabled is False and r.conditions == (Condition("event_type", "equals", ("X",)),)


def test_load_routes_reads_yaml_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("routes:\n  - id: a\n    outputTopic: out\n    operations: [update]\n", encoding="utf-8")
    assert load_routes(path) == (Route(id="a", output_topic="out", operations=("u",), match="all", conditions=()),)


def test_load_routes_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("routes:\n  - id: A\n    outputTopic: out\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_routes(path)
    assert (error.value.file, error.value.path) == (str(path), "routes[0].id")


@pytest.mark.parametrize(
    "pattern",
    [
        "^Loan",
        "Created$",
        "Loan(Created|Updated)",
        "(?i)^loancreated$",
        "(?im)^loan",
        "a{0,2}n",
        "x{2,}",
        "A\\{,3}",  # an escaped brace is a literal in both dialects
        "(?>a+)+C",  # atomic: never backtracks
        "a++b",  # possessive
        "(?:ab?)+",  # the inner repeat is at most one
        "(a+)?",  # the outer one is at most one
        "(a)+",
        "^$",
    ],
)
def test_regexes_that_mean_the_same_to_python_and_java_are_accepted(pattern: str) -> None:
    assert only_condition(field="event_name", operator="matches", value=pattern).values == (pattern,)


def test_consumers_may_share_a_stem_without_sharing_group_prefixes() -> None:
    rs = parsed(
        route(id="a", outputTopic="a", consumer="loan"),
        route(id="b", outputTopic="b", consumer="loans"),
        route(id="c", outputTopic="c", consumer="loan"),
        route(id="d", outputTopic="d"),
        route(id="e", outputTopic="e", consumer="consumer-loan"),
    )
    assert consumers(rs) == ("loan", "loans", "consumer-loan")


def test_topics_differing_by_dot_and_dash_do_not_collide() -> None:
    rs = parsed(route(id="a", outputTopic="loan.events"), route(id="b", outputTopic="loan-events"))
    assert [r.output_topic for r in rs] == ["loan.events", "loan-events"]


def test_routes_check_refuses_a_route_writing_the_raw_topic(write: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(routes(route(), route(id="r1", outputTopic="raw-business-events")))
    assert main(["routes", "check", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}: routes[1].outputTopic: 'raw-business-events' is the raw topic routes read\n"
    )


def test_a_disabled_route_may_name_the_raw_topic(write: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(routes(route(outputTopic="raw-business-events", enabled=False), route(id="r1", outputTopic="t-1")))
    assert main(["routes", "check", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: 2 routes valid (1 enabled)\n"


def test_the_raw_topic_check_names_the_file_and_the_raw_topic_it_was_given() -> None:
    rs = parsed(route(), route(id="r1", outputTopic="cdc.raw"))
    check_output_is_not_raw(rs, "raw-business-events", "routes.yaml")
    with pytest.raises(ConfigError) as error:
        check_output_is_not_raw(rs, "cdc.raw", "rules/routes.yaml")
    assert (error.value.file, error.value.path, error.value.message) == (
        "rules/routes.yaml",
        "routes[1].outputTopic",
        "'cdc.raw' is the raw topic routes read",
    )


def test_a_document_that_is_not_a_mapping_is_refused_at_its_root() -> None:
    with pytest.raises(ConfigError) as error:
        parse_routes(["routes"], "routes.yaml")
    assert (error.value.file, error.value.path, error.value.message) == (
        "routes.yaml",
        "",
        "must be a mapping with keys routes",
    )
