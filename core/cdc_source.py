"""The CDC source's one definition: the connector's settings and the config built from them.

The stack deploys this config on the managed connector and the rehearsal maps it to open-source
Debezium (rehearsal/debezium.py). Pure Python: no Pulumi, so cdcctl imports it without the SDK.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class CdcSettings:
    """The managed Postgres CDC connector; value_format also decides the Flink tables' format."""

    enabled: bool
    value_format: str
    hostname: str | None  # only without `aurora`: then the connector reads this host
    port: int
    database: str
    user: str
    sslmode: str
    schema: str
    table: str
    slot_name: str
    publication_name: str
    topic_prefix: str
    snapshot_mode: str
    # Milliseconds between heartbeats (0 = none): each writes HEARTBEAT_TABLE and emits a heartbeat
    # record, so the slot's confirmed position moves while the captured table is quiet.
    heartbeat_interval_ms: int = 60_000


# SMT aliases. Not `unwrap`: that alias is reserved on managed CDC connectors.
EXTRACT = "extractNewState"
ROUTE = "routeToRawTopic"
HEARTBEAT_ROUTE = "routeHeartbeat"
# A database prerequisite (db/migrations/V004): in the publication, outside table.include.list, so its
# changes reach the connector (and move the slot) but never the raw topic or a route.
HEARTBEAT_TABLE = "cdc_heartbeat"
# Debezium names its heartbeat topic `<topic.heartbeat.prefix>.<topic.prefix>`; the managed connector
# fixes the prefix to `__debezium-heartbeat-<connector id>` (connect-migration-utility,
# PostgresCdcSourceV2 template), open-source Debezium to `__debezium-heartbeat`. Both are routed to
# the declared heartbeat topic, so the connector writes no topic the stack does not declare.
HEARTBEAT_TOPICS = r"__debezium-heartbeat.*"


def heartbeat_topic(raw_topic: str) -> str:
    """The declared topic the connector's heartbeat records go to (beside the raw topic)."""
    return f"{raw_topic}-heartbeat"


def held_connections(cdc: CdcSettings) -> int:
    """Network connections the streaming connector holds on the database all day (measured on open-source
    Debezium, tests/test_aurora_idle_stop.py): the replication stream and two JDBC connections, and the
    heartbeat action query's own JDBC connection when there is a heartbeat."""
    return 3 + (1 if cdc.heartbeat_interval_ms else 0)


def written_heartbeat_topics(cdc: CdcSettings, raw_topic: str) -> tuple[str, ...]:
    """The heartbeat topic when a connector beats into it: the stack declares it and the connector
    may write it (with its key and value subjects: heartbeat records are registry-serialized too)."""
    return (heartbeat_topic(raw_topic),) if cdc.enabled and cdc.heartbeat_interval_ms else ()


