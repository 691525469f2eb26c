"""`cdcctl status` against recorded Confluent API responses (tests/data/status, shapes and sources in its
README): one table, the next step for anything unhealthy, exit 1 when unhealthy, exit 2 on bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import cdcctl.commands.status as status_command
from cdcctl.__main__ import main
from cdcctl.confluent_api import Credentials
from cdcctl.stack_outputs import planned_outputs
from core.region_exports import LINK_EXPORT, REGION_EXPORTS
from tests.helpers import the_one_error_line

DATA = Path(__file__).parent / "data" / "status"
OUTPUTS = DATA / "outputs-prod-east.json"
CONNECT_URL = (
    "https://api.confluent.cloud/connect/v1/environments/env-w1x9dk/clusters/lkc-7x9q2m/connectors/"
    "cdc-prod-us-east-1-postgres-cdc/status"
)
STATEMENT = "prod-east-routes-3f9a1c0b7e"
STATEMENT_URL = (
    "https://flink.dom4e1xk2.us-east-1.aws.confluent.cloud/sql/v1/organizations/"
    f"5c2f8e1a-44d3-4b7e-9a61-0f3c7d2e8b90/environments/env-w1x9dk/statements/{STATEMENT}"
)
LINK = "cdc-prod-us-east-1-us-west-2"
LINK_URL = f"https://lkc-7x9q2m.dom4e1xk2.us-east-1.aws.confluent.cloud:443/kafka/v3/clusters/lkc-7x9q2m/links/{LINK}"
MIRRORS_URL = f"{LINK_URL}/mirrors"
CAR, LOAN, RAW = (
    "us-west-2.filtered-car-created-events",
    "us-west-2.filtered-loan-created-events",
    "us-west-2.raw-business-events",
)
CLOUD = Credentials("CLOUDKEY", "cloud-secret")
FLINK = Credentials("FLINKKEY", "flink-secret")
KAFKA = Credentials("KAFKAKEY", "kafka-secret")


class RecordedApi:
    """Answers each documented URL with a recorded body; remembers who asked with which key."""

    def __init__(self, answers: dict[str, tuple[int, str]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, Credentials]] = []

    def get(self, url: str, credentials: Credentials) -> tuple[int, Any]:
        self.asked.append((url, credentials))
        code, file = self.answers[url]
        return code, json.loads((DATA / file).read_text())


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in (
        ("CONFLUENT_CLOUD_API_KEY", CLOUD.key),
        ("CONFLUENT_CLOUD_API_SECRET", CLOUD.secret),
        ("CONFLUENT_FLINK_API_KEY", FLINK.key),
        ("CONFLUENT_FLINK_API_SECRET", FLINK.secret),
        ("CONFLUENT_KAFKA_API_KEY", KAFKA.key),
        ("CONFLUENT_KAFKA_API_SECRET", KAFKA.secret),
    ):
        monkeypatch.setenv(variable, value)


def status(
    monkeypatch: pytest.MonkeyPatch,
    connector: tuple[int, str],
    statement: tuple[int, str],
    outputs: Path = OUTPUTS,
    link: tuple[int, str] = (200, "link-active.json"),
    mirrors: tuple[int, str] = (200, "mirrors-active.json"),
) -> tuple[int, RecordedApi]:
    api = RecordedApi({CONNECT_URL: connector, STATEMENT_URL: statement, LINK_URL: link, MIRRORS_URL: mirrors})
    monkeypatch.setattr(status_command, "api", api)
    return main(["status", "--stack", "prod-east", "--outputs", str(outputs)]), api


def link_status(
    monkeypatch: pytest.MonkeyPatch, link: tuple[int, str], mirrors: tuple[int, str], outputs: Path = OUTPUTS
) -> tuple[int, RecordedApi]:
    """`status` of a stack whose connector and statement run."""
    running = (200, "connector-running.json"), (200, "statement-running.json")
    return status(monkeypatch, *running, outputs, link, mirrors)


def rows(out: str) -> dict[str, list[str]]:
    """Table rows by resource name: [kind, phase, next step...] split on runs of two spaces."""
    found = {}
    for line in out.splitlines():
        cells = [c for c in line.split("  ") if c.strip()]
        if len(cells) >= 4 and cells[0].strip() in ("connector", "statement", "link", "mirror", "mirrors"):
            found[cells[1].strip()] = [cells[0].strip(), cells[2].strip(), "  ".join(cells[3:]).strip()]
    return found


def outputs_with(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """The recorded outputs, changed."""
    outputs = json.loads(OUTPUTS.read_text())
    change(outputs)
    changed = tmp_path / "outputs.json"
    changed.write_text(json.dumps(outputs))
    return changed


def test_a_healthy_stack_exits_0_and_asks_each_api_with_its_own_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, api = status(monkeypatch, (200, "connector-running.json"), (200, "statement-running.json"))
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("Stack prod-east (us-east-1): 6 checked, 0 unhealthy")
    assert rows(out) == {
        "cdc-prod-us-east-1-postgres-cdc": ["connector", "RUNNING", "-"],
        STATEMENT: ["statement", "RUNNING", "-"],
        LINK: ["link", "ACTIVE", "-"],
        CAR: ["mirror", "ACTIVE", "-"],
        LOAN: ["mirror", "ACTIVE", "-"],
        RAW: ["mirror", "ACTIVE", "-"],
    }
    assert api.asked == [(CONNECT_URL, CLOUD), (STATEMENT_URL, FLINK), (LINK_URL, KAFKA), (MIRRORS_URL, KAFKA)]
    assert "kafka-secret" not in out


def test_a_failed_connector_shows_confluents_error_and_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, _ = status(monkeypatch, (200, "connector-failed.json"), (200, "statement-running.json"))
    out = capsys.readouterr().out
    assert code == 1
    kind, phase, step = rows(out)["cdc-prod-us-east-1-postgres-cdc"]
    assert (kind, phase) == ("connector", "FAILED")
    # Resume alone does nothing to a connector that is not paused: pause first.
    assert "`cdcctl status --stack prod-east --resume-connector`" in step
    assert "confluent connect cluster pause lcc-r6j0zq" in step
    assert 'error: task 0 USER_ACTIONABLE_ERROR: Replication slot "cdc_prod_east" is active for PID 4242' in out
    assert "Unable to connect: Failed to resolve or connect to database." in out
    assert "1 unhealthy" in out.splitlines()[0]


def test_a_paused_connector_is_unhealthy(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, _ = status(monkeypatch, (200, "connector-paused.json"), (200, "statement-running.json"))
    assert code == 1
    assert rows(capsys.readouterr().out)["cdc-prod-us-east-1-postgres-cdc"][1] == "PAUSED"


def test_a_statement_pending_after_a_carry_over_names_its_predecessor(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, _ = status(monkeypatch, (200, "connector-running.json"), (200, "statement-pending-carry-over.json"))
    out = capsys.readouterr().out
    assert code == 1
    kind, phase, step = rows(out)[STATEMENT]
    assert (kind, phase) == ("statement", "PENDING")
    assert "prod-east-routes-9d2e4b6a1f is STOPPED" in step
    assert "confluent flink statement describe prod-east-routes-9d2e4b6a1f" in step
    assert "error: Waiting for statement prod-east-routes-9d2e4b6a1f to be stopped" in out


@pytest.mark.parametrize(
    "recorded, phase, step, error",
    [
        (
            "statement-failed.json",
            "FAILED",
            f"confluent flink statement exception list {STATEMENT}",
            "Table 'filtered-car-created-events' does not exist",
        ),
        (
            "statement-degraded.json",
            "DEGRADED",
            "still bills CFUs",
            "TopicAuthorizationException",
        ),
    ],
)
def test_failure_phases_of_a_statement(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keys: None,
    recorded: str,
    phase: str,
    step: str,
    error: str,
) -> None:
    code, _ = status(monkeypatch, (200, "connector-running.json"), (200, recorded))
    out = capsys.readouterr().out
    assert code == 1
    assert rows(out)[STATEMENT][1] == phase
    assert step in rows(out)[STATEMENT][2]
    assert error in out


def test_a_deleted_connector_and_a_revoked_flink_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, _ = status(monkeypatch, (404, "connect-not-found.json"), (401, "flink-unauthorized.json"))
    out = capsys.readouterr().out
    assert code == 1
    table = rows(out)
    assert table["cdc-prod-us-east-1-postgres-cdc"][1:] == [
        "NOT FOUND",
        "not deployed, or deleted outside Pulumi: `pulumi up --stack prod-east`",
    ]
    assert table[STATEMENT][1:] == [
        "UNAUTHORIZED",
        "wrong or deleted key: check CONFLUENT_FLINK_API_KEY and its _SECRET",
    ]
    assert "error: Connector cdc-prod-us-east-1-postgres-cdc not found" in out


@pytest.mark.parametrize(
    "recorded, phase, step, error",
    [
        (
            "link-unavailable.json",
            "UNAVAILABLE",
            "check the peer region",
            "BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR: Unable to connect to the bootstrap servers of cluster lkc-3w8r5t.",
        ),
        (
            "link-authentication-error.json",
            "UNAVAILABLE",
            "`pulumi refresh --stack acme-lending/cdc-platform/prod-west --exclude "
            "'**kafkaMirrorTopic:KafkaMirrorTopic::**'` and `pulumi up --stack acme-lending/cdc-platform/prod-west`",
            "AUTHENTICATION_ERROR: Please check your api key and secret",
        ),
        (
            "link-failed.json",
            "FAILED",
            f"`confluent kafka link task list {LINK}`",
            "UNKNOWN: The cluster link failed: the remote cluster lkc-3w8r5t was not found.",
        ),
    ],
)
def test_a_link_that_does_not_mirror_shows_its_error_and_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keys: None,
    recorded: str,
    phase: str,
    step: str,
    error: str,
) -> None:
    code, _ = link_status(monkeypatch, (200, recorded), (200, "mirrors-link-failed.json"))
    out = capsys.readouterr().out
    assert code == 1
    assert rows(out)[LINK][:2] == ["link", phase]
    assert step in rows(out)[LINK][2]
    assert f"error: {error}" in out
    assert rows(out)[RAW] == ["mirror", "LINK_FAILED", "the link failed: see the link's row"]
    assert "4 unhealthy" in out.splitlines()[0]


def test_a_failed_mirror_shows_its_error_and_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, _ = link_status(monkeypatch, (200, "link-active.json"), (200, "mirrors-failed.json"))
    out = capsys.readouterr().out
    assert code == 1
    kind, phase, step = rows(out)[RAW]
    assert (kind, phase) == ("mirror", "FAILED")
    assert f"`confluent kafka mirror describe {RAW} --link {LINK}`" in step
    assert f"`confluent kafka mirror state-transition-error list {RAW} --link {LINK}`" in step
    assert "error: SOURCE_TOPIC_MAY_BE_DELETED" in out
    assert rows(out)[CAR][1] == rows(out)[LOAN][1] == "ACTIVE"
    assert "1 unhealthy" in out.splitlines()[0]


@pytest.mark.parametrize(
    "configured, recorded, unhealthy",
    [
        ("ACTIVE", "mirrors-paused.json", {RAW: ("PAUSED", f"`confluent kafka mirror resume {RAW} --link {LINK}`")}),
        (
            "PAUSED",
            "mirrors-paused.json",
            {m: ("ACTIVE", f"`confluent kafka mirror pause {m} --link {LINK}`") for m in (CAR, LOAN)},
        ),
        (
            "ACTIVE",
            "mirrors-stopped.json",
            {m: ("STOPPED", "promoted or failed over outside the stack") for m in (CAR, LOAN, RAW)},
        ),
        ("PROMOTED", "mirrors-stopped.json", {}),
        ("FAILED_OVER", "mirrors-stopped.json", {}),
        ("PROMOTED", "mirrors-promoting.json", {RAW: ("PENDING_STOPPED", "1200 records behind at most")}),
        (
            "FAILED_OVER",
            "mirrors-active.json",
            {
                m: ("ACTIVE", "did not run or failed; `cdcctl link failover --stack prod-east`")
                for m in (CAR, LOAN, RAW)
            },
        ),
    ],
)
def test_a_mirror_is_healthy_in_the_status_the_stack_configured(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keys: None,
    tmp_path: Path,
    configured: str,
    recorded: str,
    unhealthy: dict[str, tuple[str, str]],
) -> None:
    outputs = outputs_with(tmp_path, lambda o: o["clusterLink"].update(mirrorStatus=configured))
    code, _ = link_status(monkeypatch, (200, "link-active.json"), (200, recorded), outputs)
    table = rows(capsys.readouterr().out)
    assert code == (1 if unhealthy else 0)
    assert {m: table[m][1] for m in (CAR, LOAN, RAW) if table[m][2] != "-"} == {
        m: phase for m, (phase, _) in unhealthy.items()
    }
    for mirror, (_, step) in unhealthy.items():
        assert step in table[mirror][2]


def test_a_mirror_the_stack_declares_but_the_link_lacks_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None, tmp_path: Path
) -> None:
    service = "us-west-2.filtered-service-events"
    outputs = outputs_with(tmp_path, lambda o: o["monitoring"]["link"]["mirrorTopics"].append(service))
    code, _ = link_status(monkeypatch, (200, "link-active.json"), (200, "mirrors-active.json"), outputs)
    assert code == 1
    assert rows(capsys.readouterr().out)[service] == [
        "mirror",
        "MISSING",
        "declared by the stack but not on the link: deleted outside Pulumi? Re-create it as declared: "
        f"`confluent kafka mirror create {service} --link {LINK} --source-topic filtered-service-events` "
        "(never refresh mirror topics)",
    ]


@pytest.mark.parametrize(
    "answer, phase, step",
    [
        ((0, "kafka-unreachable.json"), "UNREACHABLE", "Kafka REST endpoints answer only inside the VPC"),
        (
            (403, "kafka-forbidden.json"),
            "FORBIDDEN",
            "the owner of CONFLUENT_KAFKA_API_KEY may not read it: grant it Operator on the cluster",
        ),
        ((404, "link-not-found.json"), "NOT FOUND", "`pulumi up --stack prod-east`"),
    ],
)
def test_a_link_that_cannot_be_read_is_one_row_and_its_mirrors_are_not_asked(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keys: None,
    answer: tuple[int, str],
    phase: str,
    step: str,
) -> None:
    code, api = link_status(monkeypatch, answer, (200, "mirrors-active.json"))
    table = rows(capsys.readouterr().out)
    assert code == 1
    assert table[LINK][:2] == ["link", phase]
    assert step in table[LINK][2]
    assert RAW not in table
    assert [url for url, _ in api.asked][2:] == [LINK_URL]


def test_mirrors_that_cannot_be_listed_are_one_row(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    code, _ = link_status(monkeypatch, (200, "link-active.json"), (429, "kafka-rate-limited.json"))
    out = capsys.readouterr().out
    assert code == 1
    assert [line.split()[:3] for line in out.splitlines() if line.startswith(("link ", "mirrors "))] == [
        ["link", LINK, "ACTIVE"],
        ["mirrors", LINK, "RATE"],
    ]
    assert "too many requests: try again in a minute" in out


def test_a_stack_without_a_link_half_needs_no_kafka_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None, tmp_path: Path
) -> None:
    def unlinked(outputs: dict[str, Any]) -> None:
        outputs["monitoring"]["link"] = None
        del outputs["clusterLink"], outputs["restEndpoint"]

    monkeypatch.delenv("CONFLUENT_KAFKA_API_KEY")
    code, api = status(
        monkeypatch, (200, "connector-running.json"), (200, "statement-running.json"), outputs_with(tmp_path, unlinked)
    )
    assert code == 0
    assert "2 checked, 0 unhealthy" in capsys.readouterr().out
    assert [url for url, _ in api.asked] == [CONNECT_URL, STATEMENT_URL]


@pytest.mark.parametrize(
    "change, error",
    [
        (
            lambda o: o.update(restEndpoint="https://lkc-7x9q2m.example/admin?x="),
            "restEndpoint: 'https://lkc-7x9q2m.example/admin?x=' is not an https:// endpoint of Confluent Cloud "
            "in us-east-1",
        ),
        (
            lambda o: o.pop("clusterLink"),
            "clusterLink.mirrorStatus: None is not one of ACTIVE, PAUSED, PROMOTED, FAILED_OVER",
        ),
    ],
)
def test_link_outputs_that_could_mislead_are_refused_naming_file_and_key(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    keys: None,
    tmp_path: Path,
    change: Callable[[dict[str, Any]], None],
    error: str,
) -> None:
    outputs = outputs_with(tmp_path, change)
    code, api = link_status(monkeypatch, (200, "link-active.json"), (200, "mirrors-active.json"), outputs)
    assert code == 2
    assert the_one_error_line(capsys) == f"error: {outputs}: {error}"
    assert api.asked == []


@pytest.mark.plans
def test_a_linked_region_stack_exports_exactly_what_region_exports_names() -> None:
    """Status, consumer and the peer read these names from core.region_exports: the stack writes them."""
    outputs = planned_outputs("prod-east")
    names = set(REGION_EXPORTS.to_export().values())
    assert set(outputs) == names - {REGION_EXPORTS.aurora_idle_stop_function}  # prod stops no database
    assert outputs[REGION_EXPORTS.cluster_link][LINK_EXPORT.mirror_status] == "ACTIVE"


@pytest.mark.parametrize(
    "variable", ["CONFLUENT_FLINK_API_KEY", "CONFLUENT_CLOUD_API_SECRET", "CONFLUENT_KAFKA_API_KEY"]
)
def test_a_missing_key_variable_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None, variable: str
) -> None:
    monkeypatch.delenv(variable)
    code, api = status(monkeypatch, (200, "connector-running.json"), (200, "statement-running.json"))
    assert code == 2
    assert the_one_error_line(capsys) == f"error: environment: {variable}: is not set (see `cdcctl status --help`)"
    assert api.asked == []


def test_every_missing_key_variable_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    for variable in ("CONFLUENT_CLOUD_API_SECRET", "CONFLUENT_FLINK_API_KEY", "CONFLUENT_KAFKA_API_KEY"):
        monkeypatch.delenv(variable)
    code, api = status(monkeypatch, (200, "connector-running.json"), (200, "statement-running.json"))
    assert code == 2
    assert the_one_error_line(capsys) == (
        "error: environment: CONFLUENT_CLOUD_API_SECRET, CONFLUENT_FLINK_API_KEY, CONFLUENT_KAFKA_API_KEY: "
        "are not set (see `cdcctl status --help`)"
    )
    assert api.asked == []
    assert api.asked == []


def test_outputs_without_the_monitoring_export_are_refused_naming_file_and_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None, tmp_path: Path
) -> None:
    old = tmp_path / "outputs.json"
    old.write_text(json.dumps({"clusterId": "lkc-7x9q2m", "region": "us-east-1"}))
    code, _ = status(monkeypatch, (200, "connector-running.json"), (200, "statement-running.json"), old)
    assert code == 2
    assert the_one_error_line(capsys) == (
        f"error: {old}: monitoring: no such output: deploy the stack with this version of the program first"
    )


def test_an_id_that_could_break_a_url_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None, tmp_path: Path
) -> None:
    outputs = json.loads(OUTPUTS.read_text())
    outputs["monitoring"]["statements"] = ["routes/../../admin"]
    tampered = tmp_path / "outputs.json"
    tampered.write_text(json.dumps(outputs))
    code, _ = status(monkeypatch, (200, "connector-running.json"), (200, "statement-running.json"), tampered)
    assert code == 2
    assert the_one_error_line(capsys) == (
        f"error: {tampered}: monitoring.statements[0]: 'routes/../../admin' is not an id or name of [A-Za-z0-9._-]"
    )


def test_unreadable_outputs_are_one_line(capsys: pytest.CaptureFixture[str], keys: None, tmp_path: Path) -> None:
    assert main(["status", "--stack", "prod-east", "--outputs", str(tmp_path / "missing.json")]) == 2
    assert the_one_error_line(capsys) == (
        f"error: {tmp_path / 'missing.json'}: --outputs: cannot read: No such file or directory"
    )


def test_a_global_stack_has_nothing_to_check(capsys: pytest.CaptureFixture[str], keys: None) -> None:
    assert main(["status", "--stack", "prod", "--outputs", str(OUTPUTS)]) == 2
    assert "is global" in the_one_error_line(capsys)
