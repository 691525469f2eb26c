"""`cdcctl consumer` and `cdcctl monitoring` fed crafted outputs: another stack's, values carrying newlines,
plain-http or foreign endpoints, a scrape config with a foreign target, files that never end. Each refusal:
exit 2, one stderr line naming the file and key, no traceback, nothing printed on stdout or written."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdcctl.__main__ import main
from cdcctl.plan import Plan
from tests.helpers import the_one_error_line

Change = Callable[[dict[str, Any]], None]


def recording(tmp_path: Path, plans: dict[str, Plan], change: Change, stack: str = "prod-east") -> str:
    outputs = json.loads(json.dumps(plans[stack].outputs))
    change(outputs)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return str(path)


def loan(outputs: dict[str, Any]) -> dict[str, Any]:
    return dict(outputs["consumers"]["loan-consumer"])


def set_loan(key: str, value: Any) -> Change:
    return lambda o: o["consumers"]["loan-consumer"].__setitem__(key, value)


CONSUMER_CASES: list[tuple[str, Change, str]] = [
    (
        "bootstrap-injects-a-setting",
        lambda o: o.__setitem__(
            "bootstrapEndpoint",
            "SASL_SSL://lkc-1.us-east-1.aws.confluent.cloud:9092\nssl.endpoint.identification.algorithm=none",
        ),
        "bootstrapEndpoint: 'SASL_SSL://lkc-1.us-east-1.aws.confluent.cloud:9092\\nssl.endp' is not a Kafka",
    ),
    (
        "bootstrap-foreign-host",
        lambda o: o.__setitem__("bootstrapEndpoint", "SASL_SSL://kafka.evil.io:9092"),
        "bootstrapEndpoint: 'SASL_SSL://kafka.evil.io:9092' is not a Kafka bootstrap endpoint of Confluent Cloud "
        "in us-east-1",
    ),
    (
        "registry-plain-http",
        lambda o: o.__setitem__("schemaRegistryEndpoint", "http://psrc-1.us-east-1.aws.confluent.cloud"),
        "schemaRegistryEndpoint: 'http://psrc-1.us-east-1.aws.confluent.cloud' is not an https:// endpoint",
    ),
    (
        "registry-foreign-host",
        lambda o: o.__setitem__("schemaRegistryEndpoint", "https://registry.evil.io"),
        "schemaRegistryEndpoint: 'https://registry.evil.io' is not an https:// endpoint",
    ),
    (
        "topic-with-newline",
        set_loan("topics", ["filtered-loan-created-events\nsasl.password=x"]),
        "consumers.loan-consumer.topics[0]: 'filtered-loan-created-events\\nsasl.password=x' is not valid",
    ),
    (
        "group-prefix-with-a-setting",
        set_loan("groupPrefix", "g-\nsecurity.protocol=PLAINTEXT"),
        "consumers.loan-consumer.groupPrefix: ",
    ),
    (
        "outputs-of-another-stack",
        lambda o: o["monitoring"].__setitem__("stack", "dev"),
        "monitoring.stack: these are the outputs of stack 'dev', not prod-east",
    ),
    ("no-monitoring-export", lambda o: o.pop("monitoring"), "monitoring: no such output"),
]


@pytest.mark.parametrize("case, change, error", CONSUMER_CASES, ids=[c[0] for c in CONSUMER_CASES])
def test_consumer_refuses_crafted_outputs(
    plans: dict[str, Plan],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    change: Change,
    error: str,
) -> None:
    path = recording(tmp_path, plans, change)
    assert main(["consumer", "loan-consumer", "--stack", "prod-east", "--outputs", path]) == 2
    line = the_one_error_line(capsys)
    assert line.startswith(f"error: {path}: {error}"), line


def test_consumer_refuses_prod_outputs_labelled_dev(
    plans: dict[str, Plan], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = recording(tmp_path, plans, lambda o: None, stack="prod-west")
    assert main(["consumer", "loan-consumer", "--stack", "dev", "--outputs", path]) == 2
    assert the_one_error_line(capsys) == (
        f"error: {path}: monitoring.stack: these are the outputs of stack 'prod-west', not dev: "
        "pass `pulumi stack output --json --stack dev`"
    )


def test_consumer_reads_outputs_from_stdin_as_status_does(
    plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = recording(tmp_path, plans, lambda o: None)
    monkeypatch.setattr("sys.stdin", open(path, encoding="utf-8"))  # noqa: SIM115 - closed by the test's end
    assert main(["consumer", "loan-consumer", "--stack", "prod-east", "--outputs", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == "- (deployed outputs)"


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda d: "/dev/zero", "--outputs: is not a regular file (a device)"),
        (lambda d: (os.mkfifo(d / "fifo"), str(d / "fifo"))[1], "--outputs: is not a regular file (a FIFO)"),
        (lambda d: "", "--outputs: is empty: name a file"),
    ],
    ids=["dev-zero", "fifo", "empty-name"],
)
def test_consumer_outputs_that_are_not_files_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], str], error: str
) -> None:
    path = make(tmp_path)
    assert main(["consumer", "loan-consumer", "--stack", "prod-east", "--outputs", path]) == 2
    assert error in the_one_error_line(capsys)


# --- monitoring ------------------------------------------------------------------------------------------

MONITORING_CASES: list[tuple[str, Change, str]] = [
    (
        "api-key-with-newline",
        lambda o: o.__setitem__("metricsApiKey", "KEY\n  - targets: [evil.io]"),
        "metricsApiKey: 'KEY\\n  - targets: [evil.io]' is not valid: an API key id",
    ),
    (
        "outputs-of-another-stack",
        lambda o: o["monitoring"].__setitem__("stack", "prod-west"),
        "monitoring.stack: these are the outputs of stack 'prod-west', not prod-east",
    ),
    (
        "id-breaking-a-label-matcher",
        lambda o: o["monitoring"].__setitem__("clusterId", 'lkc-1"} or vector(1) or {x="'),
        "monitoring.clusterId: ",
    ),
]


@pytest.mark.parametrize("case, change, error", MONITORING_CASES, ids=[c[0] for c in MONITORING_CASES])
def test_monitoring_refuses_crafted_outputs_and_writes_nothing(
    plans: dict[str, Plan],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    change: Change,
    error: str,
) -> None:
    path = recording(tmp_path, plans, change)
    out = tmp_path / "out"
    assert main(["monitoring", "--stack", "prod-east", "--out", str(out), "--outputs", path]) == 2
    assert the_one_error_line(capsys).startswith(f"error: {path}: {error}")
    assert not out.exists()


def test_a_crafted_scrape_config_in_the_outputs_is_never_copied(
    plans: dict[str, Plan], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crafted = {
        "scrape_configs": [
            {
                "job_name": "x",
                "static_configs": [{"targets": ["collector.evil.io"]}],
                "basic_auth": {
                    "username": "k",
                    "password_file": "/etc/prometheus/secrets/prod-east-metrics-api-secret",
                },
            }
        ]
    }
    path = recording(tmp_path, plans, lambda o: o.__setitem__("prometheusScrapeConfig", yaml.safe_dump(crafted)))
    assert main(["monitoring", "--stack", "prod-east", "--out", str(tmp_path / "out"), "--outputs", path]) == 0
    written = (tmp_path / "out" / "prod-east-scrape.yml").read_text()
    assert "evil.io" not in written
    jobs = yaml.safe_load(written)["scrape_configs"]
    assert [target for job in jobs for c in job["static_configs"] for target in c["targets"]] == [
        "api.telemetry.confluent.cloud"
    ]
    capsys.readouterr()


@pytest.mark.plans
def test_a_symlink_planted_at_an_output_file_is_replaced_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "authorized_keys"
    victim.write_text("ssh-ed25519 AAAA operator\n")
    (out / "dev-scrape.yml").symlink_to(victim)
    assert main(["monitoring", "--stack", "dev", "--out", str(out)]) == 0
    assert victim.read_text() == "ssh-ed25519 AAAA operator\n"
    assert not (out / "dev-scrape.yml").is_symlink()
    assert "scrape_configs" in (out / "dev-scrape.yml").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["dev-rules.yml", "dev-scrape.yml"]  # no temporary left


def test_an_empty_out_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in (["monitoring", "--stack", "dev", "--out", ""], ["rehearse", "--routes", "r", "--records", "x"]):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--out", ""] if command[0] == "rehearse" else command)
        assert exit_info.value.code == 2
        assert "argument --out: '' is empty: name a directory" in the_one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []
