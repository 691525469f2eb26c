"""`cdcctl consumer NAME --stack S [--outputs FILE] [--json]`: a ready client configuration for a route
consumer, in librdkafka and Java properties forms: the cluster's bootstrap endpoint, the registry's
endpoint, the topics its grants let it read (and, with two regions, their mirrors in the peer region),
the group-id prefix it may use, and which secret holds its keys and how the app (or External Secrets
on EKS) reads it.

Values come from the stack's exports: its offline plan's by default (placeholder ids and endpoints),
or the deployed ones with `--outputs` (`pulumi stack output --json --stack S > FILE`, `-` for stdin).
Those must be stack S's own, and every value printed is checked first (the bootstrap and registry
endpoints are Confluent Cloud hosts of the stack's region, topic and group names are names): a crafted
outputs file cannot smuggle a setting (a newline, an `http://` registry) into the printed configuration."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from cdcctl.confluent_api import https_endpoint, kafka_bootstrap
from cdcctl.stack_config import stack_settings
from cdcctl.stack_outputs import belonging_to, recorded_outputs
from core import naming
from core.config_node import ConfigError, Node
from core.region_exports import CONSUMER_EXPORT, CONSUMER_SECRET, DELIVERED, REGION_EXPORTS
from flink_sql.routes import consumers, load_routes
from monitoring.targets import SAFE_NAME
from settings.model import GlobalStackSettings, RegionStackSettings, Settings, region_settings

CREDENTIAL_KEYS = tuple(DELIVERED.to_export())
# The Confluent deserializer of each CDC value format (the routed topics keep the raw record's format).
VALUE_DESERIALIZERS = {
    "JSON_SR": "io.confluent.kafka.serializers.json.KafkaJsonSchemaDeserializer",
    "AVRO": "io.confluent.kafka.serializers.KafkaAvroDeserializer",
    "PROTOBUF": "io.confluent.kafka.serializers.protobuf.KafkaProtobufDeserializer",
}


@dataclass(frozen=True)
class ConsumerConfig:
    """Everything a consumer app of one stack configures, its secrets aside."""

    consumer: str
    stack: str
    region: str
    source: str  # where the endpoints come from
    bootstrap_servers: str  # host:port
    schema_registry_url: str
    topics: tuple[str, ...]
    group_prefix: str
    mirrors: dict[str, tuple[str, ...]]  # peer region -> the topics' mirror names there
    peer_mirrors: tuple[str, ...]  # the peer's same topics mirrored HERE (readable; offsets synced)
    value_format: str
    private_vpc: str | None  # PRIVATELINK: the VPC the endpoints resolve in
    secret_name: str  # its Secrets Manager secret in `region` (and its path under the Vault mount)
    vault_path: str | None  # `<mount>/<name>` in Vault KV v2, when the stack writes one
    mock_endpoints: bool = False  # from the offline plan: made-up hosts, not the deployed cluster's

    @property
    def group_id(self) -> str:
        """Homed in the stack's region: the link syncs its offsets to the peer, never onto it here
        (infra.cluster_link.link_config); keep it when the consumer moves region."""
        return f"{naming.consumer_home_groups(self.group_prefix, self.region)}group"

    @property
    def secrets_command(self) -> str:
        """How one of the secret's readers (the roles its settings name) reads the keys."""
        return (
            f"aws secretsmanager get-secret-value --region {self.region} --secret-id {self.secret_name} "
            "--query SecretString --output text"
        )

    @property
    def vault_command(self) -> str | None:
        if self.vault_path is None:
            return None
        mount, name = self.vault_path.split("/" + self.secret_name)[0], self.secret_name
        return (
            f"vault login -method=aws role={name.replace('/', '-')} && vault kv get -mount={mount} -format=json {name}"
        )

    def external_secret(self) -> dict[str, Any]:
        """External Secrets Operator on EKS: one Kubernetes Secret from the consumer's secret (a
        SecretStore of provider `aws`, service `SecretsManager`, in this region, authenticated as a role
        the settings name for this consumer)."""
        return {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": {"name": f"{self.consumer}-kafka"},
            "spec": {
                "refreshInterval": "1h",
                "secretStoreRef": {"name": f"aws-secrets-manager-{self.region}", "kind": "SecretStore"},
                "target": {"name": f"{self.consumer}-kafka"},
                "dataFrom": [{"extract": {"key": self.secret_name}}],
            },
        }

    def librdkafka(self) -> dict[str, str]:
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": "SASL_SSL",
            "sasl.mechanisms": "PLAIN",
            "sasl.username": "<kafkaApiKey>",
            "sasl.password": "<kafkaApiSecret>",
            "group.id": self.group_id,
            "auto.offset.reset": "earliest",
        }

    def registry_client(self) -> dict[str, str]:
        """confluent-kafka's SchemaRegistryClient (its deserializers read the topics' schemas)."""
        return {
            "url": self.schema_registry_url,
            "basic.auth.user.info": "<schemaRegistryApiKey>:<schemaRegistryApiSecret>",
        }

    def java(self) -> dict[str, str]:
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "PLAIN",
            "sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required "
            'username="<kafkaApiKey>" password="<kafkaApiSecret>";',
            "client.dns.lookup": "use_all_dns_ips",
            "group.id": self.group_id,
            "auto.offset.reset": "earliest",
            # The routed key ({id}, the raw record's key) is JSON Schema: the global layer registers it.
            "key.deserializer": VALUE_DESERIALIZERS["JSON_SR"],
            "value.deserializer": VALUE_DESERIALIZERS[self.value_format],
            "schema.registry.url": self.schema_registry_url,
            "basic.auth.credentials.source": "USER_INFO",
            "basic.auth.user.info": "<schemaRegistryApiKey>:<schemaRegistryApiSecret>",
        }


