"""`cdcctl consumer NAME --stack S [--outputs FILE] [--json]`: a ready client configuration for a route
consumer, in librdkafka and Java properties forms: the cluster's bootstrap endpoint, the registry's
endpoint, the topics its grants let it read (and, with two regions, their mirrors in the peer region),
the group-id prefix it may use, and how to read its secret keys with `pulumi stack output`.

Values come from the stack's exports: its offline plan's by default (placeholder ids and endpoints),
or the deployed ones with `--outputs` (`pulumi stack output --json --stack S > FILE`)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdcctl.stack_config import stack_settings
from core import naming
from core.config_node import ConfigError, Node
from flink_sql.routes import consumers, load_routes
from infra.settings import GlobalStackSettings, RegionStackSettings, Settings, region_settings

CREDENTIAL_KEYS = ("kafkaApiKey", "kafkaApiSecret", "schemaRegistryApiKey", "schemaRegistryApiSecret")
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
    mock_endpoints: bool = False  # from the offline plan: made-up hosts, not the deployed cluster's

    @property
    def group_id(self) -> str:
        return f"{self.group_prefix}group"

    @property
    def secrets_command(self) -> str:
        return f"pulumi stack output consumerCredentials --show-secrets --json --stack {self.stack}"

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
            # Flink writes the routed records without a key.
            "key.deserializer": "org.apache.kafka.common.serialization.ByteArrayDeserializer",
            "value.deserializer": VALUE_DESERIALIZERS[self.value_format],
            "schema.registry.url": self.schema_registry_url,
            "basic.auth.credentials.source": "USER_INFO",
            "basic.auth.user.info": "<schemaRegistryApiKey>:<schemaRegistryApiSecret>",
        }


def run(args: argparse.Namespace) -> int:
    config = consumer_config(args.name, args.stack, Path(args.outputs) if args.outputs else None)
    print(json.dumps(as_json(config), indent=2) if args.json else as_text(config))
    return 0


def consumer_config(name: str, stack: str, outputs_file: Path | None = None) -> ConsumerConfig:
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
        outputs, source = _deployed_outputs(outputs_file), f"{outputs_file} (deployed outputs)"
    file = str(outputs_file or f"plan of {stack}")
    if not isinstance(outputs, dict):
        raise ConfigError(file, "--outputs", "must be a JSON object of stack outputs")

    def export(*path: str) -> Node:
        value: Any = outputs
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        node = Node(value, file, ".".join(path))
        if not node.present:
            node.fail("missing: deployed before this program exported it? run `pulumi up` on the stack")
        return node

    exported = export("consumers", name).fields(required=["topics", "groupPrefix"], optional=["peerMirrors"])
    topics = tuple(t.string() for t in exported["topics"].items(min_items=1))
    peers = [r for r in _regions(settings) if r != region.region]
    return ConsumerConfig(
        consumer=name,
        stack=stack,
        region=region.region,
        source=source,
        bootstrap_servers=export("bootstrapEndpoint").string().removeprefix("SASL_SSL://"),
        schema_registry_url=export("schemaRegistryEndpoint").string(),
        topics=topics,
        group_prefix=exported["groupPrefix"].string(),
        mirrors={peer: tuple(naming.mirror_topic(region.region, t) for t in topics) for peer in peers},
        peer_mirrors=tuple(t.string() for t in exported["peerMirrors"].items())
        if exported["peerMirrors"].present
        else (),
        value_format=region.cdc.value_format,
        private_vpc=region.private_link.vpc_id if region.private_link else None,
        mock_endpoints=outputs_file is None,
    )


def _deployed_outputs(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(str(path), "--outputs", f"cannot read: {error.strerror}") from None
    except ValueError as error:
        raise ConfigError(str(path), "--outputs", f"is not `pulumi stack output --json` output: {error}") from None


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
        "secrets": {"command": c.secrets_command, "entry": c.consumer, "keys": list(CREDENTIAL_KEYS)},
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
        f"# Consumer groups: group.id must start with {c.group_prefix} (it may read groups {c.group_prefix}* only)",
        f"# Secret keys: {c.secrets_command} | jq '.\"{c.consumer}\"'",
        f"#   gives {', '.join(CREDENTIAL_KEYS)}: put them where <...> stands below",
    ]
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