def connector_config(
    cdc: CdcSettings, *, name: str, hostname: str, service_account_id: str, raw_topic: str
) -> dict[str, str]:
    """The connector's non-secret config. One definition: the stack deploys it and the rehearsal maps
    it to open-source Debezium (rehearsal/debezium.py). The password goes in config_sensitive only."""
    captured = f"{cdc.schema}.{cdc.table}"
    # Allowed values below are from the connector's config definitions (Confluent's
    # connect-migration-utility, PostgresCdcSourceV2 templates) and its V2 docs page.
    return {
        "connector.class": "PostgresCdcSourceV2",
        "name": name,
        "kafka.auth.mode": "SERVICE_ACCOUNT",
        "kafka.service.account.id": service_account_id,
        "database.hostname": hostname,
        "database.port": str(cdc.port),
        "database.user": cdc.user,
        "database.dbname": cdc.database,
        # disable | prefer (default) | require | verify-ca | verify-full (verify-*: database.sslrootcert).
        "database.sslmode": cdc.sslmode,
        "topic.prefix": cdc.topic_prefix,
        "table.include.list": captured,
        "plugin.name": "pgoutput",
        "slot.name": cdc.slot_name,
        "publication.name": cdc.publication_name,
        # all_tables (default) | disabled | filtered. The publication is a database prerequisite
        # (db/migrations): the role needs no CREATE.
        "publication.autocreate.mode": "disabled",
        # initial (default) | no_data | when_needed | initial_only | never (deprecated).
        "snapshot.mode": cdc.snapshot_mode,
        # AVRO | JSON_SR | PROTOBUF | JSON (default); keys also STRING. One setting drives the
        # connector's format and the Flink tables' (compiler.registry_options); Flink needs a registry one.
        "output.data.format": cdc.value_format,
        # The key is the primary key `{id}`, a non-optional field: with JSON_SR, Confluent's
        # JsonSchemaConverter (JsonSchemaData.fromConnectSchema) writes it as a plain `string` property,
        # no null branch: NOT NULL, the key schema every routed topic declares (raw_record.key_json_schema).
        "output.key.format": cdc.value_format,
        # true | false (default; it was true before V2). Explicitly false: when true the connector
        # unwraps records itself (as `unwrap`) and our ExtractNewRecordState below adds no
        # __op/__table/__ts_ms/__deleted, so no route would ever match.
        "after.state.only": "false",
        # true (default) | false: deletes arrive as rewritten records (__deleted=true), no tombstones.
        "tombstones.on.delete": "false",
        "transforms": f"{EXTRACT},{ROUTE}",
        f"transforms.{EXTRACT}.type": "io.debezium.transforms.ExtractNewRecordState",
        # Debezium: __op, __table (source.table), __ts_ms (when the connector processed the change).
        f"transforms.{EXTRACT}.add.fields": "op,table,ts_ms",
        # drop | tombstone (default) | rewrite | rewrite-with-tombstone | delete-to-tombstone.
        f"transforms.{EXTRACT}.delete.tombstone.handling.mode": "rewrite",
        # RegexRouter is not available on managed connectors; TopicRegexRouter is.
        f"transforms.{ROUTE}.type": "io.confluent.connect.cloud.transforms.TopicRegexRouter",
        f"transforms.{ROUTE}.regex": re.escape(f"{cdc.topic_prefix}.{captured}"),
        f"transforms.{ROUTE}.replacement": raw_topic,
        "tasks.max": "1",
        **_heartbeat(cdc, raw_topic),
    }


def _heartbeat(cdc: CdcSettings, raw_topic: str) -> dict[str, str]:
    """Heartbeat keys of the V2 connector (connect-migration-utility, PostgresCdcSourceV2 template):
    `heartbeat.interval.ms` (default 0: none) and `heartbeat.action.query` (DML run on every beat).
    Without a write the connector receives, a quiet captured table leaves the slot where it is while
    the rest of the database writes WAL; the write goes to a table outside the capture, and the
    heartbeat record carries the position it reached."""
    if cdc.heartbeat_interval_ms == 0:
        return {}
    # slot_name is validated as a PostgreSQL identifier ([a-z0-9_]): safe as a literal.
    beat = (
        f"INSERT INTO {cdc.schema}.{HEARTBEAT_TABLE} (slot_name, beat_at) VALUES ('{cdc.slot_name}', now()) "
        "ON CONFLICT (slot_name) DO UPDATE SET beat_at = excluded.beat_at"
    )
    return {
        "heartbeat.interval.ms": str(cdc.heartbeat_interval_ms),
        "heartbeat.action.query": beat,
        "transforms": f"{EXTRACT},{ROUTE},{HEARTBEAT_ROUTE}",
        f"transforms.{HEARTBEAT_ROUTE}.type": "io.confluent.connect.cloud.transforms.TopicRegexRouter",
        f"transforms.{HEARTBEAT_ROUTE}.regex": HEARTBEAT_TOPICS,
        f"transforms.{HEARTBEAT_ROUTE}.replacement": heartbeat_topic(raw_topic),
    }