def run(args: argparse.Namespace) -> int:
    config = consumer_config(args.name, args.stack, args.outputs)
    print(json.dumps(as_json(config), indent=2) if args.json else as_text(config))
    return 0


def consumer_config(name: str, stack: str, outputs_file: str | None = None) -> ConsumerConfig:
    """The consumer's configuration from the stack's exports; an unknown consumer fails naming it."""
    settings = stack_settings(stack)
    region = region_settings(settings)
    known = consumers(load_routes(settings.routes_file))
    if name not in known:
        raise ConfigError(
            settings.routes_file,
            "consumer",
            f"no enabled route of stack {stack} names consumer {name!r} (its consumers: {', '.join(known) or 'none'})",
        )
    if outputs_file is None:
        from cdcctl.plan import plan

        outputs, source = plan(stack).outputs, f"the offline plan of {stack} (placeholders until deployed)"
    else:
        outputs, source = recorded_outputs(outputs_file), f"{outputs_file} (deployed outputs)"
    file = "stdin" if outputs_file == "-" else outputs_file or f"plan of {stack}"
    belonging_to(outputs, stack, region.region, file)

    def export(*path: str) -> Node:
        value: Any = outputs
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        node = Node(value, file, ".".join(path))
        if not node.present:
            node.fail("missing: deployed before this program exported it? run `pulumi up` on the stack")
        return node

    keys = CONSUMER_EXPORT
    exported = export(REGION_EXPORTS.consumers, name).fields(
        required=[keys.topics, keys.group_prefix, keys.secret], optional=[keys.peer_mirrors]
    )
    secret = exported[keys.secret].fields(
        required=[CONSUMER_SECRET.aws_secret_name, CONSUMER_SECRET.aws_secret_arn, CONSUMER_SECRET.region],
        optional=[CONSUMER_SECRET.key_generation, CONSUMER_SECRET.vault_path],
    )
    topics = tuple(t.string(SAFE_NAME, "a topic name") for t in exported[keys.topics].items(min_items=1))
    peers = [r for r in _regions(settings) if r != region.region]
    return ConsumerConfig(
        consumer=name,
        stack=stack,
        region=region.region,
        source=source,
        bootstrap_servers=kafka_bootstrap(
            export(REGION_EXPORTS.bootstrap_endpoint).value, file, REGION_EXPORTS.bootstrap_endpoint, region.region
        ),
        schema_registry_url=https_endpoint(
            export(REGION_EXPORTS.schema_registry_endpoint).value,
            file,
            REGION_EXPORTS.schema_registry_endpoint,
            region.region,
        ),
        topics=topics,
        group_prefix=exported[keys.group_prefix].string(SAFE_NAME, "a consumer group prefix"),
        mirrors={peer: tuple(naming.mirror_topic(region.region, t) for t in topics) for peer in peers},
        peer_mirrors=tuple(t.string(SAFE_NAME, "a topic name") for t in exported[keys.peer_mirrors].items())
        if exported[keys.peer_mirrors].present
        else (),
        value_format=region.cdc.value_format,
        private_vpc=region.private_link.vpc_id if region.private_link else None,
        secret_name=secret[CONSUMER_SECRET.aws_secret_name].string(),
        vault_path=secret[CONSUMER_SECRET.vault_path].string() if secret[CONSUMER_SECRET.vault_path].present else None,
        mock_endpoints=outputs_file is None,
    )


