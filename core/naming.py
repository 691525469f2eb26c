"""Every derived name in one place: Confluent display names, principal names, topic-name rules.

Display names are set explicitly (Pulumi would otherwise add a random suffix) and start with the
environment name, which itself defaults to one per stack, so ephemeral `pr-N` stacks never collide.
Pure Python with no project imports: the program, cdcctl and the rehearsal engine all use it.
"""

from __future__ import annotations

import hashlib
import re

# Type prefix of every ComponentResource of this program (`cdc:infra:KafkaCluster`, ...).
COMPONENT = "cdc:infra"
# Relative to the project directory (where Pulumi.yaml is).
DEFAULT_ROUTES_FILE = "flink_sql/routes.yaml"
# The committed raw records `cdcctl routes diff` rehearses both sides of a routes change on.
SAMPLE_RECORDS_FILE = "flink_sql/samples/raw-records.jsonl"
# The dated price table `cdcctl cost` prices a stack's plan with.
PRICE_TABLE_FILE = "cdcctl/prices.yaml"
# Kafka's legal topic names: [A-Za-z0-9._-], 1-249 chars, not "." or "..".
KAFKA_TOPIC = r"(?!\.{1,2}$)[A-Za-z0-9._-]{1,249}"
CDC_CONNECTOR = "cdc-connector"
FLINK_STATEMENTS = "flink-statements"
FLINK_DEPLOYER = "flink-deployer"
SCHEMA_MANAGER = "schema-manager"
# Reads the Metrics API export (MetricsViewer) for the stacks' Prometheus.
METRICS_VIEWER = "metrics-viewer"
# Prefix of the transactional ids Flink sinks use (they write transactionally).
FLINK_TRANSACTIONAL_ID_PREFIX = "_confluent-flink_"


def camel_case(name: str) -> str:
    """A Python field name as the camelCase key stack exports use: `cluster_id` -> `clusterId`."""
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def cluster_manager(region: str) -> str:
    """The per-region deployer principal that administers only that region's cluster."""
    return f"cluster-manager-{region}"


def consumer_group_prefix(consumer: str) -> str:
    """A consumer may only use groups named after itself."""
    return f"{consumer}-"


def consumer_home_groups(group_prefix: str, region: str) -> str:
    """The prefix of a consumer's groups homed in `region` (`loan-consumer-us-east-1-`): the link syncs a
    group's offsets only out of its home region (infra.cluster_link.link_config)."""
    return f"{group_prefix}{region}-"


def link_principal(region: str) -> str:
    """The principal whose key the peer's half of the cluster link presents to this region's cluster."""
    return f"cluster-link-{region}"


def link_name(environment_name: str, regions: tuple[str, str]) -> str:
    """The bidirectional link's one name, the same on both halves (never auto-named: Pulumi would add
    a random suffix per half), derived from what both region stacks know."""
    return f"{environment_name}-{'-'.join(sorted(regions))}"


def link_prefix(source_region: str) -> str:
    """`cluster.link.prefix` of the half whose mirrors come from `source_region`."""
    return f"{source_region}."


def mirror_topic(source_region: str, topic: str) -> str:
    """A topic's mirror in the peer region's cluster: both regions write topics of the same names, so
    the bidirectional link prefixes mirrors with their source region (`cluster.link.prefix`,
    MULTI-REGION-FACTS.md section 8), e.g. `us-east-1.filtered-loan-created-events` in us-west-2."""
    return f"{link_prefix(source_region)}{topic}"


def dead_letter_topic(raw_topic: str) -> str:
    """The region's dead-letter topic: raw records Flink cannot deserialize (README "Bad records")."""
    return f"{raw_topic}-dlq"


def subject(topic: str, part: str = "value") -> str:
    """Schema Registry subject of a topic's key or value (TopicNameStrategy)."""
    return f"{topic}-{part}"


def display_name(environment: str, *parts: str) -> str:
    return "-".join((environment, *parts))


def statement_name(prefix: str, *identity: str, kind: str = "routes") -> str:
    """Flink statement name: lowercase [a-z0-9-], alphanumeric ends, <= 72 chars, ending in a short hash
    of everything that identifies the statement (its SQL and the inputs Confluent cannot change in
    place), so any such change gets a new name and takes the carry-over path."""
    digest = hashlib.sha256("\0".join(identity).encode()).hexdigest()[:10]
    stem = re.sub(r"[^a-z0-9-]+", "-", prefix.lower()).strip("-")[: 72 - len(f"-{kind}-") - len(digest)]
    return f"{stem.rstrip('-') or 'cdc'}-{kind}-{digest}"


# Kinds of statements (statement_name's `kind`) that complete: the raw table's settings, a backfill. A
# `routes` statement set runs until it is replaced.
COMPLETING_STATEMENTS = ("table", "backfill")


def statement_kind(name: str) -> str | None:
    """The kind a statement name was made with (statement_name), None for any other name."""
    found = re.search(r"-([a-z]+)-[0-9a-f]{10}$", name)
    return found.group(1) if found else None


def replication_slot(stack: str) -> str:
    """The stack's default PostgreSQL replication slot: one per stack (pr-N stacks copied from dev must
    not share dev's slot), a PostgreSQL name (lowercase [a-z0-9_], <= 63 chars)."""
    return re.sub(r"[^a-z0-9_]", "_", f"cdc_{stack}".lower())[:63]


def aws_name(*parts: str, limit: int = 63) -> str:
    """A name for RDS/IAM-style AWS resources from free-form parts (stack names may hold capitals, dots,
    underscores): lowercase letters, digits and single hyphens, starting with a letter, no trailing
    hyphen, at most `limit` characters (the RDS Proxy rule, the strictest of those used here; a short
    hash keeps truncated names distinct)."""
    text = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower())).strip("-")
    text = text if text[:1].isalpha() else f"x-{text}".rstrip("-")
    if len(text) > limit:
        digest = hashlib.sha256(text.encode()).hexdigest()[:6]
        text = f"{text[: limit - 7].rstrip('-')}-{digest}"
    return text


def consumer_secret_name(stack: str, consumer: str) -> str:
    """A consumer's secret, in Secrets Manager and under the Vault mount: one per stack and consumer."""
    return f"cdc-platform/{stack}/{consumer}"
