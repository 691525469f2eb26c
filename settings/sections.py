"""The region layer's sections (`kafka`, `network`, `topics`, `flink`, `cdc`, `aurora`, `monitoring`),
one parser each, assembled into a RegionSettings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.cdc_source import CdcSettings
from core.config_node import Node
from core.limits import MAX_CFU_VALUES, MAX_PARTITIONS_PER_TOPIC
from core.naming import KAFKA_TOPIC, replication_slot
from core.raw_record import RAW_TOPIC, SOURCE_TABLE
from monitoring.targets import Thresholds
from settings.aws import AWS_REGION, SUBNET_ID, VPC_ID, az_id_prefix, cidr
from settings.credentials import parse_credentials
from settings.model import (
    APP_PASSWORD_KEY,
    CDC_PASSWORD_KEY,
    CDC_ROOT_CERT_KEY,
    SLOT_WAL_CEILING_MB,
    AlarmSubscriber,
    AuroraSettings,
    IdleStopSettings,
    KafkaSettings,
    PrivateLinkSettings,
    ProxySettings,
    RegionSettings,
    SourceHealthSettings,
    TopicSettings,
    Zone,
)

CLUSTER_TYPES = ("STANDARD", "DEDICATED")
AVAILABILITIES = ("SINGLE_ZONE", "MULTI_ZONE")
NETWORK_TYPES = ("PUBLIC", "PRIVATELINK")
# Flink reads only Schema Registry formats: plain JSON is what broke the seeds (json-sr-investigation).
CDC_VALUE_FORMATS = ("JSON_SR", "AVRO", "PROTOBUF")
SSL_MODES = ("require", "verify-ca", "verify-full")
SNAPSHOT_MODES = ("initial", "no_data", "when_needed")
PG_NAME = r"[a-z_][a-z0-9_]{0,62}"


def parse_region(f: dict[str, Node], stack: str, raw: Mapping[str, Any], protect: bool) -> RegionSettings:
    """The region keys of a region or all-in-one stack (`f`: its top-level keys, JSON already parsed)."""
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
        credentials=parse_credentials(f["credentials"], region),
    )
    _require_secrets(settings, raw, f["region"].file)
    _require_egress_principal(settings, f["network"], protect)
    return settings


def _require_egress_principal(region: RegionSettings, network: Node, protect: bool) -> None:
    """A protected stack names Confluent's egress principal before its first `up`: without it the program
    asks the network's gateway, whose answer is unconfirmed for a Confluent network's own gateway, and a
    failed first `up` leaves protected, half-built networking behind."""
    egress = region.private_link is not None and region.aurora is not None and region.cdc.enabled
    if protect and egress and region.private_link is not None and region.private_link.egress_principal_arn is None:
        Node(None, network.file, f"{network.path}.egressPrincipalArn").fail(
            "is required in a protected stack before its first `pulumi up`: Confluent's IAM principal for egress "
            "PrivateLink, from the Confluent Console (the network's egress endpoints)"
        )


def _require_secrets(region: RegionSettings, raw: Mapping[str, Any], file: str) -> None:
    needed = [CDC_PASSWORD_KEY] if region.cdc.enabled else []
    if region.cdc.enabled and region.cdc.sslmode.startswith("verify-"):
        needed.append(CDC_ROOT_CERT_KEY)
    if region.aurora and region.aurora.proxy:
        needed.append(APP_PASSWORD_KEY)
    for key in needed:
        if key not in raw:
            Node(None, file, key).fail(f"is required: set it with `pulumi config set --secret {key}`")


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
            client_cidrs=tuple(cidr(c, protect) for c in p["clientCidrs"].items(min_items=1)),
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
SOURCE_HEALTH_KEYS = ("maxSlotWalKeepSizeMb", "alarms")
ALARM_PROTOCOLS = ("email", "email-json", "https", "sqs", "lambda")


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
        vpc_cidr=cidr(f["vpcCidr"], protect),
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