def _regions(settings: Settings) -> tuple[str, ...]:
    """Every region of the stack's environment: a region stack's global stack lists them."""
    if isinstance(settings, RegionStackSettings):
        glob = stack_settings(settings.global_stack.rsplit("/", 1)[-1])
        return glob.regions if isinstance(glob, GlobalStackSettings) else settings.regions
    return settings.regions


def as_json(c: ConsumerConfig) -> dict[str, Any]:
    return {
        "consumer": c.consumer,
        "stack": c.stack,
        "region": c.region,
        "source": c.source,
        "bootstrapServers": c.bootstrap_servers,
        "schemaRegistryUrl": c.schema_registry_url,
        "mockEndpoints": c.mock_endpoints,
        "topics": list(c.topics),
        "mirrors": {region: list(names) for region, names in c.mirrors.items()},
        "peerMirrors": list(c.peer_mirrors),
        "groupPrefix": c.group_prefix,
        "secrets": {
            "awsSecret": c.secret_name,
            "region": c.region,
            "command": c.secrets_command,
            "vaultPath": c.vault_path,
            "vaultCommand": c.vault_command,
            "keys": list(CREDENTIAL_KEYS),
            "externalSecret": c.external_secret(),
        },
        "librdkafka": c.librdkafka(),
        "schemaRegistryClient": c.registry_client(),
        "java": c.java(),
    }


def as_text(c: ConsumerConfig) -> str:
    lines = [
        f"# Consumer {c.consumer} of stack {c.stack} ({c.region}), from {c.source}",
        f"# Topics it may read: {', '.join(c.topics)}",
    ]
    for peer, names in c.mirrors.items():
        lines.append(f"# Their mirrors in {peer} (cluster link prefix {c.region}.): {', '.join(names)}")
    if c.peer_mirrors:
        lines.append(f"# Also readable here, the peer's records mirrored: {', '.join(c.peer_mirrors)}")
    lines += [
        f"# Consumer groups: group.id must start with {c.group_prefix} (it may read groups {c.group_prefix}* only);",
        f"#   name them {naming.consumer_home_groups(c.group_prefix, c.region)}* (home region {c.region}): their "
        "offsets follow them to the peer region; keep that id if the consumer moves there",
        f"# Secret keys: Secrets Manager secret {c.secret_name} ({c.region}), readable by the roles the stack",
        f"#   settings name for {c.consumer} only: {c.secrets_command}",
        f"#   gives {', '.join(CREDENTIAL_KEYS)}: put them where <...> stands below",
        "#   On EKS, External Secrets (ExternalSecret below, `--json`: secrets.externalSecret) syncs it into a",
        f'#   Kubernetes Secret {c.consumer}-kafka; re-read it after a key rotation (README "Credentials")',
    ]
    if c.vault_command:
        lines.append(f"# Vault KV v2 copy at {c.vault_path}: {c.vault_command}")
    if c.private_vpc:
        lines.append(f"# PrivateLink: these endpoints resolve only inside {c.private_vpc} (or a network peered to it)")
    if c.mock_endpoints:
        lines.append(
            f"# MOCK ENDPOINTS: {c.bootstrap_servers} and {c.schema_registry_url} are the offline plan's made-up "
            f"hosts; for the deployed ones: --outputs <(pulumi stack output --json --stack {c.stack})"
        )
    lines += ["", "## librdkafka (confluent-kafka for Python/Go/.NET, kcat): consumer.conf"]
    lines += [f"{k}={v}" for k, v in c.librdkafka().items()]
    lines += ["", "## Schema Registry client (confluent-kafka's SchemaRegistryClient, for its deserializers)"]
    lines += [f"{k}={v}" for k, v in c.registry_client().items()]
    lines += ["", "## Java (Apache Kafka client + Confluent deserializers): consumer.properties"]
    lines += [f"{k}={v}" for k, v in c.java().items()]
    return "\n".join(lines)
