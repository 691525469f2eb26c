"""Routing rules: the validator refuses bad files naming file and key path; the compiler quotes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdcctl.__main__ import main
from flink_sql.compiler import compile_routes, identifier, registry_options, string_literal
from flink_sql.routes import load_routes, parse_routes
from tests.helpers import REPO


def cond(**fields: Any) -> dict[str, Any]:
    return {"field": "event_type", "operator": "equals", "value": "X", **fields}


def route(**fields: Any) -> dict[str, Any]:
    return {"id": "r0", "outputTopic": "t-0", **fields}


def routes(*items: dict[str, Any]) -> dict[str, Any]:
    return {"routes": list(items)}


LOAN_AMOUNT = "event_data.eventBody.entities[0].updatedAttributes.loan.loanAmount"

# (case id, document, key path the error must name)
BAD_ROUTES: list[tuple[str, Any, str]] = [
    ("unknown-operator", routes(route(conditions=[cond(operator="resembles")])), "routes[0].conditions[0].operator"),
    (
        "missing-value",
        routes(route(conditions=[{"field": "event_type", "operator": "equals"}])),
        "routes[0].conditions[0].value",
    ),
    (
        "numeric-operator-string-value",
        routes(route(conditions=[cond(field=LOAN_AMOUNT, operator="greaterThan")])),
        "routes[0].conditions[0].value",
    ),
    (
        "numeric-operator-on-string-column",
        routes(route(conditions=[cond(operator="lessThan", value=3)])),
        "routes[0].conditions[0].value",
    ),
    (
        "string-for-numeric-column",
        routes(route(conditions=[cond(field="__ts_ms", value="soon")])),
        "routes[0].conditions[0].value",
    ),
    (
        "between-one-value",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "between", "values": [1]}])),
        "routes[0].conditions[0].values",
    ),
    (
        "between-reversed",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "between", "values": [9, 1]}])),
        "routes[0].conditions[0].values",
    ),
    (
        "invalid-regex",
        routes(route(conditions=[cond(operator="matches", value="([a-z")])),
        "routes[0].conditions[0].value",
    ),
    ("duplicate-id", routes(route(), route(outputTopic="t-1")), "routes[1].id"),
    ("duplicate-output-topic", routes(route(), route(id="r1")), "routes[1].outputTopic"),
    ("invalid-topic-name", routes(route(outputTopic="bad topic!")), "routes[0].outputTopic"),
    ("unknown-field", routes(route(conditions=[cond(field="eventType")])), "routes[0].conditions[0].field"),
    ("bad-json-path", routes(route(conditions=[cond(field="event_data.a..b")])), "routes[0].conditions[0].field"),
    (
        "empty-in-list",
        routes(route(conditions=[{"field": "event_type", "operator": "in", "values": []}])),
        "routes[0].conditions[0].values",
    ),
    (
        "mixed-in-list",
        routes(route(conditions=[{"field": LOAN_AMOUNT, "operator": "in", "values": ["a", 1]}])),
        "routes[0].conditions[0].values",
    ),
    ("in-with-value", routes(route(conditions=[cond(operator="in")])), "routes[0].conditions[0].value"),
    ("is-null-with-value", routes(route(conditions=[cond(operator="isNull")])), "routes[0].conditions[0].value"),
    (
        "not-a-number",
        routes(route(conditions=[cond(field=LOAN_AMOUNT, operator="lessThan", value=float("nan"))])),
        "routes[0].conditions[0].value",
    ),
    ("missing-id", routes({"outputTopic": "t-0"}), "routes[0].id"),
    ("uppercase-id", routes(route(id="Loan")), "routes[0].id"),
    ("unknown-operation", routes(route(operations=["insert"])), "routes[0].operations[0]"),
    ("empty-operations", routes(route(operations=[])), "routes[0].operations"),
    ("repeated-operation", routes(route(operations=["create", "create"])), "routes[0].operations"),
    ("bad-match", routes(route(match="some")), "routes[0].match"),
    ("enabled-not-boolean", routes(route(enabled="yes")), "routes[0].enabled"),
    ("misspelt-key", routes(route(outputtopic="x")), "routes[0].outputtopic"),
    ("bad-consumer-name", routes(route(consumer="Loan Consumer")), "routes[0].consumer"),
    ("conditions-not-a-list", routes(route(conditions={"field": "id"})), "routes[0].conditions"),
    ("no-routes-key", {"rules": []}, "rules"),
    ("empty-routes", routes(), "routes"),
]


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write_routes(document: Any, name: str = "bad-routes.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
        return path

    return write_routes


def test_bad_routes_corpus_is_large_and_distinct() -> None:
    assert len(BAD_ROUTES) >= 20
    assert len({case for case, _, _ in BAD_ROUTES}) == len(BAD_ROUTES)


@pytest.mark.parametrize("case, document, key", BAD_ROUTES, ids=[c[0] for c in BAD_ROUTES])
def test_routes_check_exits_2_naming_file_and_key_path(
    write: Any, capsys: pytest.CaptureFixture[str], case: str, document: Any, key: str
) -> None:
    path = write(document)
    assert main(["routes", "check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: {path}: {key}: "), err
    assert "Traceback" not in err


@pytest.mark.parametrize("case, document, key", BAD_ROUTES, ids=[c[0] for c in BAD_ROUTES])
def test_plan_of_any_stack_refuses_bad_routes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
    document: Any,
    key: str,
) -> None:
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.prod.yaml", "Pulumi.prod-east.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    (tmp_path / "flink_sql").mkdir()
    (tmp_path / "flink_sql/routes.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
    monkeypatch.chdir(tmp_path)
    # prod-east plans prod first: whichever stack reads the routes first refuses them.
    assert main(["plan", "--stack", "prod-east"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: flink_sql/routes.yaml: {key}: "), err


def test_shipped_routes_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "check", str(REPO / "flink_sql/routes.yaml")]) == 0
    assert "4 routes valid" in capsys.readouterr().out


def test_shipped_routes_keep_snapshot_rows() -> None:
    """The seeds' `__op = 'c'` filter dropped rows read by the initial snapshot."""
    for r in load_routes(REPO / "flink_sql/routes.yaml"):
        assert "r" in r.operations, r.id


@pytest.mark.parametrize(
    "hostile", ["O'Brien", "a''b", "back`tick", "new\nline", "back\\slash", "☃ ünïcode", "'; DROP"]
)
def test_literals_and_identifiers_are_escaped(hostile: str) -> None:
    assert string_literal(hostile) == "'" + hostile.replace("'", "''") + "'"
    assert identifier(hostile) == "`" + hostile.replace("`", "``") + "`"
    document = routes(route(conditions=[cond(value=hostile)]))
    sql = compile_routes(parse_routes(document, "x.yaml"), "raw", registry_options("JSON_SR")).statement_set
    assert string_literal(hostile) in sql


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
    assert out.count("INSERT INTO") == len([r for r in load_routes(REPO / "flink_sql/routes.yaml") if r.enabled])
