"""Hostile and careless input, as a new user or an attacker would write it: every case exits 2 with
exactly one line on stderr naming the file and the key (or line:column), no traceback, nothing
planned, and no secret echoed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from cdcctl.__main__ import main
from tests.helpers import the_one_error_line

EAST = "Pulumi.prod-east.yaml"
# The line an appended key lands on: the shipped file's length + 1.
APPENDED = len((Path(__file__).resolve().parent.parent / EAST).read_text().splitlines()) + 1
PROD = "Pulumi.prod.yaml"
DEV = "Pulumi.dev.yaml"
ROUTES = "flink_sql/routes.yaml"
SECRET_VALUE = "hunter2-do-not-echo"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def one_condition(condition: str) -> str:
    """A routes file with one route holding one condition (YAML flow mapping)."""
    return f"routes:\n  - id: a\n    outputTopic: t-a\n    conditions:\n      - {condition}\n"


def append(text: str) -> Callable[[str], str]:
    return lambda original: original + text


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(original: str) -> str:
        assert old in original, old
        return original.replace(old, new, 1)

    return edit


def whole(text: str) -> Callable[[str], str]:
    return lambda original: text


# (case id, stack planned, file edited, edit of its text, the one error line must start with this)
STACK_FILE_CASES: list[tuple[str, str, str, Callable[[str], str], str]] = [
    (
        "cidr-without-prefix",
        "prod-east",
        EAST,
        replace("vpcCidr: 10.10.0.0/16", "vpcCidr: 10.10.0.0"),
        f"error: {EAST}: cdc-platform:network.vpcCidr: '10.10.0.0' has no prefix length",
    ),
    ("duplicate-protect", "prod", PROD, append("  cdc-platform:protect: false\n"), f"{PROD}:11:3: duplicate key"),
    ("duplicate-nested-key", "prod-east", EAST, replace("    cku: 2\n", "    cku: 2\n    cku: 4\n"), f"{EAST}:"),
    (
        "alias-bomb",
        "prod-east",
        EAST,
        append("  cdc-platform:bomb:\n" + "".join(f"    {line}\n" for line in BOMB.splitlines())),
        f"{EAST}:",
    ),
    (
        "deep-nesting",
        "prod-east",
        EAST,
        append("  cdc-platform:deep: " + "[" * 3000 + "]" * 3000 + "\n"),
        f"{EAST}:{APPENDED}:",
    ),
    (
        "non-utf8",
        "prod-east",
        EAST,
        lambda t: t + "  cdc-platform:x: caf\udce9\n",
        f"error: {EAST}: file: is not UTF-8 text",
    ),
    ("syntax-error", "prod-east", EAST, append("  cdc-platform:flink: {maxCfu: [5}\n"), f"error: {EAST}:{APPENDED}:"),
    ("tab-indent", "prod-east", EAST, append("\tcdc-platform:x: 1\n"), f"error: {EAST}:{APPENDED}:1: invalid YAML"),
    (
        "python-tag",
        "prod-east",
        EAST,
        append("  cdc-platform:x: !!python/object/apply:os.system [id]\n"),
        f"error: {EAST}:{APPENDED}:19: unsupported YAML tag",
    ),
    (
        "binary-tag",
        "prod-east",
        EAST,
        append("  cdc-platform:x: !!binary aGk=\n"),
        f"error: {EAST}:{APPENDED}:19: unsupported YAML tag",
    ),
    (
        "custom-tag",
        "prod-east",
        EAST,
        append("  cdc-platform:x: !Ref other\n"),
        f"error: {EAST}:{APPENDED}:19: unsupported YAML tag !Ref",
    ),
    (
        "list-as-key",
        "prod-east",
        EAST,
        append("  ? [a, b]\n  : 1\n"),
        f"error: {EAST}:{APPENDED}:5: a mapping key must be a scalar",
    ),
    ("document-is-a-list", "prod-east", EAST, whole("- config\n"), f"error: {EAST}: config: must be a mapping"),
    (
        "typo-namespace",
        "prod",
        PROD,
        append("  cdc-platfrom:protect: false\n"),
        f"error: {PROD}: cdc-platfrom:protect: unknown config namespace 'cdc-platfrom'",
    ),
    (
        "unknown-namespace",
        "prod",
        PROD,
        append("  kafka:protect: false\n"),
        f"error: {PROD}: kafka:protect: unknown config namespace",
    ),
    (
        "partitions-over-int32",
        "prod-east",
        EAST,
        replace("      partitions: 12\n", "      partitions: 3000000000\n"),
        f"error: {EAST}: cdc-platform:topics.raw.partitions: must be <= 2147483647",
    ),
    (
        "partitions-over-cluster-limit",
        "prod-east",
        EAST,
        replace("      partitions: 6\n", "      partitions: 30000\n"),
        f"error: {EAST}: cdc-platform:topics.routed.partitions: 4 routed topics x 30000",
    ),
    (
        "partitions-a-string",
        "prod-east",
        EAST,
        replace("      partitions: 12\n", "      partitions: twelve\n"),
        f"error: {EAST}: cdc-platform:topics.raw.partitions: must be an integer, not a string",
    ),
    (
        "cidr-prefix-too-long",
        "prod-east",
        EAST,
        replace("vpcCidr: 10.10.0.0/16", "vpcCidr: 10.10.0.0/33"),
        f"error: {EAST}: cdc-platform:network.vpcCidr: '10.10.0.0/33' is not an IPv4 CIDR",
    ),
    (
        "cidr-octet-too-big",
        "prod-east",
        EAST,
        replace("vpcCidr: 10.10.0.0/16", "vpcCidr: 10.300.0.0/16"),
        f"error: {EAST}: cdc-platform:network.vpcCidr:",
    ),
    (
        "cidr-host-bits-set",
        "prod-east",
        EAST,
        replace("vpcCidr: 10.10.0.0/16", "vpcCidr: 10.10.0.1/16"),
        f"error: {EAST}: cdc-platform:network.vpcCidr:",
    ),
    (
        "open-vpc-in-prod",
        "prod-east",
        EAST,
        replace("vpcCidr: 10.10.0.0/16", "vpcCidr: 0.0.0.0/0"),
        f"error: {EAST}: cdc-platform:network.vpcCidr: 0.0.0.0/0 is open to every address",
    ),
    (
        "open-db-clients-in-prod",
        "prod-east",
        EAST,
        replace("clientCidrs: [10.10.0.0/16]", "clientCidrs: [0.0.0.0/0]"),
        f"error: {EAST}: cdc-platform:aurora.proxy.clientCidrs[0]: 0.0.0.0/0 is open",
    ),
    (
        "zone-of-another-region",
        "prod-east",
        EAST,
        replace("azId: use1-az1", "azId: usw2-az1"),
        f"error: {EAST}: cdc-platform:network.zones[0].azId: 'usw2-az1' is not valid: an availability-zone id of "
        "us-east-1",
    ),
    (
        "one-subnet-two-zones",
        "prod-east",
        EAST,
        replace("subnetId: subnet-0e1a2b3c4d5e6f702", "subnetId: subnet-0e1a2b3c4d5e6f701"),
        f"error: {EAST}: cdc-platform:network.zones: lists a subnet twice",
    ),
    (
        "routes-file-escapes-project",
        "prod-east",
        EAST,
        append("  cdc-platform:routesFile: ../../etc/passwd\n"),
        f"error: {EAST}: cdc-platform:routesFile: '../../etc/passwd' must be a path inside the project",
    ),
    (
        "routes-file-absolute",
        "prod-east",
        EAST,
        append("  cdc-platform:routesFile: /etc/passwd\n"),
        f"error: {EAST}: cdc-platform:routesFile: '/etc/passwd' must be a path inside",
    ),
    (
        "routes-file-a-list",
        "prod-east",
        EAST,
        append("  cdc-platform:routesFile: [a.yaml]\n"),
        f"error: {EAST}: cdc-platform:routesFile: must be a file path (a string)",
    ),
    (
        "routes-file-a-device",
        "prod-east",
        EAST,
        append("  cdc-platform:routesFile: pipe\n"),
        "error: pipe: file: is not a regular file (a FIFO)",
    ),
    (
        "basic-cluster",
        "prod-east",
        EAST,
        replace("    type: DEDICATED\n", "    type: BASIC\n"),
        f"error: {EAST}: cdc-platform:kafka.type: BASIC clusters have no topic-level RBAC",
    ),
    (
        "prod-sslmode-require",
        "prod-east",
        EAST,
        replace("sslmode: verify-full", "sslmode: require"),
        f"error: {EAST}: cdc-platform:cdc.database.sslmode: must be verify-full in a protected stack",
    ),
    (
        "clear-text-password",
        "prod-east",
        EAST,
        append(f"  cdc-platform:cdcDatabasePassword: {SECRET_VALUE}\n"),
        f"error: {EAST}: cdc-platform:cdcDatabasePassword: must be set with `pulumi config set --secret",
    ),
    (
        "clear-text-root-cert",
        "prod-east",
        EAST,
        append(f"  cdc-platform:cdcDatabaseRootCert: {SECRET_VALUE}\n"),
        f"error: {EAST}: cdc-platform:cdcDatabaseRootCert: must be set with",
    ),
    (
        "wrong-type-not-echoed",
        "prod-east",
        EAST,
        replace("    cku: 2\n", f"    cku: {SECRET_VALUE}\n"),
        f"error: {EAST}: cdc-platform:kafka.cku: must be an integer, not a string",
    ),
]

# (case id, routes file text, the one error line must start with this, after "error: <file>")
ROUTES_FILE_CASES: list[tuple[str, str, str | None]] = [
    (
        "regex-on-a-number-column",
        one_condition("{field: __ts_ms, operator: matches, value: '^17'}"),
        ": routes[0].conditions[0].field: operator matches needs a string field; __ts_ms is BIGINT",
    ),
    (
        "integer-beyond-a-double",
        one_condition("{field: event_data.amount, operator: greaterThan, value: 1" + "0" * 400 + "}"),
        ": routes[0].conditions[0].value: must be a finite number within a double's range",
    ),
    ("top-level-a-list", "- routes\n", ": must be a mapping with keys routes"),
    (
        "duplicate-enabled",
        "routes:\n  - id: a\n    outputTopic: t-a\n    enabled: true\n    enabled: false\n",
        ":5:5: duplicate key 'enabled' (first at line 4)",
    ),
    ("duplicate-routes-key", "routes: []\nroutes:\n  - id: a\n    outputTopic: t-a\n", ":2:1: duplicate key 'routes'"),
    ("alias-bomb", BOMB + "routes: *i\n", ":"),
    ("deep-nesting", "routes: " + "[" * 5000 + "]" * 5000 + "\n", ":1:"),
    ("syntax-error", "routes:\n  - id: a\n    outputTopic: [t\n", ":"),
    ("not-utf8", "routes:\n  - id: caf\udce9\n", ": file: is not UTF-8 text"),
    ("python-tag", "routes: !!python/name:os.system\n", ":1:9: unsupported YAML tag"),
    ("set-tag", "routes: !!set {a, b}\n", ":1:9: unsupported YAML tag"),
    (
        "date-as-value",
        one_condition("{field: created_date, operator: equals, value: 2024-01-01}"),
        None,
    ),  # accepted: YAML dates stay strings
    (
        "named-group",
        one_condition("{field: event_type, operator: matches, value: '(?P<k>Loan)'}"),
        ": routes[0].conditions[0].value: named groups (?P<name>...) are Python syntax",
    ),
    (
        "nested-repeat",
        one_condition("{field: event_type, operator: matches, value: '(a+)+$'}"),
        ": routes[0].conditions[0].value: a repeated group contains a repeat",
    ),
    (
        "open-ended-repeat-shorthand",
        one_condition("{field: event_type, operator: matches, value: 'a{,3}'}"),
        ": routes[0].conditions[0].value: '{,n}' is Python syntax",
    ),
    (
        "backslash-z",
        one_condition("{field: event_type, operator: matches, value: 'Created\\Z'}"),
        ": routes[0].conditions[0].value: \\Z means",
    ),
    (
        "set-intersection",
        one_condition("{field: event_type, operator: matches, value: '[a-z&&[^x]]'}"),
        ": routes[0].conditions[0].value: a set operation",
    ),
    (
        "metric-name-clash",
        "routes:\n  - id: a\n    outputTopic: loans.created\n  - id: b\n    outputTopic: loans_created\n",
        ": routes[1].outputTopic: 'loans_created' and routes[0].outputTopic 'loans.created' differ only in '.' vs '_'",
    ),
    (
        "overlapping-group-prefixes",
        "routes:\n  - id: a\n    outputTopic: t-a\n    consumer: loan\n"
        "  - id: b\n    outputTopic: t-b\n    consumer: loan-consumer\n",
        ": routes[1].consumer: 'loan-consumer' and routes[0].consumer 'loan' have overlapping group prefixes",
    ),
    (
        "id-a-number",
        "routes:\n  - id: 7\n    outputTopic: t-a\n",
        ": routes[0].id: must be a non-empty string, not a number",
    ),
    ("routes-a-string", "routes: everything\n", ": routes: must be a list, not a string"),
]


@pytest.fixture
def project(project: Path) -> Path:
    os.mkfifo(project / "pipe")  # reading it would block forever
    return project


def write(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    line = the_one_error_line(capsys)
    assert SECRET_VALUE not in line
    return line


@pytest.mark.plans
@pytest.mark.parametrize("case, stack, file, edit, start", STACK_FILE_CASES, ids=[c[0] for c in STACK_FILE_CASES])
def test_hostile_stack_file_is_refused_in_one_line(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    stack: str,
    file: str,
    edit: Callable[[str], str],
    start: str,
) -> None:
    path = project / file
    write(path, edit(path.read_text(encoding="utf-8")))
    assert main(["plan", "--stack", stack]) == 2
    line = one_line_error(capsys)
    assert line.startswith(start if start.startswith("error: ") else f"error: {start}"), line


@pytest.mark.plans
@pytest.mark.parametrize("case, text, start", ROUTES_FILE_CASES, ids=[c[0] for c in ROUTES_FILE_CASES])
def test_hostile_routes_file_is_refused_by_check_and_plan(
    project: Path, capsys: pytest.CaptureFixture[str], case: str, text: str, start: str | None
) -> None:
    write(project / ROUTES, text)
    if start is None:
        assert main(["routes", "check", ROUTES]) == 0
        return
    assert main(["routes", "check", ROUTES]) == 2
    assert one_line_error(capsys).startswith(f"error: {ROUTES}{start}")
    assert main(["plan", "--stack", "dev"]) == 2
    assert one_line_error(capsys).startswith(f"error: {ROUTES}{start}")


@pytest.mark.plans
def test_a_route_writing_the_raw_topic_is_refused_by_check_and_plan(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / ROUTES, "routes:\n  - id: a\n    outputTopic: raw-business-events\n")
    assert main(["routes", "check", ROUTES]) == 2
    assert one_line_error(capsys) == (
        f"error: {ROUTES}: routes[0].outputTopic: 'raw-business-events' is the raw topic routes read"
    )
    assert main(["plan", "--stack", "dev"]) == 2
    assert one_line_error(capsys).startswith(f"error: {DEV}: cdc-platform:topics.raw.name: 'raw-business-events'")


def test_routes_check_with_a_stack_uses_that_stacks_raw_topic(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / ROUTES, "routes:\n  - id: a\n    outputTopic: cdc-raw\n")
    assert main(["routes", "check", ROUTES]) == 0
    capsys.readouterr()
    dev = project / DEV  # an all-in-one stack: the one kind that may rename its raw topic
    write(dev, dev.read_text().replace("    raw:\n", "    raw:\n      name: cdc-raw\n", 1))
    assert main(["routes", "check", ROUTES, "--stack", "dev"]) == 2
    assert one_line_error(capsys).startswith(f"error: {DEV}: cdc-platform:topics.raw.name: 'cdc-raw' is also")


@pytest.mark.plans
def test_a_stack_name_that_makes_no_valid_environment_name_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = "Feature_Branch_With_A_Very_Long_Name"
    (project / f"Pulumi.{stack}.yaml").write_text((project / DEV).read_text())
    assert main(["plan", "--stack", stack]) == 2
    assert one_line_error(capsys).startswith(
        f"error: Pulumi.{stack}.yaml: cdc-platform:environment.name: the default 'cdc-{stack}' (from the stack name)"
    )


@pytest.mark.plans
def test_the_untouched_copies_plan(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each refusal above is its edit's doing: the copies plan as they are."""
    for stack in ("dev", "prod", "prod-east"):
        assert main(["plan", "--stack", stack, "--json"]) == 0
    capsys.readouterr()
