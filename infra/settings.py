"""The one settings model: read from the stack's Pulumi config and validated before anything registers.

Every error names the stack file and the key path, e.g.
`Pulumi.prod-east.yaml: cdc-platform:kafka.cku: must be >= 2 for a MULTI_ZONE dedicated cluster`.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.cdc_source import CdcSettings
from core.config_node import ConfigError, Node
from core.limits import MAX_CFU_VALUES, MAX_PARTITIONS_PER_TOPIC, SLOT_WARNING_PERCENT
from core.naming import DEFAULT_ROUTES_FILE, KAFKA_TOPIC, replication_slot
from core.raw_record import RAW_TOPIC, SOURCE_TABLE
from monitoring.targets import Thresholds

if TYPE_CHECKING:
    import pulumi

NAMESPACE = "cdc-platform"
# Config namespaces a stack may use: the program's own, its providers' and Pulumi's.
KNOWN_NAMESPACES = (NAMESPACE, "confluentcloud", "aws", "pulumi")
LAYERS = ("global", "region", "all-in-one")
CLUSTER_TYPES = ("STANDARD", "DEDICATED")
AVAILABILITIES = ("SINGLE_ZONE", "MULTI_ZONE")
STREAM_GOVERNANCE_PACKAGES = ("ESSENTIALS", "ADVANCED")
NETWORK_TYPES = ("PUBLIC", "PRIVATELINK")
# Flink reads only Schema Registry formats: plain JSON is what broke the seeds (json-sr-investigation).
CDC_VALUE_FORMATS = ("JSON_SR", "AVRO", "PROTOBUF")
AWS_REGION = r"[a-z]{2}(-gov)?-[a-z]+-\d"
STACK_REFERENCE = r"([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+"
ENVIRONMENT_NAME = r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?"
# Provider credentials the user sets with `pulumi config set --secret`; never in a stack file.
PROVIDER_SECRET_KEYS = ("confluentcloud:cloudApiKey", "confluentcloud:cloudApiSecret")
# The program's own secrets (database passwords), likewise set with --secret, read as Pulumi secrets.
CDC_PASSWORD_KEY = f"{NAMESPACE}:cdcDatabasePassword"
APP_PASSWORD_KEY = f"{NAMESPACE}:appDatabasePassword"
# The CA bundle (PEM) the connector verifies the database's certificate against (sslmode verify-*):
# `pulumi config set --secret cdc-platform:cdcDatabaseRootCert < global-bundle.pem`. The connector
# takes it as `database.sslrootcert`, a secret-typed setting.
CDC_ROOT_CERT_KEY = f"{NAMESPACE}:cdcDatabaseRootCert"
PROGRAM_SECRET_KEYS = (CDC_PASSWORD_KEY, APP_PASSWORD_KEY, CDC_ROOT_CERT_KEY)
LAYER_KEY = f"{NAMESPACE}:layer"
SSL_MODES = ("require", "verify-ca", "verify-full")
SNAPSHOT_MODES = ("initial", "no_data", "when_needed")
PG_NAME = r"[a-z_][a-z0-9_]{0,62}"
SUBNET_ID = r"subnet-[0-9a-f]{8,17}"
VPC_ID = r"vpc-[0-9a-f]{8,17}"

# Top-level keys of the cdc-platform namespace: how each is stored and which layers use it.
_REGION_KEYS = ("region", "kafka", "network", "topics", "flink", "cdc", "aurora", "monitoring", "routesFile")
_KEYS_BY_LAYER: dict[str, tuple[str, ...]] = {
    "global": ("layer", "protect", "environment", "regions", "routesFile"),
    "region": ("layer", "protect", "globalStack", "link", *_REGION_KEYS),
    "all-in-one": ("layer", "protect", "environment", *_REGION_KEYS),
}
_SCALAR_KEYS = ("layer", "region", "globalStack", "routesFile")


@dataclass(frozen=True)
class EnvironmentSettings:
    name: str
    stream_governance: str


@dataclass(frozen=True)
class KafkaSettings:
    type: str
    availability: str
    cku: int | None  # DEDICATED only


@dataclass(frozen=True)
class Zone:
    az_id: str
    subnet_id: str


@dataclass(frozen=True)
class PrivateLinkSettings:
    """A PRIVATELINK Confluent network reached from one VPC of this account (absent: public endpoints)."""

    aws_account_id: str
    vpc_id: str
    vpc_cidr: str
    zones: tuple[Zone, ...]
    # Confluent's IAM principal for egress PrivateLink, when the network's gateway does not report it
    # (read it in the Confluent Console): the only principal the Aurora endpoint service admits.
    egress_principal_arn: str | None = None


@dataclass(frozen=True)
class TopicSettings:
    partitions: int
    retention_ms: int  # -1 = keep forever


@dataclass(frozen=True)
class ProxySettings:
    """RDS Proxy for the applications (never for the connector: no logical replication through it)."""

    vpc_id: str
    subnet_ids: tuple[str, ...]
    client_cidrs: tuple[str, ...]
    app_user: str
    max_connections_percent: int
    max_idle_connections_percent: int
    connection_borrow_timeout: int


@dataclass(frozen=True)
class IdleStopSettings:
    """Non-production savings (infra/aurora_idle_stop.py): stop the cluster after `inactivity_hours`
    without connections beyond the CDC connector's own `connector_connections`."""

    inactivity_hours: int = 3
    # None: what the stack's own connector holds (core.cdc_source.held_connections: 3, 4 with the heartbeat).
    connector_connections: int | None = None


