"""`cdcctl link promote|failover|resume` against recorded Kafka REST answers (tests/data/link and
tests/data/status, shapes and sources in tests/data/link/README.md): a planned switchover, the loss of the
peer region, a half-failed run and its re-run, and failback; bad input exits 2 before any request."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import cdcctl.commands.link as link_command
from cdcctl.__main__ import main
from cdcctl.confluent_api import ConfluentApi, Credentials
from cdcctl.link import Half, Mirror, Preflight, act
from infra.cluster_link import OFFSET_SYNC_MS
from monitoring.targets import Thresholds
from tests.helpers import REPO, the_one_error_line
from tests.listeners import tls_server
from tests.test_status import CAR, KAFKA, LINK, LINK_URL, LOAN, MIRRORS_URL, RAW  # the same recordings

STATUS = Path(__file__).parent / "data" / "status"
DATA = Path(__file__).parent / "data" / "link"
OUTPUTS = STATUS / "outputs-prod-east.json"


class RecordedApi:
    """Answers each (method, URL) with a recorded body; remembers every request with its key and body."""

    def __init__(self, answers: dict[tuple[str, str], tuple[int, str]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, str, Credentials, Any]] = []

    def request(self, method: str, url: str, credentials: Credentials, body: Any = None) -> tuple[int, Any]:
        self.asked.append((method, url, credentials, body))
        code, file = self.answers[(method, url)]
        path = DATA / file if (DATA / file).exists() else STATUS / file
        return code, json.loads(path.read_text())

    def posts(self) -> list[tuple[str, list[str]]]:
        return [(url, body["mirror_topic_names"]) for method, url, _, body in self.asked if method == "POST"]


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFLUENT_KAFKA_API_KEY", KAFKA.key)
    monkeypatch.setenv("CONFLUENT_KAFKA_API_SECRET", KAFKA.secret)


def link(
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    link_state: tuple[int, str],
    mirrors: tuple[int, str],
    posts: dict[str, tuple[int, str]] | None = None,
    outputs: Path = OUTPUTS,
) -> tuple[int, RecordedApi]:
    answers = {("GET", LINK_URL): link_state, ("GET", MIRRORS_URL): mirrors}
    answers.update({("POST", f"{LINK_URL}/{path}"): answer for path, answer in (posts or {}).items()})
    api = RecordedApi(answers)
    monkeypatch.setattr(link_command, "api", api)
    return main(["link", *argv, "--stack", "prod-east", "--outputs", str(outputs)]), api


def results(out: str) -> dict[str, tuple[str, str]]:
    """Per mirror row: (status before, result)."""
    found = {}
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] in (CAR, LOAN, RAW):
            found[cells[0]] = (cells[1], cells[3])
    return found


def test_planned_switchover_promotes_every_mirror_and_prints_the_settings_change(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: None
) -> None:
    code, api = link(
        monkeypatch,
        ["promote"],
        (200, "link-active.json"),
        (200, "mirrors-active.json"),
        {"mirrors:promote": (200, "alter-all-done.json")},
    )
    out = capsys.readouterr().out
    assert code == 0
    assert api.posts() == [(f"{LINK_URL}/mirrors:promote", [CAR, LOAN, RAW])]
    assert all(credentials == KAFKA for _, _, credentials, _ in api.asked)
    assert results(out) == {m: ("ACTIVE", "DONE") for m in (CAR, LOAN, RAW)}
    assert "peer (source) reachable" in out
    assert "pulumi config set --stack prod-east cdc-platform:link.mirrorStatus PROMOTED" in out
    assert "Pulumi.prod-east.yaml set `cdc-platform:link.mirrorStatus: PROMOTED` (was ACTIVE)" in out
    assert "--refresh`" not in out.replace("never with --refresh", "")
    assert "kafka-secret" not in out


def test_a_dry_run_only_validates_and_changes_no_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: None
) -> None:
    code, api = link(
        monkeypatch,
        ["failover", "--dry-run"],
        (200, "link-active.json"),
        (200, "mirrors-active.json"),
        {"mirrors:failover?validate_only=true": (200, "alter-all-done.json")},
    )
    out = capsys.readouterr().out
    assert code == 0
    assert api.posts() == [(f"{LINK_URL}/mirrors:failover?validate_only=true", [CAR, LOAN, RAW])]
    assert results(out) == {m: ("ACTIVE", "VALID") for m in (CAR, LOAN, RAW)}
    assert "Dry run: nothing changed" in out
    assert "`promote` would first catch up" in out  # the peer answers: the graceful way exists
    assert "pulumi config set" not in out
    # Known lags at the preflight (mirrors-active.json: 12 and 3 records) are what a failover leaves behind.
    assert "up to 15 record(s) not yet mirrored stay behind" in out


def test_region_loss_refuses_promotion_and_fails_over_what_the_survivor_holds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: None
) -> None:
    code, api = link(monkeypatch, ["promote"], (200, "link-unavailable.json"), (200, "mirrors-source-unavailable.json"))
    out = capsys.readouterr().out
    assert code == 1
    assert api.posts() == []
    assert "promotion needs it" in out and "cdcctl link failover --stack prod-east" in out

    code, api = link(
        monkeypatch,
        ["failover"],
        (200, "link-unavailable.json"),
        (200, "mirrors-source-unavailable.json"),
        {"mirrors:failover": (200, "alter-all-done.json")},
    )
    out = capsys.readouterr().out
    assert code == 0
    assert api.posts() == [(f"{LINK_URL}/mirrors:failover", [CAR, LOAN, RAW])]
    assert results(out) == {m: ("SOURCE_UNAVAILABLE", "DONE") for m in (CAR, LOAN, RAW)}
    assert "peer (source) NOT reachable" in out
    assert "pulumi config set --stack prod-east cdc-platform:link.mirrorStatus FAILED_OVER" in out


def test_a_half_failed_failover_changes_no_setting_and_its_rerun_finishes_the_rest(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: None
) -> None:
    code, _ = link(
        monkeypatch,
        ["failover"],
        (200, "link-unavailable.json"),
        (200, "mirrors-source-unavailable.json"),
        {"mirrors:failover": (200, "alter-raw-failed.json")},
    )
    out = capsys.readouterr().out
    assert code == 1
    assert results(out)[RAW] == ("SOURCE_UNAVAILABLE", "FAILED")
    assert "could not be failed over: the request timed out" in out
    assert results(out)[CAR] == ("SOURCE_UNAVAILABLE", "DONE")
    assert "pulumi config set" not in out
    assert "`link.mirrorStatus` stays ACTIVE" in out

    code, api = link(
        monkeypatch,
        ["failover"],
        (200, "link-unavailable.json"),
        (200, "mirrors-half-stopped.json"),
        {"mirrors:failover": (200, "alter-raw-done.json")},
    )
    out = capsys.readouterr().out
    assert code == 0
    assert api.posts() == [(f"{LINK_URL}/mirrors:failover", [RAW])]
    stopped = ("STOPPED", "SKIPPED")
    assert results(out) == {CAR: stopped, LOAN: stopped, RAW: ("SOURCE_UNAVAILABLE", "DONE")}
    assert "cdc-platform:link.mirrorStatus FAILED_OVER" in out


def test_a_mirror_still_being_stopped_is_not_recorded_yet(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: None
) -> None:
    code, api = link(monkeypatch, ["promote"], (200, "link-active.json"), (200, "mirrors-promoting.json"))
    out = capsys.readouterr().out
    assert code == 1  # not done yet
    assert api.posts() == []
    assert results(out)[RAW] == ("PENDING_STOPPED", "SKIPPED") and "run the command again" in out
    assert "pulumi config set" not in out


def test_a_whole_request_that_fails_marks_every_mirror_failed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: None
) -> None:
    code, _ = link(
        monkeypatch,
        ["failover"],
        (200, "link-unavailable.json"),
        (200, "mirrors-source-unavailable.json"),
        {"mirrors:failover": (0, "kafka-unreachable.json")},
    )
    out = capsys.readouterr().out
    assert code == 1
    assert {result for _, result in results(out).values()} == {"FAILED"}
    assert "no answer" in out


def test_failback_resumes_paused_mirrors_and_prints_how_to_recreate_stopped_ones(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: None
) -> None:
    code, api = link(
        monkeypatch,
        ["resume"],
        (200, "link-active.json"),
        (200, "mirrors-paused.json"),
        {"mirrors:resume": (200, "alter-resumed.json")},
    )
    out = capsys.readouterr().out
    assert code == 0
    assert api.posts() == [(f"{LINK_URL}/mirrors:resume", [RAW])]
    assert results(out)[RAW] == ("PAUSED", "DONE")
    assert "Nothing to record" in out  # paused by hand: the stack already says ACTIVE

    code, api = link(monkeypatch, ["resume"], (200, "link-active.json"), (200, "mirrors-stopped.json"))
    out = capsys.readouterr().out
    assert code == 0
    assert api.posts() == []  # a stopped mirror never resumes: nothing is sent
    assert results(out) == {m: ("STOPPED", "SKIPPED") for m in (CAR, LOAN, RAW)}
    for mirror in (CAR, LOAN, RAW):
        assert f"confluent kafka topic delete {mirror} --cluster lkc-7x9q2m" in out
    assert "pulumi state delete --stack prod-east" in out
    assert "pulumi config set --stack prod-east cdc-platform:link.mirrorStatus ACTIVE" in out


def test_resume_waits_for_the_peer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: None
) -> None:
    code, api = link(monkeypatch, ["resume"], (200, "link-unavailable.json"), (200, "mirrors-source-unavailable.json"))
    assert code == 1
    assert api.posts() == []
    assert "cannot resume until the peer answers" in capsys.readouterr().out


def test_an_unreachable_own_cluster_is_not_the_survivor(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: None
) -> None:
    code, api = link(monkeypatch, ["failover"], (0, "kafka-unreachable.json"), (200, "mirrors-active.json"))
    out = capsys.readouterr().out
    assert code == 1
    assert api.posts() == []
    assert "SURVIVING region's stack" in out


def test_a_stack_without_a_link_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: None
) -> None:
    api = RecordedApi({})
    monkeypatch.setattr(link_command, "api", api)
    assert main(["link", "failover", "--stack", "dev", "--outputs", str(OUTPUTS)]) == 2
    assert "Pulumi.dev.yaml: cdc-platform:link" in the_one_error_line(capsys)
    assert api.asked == []


def test_a_foreign_rest_endpoint_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: None, tmp_path: Path
) -> None:
    outputs = json.loads(OUTPUTS.read_text())
    outputs["restEndpoint"] = "https://collector.example.com"
    changed = tmp_path / "outputs.json"
    changed.write_text(json.dumps(outputs))
    answers = (200, "link-active.json"), (200, "mirrors-active.json")
    code, api = link(monkeypatch, ["failover"], *answers, outputs=changed)
    assert code == 2
    assert "restEndpoint" in the_one_error_line(capsys)
    assert api.asked == []


def test_a_missing_key_is_named(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CONFLUENT_KAFKA_API_KEY", raising=False)
    monkeypatch.delenv("CONFLUENT_KAFKA_API_SECRET", raising=False)
    code, api = link(monkeypatch, ["failover"], (200, "link-active.json"), (200, "mirrors-active.json"))
    assert code == 2
    assert "CONFLUENT_KAFKA_API_KEY" in the_one_error_line(capsys)
    assert api.asked == []


def test_the_runbooks_dr_targets_are_derived_from_the_settings_and_the_drill_starts_with_a_dry_run() -> None:
    readme = (REPO / "README.md").read_text()
    targets = readme[readme.index("**DR targets, derived from the settings.**") : readme.index("**Quarterly drill**")]
    defaults = Thresholds()
    assert f"`monitoring.mirrorLagRecords` ({defaults.mirror_lag_records:,})" in targets
    assert f"`monitoring.mirrorLagMinutes` ({defaults.mirror_lag_minutes} min)" in targets
    assert f"RPO <= {defaults.mirror_lag_records:,} records" in targets
    assert f"`consumer.offset.sync.ms` ({OFFSET_SYNC_MS // 1000} s)" in targets
    assert f"at most {link_command.DEADLINE_S:g} s" in targets
    drill = readme[readme.index("**Quarterly drill**") :]
    first_step = drill.split("\n1. ", 1)[1].splitlines()[0]
    assert first_step.startswith("`cdcctl link failover --stack prod-east --dry-run`")


def test_the_real_client_posts_the_mirror_names_as_json_with_validate_only(tmp_path: Path) -> None:
    """Through cdcctl.confluent_api.ConfluentApi (the one allow-listed client; a local TLS server stands in
    for the stack's REST endpoint through its test seam)."""
    answer = json.loads((DATA / "alter-raw-done.json").read_text())

    bodies: list[bytes] = []

    def reply(connection: Any, head: bytes) -> None:
        # Read the whole body before answering (closing on unread data would reset the connection).
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
        body = head.split(b"\r\n\r\n", 1)[1]
        while len(body) < length:
            body += connection.recv(65536)
        bodies.append(body)
        data = json.dumps(answer).encode()
        connection.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data
        )

    with tls_server(tmp_path, reply) as server:
        client = ConfluentApi(
            "us-east-1", 10, allowed_host=lambda host, region: host == "127.0.0.1", tls=server.trusting
        )
        half = Half("prod-east", "Pulumi.prod-east.yaml", server.url, "lkc-7x9q2m", LINK, (RAW,), "ACTIVE")
        check = Preflight(True, "", "UNAVAILABLE", "TIMEOUT_ERROR", (Mirror(RAW, "SOURCE_UNAVAILABLE", 3),))
        outcomes = act("failover", half, check, client, KAFKA, dry_run=True)
    assert [(o.mirror, o.result) for o in outcomes] == [(RAW, "VALID")]
    (request,) = server.requests
    assert request.startswith(
        f"POST /kafka/v3/clusters/lkc-7x9q2m/links/{LINK}/mirrors:failover?validate_only=true HTTP/1.1".encode()
    )
    assert b"Content-Type: application/json" in request
    assert [json.loads(body) for body in bodies] == [{"mirror_topic_names": [RAW]}]
    assert b"Authorization: Basic S0FGS0FLRVk6a2Fma2Etc2VjcmV0" in request
