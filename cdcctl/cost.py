"""A stack's monthly cost, estimated from its offline plan (what it would register) and the dated price
table: cluster capacity, the Flink floor (every running statement uses at least 1 CFU) and the pool's
ceiling, connector tasks and throughput, PrivateLink endpoints, the cluster link, RDS Proxy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cdcctl.plan import Plan, PlannedResource
from core import naming
from core.config_node import Node
from core.yaml_file import load_yaml

PRICE_IDS = (
    "kafkaStandardEckuHour",
    "kafkaDedicatedCkuHourSingleZone",
    "kafkaDedicatedCkuHourMultiZone",
    "flinkCfuHour",
    "connectorTaskHour",
    "connectorThroughputGb",
    "awsPrivateLinkEndpointAzHour",
    "awsPrivateLinkGb",
    "confluentEgressEndpointHour",
    "awsNlbHour",
    "clusterLinkHour",
    "rdsProxyVcpuHour",
)
ASSUMPTION_IDS = (
    "standardEckus",
    "connectorThroughputGbPerMonth",
    "privateLinkGbPerMonth",
    "rdsProxyVcpus",
    "backfillCfuMinutes",
)
DEDICATED_CKU_PRICE = {"SINGLE_ZONE": "kafkaDedicatedCkuHourSingleZone", "MULTI_ZONE": "kafkaDedicatedCkuHourMultiZone"}
# What the estimate leaves out (usage the plan cannot see, or resources the program does not declare).
NOT_PRICED = (
    "Kafka ingress, egress and storage (usage)",
    "Stream Governance package and schemas",
    "cluster linking data written and read (usage)",
    "load balancer capacity units and egress endpoint data (usage)",
    "the Aurora cluster itself, its storage and I/O",
    "Confluent and AWS support plans",
)

# Bounds on the price table's numbers: a month has at most 31 x 24 hours; no unit price or assumed monthly
# quantity comes near these, and with them every total stays finite (1e50 hours would print inf or overflow).
MAX_HOURS_PER_MONTH = 744
MAX_UNIT_PRICE_USD = 1e6
MAX_ASSUMED_QUANTITY = 1e9

_KAFKA = "confluentcloud:index/kafkaCluster:KafkaCluster"
_POOL = "confluentcloud:index/flinkComputePool:FlinkComputePool"
_STATEMENT = "confluentcloud:index/flinkStatement:FlinkStatement"
_CONNECTOR = "confluentcloud:index/connector:Connector"
_ACCESS_POINT = "confluentcloud:index/accessPoint:AccessPoint"
_VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
_LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
_PROXY = "aws:rds/proxy:Proxy"
_CLUSTER_LINK = "confluentcloud:index/clusterLink:ClusterLink"


@dataclass(frozen=True)
class Price:
    id: str
    usd: float
    per: str
    what: str
    source: str
    verified: bool


@dataclass(frozen=True)
class Assumption:
    id: str
    value: float
    per_stack: dict[str, float]
    why: str

    def for_stack(self, stack: str) -> float:
        return self.per_stack.get(stack, self.value)


@dataclass(frozen=True)
class PriceTable:
    file: str
    date: str
    currency: str
    hours_per_month: int
    prices: dict[str, Price]
    assumptions: dict[str, Assumption]


def load_price_table(path: str | Path) -> PriceTable:
    """The dated price table; a missing file, key or malformed value fails naming file and key path."""
    file = str(path)
    root = Node(load_yaml(Path(path), file), file, "").fields(
        required=["date", "currency", "hoursPerMonth", "prices", "assumptions"]
    )
    prices = root["prices"].fields(required=PRICE_IDS)
    assumptions = root["assumptions"].fields(required=ASSUMPTION_IDS)
    return PriceTable(
        file=file,
        date=root["date"].string(r"\d{4}-\d{2}-\d{2}", "a date, YYYY-MM-DD"),
        currency=root["currency"].choice(("USD",)),
        hours_per_month=int(
            _at_most(root["hoursPerMonth"], root["hoursPerMonth"].integer(minimum=1), MAX_HOURS_PER_MONTH)
        ),
        prices={key: _price(key, node) for key, node in prices.items()},
        assumptions={key: _assumption(key, node) for key, node in assumptions.items()},
    )


def _price(key: str, node: Node) -> Price:
    f = node.fields(required=["usd", "per", "what", "source", "verified"], optional=["note"])
    usd = _at_most(f["usd"], f["usd"].number(), MAX_UNIT_PRICE_USD)
    if usd < 0:
        f["usd"].fail("must be >= 0")
    return Price(
        id=key,
        usd=float(usd),
        per=f["per"].string(),
        what=f["what"].string(),
        source=f["source"].string(r"https://\S+", "an https:// URL"),
        verified=f["verified"].boolean(),
    )


def _assumption(key: str, node: Node) -> Assumption:
    f = node.fields(required=["value", "why"], optional=["perStack"])
    per_stack = f["perStack"].value if f["perStack"].present else {}
    if not isinstance(per_stack, dict):
        f["perStack"].fail("must be a mapping of stack name to value")
    return Assumption(
        id=key,
        value=float(_non_negative(f["value"])),
        per_stack={
            str(k): float(_non_negative(Node(v, node.file, f"{node.path}.perStack.{k}"))) for k, v in per_stack.items()
        },
        why=f["why"].string(),
    )


def _non_negative(node: Node) -> int | float:
    value = _at_most(node, node.number(), MAX_ASSUMED_QUANTITY)
    if value < 0:
        node.fail("must be >= 0")
    return value


def _at_most(node: Node, value: int | float, maximum: float) -> int | float:
    """Bounded, so every product of price table numbers stays a finite, printable amount."""
    if value > maximum:
        node.fail(f"must be at most {maximum:,g}")
    return value


@dataclass(frozen=True)
class Line:
    """One priced item: `quantity` units of `price` a month (units already multiplied by hours)."""

    item: str
    quantity: float
    quantity_text: str
    price: Price
    assumptions: tuple[str, ...] = ()

    @property
    def monthly(self) -> float:
        return self.quantity * self.price.usd


@dataclass(frozen=True)
class FlinkCost:
    """The Flink floor (running statements x 1 CFU) and ceiling (the pool's max_cfu), and what the
    statement set saves over one statement per route."""

    running_statements: int
    max_cfu: int
    enabled_routes: int
    hourly_cfu_price: float
    hours: int
    backfill_cfu_minutes: float  # one added route's backfill (README "Adding a route"), an assumption

    @property
    def backfill(self) -> float:
        """One backfill's one-off cost: billed per CFU-minute (flink-billing), not monthly."""
        return self.backfill_cfu_minutes / 60 * self.hourly_cfu_price

    def monthly(self, cfus: int) -> float:
        return cfus * self.hours * self.hourly_cfu_price

    @property
    def floor(self) -> float:
        return self.monthly(self.running_statements)

    @property
    def ceiling(self) -> float:
        return self.monthly(self.max_cfu)

    @property
    def one_statement_per_route(self) -> float:
        return self.monthly(self.enabled_routes)

    @property
    def statement_set_saves(self) -> float:
        return self.one_statement_per_route - self.floor


@dataclass(frozen=True)
class Estimate:
    stack: str
    table: PriceTable
    lines: list[Line]
    flink: FlinkCost | None
    assumptions_used: dict[str, Assumption] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)