@dataclass(frozen=True)
class AuroraSettings:
    """An existing Aurora PostgreSQL cluster, referenced by identifier."""

    cluster_identifier: str
    parameter_group_family: str
    proxy: ProxySettings | None
    idle_stop: IdleStopSettings | None = None  # dev, pr-N only: refused in a protected stack
    source_health: SourceHealthSettings = field(default_factory=lambda: SourceHealthSettings())


@dataclass(frozen=True)
class RegionSettings:
    """What a region layer deploys."""

    region: str
    kafka: KafkaSettings
    private_link: PrivateLinkSettings | None  # None: public endpoints (dev, pr-N)
    raw_topic: str
    raw_topic_settings: TopicSettings
    routed_topic_settings: TopicSettings
    flink_max_cfu: int
    flink_key_generation: int  # bump to rotate the deployer's Flink API key (infra.flink.RoutingStatement)
    cdc: CdcSettings
    aurora: AuroraSettings | None
    monitoring: Thresholds = field(default_factory=Thresholds)  # alert thresholds (monitoring/prometheus.py)


@dataclass(frozen=True)
class GlobalSettings:
    """What a global layer deploys: the environment, and the principals of these regions."""

    environment: EnvironmentSettings
    regions: tuple[str, ...]


@dataclass(frozen=True)
class StackSettings:
    """What every stack has, whatever its layer."""

    stack: str
    file: str
    protect: bool
    routes_file: str


@dataclass(frozen=True)
class GlobalStackSettings(StackSettings):
    """A global stack (`prod`): the global layer alone."""

    glob: GlobalSettings

    @property
    def regions(self) -> tuple[str, ...]:
        return self.glob.regions


# Mirror topic states Confluent lets a program set, and the moves between them it allows
# (terraform-provider-confluent resource_kafka_mirror_topic.go: ACTIVE <-> PAUSED, ACTIVE|PAUSED ->
# PROMOTED, ACTIVE|PAUSED -> FAILED_OVER; promotion and failover are final).
MIRROR_STATUSES = ("ACTIVE", "PAUSED", "PROMOTED", "FAILED_OVER")
MIRROR_TRANSITIONS = {
    "ACTIVE": {"ACTIVE", "PAUSED", "PROMOTED", "FAILED_OVER"},
    "PAUSED": {"PAUSED", "ACTIVE", "PROMOTED", "FAILED_OVER"},
    "PROMOTED": {"PROMOTED"},
    "FAILED_OVER": {"FAILED_OVER"},
}


@dataclass(frozen=True)
class LinkSettings:
    """This region's half of the bidirectional cluster link to its peer region stack."""

    peer_stack: str  # org/project/stack of the peer region stack
    peer_region: str
    mirror_status: str  # of every mirror topic on this side: failover is a settings change


@dataclass(frozen=True)
class RegionStackSettings(StackSettings):
    """A region stack (`prod-east`): one region layer, reading `global_stack` (and its link peer)."""

    region: RegionSettings
    global_stack: str
    link: LinkSettings | None = None

    @property
    def regions(self) -> tuple[str, ...]:
        return (self.region.region,)


@dataclass(frozen=True)
class AllInOneStackSettings(StackSettings):
    """One stack holding both layers (`dev`, `pr-N`)."""

    glob: GlobalSettings
    region: RegionSettings

    @property
    def regions(self) -> tuple[str, ...]:
        return self.glob.regions


Settings = GlobalStackSettings | RegionStackSettings | AllInOneStackSettings


def region_settings(settings: Settings) -> RegionSettings:
    """The stack's region layer; a global stack has none (no cluster, no connector)."""
    if isinstance(settings, GlobalStackSettings):
        raise ConfigError(settings.file, LAYER_KEY, "is global: this stack deploys no region (cluster, connector)")
    return settings.region


