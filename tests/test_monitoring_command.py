"""`cdcctl monitoring` writes what the stack exports (from a recording of its deployed outputs, or its
offline plan), an empty but valid pair for a global stack, and refuses bad input in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cdcctl.__main__ import main
from cdcctl.plan import Plan
from tests.helpers import the_one_error_line


def test_a_recording_of_the_deployed_outputs_gives_the_deployed_ids(
    plans: dict[str, Plan], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = json.loads(json.dumps(plans["prod-west"].outputs))
    outputs["monitoring"]["clusterId"] = "lkc-deployed"
    outputs["metricsApiKey"] = "DEPLOYEDKEY12345"
    recording = tmp_path / "outputs.json"
    recording.write_text(json.dumps(outputs))
    assert (
        main(["monitoring", "--stack", "prod-west", "--out", str(tmp_path / "out"), "--outputs", str(recording)]) == 0
    )
    scrape = yaml.safe_load((tmp_path / "out" / "prod-west-scrape.yml").read_text())["scrape_configs"][0]
    assert scrape["params"]["resource.kafka.id"] == ["lkc-deployed"]
    assert scrape["basic_auth"]["username"] == "DEPLOYEDKEY12345"
    assert 'kafka_id="lkc-deployed"' in (tmp_path / "out" / "prod-west-rules.yml").read_text()
    # Built as the stack builds its exports: with the plan's own ids, the very same text.
    assert main(["monitoring", "--stack", "prod-west", "--out", str(tmp_path / "plan")]) == 0
    assert (tmp_path / "plan" / "prod-west-scrape.yml").read_text() == plans["prod-west"].outputs[
        "prometheusScrapeConfig"
    ]
    assert (tmp_path / "plan" / "prod-west-rules.yml").read_text() == plans["prod-west"].outputs["prometheusRules"]
    out = capsys.readouterr().out
    assert f"{tmp_path / 'out' / 'prod-west-scrape.yml'}: job confluent-cloud-prod-west scraping lkc-deployed" in out
    assert "ConsumerGroupLagHigh" in out


def test_a_global_stack_gets_an_empty_valid_pair_and_is_told_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["monitoring", "--stack", "prod", "--out", str(tmp_path)]) == 0
    assert yaml.safe_load((tmp_path / "prod-scrape.yml").read_text()) == {"scrape_configs": []}
    assert yaml.safe_load((tmp_path / "prod-rules.yml").read_text()) == {"groups": []}
    out, err = capsys.readouterr()
    assert "stack prod is a global stack" in err
    assert out.splitlines() == [
        f"{tmp_path / 'prod-scrape.yml'}: no scrape job",
        f"{tmp_path / 'prod-rules.yml'}: no rule group",
    ]


def test_an_out_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "taken"
    taken.write_text("")
    assert main(["monitoring", "--stack", "dev", "--out", str(taken)]) == 2
    assert the_one_error_line(capsys) == f"error: --out: {taken} exists and is not a directory"


def test_outputs_of_an_older_deployment_are_refused_naming_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "outputs.json"
    recording.write_text(json.dumps({"clusterId": "lkc-1"}))
    assert main(["monitoring", "--stack", "dev", "--out", str(tmp_path), "--outputs", str(recording)]) == 2
    assert the_one_error_line(capsys) == (
        f"error: {recording}: monitoring: no such output: deploy the stack with this version of the program first"
    )


def test_a_recording_that_is_not_json_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recording = tmp_path / "outputs.json"
    recording.write_text("Current stack outputs (3):")
    assert main(["monitoring", "--stack", "dev", "--out", str(tmp_path), "--outputs", str(recording)]) == 2
    assert the_one_error_line(capsys).startswith(f"error: {recording}: --outputs: invalid JSON: ")