def estimate(plan: Plan, table: PriceTable, enabled_routes: int) -> Estimate:
    """Price what the plan registers: one line per billed resource, in data-flow order."""
    prices, hours, stack = table.prices, table.hours_per_month, plan.stack
    used: dict[str, Assumption] = {}

    def assume(key: str) -> float:
        used[key] = table.assumptions[key]
        return table.assumptions[key].for_stack(stack)

    lines: list[Line] = []
    for vpce in _of(plan, _VPC_ENDPOINT):
        zones = len(vpce.inputs.get("subnetIds", []))
        lines.append(
            Line(
                f"PrivateLink endpoint {vpce.name} (AWS)",
                zones * hours,
                f"{zones} AZ x {hours} h",
                prices["awsPrivateLinkEndpointAzHour"],
            )
        )
        gb = assume("privateLinkGbPerMonth")
        lines.append(
            Line(
                "PrivateLink data processed (AWS)",
                gb,
                f"{gb:g} GB",
                prices["awsPrivateLinkGb"],
                ("privateLinkGbPerMonth",),
            )
        )
    for cluster in _of(plan, _KAFKA):
        lines.append(_kafka_line(cluster, table, assume))
    for connector in _of(plan, _CONNECTOR):
        config = connector.inputs.get("configNonsensitive", {})
        tasks = int(config.get("tasks.max", "1"))
        kind = config.get("connector.class", "connector")
        lines.append(
            Line(f"Connector {kind}: tasks", tasks * hours, f"{tasks} task x {hours} h", prices["connectorTaskHour"])
        )
        gb = assume("connectorThroughputGbPerMonth")
        lines.append(
            Line(
                f"Connector {kind}: throughput",
                gb,
                f"{gb:g} GB",
                prices["connectorThroughputGb"],
                ("connectorThroughputGbPerMonth",),
            )
        )
    egress = [a for a in _of(plan, _ACCESS_POINT) if a.inputs.get("awsEgressPrivateLinkEndpoint")]
    if egress or (_of(plan, _CONNECTOR) and _of(plan, _VPC_ENDPOINT)):
        # Listed even when none is declared: a connector on a private network needs one to reach a
        # private database, and a 0 shows that path is not paid for (nor working) yet.
        lines.append(
            Line(
                "Egress PrivateLink endpoints (Confluent)",
                len(egress) * hours,
                f"{len(egress)} endpoint x {hours} h",
                prices["confluentEgressEndpointHour"],
            )
        )
    for nlb in _of(plan, _LOAD_BALANCER):
        if nlb.inputs.get("loadBalancerType") == "network":
            name = nlb.inputs.get("name", nlb.name)
            lines.append(Line(f"Network load balancer {name} (AWS)", hours, f"1 NLB x {hours} h", prices["awsNlbHour"]))
    for link in _of(plan, _CLUSTER_LINK):
        # Billed per link per hour (CLUSTER_LINKING_PER_LINK): each region stack declares its half.
        name = link.inputs.get("link", link.name)
        lines.append(Line(f"Cluster link {name} (this half)", hours, f"1 link x {hours} h", prices["clusterLinkHour"]))
    flink = _flink(plan, table, enabled_routes, assume)
    if flink is not None:
        lines.append(
            Line(
                "Flink: running statements (floor: 1 CFU each)",
                flink.running_statements * hours,
                f"{flink.running_statements} CFU x {hours} h",
                prices["flinkCfuHour"],
            )
        )
    for proxy in _of(plan, _PROXY):
        vcpus = max(2.0, assume("rdsProxyVcpus"))  # RDS Proxy bills at least 2 vCPUs
        lines.append(
            Line(
                f"RDS Proxy {proxy.inputs.get('name', proxy.name)}",
                vcpus * hours,
                f"{vcpus:g} vCPU x {hours} h",
                prices["rdsProxyVcpuHour"],
                ("rdsProxyVcpus",),
            )
        )
    return Estimate(stack, table, lines, flink, used)