def link_settings(settings: Settings) -> LinkSettings | None:
    """The stack's half of a cluster link: only region stacks have one, and only when configured."""
    return settings.link if isinstance(settings, RegionStackSettings) else None


def stack_file(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def parse_settings(raw: Mapping[str, Any], stack: str, secret_keys: frozenset[str] = frozenset()) -> Settings:
    """Validate a stack's config (full keys such as `cdc-platform:kafka`, values already parsed)."""
    file = stack_file(stack)
    _check_namespaces(raw, file)
    own = {k: v for k, v in raw.items() if k.startswith(NAMESPACE + ":") and k not in PROGRAM_SECRET_KEYS}
    root = Node(own, file, "")
    for key in (*PROVIDER_SECRET_KEYS, *PROGRAM_SECRET_KEYS):
        if key in raw and key not in secret_keys:
            Node(raw[key], file, key).fail(f"must be set with `pulumi config set --secret {key}`")
    layer_node = Node(raw.get(LAYER_KEY), file, LAYER_KEY)
    if not layer_node.present:
        layer_node.fail(f"is required: one of {', '.join(LAYERS)}")
    layer = layer_node.choice(LAYERS)
    keys = _KEYS_BY_LAYER[layer]
    f = {k.split(":", 1)[1]: v for k, v in root.fields(optional=[f"{NAMESPACE}:{k}" for k in keys]).items()}
    for key, node in f.items():
        if key == "protect" or key in _SCALAR_KEYS:
            continue
        node.value = _parse_json(node)

    protect = _boolean(f["protect"], default=False)
    common = _common(f, stack, file, protect)
    # Each layer reads only its own keys (`fields` refused the others) into that layer's own type.
    if layer == "global":
        glob = GlobalSettings(_environment(f["environment"], stack), _regions(f["regions"]))
        return GlobalStackSettings(glob=glob, **common)
    if layer == "region":
        region = _region(f, stack, raw, protect)
        link = _link(f["link"], stack, region.region) if f["link"].present else None
        return RegionStackSettings(region=region, global_stack=_global_stack(f, stack), link=link, **common)
    environment = _environment(f["environment"], stack)
    region = _region(f, stack, raw, protect)
    glob = GlobalSettings(environment, (region.region,))
    return AllInOneStackSettings(glob=glob, region=region, **common)


def _check_namespaces(raw: Mapping[str, Any], file: str) -> None:
    """A misspelt namespace (`cdc-platfrom:protect`) would be silently ignored: refuse it."""
    for key in raw:
        namespace = key.split(":", 1)[0] if ":" in key else ""
        if namespace not in KNOWN_NAMESPACES:
            close = difflib.get_close_matches(namespace, KNOWN_NAMESPACES, n=1)
            hint = f"; did you mean {close[0]}:?" if close else ""
            Node(None, file, key).fail(
                f"unknown config namespace {namespace!r} (allowed: {', '.join(KNOWN_NAMESPACES)}){hint}"
            )


def _common(f: dict[str, Node], stack: str, file: str, protect: bool) -> dict[str, Any]:
    return {
        "stack": stack,
        "file": file,
        "protect": protect,
        "routes_file": _routes_file(f["routesFile"]),
    }


def _routes_file(node: Node) -> str:
    """A path inside the project directory (where Pulumi runs the program): never `..` out of it."""
    if not node.present:
        return DEFAULT_ROUTES_FILE
    path = node.string()
    try:
        structured = json.loads(path)
    except ValueError:
        structured = path
    if not isinstance(structured, str):
        node.fail("must be a file path (a string), not a structured value")
    project = Path.cwd().resolve()
    if Path(path).is_absolute() or not (project / path).resolve().is_relative_to(project):
        node.fail(f"{path!r} must be a path inside the project directory")
    return path


def _regions(node: Node) -> tuple[str, ...]:
    if not node.present:
        node.fail("is required: the regions whose stacks use this global layer")
    regions = tuple(r.string(AWS_REGION, "an AWS region such as us-east-1") for r in node.items(min_items=1))
    if len(set(regions)) != len(regions):
        node.fail("lists a region twice")
    return regions


def _global_stack(f: dict[str, Node], stack: str) -> str:
    node = f["globalStack"]
    if not node.present:
        node.fail("is required for a region stack: the global stack, e.g. acme/cdc-platform/prod")
    global_stack = node.string(STACK_REFERENCE, "org/project/stack")
    if global_stack.rsplit("/", 1)[-1] == stack:
        node.fail("a region stack cannot reference itself as its global stack")
    return global_stack


def _link(node: Node, stack: str, region: str) -> LinkSettings:
    f = node.fields(required=["peerStack", "peerRegion"], optional=["mirrorStatus"])
    peer_stack = f["peerStack"].string(STACK_REFERENCE, "org/project/stack of the peer region stack")
    if peer_stack.rsplit("/", 1)[-1] == stack:
        f["peerStack"].fail("a region stack cannot link to itself: name the other region's stack")
    peer_region = f["peerRegion"].string(AWS_REGION, "an AWS region such as us-west-2")
    if peer_region == region:
        f["peerRegion"].fail(f"is this stack's own region {region}: the peer must be another region")
    status = f["mirrorStatus"].choice(MIRROR_STATUSES, default="ACTIVE")
    return LinkSettings(peer_stack, peer_region, status)


def mirror_transition_problem(previous: str | None, status: str) -> str | None:
    """Why the mirrors cannot move from the last deployed status to `status` (None: they can)."""
    if previous is None or status in MIRROR_TRANSITIONS.get(previous, {status}):
        return None
    return (
        f"mirror topics are {previous}, which cannot become {status} (Confluent allows ACTIVE <-> PAUSED, "
        "then PROMOTED or FAILED_OVER once, for good)"
    )


def _parse_json(node: Node) -> Any:
    """Pulumi hands structured config to programs as JSON strings."""
    if isinstance(node.value, str):
        try:
            return json.loads(node.value)
        except ValueError:
            node.fail("must be a structured value (a YAML mapping or list)")
    return node.value


def _boolean(node: Node, default: bool) -> bool:
    if isinstance(node.value, str) and node.value in ("true", "false"):
        return node.value == "true"
    return node.boolean(default=default)


def _environment(node: Node, stack: str) -> EnvironmentSettings:
    f = node.fields(optional=["name", "streamGovernance"])
    return EnvironmentSettings(
        # Default derives from the stack so `pr-N` stacks copied from dev never collide.
        name=f["name"].string(ENVIRONMENT_NAME, "lowercase [a-z0-9-], <= 32 chars")
        if f["name"].present
        else _default_environment_name(f["name"], stack),
        stream_governance=f["streamGovernance"].choice(STREAM_GOVERNANCE_PACKAGES, default="ESSENTIALS"),
    )


def _default_environment_name(node: Node, stack: str) -> str:
    name = f"cdc-{stack}"
    if not re.fullmatch(ENVIRONMENT_NAME, name):
        node.fail(
            f"the default {name!r} (from the stack name) is not valid: set a lowercase [a-z0-9-] name, <= 32 chars"
        )
    return name


def _require_secrets(region: RegionSettings, raw: Mapping[str, Any], file: str) -> None:
    needed = [CDC_PASSWORD_KEY] if region.cdc.enabled else []
    if region.cdc.enabled and region.cdc.sslmode.startswith("verify-"):
        needed.append(CDC_ROOT_CERT_KEY)
    if region.aurora and region.aurora.proxy:
        needed.append(APP_PASSWORD_KEY)
    for key in needed:
        if key not in raw:
            Node(None, file, key).fail(f"is required: set it with `pulumi config set --secret {key}`")


def _region(f: dict[str, Node], stack: str, raw: Mapping[str, Any], protect: bool) -> RegionSettings:
    if not f["region"].present:
        f["region"].fail("is required: the AWS region of this stack, e.g. us-east-1")
    region = f["region"].string(AWS_REGION, "an AWS region such as us-east-1")
    topics = f["topics"].fields(optional=["raw", "routed"])
    raw_topic = topics["raw"].fields(optional=["name", "partitions", "retentionMs"])
    aurora = _aurora(f["aurora"], protect) if f["aurora"].present else None
    flink = f["flink"].fields(optional=["maxCfu", "deployerKeyGeneration"])
    settings = RegionSettings(
        region=region,
        kafka=_kafka(f["kafka"]),
        private_link=_private_link(f["network"], region, protect),
        raw_topic=raw_topic["name"].string(KAFKA_TOPIC, "a Kafka topic name", default=RAW_TOPIC),
        raw_topic_settings=_topic(raw_topic),
        routed_topic_settings=_topic(topics["routed"].fields(optional=["partitions", "retentionMs"])),
        flink_max_cfu=flink["maxCfu"].choice(MAX_CFU_VALUES, default=5),
        flink_key_generation=flink["deployerKeyGeneration"].integer(minimum=1, default=1),
        cdc=_cdc(f["cdc"], stack, has_aurora=aurora is not None, protect=protect),
        aurora=aurora,
        monitoring=_monitoring(f["monitoring"]),
    )
    _require_secrets(settings, raw, f["region"].file)
    return settings


def _cdc(node: Node, stack: str, has_aurora: bool, protect: bool) -> CdcSettings:
    f = node.fields(
        optional=[
            "enabled",
            "valueFormat",
            "database",
            "slotName",
            "publicationName",
            "topicPrefix",
            "snapshotMode",
            "heartbeatIntervalMs",
        ]
    )
    db = f["database"].fields(optional=["hostname", "port", "name", "user", "sslmode", "schema", "table"])
    enabled = f["enabled"].boolean(default=False)
    hostname = db["hostname"].string(r"[A-Za-z0-9.-]+", "a DNS name", default=None)
    if enabled and has_aurora and hostname:
        db["hostname"].fail("the connector reads the Aurora writer endpoint: leave hostname out when aurora is set")
    if enabled and not has_aurora and not hostname:
        db["hostname"].fail("is required when cdc is enabled without an aurora cluster")
    sslmode = db["sslmode"].choice(SSL_MODES, default="require")
    if protect and enabled and sslmode != "verify-full":
        # Encrypted but unverified (require) or unbound to the host name (verify-ca) lets a man in the
        # middle read the change stream: a protected stack verifies the server fully.
        db["sslmode"].fail(f"must be verify-full in a protected stack (with {CDC_ROOT_CERT_KEY}), not {sslmode}")
    port = db["port"].integer(minimum=1, default=5432)
    if port > 65535:
        db["port"].fail(f"must be <= 65535, got {port}")
    return CdcSettings(
        enabled=enabled,
        value_format=f["valueFormat"].choice(CDC_VALUE_FORMATS, default="JSON_SR"),
        hostname=hostname,
        port=port,
        database=db["name"].string(PG_NAME, "a PostgreSQL identifier", default="events"),
        user=db["user"].string(PG_NAME, "a PostgreSQL role name", default="cdc_replicator"),
        sslmode=sslmode,
        schema=db["schema"].string(PG_NAME, "a PostgreSQL schema", default="public"),
        table=db["table"].string(PG_NAME, "a PostgreSQL table", default=SOURCE_TABLE),
        # One slot per stack: pr-N stacks copied from dev must not share dev's slot.
        slot_name=f["slotName"].string(PG_NAME, "lowercase [a-z0-9_], <= 63 chars", default=replication_slot(stack)),
        publication_name=f["publicationName"].string(PG_NAME, "a PostgreSQL identifier", default="business_events_pub"),
        topic_prefix=f["topicPrefix"].string(r"[A-Za-z0-9_.-]{1,64}", "[A-Za-z0-9_.-]", default="cdc"),
        snapshot_mode=f["snapshotMode"].choice(SNAPSHOT_MODES, default="initial"),
        heartbeat_interval_ms=_heartbeat_interval(f["heartbeatIntervalMs"]),
    )


def _cidr(node: Node, protect: bool) -> str:
    """An IPv4 network (10.0.0.0/16); a protected stack never opens to everyone (/0)."""
    text = node.string()
    try:
        network = ipaddress.IPv4Network(text, strict=True)
    except ValueError as error:
        node.fail(f"{text!r} is not an IPv4 CIDR such as 10.0.0.0/16 ({error})")
    if "/" not in text:  # ipaddress reads a bare address as /32; AWS wants the prefix written
        node.fail(f"{text!r} has no prefix length: write an IPv4 CIDR such as 10.0.0.0/16")
    if protect and network.prefixlen == 0:
        node.fail(f"{text} is open to every address: a protected stack names its networks")
    return text


def _aurora(node: Node, protect: bool) -> AuroraSettings:
    f = node.fields(
        required=["clusterIdentifier"], optional=["parameterGroupFamily", "proxy", "idleStop", *SOURCE_HEALTH_KEYS]
    )
    proxy = None
    if f["proxy"].present:
        p = f["proxy"].fields(
            required=["vpcId", "subnetIds", "clientCidrs"],
            optional=["appUser", "maxConnectionsPercent", "maxIdleConnectionsPercent", "connectionBorrowTimeout"],
        )
        subnets = tuple(s.string(SUBNET_ID, "an AWS subnet id") for s in p["subnetIds"].items(min_items=2))
        max_connections = _percent(p["maxConnectionsPercent"], 80)
        max_idle = _percent(p["maxIdleConnectionsPercent"], 50)
        if max_idle > max_connections:
            p["maxIdleConnectionsPercent"].fail(f"must be <= maxConnectionsPercent ({max_connections})")
        borrow = p["connectionBorrowTimeout"].integer(minimum=1, default=120)
        if borrow > 3600:
            p["connectionBorrowTimeout"].fail(f"must be <= 3600 seconds, got {borrow}")
        proxy = ProxySettings(
            vpc_id=p["vpcId"].string(VPC_ID, "an AWS VPC id"),
            subnet_ids=subnets,
            client_cidrs=tuple(_cidr(c, protect) for c in p["clientCidrs"].items(min_items=1)),
            app_user=p["appUser"].string(PG_NAME, "a PostgreSQL role name", default="app_writer"),
            max_connections_percent=max_connections,
            max_idle_connections_percent=max_idle,
            connection_borrow_timeout=borrow,
        )
    return AuroraSettings(
        cluster_identifier=f["clusterIdentifier"].string(r"[a-z][a-z0-9-]{0,62}", "an RDS cluster identifier"),
        parameter_group_family=f["parameterGroupFamily"].string(
            r"aurora-postgresql\d+", "e.g. aurora-postgresql15", default="aurora-postgresql15"
        ),
        proxy=proxy,
        idle_stop=_idle_stop(f["idleStop"], protect),
        source_health=_source_health(f, protect, has_proxy=proxy is not None),
    )


def _idle_stop(node: Node, protect: bool) -> IdleStopSettings | None:
    """`aurora.idleStop`: absent or `enabled: false` = the cluster is never stopped by the program."""
    if not node.present:
        return None
    f = node.fields(optional=["enabled", "inactivityHours", "connectorConnections"])
    if not f["enabled"].boolean(default=True):
        return None
    if protect:
        node.fail("is refused in a protected stack: stopping the database would stop production CDC")
    defaults = IdleStopSettings()
    hours = f["inactivityHours"].integer(minimum=1, default=defaults.inactivity_hours)
    if hours > 168:
        f["inactivityHours"].fail(f"must be <= 168 hours (a week), got {hours}")
    connections = f["connectorConnections"].integer(minimum=0, default=defaults.connector_connections)
    if connections is not None and connections > 100:
        f["connectorConnections"].fail(f"must be <= 100 (the connections one CDC connector holds), got {connections}")
    return IdleStopSettings(inactivity_hours=hours, connector_connections=connections)


def _monitoring(node: Node) -> Thresholds:
    """Alert thresholds; every default is documented in README "Monitoring" (and in Thresholds)."""
    f = node.fields(optional=[*_MONITORING_MINUTES, *_MONITORING_PERCENT, *_MONITORING_COUNTS, "apiSecretFile"])
    values: dict[str, Any] = {}
    defaults = Thresholds()
    for key, (attribute, minimum) in _MONITORING_MINUTES.items():
        minutes = f[key].integer(minimum=minimum, default=getattr(defaults, attribute))
        if minutes > 1440:
            f[key].fail(f"must be <= 1440 minutes (a day), got {minutes}")
        values[attribute] = minutes
    for key, attribute in _MONITORING_PERCENT.items():
        values[attribute] = _percent(f[key], getattr(defaults, attribute))
    for key, attribute in _MONITORING_COUNTS.items():
        values[attribute] = f[key].integer(minimum=1, default=getattr(defaults, attribute))
    # Prometheus reads the key's secret from this file; the path goes into the scrape config as written.
    values["api_secret_file"] = f["apiSecretFile"].string(
        r"/[A-Za-z0-9._/-]+", "an absolute path of [A-Za-z0-9._/-]", default=None
    )
    return Thresholds(**values)


# Config key -> (Thresholds attribute, smallest value). A stall window under 5 minutes would judge a
# handful of per-minute points that arrive ~3 minutes late.
_MONITORING_MINUTES = {
    "flinkPendingMinutes": ("flink_pending_minutes", 1),
    "consumerLagMinutes": ("consumer_lag_minutes", 1),
    "missingGroupMinutes": ("missing_group_minutes", 1),
    "mirrorLagMinutes": ("mirror_lag_minutes", 1),
    "cdcStallMinutes": ("cdc_stall_minutes", 5),
}
_MONITORING_PERCENT = {"clusterLoadPercent": "cluster_load_percent", "flinkCfuPercent": "flink_cfu_percent"}
_MONITORING_COUNTS = {
    "consumerLagRecords": "consumer_lag_records",
    "mirrorLagRecords": "mirror_lag_records",
    "cdcStallExpectedRecords": "cdc_stall_expected_records",
}


def _percent(node: Node, default: int) -> int:
    value = node.integer(minimum=1, default=default)
    if value > 100:
        node.fail(f"must be <= 100, got {value}")
    return value


# --- Source health (issue 20): the heartbeat, the slot's WAL ceiling and the database's alarms -------
# `cdc.heartbeatIntervalMs`; `aurora.maxSlotWalKeepSizeMb`, `aurora.alarms`. Defaults in README
# "Configuration" and "Source health".

HEARTBEAT_INTERVAL_MS = 60_000
# max_slot_wal_keep_size per layer: an unprotected stack (dev, pr-N: a shared, cheap database) gives a
# stalled slot up sooner; a protected one (prod) keeps at least as much, since losing its slot means a
# re-snapshot for every consumer.
SLOT_WAL_CEILING_MB = {False: 20_480, True: 102_400}
SOURCE_HEALTH_KEYS = ("maxSlotWalKeepSizeMb", "alarms")
ALARM_PROTOCOLS = ("email", "email-json", "https", "sqs", "lambda")


@dataclass(frozen=True)
class AlarmSubscriber:
    protocol: str
    endpoint: str


@dataclass(frozen=True)
class SourceHealthSettings:
    """The slot's WAL ceiling (`max_slot_wal_keep_size`) and what the writer's alarms watch."""

    max_slot_wal_keep_size_mb: int = SLOT_WAL_CEILING_MB[False]
    slot_warning_percent: int = SLOT_WARNING_PERCENT  # of the ceiling: the alarms' and `slots status`'s line
    proxy_saturation_percent: int = 90  # connections borrowed / the proxy's maximum
    proxy_borrow_latency_ms: int = 100
    subscribers: tuple[AlarmSubscriber, ...] = ()

    @property
    def slot_warning_bytes(self) -> int:
        return self.max_slot_wal_keep_size_mb * 2**20 * self.slot_warning_percent // 100


def _heartbeat_interval(node: Node) -> int:
    """0 turns the heartbeat off; otherwise between a second and an hour."""
    interval = node.integer(minimum=0, default=HEARTBEAT_INTERVAL_MS)
    if 0 < interval < 1000 or interval > 3_600_000:
        node.fail(f"must be 0 (off) or 1000..3600000 milliseconds, got {interval}")
    return interval


def _source_health(f: dict[str, Node], protect: bool, has_proxy: bool) -> SourceHealthSettings:
    default = SLOT_WAL_CEILING_MB[protect]
    ceiling = f["maxSlotWalKeepSizeMb"].integer(minimum=1024, default=default)
    if protect and ceiling < SLOT_WAL_CEILING_MB[False]:
        f["maxSlotWalKeepSizeMb"].fail(
            f"must be >= {SLOT_WAL_CEILING_MB[False]} in a protected stack (at least what dev keeps), got {ceiling}"
        )
    if ceiling > 2_147_483_647:
        f["maxSlotWalKeepSizeMb"].fail(f"must be <= 2147483647 (PostgreSQL's limit), got {ceiling}")
    a = f["alarms"].fields(
        optional=["slotWarningPercent", "proxySaturationPercent", "proxyBorrowLatencyMs", "subscribers"]
    )
    defaults = SourceHealthSettings()
    for key in ("proxySaturationPercent", "proxyBorrowLatencyMs"):
        if a[key].present and not has_proxy:
            a[key].fail("applies only with aurora.proxy")
    latency = a["proxyBorrowLatencyMs"].integer(minimum=1, default=defaults.proxy_borrow_latency_ms)
    if latency > 3_600_000:
        # A borrow waits at most connectionBorrowTimeout, itself <= 3600 s.
        a["proxyBorrowLatencyMs"].fail(f"must be <= 3600000 (the longest borrow timeout), got {latency}")
    subscribers = []
    for item in a["subscribers"].items() if a["subscribers"].present else []:
        s = item.fields(required=["protocol", "endpoint"])
        protocol = s["protocol"].choice(ALARM_PROTOCOLS)
        endpoint = s["endpoint"].string(
            {"email": r"[^@\s]+@[^@\s]+", "email-json": r"[^@\s]+@[^@\s]+", "https": r"https://\S+"}.get(
                protocol, r"arn:aws[a-z-]*:(sqs|lambda):\S+"
            ),
            f"an endpoint for protocol {protocol}",
        )
        subscribers.append(AlarmSubscriber(protocol, endpoint))
    return SourceHealthSettings(
        max_slot_wal_keep_size_mb=ceiling,
        slot_warning_percent=_percent(a["slotWarningPercent"], defaults.slot_warning_percent),
        proxy_saturation_percent=_percent(a["proxySaturationPercent"], defaults.proxy_saturation_percent),
        proxy_borrow_latency_ms=latency,
        subscribers=tuple(subscribers),
    )


# --- end of source health --------------------------------------------------------------------------------


def _kafka(node: Node) -> KafkaSettings:
    if not node.present:
        node.fail("is required: {type, availability, cku}")
    f = node.fields(required=["type"], optional=["availability", "cku"])
    if f["type"].value == "BASIC":
        # cluster-types.html: "RBAC roles for resources within the Kafka cluster (DeveloperRead,
        # DeveloperWrite, ...) are not available on Basic clusters"; every workload grant here is one.
        f["type"].fail("BASIC clusters have no topic-level RBAC, which every workload grant uses: use STANDARD")
    cluster_type = f["type"].choice(CLUSTER_TYPES)
    availability = f["availability"].choice(AVAILABILITIES, default="SINGLE_ZONE")
    cku = None
    if cluster_type == "DEDICATED":
        minimum = 2 if availability == "MULTI_ZONE" else 1
        cku = f["cku"].integer(default=minimum)
        if cku < minimum:
            f["cku"].fail(f"must be >= {minimum} for a {availability} dedicated cluster, got {cku}")
    elif f["cku"].present:
        f["cku"].fail(f"applies to DEDICATED clusters only, not {cluster_type}")
    return KafkaSettings(type=cluster_type, availability=availability, cku=cku)


def az_id_prefix(region: str) -> str:
    """The prefix of a region's availability-zone ids: us-east-1 -> use1, ap-southeast-2 -> apse2,
    us-gov-west-1 -> usgw1 (AWS's AZ-id scheme)."""
    *words, number = region.split("-")
    country, rest = words[0], words[1:]
    initials = "".join("g" if w == "gov" else "".join(d[0] for d in _DIRECTIONS.findall(w)) for w in rest)
    return f"{country}{initials}{number}"


_DIRECTIONS = re.compile(r"north|south|east|west|central")


def _private_link(node: Node, region: str, protect: bool) -> PrivateLinkSettings | None:
    """None for public endpoints (no `network`, or type PUBLIC)."""
    if not node.present:
        return None
    f = node.fields(required=["type"], optional=["awsAccountId", "vpcId", "vpcCidr", "zones", "egressPrincipalArn"])
    network_type = f["type"].choice(NETWORK_TYPES)
    if network_type == "PUBLIC":
        for key in ("awsAccountId", "vpcId", "vpcCidr", "zones", "egressPrincipalArn"):
            if f[key].present:
                f[key].fail("applies to PRIVATELINK networks only")
        return None
    for key in ("awsAccountId", "vpcId", "vpcCidr", "zones"):
        if not f[key].present:
            f[key].fail("is required for a PRIVATELINK network")
    zones = []
    prefix = az_id_prefix(region)
    for zone_node in f["zones"].items(min_items=1):
        z = zone_node.fields(required=["azId", "subnetId"])
        az_id = z["azId"].string(rf"{prefix}-az\d+", f"an availability-zone id of {region} ({prefix}-az1, ...)")
        zones.append(Zone(az_id=az_id, subnet_id=z["subnetId"].string(SUBNET_ID, "an AWS subnet id")))
    if len({z.az_id for z in zones}) != len(zones):
        f["zones"].fail("lists an availability zone twice")
    if len({z.subnet_id for z in zones}) != len(zones):
        f["zones"].fail("lists a subnet twice: one subnet per zone")
    return PrivateLinkSettings(
        aws_account_id=f["awsAccountId"].string(r"\d{12}", "a 12-digit AWS account id (quote it in YAML)"),
        vpc_id=f["vpcId"].string(VPC_ID, "an AWS VPC id"),
        vpc_cidr=_cidr(f["vpcCidr"], protect),
        zones=tuple(zones),
        egress_principal_arn=f["egressPrincipalArn"].string(
            r"arn:aws:iam::\d{12}:(role|user)/[\w+=,.@/-]+", "an IAM role or user ARN", default=None
        ),
    )


def _topic(f: dict[str, Node]) -> TopicSettings:
    """Partitions and retention of a topic's settings (absent keys: 6 partitions, 7 days)."""
    retention = f["retentionMs"].integer(default=7 * 24 * 3600 * 1000)
    if retention < -1 or retention == 0:
        f["retentionMs"].fail(f"must be a positive number of milliseconds, or -1 to keep forever; got {retention}")
    partitions = f["partitions"].integer(minimum=1, default=6)
    if partitions > MAX_PARTITIONS_PER_TOPIC:
        f["partitions"].fail(f"must be <= {MAX_PARTITIONS_PER_TOPIC} (Kafka's int32)")
    return TopicSettings(partitions=partitions, retention_ms=retention)


def read_secret(key: str) -> pulumi.Output[str]:
    """One of PROGRAM_SECRET_KEYS as a Pulumi secret output (parse_settings checked it is set, as a secret)."""
    import pulumi

    namespace, name = key.split(":", 1)
    return pulumi.Config(namespace).require_secret(name)


def load_settings() -> Settings:
    """Read and validate the running stack's config (real engine or mock runtime)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = frozenset(runtime_config.get_config_secret_keys_env()) | frozenset(runtime_config._SECRET_KEYS.get())
    return parse_settings(raw, pulumi.get_stack(), secret_keys)


__all__ = ["ConfigError", "Settings", "load_settings", "parse_settings", "read_secret", "region_settings"]
