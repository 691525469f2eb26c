"""`cdcctl cost`: each stack's estimate, recomputed here from the price table and the stack's own
settings (CKUs, zones, routes), never from copies of the command's output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from cdcctl.__main__ import main
from cdcctl.plan import Plan
from core.naming import PRICE_TABLE_FILE
from tests.helpers import REPO, STACKS, of_type, the_one_error_line

TABLE = yaml.safe_load((REPO / PRICE_TABLE_FILE).read_text())
P = {key: entry["usd"] for key, entry in TABLE["prices"].items()}
H = TABLE["hoursPerMonth"]
ROUTES = sum(r.get("enabled", True) for r in yaml.safe_load((REPO / "flink_sql/routes.yaml").read_text())["routes"])


def assumed(key: str, stack: str) -> float:
    entry = TABLE["assumptions"][key]
    return float(entry.get("perStack", {}).get(stack, entry["value"]))


def config(stack: str) -> dict[str, Any]:
    document = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    return {key.split(":", 1)[1]: value for key, value in document["config"].items()}


def cost_json(stack: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    assert main(["cost", "--stack", stack, "--json", *extra]) == 0
    return dict(json.loads(capsys.readouterr().out))


def flink_floor() -> float:
    return 1 * H * P["flinkCfuHour"]  # one running statement set per region, 1 CFU minimum


def cdc_connector(stack: str) -> float:
    return 1 * H * P["connectorTaskHour"] + assumed("connectorThroughputGbPerMonth", stack) * P["connectorThroughputGb"]


def expected_total(stack: str) -> float:
    c = config(stack)
    if c["layer"] == "global":
        return 0.0  # environment, accounts and schemas: nothing billed by the hour
    if c["kafka"]["type"] == "STANDARD":
        kafka = assumed("standardEckus", stack) * H * P["kafkaStandardEckuHour"]
    else:
        zone = {"MULTI_ZONE": "kafkaDedicatedCkuHourMultiZone", "SINGLE_ZONE": "kafkaDedicatedCkuHourSingleZone"}
        kafka = c["kafka"]["cku"] * H * P[zone[c["kafka"]["availability"]]]
    total = kafka + flink_floor() + cdc_connector(stack)
    if c["network"]["type"] == "PRIVATELINK":
        zones = len(c["network"]["zones"])
        total += zones * H * P["awsPrivateLinkEndpointAzHour"]
        total += assumed("privateLinkGbPerMonth", stack) * P["awsPrivateLinkGb"]
        if c["cdc"]["enabled"] and "aurora" in c:
            # The connector's private path to Aurora: a Confluent egress endpoint to an AWS NLB.
            total += 1 * H * P["confluentEgressEndpointHour"] + 1 * H * P["awsNlbHour"]
    if "proxy" in c.get("aurora", {}):
        total += max(2, assumed("rdsProxyVcpus", stack)) * H * P["rdsProxyVcpuHour"]
    if "link" in c:
        total += 1 * H * P["clusterLinkHour"]  # this stack's half of the bidirectional link
    return total


@pytest.mark.plans
@pytest.mark.parametrize("stack", STACKS)
def test_total_is_the_price_table_applied_to_the_stacks_plan(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = cost_json(stack, capsys)
    assert result["currency"] == "USD"
    assert result["total"] == pytest.approx(expected_total(stack), abs=0.01)
    assert result["total"] == pytest.approx(sum(item["monthly"] for item in result["items"]), abs=0.01)


@pytest.mark.parametrize("stack", ["dev", "prod-east", "prod-west"])
def test_flink_floor_ceiling_and_what_the_statement_set_saves(
    stack: str, capsys: pytest.CaptureFixture[str], plans: dict[str, Plan]
) -> None:
    flink = cost_json(stack, capsys)["flink"]
    (pool,) = of_type(plans[stack], "FlinkComputePool")
    assert flink["runningStatements"] == 1
    assert flink["floorMonthly"] == pytest.approx(flink_floor(), abs=0.01)
    assert flink["maxCfu"] == pool.inputs["maxCfu"] == config(stack)["flink"]["maxCfu"]
    assert flink["ceilingMonthly"] == pytest.approx(pool.inputs["maxCfu"] * H * P["flinkCfuHour"], abs=0.01)
    assert flink["enabledRoutes"] == ROUTES
    assert flink["statementSetSaves"] == pytest.approx((ROUTES - 1) * H * P["flinkCfuHour"], abs=0.01)
    # A backfill is billed once, per CFU-minute, and is not part of the month.
    minutes = assumed("backfillCfuMinutes", stack)
    assert flink["backfillCfuMinutes"] == minutes
    assert flink["backfillOneOff"] == pytest.approx(minutes / 60 * P["flinkCfuHour"], abs=0.01)


@pytest.mark.plans
def test_each_item_names_its_price_source_and_whether_it_is_confirmed(capsys: pytest.CaptureFixture[str]) -> None:
    for item in cost_json("prod-east", capsys)["items"]:
        entry = TABLE["prices"][item["price"]]
        assert (item["unitPrice"], item["unit"]) == (entry["usd"], entry["per"])
        assert (item["source"], item["priceVerified"]) == (entry["source"], entry["verified"])
        assert item["monthly"] == pytest.approx(item["quantity"] * entry["usd"], abs=0.01)


@pytest.mark.plans
def test_assumed_quantities_are_marked_and_explained(capsys: pytest.CaptureFixture[str]) -> None:
    result = cost_json("dev", capsys)
    throughput = [i for i in result["items"] if i["item"].endswith("throughput")]
    assert [i["assumptions"] for i in throughput] == [["connectorThroughputGbPerMonth"]]
    assert result["assumptions"]["connectorThroughputGbPerMonth"]["value"] == assumed(
        "connectorThroughputGbPerMonth", "dev"
    )
    assert main(["cost", "--stack", "dev"]) == 0
    text = capsys.readouterr().out
    assert "[A] connectorThroughputGbPerMonth = 5: " in text and "[U]" in text
    assert "Not priced: " in text


def test_the_price_table_is_dated_and_sourced() -> None:
    assert TABLE["currency"] == "USD" and len(TABLE["date"]) == 10
    for key, entry in TABLE["prices"].items():
        assert entry["source"].startswith("https://"), key
        assert isinstance(entry["verified"], bool), key
    assert TABLE["prices"]["flinkCfuHour"]["verified"]  # the one Confluent's own docs state


@pytest.mark.parametrize(
    "mutate, key, reason",
    [
        (lambda t: t["prices"].pop("flinkCfuHour"), "prices.flinkCfuHour", "is required"),
        (lambda t: t["prices"]["flinkCfuHour"].update(usd=-1), "prices.flinkCfuHour.usd", "must be >= 0"),
        (lambda t: t["prices"]["flinkCfuHour"].update(source="docs"), "prices.flinkCfuHour.source", "'docs' is not"),
        (lambda t: t.update(date="soon"), "date", "'soon' is not valid"),
        (lambda t: t["assumptions"]["rdsProxyVcpus"].update(value="4"), "assumptions.rdsProxyVcpus.value", "must be"),
    ],
)
def test_a_broken_price_table_exits_2_naming_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mutate: Any, key: str, reason: str
) -> None:
    table = yaml.safe_load((REPO / PRICE_TABLE_FILE).read_text())
    mutate(table)
    path = tmp_path / "prices.yaml"
    path.write_text(yaml.safe_dump(table))
    assert main(["cost", "--stack", "prod-east", "--prices", str(path)]) == 2
    assert the_one_error_line(capsys).startswith(f"error: {path}: {key}: {reason}")


def test_an_unknown_stack_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--stack", "nope"]) == 2
    assert "nope" in the_one_error_line(capsys)


@pytest.mark.plans
def test_the_readme_table_shows_what_the_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    rows = {
        line.split("|")[1].strip(" `"): line.split("|")[-2]
        for line in (REPO / "README.md").read_text().splitlines()
        if line.startswith("| `")
    }
    for stack in STACKS:
        total = cost_json(stack, capsys)["total"]
        assert f"**{total:,.2f}**" in rows[stack], stack
