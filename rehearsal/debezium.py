"""Managed-connector config -> open-source Debezium embedded-engine properties (one tested function).

The rehearsal runs the real Debezium Postgres connector with the stack's own connector config. Only
what has no open-source equivalent changes: Confluent's class and SMT names, the service-account auth
and registry output formats (the engine emits schemaless JSON with the same fields), plus where the
local database is and the engine's own plumbing.
"""

from __future__ import annotations

from collections.abc import Mapping

DEBEZIUM_POSTGRES = "io.debezium.connector.postgresql.PostgresConnector"
EQUIVALENT_VALUES = {
    "PostgresCdcSourceV2": DEBEZIUM_POSTGRES,
    "io.confluent.connect.cloud.transforms.TopicRegexRouter": "org.apache.kafka.connect.transforms.RegexRouter",
}
# Managed-only settings: auth to Confluent Cloud, the registry formats of the produced records, and
# the managed connector's own unwrapping (off: the SMT below does it, in both).
MANAGED_ONLY = (
    "kafka.auth.mode",
    "kafka.service.account.id",
    "output.data.format",
    "output.key.format",
    "after.state.only",
)
# Keys Debezium reads as they are.
SAME_MEANING = (
    "connector.class",
    "name",
    "database.hostname",
    "database.port",
    "database.user",
    "database.dbname",
    "database.sslmode",
    "topic.prefix",
    "table.include.list",
    "plugin.name",
    "slot.name",
    "publication.name",
    "publication.autocreate.mode",
    "snapshot.mode",
    "tombstones.on.delete",
    "heartbeat.interval.ms",
    "heartbeat.action.query",
    "transforms",
    "tasks.max",
)
# The embedded engine has no Kafka: offsets in memory, committed (and the slot's LSN confirmed)
# after every batch, values as plain JSON.
ENGINE_PROPERTIES = {
    "offset.storage": "org.apache.kafka.connect.storage.MemoryOffsetBackingStore",
    "offset.flush.interval.ms": "0",
    "converter.schemas.enable": "false",
}


def open_source_properties(
    managed: Mapping[str, str], *, hostname: str, port: int, password: str, root_cert: str
) -> dict[str, str]:
    """Map a managed PostgresCdcSourceV2 config to Debezium's; unknown keys are an error, so a new
    managed setting cannot silently go missing from the rehearsal. `root_cert`: the local server's CA
    file, used where the sslmode verifies (the managed connector gets the RDS bundle's content)."""
    properties: dict[str, str] = {}
    for key, value in managed.items():
        if key in MANAGED_ONLY:
            continue
        if key not in SAME_MEANING and not key.startswith("transforms."):
            raise ValueError(f"no open-source Debezium equivalent known for connector setting {key!r}")
        properties[key] = EQUIVALENT_VALUES.get(value, value)
    properties.update(
        {"database.hostname": hostname, "database.port": str(port), "database.password": password},
    )
    if properties.get("database.sslmode", "").startswith("verify-"):
        properties["database.sslrootcert"] = root_cert
    properties.update(ENGINE_PROPERTIES)
    return properties
