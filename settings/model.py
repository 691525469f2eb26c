"""The settings model: one typed settings object per layer, and the config keys the program reads.

Pure Python (no Pulumi): the program, cdcctl and the flink_sql statement builder import it alike.
`settings.parse` builds it from a stack's config; `settings.pulumi_config` reads that config in a
running program.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.cdc_source import CdcSettings
from core.config_node import ConfigError
from core.limits import SLOT_WARNING_PERCENT
from core.raw_record import RAW_TOPIC
from monitoring.targets import Thresholds

NAMESPACE = "cdc-platform"
# Provider credentials the user sets with `pulumi config set --secret`; never in a stack file.
PROVIDER_SECRET_KEYS = ("confluentcloud:cloudApiKey", "confluentcloud:cloudApiSecret", "vault:token")
# The program's own secrets (database passwords), likewise set with --secret, read as Pulumi secrets.
CDC_PASSWORD_KEY = f"{NAMESPACE}:cdcDatabasePassword"
APP_PASSWORD_KEY = f"{NAMESPACE}:appDatabasePassword"
# The CA bundle (PEM) the connector verifies the database's certificate against (sslmode verify-*):
# `pulumi config set --secret cdc-platform:cdcDatabaseRootCert < global-bundle.pem`. The connector
# takes it as `database.sslrootcert`, a secret-typed setting.
CDC_ROOT_CERT_KEY = f"{NAMESPACE}:cdcDatabaseRootCert"
PROGRAM_SECRET_KEYS = (CDC_PASSWORD_KEY, APP_PASSWORD_KEY, CDC_ROOT_CERT_KEY)
LAYER_KEY = f"{NAMESPACE}:layer"
# org/project/stack, as a StackReference names a stack.
STACK_REFERENCE = r"([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+"


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


# max_slot_wal_keep_size per layer: an unprotected stack (dev, pr-N: a shared, cheap database) gives a
# stalled slot up sooner; a protected one (prod) keeps at least as much, since losing its slot means a
# re-snapshot for every consumer.
SLOT_WAL_CEILING_MB = {False: 20_480, True: 102_400}


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


@dataclass(frozen=True)
class AuroraSettings:
    """An existing Aurora PostgreSQL cluster, referenced by identifier."""

    cluster_identifier: str
    parameter_group_family: str
    proxy: ProxySettings | None
    idle_stop: IdleStopSettings | None = None  # dev, pr-N only: refused in a protected stack
    source_health: SourceHealthSettings = field(default_factory=SourceHealthSettings)


@dataclass(frozen=True)
class VaultSettings:
    """Also write each consumer's keys to HashiCorp Vault KV v2 (as the seeds keep keys)."""

    mount: str  # the KV v2 engine's mount path
    aws_auth_mount: str = "aws"  # the AWS auth method whose roles admit the consumers' IAM roles


@dataclass(frozen=True)
class ConsumerDelivery:
    """Where one consumer's keys go and who may read them (README "Credentials")."""

    readers: tuple[str, ...] = ()  # IAM role ARNs; none (unprotected stacks only): the account's IAM decides
    key_generation: int = 1  # bump to rotate its Kafka and Schema Registry keys


@dataclass(frozen=True)
class CredentialSettings:
    """Delivery of the consumers' keys, and the key generations of the region's other principals."""

    consumers: dict[str, ConsumerDelivery] = field(default_factory=dict)
    kms_key_id: str | None = None  # None: Secrets Manager's AWS managed key (aws/secretsmanager)
    vault: VaultSettings | None = None
    link_key_generation: int = 1  # the key the peer's half of the cluster link presents here
    metrics_key_generation: int = 1  # Prometheus' Metrics API key

    def consumer(self, name: str) -> ConsumerDelivery:
        return self.consumers.get(name, ConsumerDelivery())


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
    credentials: CredentialSettings = field(default_factory=CredentialSettings)


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

    @property
    def raw_topic(self) -> str:
        """The raw topic whose value subject this layer owns: a global stack names none, so its region
        stacks keep the default (settings.parse refuses a rename there)."""
        return RAW_TOPIC


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

    @property
    def raw_topic(self) -> str:
        return self.region.raw_topic


@dataclass(frozen=True)
class AllInOneStackSettings(StackSettings):
    """One stack holding both layers (`dev`, `pr-N`)."""

    glob: GlobalSettings
    region: RegionSettings

    @property
    def regions(self) -> tuple[str, ...]:
        return self.glob.regions

    @property
    def raw_topic(self) -> str:
        """The one raw topic both layers use: the connector and Flink's, whose subject the global layer
        owns."""
        return self.region.raw_topic


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