def _kafka_line(cluster: PlannedResource, table: PriceTable, assume: Callable[[str], float]) -> Line:
    hours, inputs = table.hours_per_month, cluster.inputs
    availability = str(inputs.get("availability"))
    if "dedicated" in inputs:
        cku = int(inputs["dedicated"]["cku"])
        price = table.prices[DEDICATED_CKU_PRICE[availability]]
        return Line(f"Kafka: Dedicated {availability} cluster", cku * hours, f"{cku} CKU x {hours} h", price)
    eckus = assume("standardEckus")
    return Line(
        f"Kafka: Standard {availability} cluster",
        eckus * hours,
        f"{eckus:g} eCKU x {hours} h",
        table.prices["kafkaStandardEckuHour"],
        ("standardEckus",),
    )


def _flink(plan: Plan, table: PriceTable, enabled_routes: int, assume: Callable[[str], float]) -> FlinkCost | None:
    pools = _of(plan, _POOL)
    if not pools:
        return None
    # A first deployment's plan holds no backfill: what one costs is priced apart, never in the month.
    # Statements that complete (the raw table's settings, a backfill) bill only while they run.
    running = [
        s
        for s in _of(plan, _STATEMENT)
        if not s.inputs.get("stopped", False)
        and naming.statement_kind(s.inputs["statementName"]) not in naming.COMPLETING_STATEMENTS
    ]
    return FlinkCost(
        running_statements=len(running),
        max_cfu=sum(int(p.inputs["maxCfu"]) for p in pools),
        enabled_routes=enabled_routes,
        hourly_cfu_price=table.prices["flinkCfuHour"].usd,
        hours=table.hours_per_month,
        backfill_cfu_minutes=assume("backfillCfuMinutes"),
    )


def _of(plan: Plan, kind: str) -> list[PlannedResource]:
    return [r for r in plan.resources if r.type == kind]


__all__ = ["NOT_PRICED", "Estimate", "Line", "PriceTable", "estimate", "load_price_table"]
