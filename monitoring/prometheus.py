"""The Prometheus scrape config and alert rules of one region stack, for Confluent's Metrics API export
endpoint. Facts (sources in ../shared/METRICS-FACTS.md): the endpoint returns the single latest point
per series, stamped about 3 minutes back (so timestamps are honoured); COUNTER metrics arrive as gauges
holding the per-minute delta (so `sum_over_time`, never `rate()`); consumer groups without active
members are not exported at all (so a missing group is an `absent()`); explicit timestamps mean no
staleness markers, so a vanished series stays visible for Prometheus' 5-minute lookback.
"""

from __future__ import annotations

from typing import Any

import yaml

from monitoring.targets import MonitoringTargets, Thresholds

EXPORT_HOST = "api.telemetry.confluent.cloud"
EXPORT_PATH = "/v2/metrics/cloud/export"
# The recording rule that remembers a detected CDC stall, and for how long (see _cdc_stall_rules).
STALL_RECORD = "cdc_platform:cdc_connector_stall_detected"
STALL_MEMORY = "12h"

# Metric names as the export endpoint translates them (METRICS-FACTS.md section 2).
CONSUMER_LAG = "confluent_kafka_server_consumer_lag_offsets"
CLUSTER_LOAD = "confluent_kafka_server_cluster_load_percent"
PENDING_RECORDS = "confluent_flink_pending_records"
POOL_CFUS = "confluent_flink_compute_pool_utilization_current_cfus"
POOL_CFU_LIMIT = "confluent_flink_compute_pool_utilization_cfu_limit"
STATEMENT_STATUS = "confluent_flink_statement_status"
CONNECTOR_STATUS = "confluent_kafka_connect_connector_status"
CONNECTOR_SENT = "confluent_kafka_connect_sent_records"
TOPIC_RECEIVED = "confluent_kafka_server_received_records"
MIRROR_LAG = "confluent_kafka_server_cluster_link_mirror_topic_offset_lag"
LINK_COUNT = "confluent_kafka_server_cluster_link_count"
MIRROR_COUNT = "confluent_kafka_server_cluster_link_mirror_topic_count"
ACCESS_ERROR = "confluent_scrape_resource_access_error"

Rule = dict[str, Any]


def job_name(stack: str) -> str:
    return f"confluent-cloud-{stack}"


def api_secret_file(stack: str, thresholds: Thresholds) -> str:
    """The file Prometheus reads the Metrics API key's secret from (never inline in the config)."""
    return thresholds.api_secret_file or f"/etc/prometheus/secrets/{stack}-metrics-api-secret"


def scrape_config(targets: MonitoringTargets | None, api_key: str, thresholds: Thresholds) -> dict[str, Any]:
    """One scrape job for the stack's cluster, compute pool and connector (none for a global stack),
    authenticated as `api_key`, a Cloud API key of the metrics principal (cluster keys fail there)."""
    if targets is None:
        return {"scrape_configs": []}
    params = {"resource.kafka.id": [targets.cluster_id], "resource.compute_pool.id": [targets.compute_pool_id]}
    if targets.connector is not None:
        params["resource.connector.id"] = [targets.connector.id]
    job = {
        "job_name": job_name(targets.stack),
        # One new point a minute; /export allows 160 requests per resource, principal and hour (retries).
        "scrape_interval": "1m",
        "scrape_timeout": "1m",
        # Points are stamped ~3 minutes back (data latency): keep Confluent's timestamps.
        "honor_timestamps": True,
        "scheme": "https",
        "metrics_path": EXPORT_PATH,
        "params": params,
        # The key's secret stays in a file, never in the config.
        "basic_auth": {"username": api_key, "password_file": api_secret_file(targets.stack, thresholds)},
        "static_configs": [{"targets": [EXPORT_HOST], "labels": {"stack": targets.stack, "region": targets.region}}],
    }
    return {"scrape_configs": [job]}


def alert_rules(targets: MonitoringTargets | None, thresholds: Thresholds) -> dict[str, Any]:
    """The stack's alerting rules, one group (none for a global stack)."""
    if targets is None:
        return {"groups": []}
    t, th = targets, thresholds
    rules = [
        *_scrape_rules(t),
        *_cluster_rules(t, th),
        *_flink_rules(t, th),
        *_dead_letter_rules(t),
        *_connector_rules(t, th),
        *_consumer_rules(t, th),
        *_link_rules(t, th),
    ]
    for rule in rules:
        if "alert" in rule:
            rule["labels"] = {**rule.get("labels", {}), "stack": t.stack}
    return {"groups": [{"name": f"cdc-platform-{t.stack}", "interval": "1m", "rules": rules}]}


# libyaml's emitter (PyYAML's wheels carry it) writes the same text as the pure-Python one, ~8x faster: a
# prod-east plan spent 26 ms rendering its rules with the latter (tests/test_monitoring_plan.py compares them).
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def render(document: dict[str, Any], stack: str) -> str:
    header = f"# Generated for stack {stack} by cdc-platform (monitoring/prometheus.py): change settings, not this.\n"
    return header + yaml.dump(document, Dumper=DUMPER, sort_keys=False, width=1000)


def _alert(
    name: str, expr: str, severity: str, summary: str, action: str, for_: str | None = None, **labels: str
) -> Rule:
    rule: Rule = {"alert": name, "expr": expr}
    if for_:
        rule["for"] = for_
    rule["labels"] = {"severity": severity, **labels}
    # Annotations use $labels only: the alert's value is on the alert itself.
    rule["annotations"] = {"summary": summary, "action": action}
    return rule


def _scrape_rules(t: MonitoringTargets) -> list[Rule]:
    job = job_name(t.stack)
    return [
        _alert(
            "ConfluentMetricsScrapeFailing",
            f'up{{job="{job}"}} == 0',
            "warning",
            "Prometheus cannot read Confluent's Metrics API export for stack {{ $labels.stack }}",
            "Check the scrape error on Prometheus' targets page: 401 = wrong key or secret file, 429 = another "
            "system scrapes with the same key (give it its own), 403 = the key lost MetricsViewer.",
            "5m",
        ),
        _alert(
            "ConfluentMetricsResourceInaccessible",
            f'max by (resource_id, resource_type) ({ACCESS_ERROR}{{job="{job}"}}) == 1',
            "warning",
            "The Metrics API key cannot see {{ $labels.resource_type }} {{ $labels.resource_id }}",
            "The resource was deleted or replaced (run `cdcctl monitoring` after `pulumi up` to refresh the ids), "
            "or the metrics principal lost its MetricsViewer binding on the environment.",
            "5m",
        ),
    ]


def _cluster_rules(t: MonitoringTargets, th: Thresholds) -> list[Rule]:
    if t.cluster_type != "DEDICATED":
        return []  # cluster load is reported for dedicated clusters only
    return [
        _alert(
            "KafkaClusterLoadHigh",
            f'max by (kafka_id) ({CLUSTER_LOAD}{{kafka_id="{t.cluster_id}"}}) > {th.cluster_load_percent / 100:g}',
            "warning",
            f"Kafka cluster {{{{ $labels.kafka_id }}}} load above {th.cluster_load_percent} % for 15 minutes",
            "Expect higher latency and throttling: add CKUs (cdc-platform:kafka.cku) or find the hot "
            "topics/partitions (Console > Cluster > Metrics).",
            "15m",
        )
    ]


def _flink_rules(t: MonitoringTargets, th: Thresholds) -> list[Rule]:
    pool = f'compute_pool_id="{t.compute_pool_id}"'
    per_statement = "sum by (compute_pool_id, flink_statement_name)"
    return [
        _alert(
            "FlinkPendingRecordsGrowing",
            # Growing over every 5-minute window for the whole `for` (Confluent's "> 10 minutes").
            f"{per_statement} (deriv({PENDING_RECORDS}{{{pool}}}[5m])) > 0 "
            f"and {per_statement} ({PENDING_RECORDS}{{{pool}}}) > 0",
            "warning",
            "Flink statement {{ $labels.flink_statement_name }} falls behind its input",
            "The statement reads slower than records arrive: check its pool's CFUs (FlinkComputePoolNearLimit), "
            "then `cdcctl status` and `confluent flink statement exception list <name>`.",
            f"{th.flink_pending_minutes}m",
        ),
        _alert(
            "FlinkComputePoolNearLimit",
            f"max by (compute_pool_id) ({POOL_CFUS}{{{pool}}}) / max by (compute_pool_id) ({POOL_CFU_LIMIT}{{{pool}}})"
            f" >= {th.flink_cfu_percent / 100:g}",
            "warning",
            f"Compute pool {{{{ $labels.compute_pool_id }}}} uses {th.flink_cfu_percent} % or more of its CFU limit",
            "Statements cannot scale further: raise cdc-platform:flink.maxCfu (5, 10, 20, 30, 40 or 50) "
            "and `pulumi up` (max_cfu changes in place).",
            "15m",
        ),
        _alert(
            "FlinkStatementUnhealthy",
            f"max by (compute_pool_id, flink_statement_name, status) "
            f'({STATEMENT_STATUS}{{{pool}, status=~"FAILED|FAILING|DEGRADED"}}) > 0',
            "critical",
            "Flink statement {{ $labels.flink_statement_name }} is {{ $labels.status }}",
            "Run `cdcctl status --stack <stack>` for the error text and next step. DEGRADED still bills CFUs; "
            "FAILED routes nothing.",
            "5m",
        ),
    ]


def _connector_rules(t: MonitoringTargets, th: Thresholds) -> list[Rule]:
    if t.connector is None:
        return []
    connector = f'connector_id="{t.connector.id}"'
    return [
        _alert(
            "CdcConnectorNotRunning",
            f'max by (connector_id, status) ({CONNECTOR_STATUS}{{{connector}, status!="RUNNING"}}) > 0',
            "critical",
            "CDC connector {{ $labels.connector_id }} is {{ $labels.status }}",
            "Run `cdcctl status --stack <stack>` for the connector's error trace and what to do next.",
            "5m",
        ),
        *_cdc_stall_rules(connector, th),
        *_heartbeat_rules(t, th),
    ]


def _dead_letter_rules(t: MonitoringTargets) -> list[Rule]:
    """A record in the dead-letter topic is a raw record the routing statement could not deserialize: it
    kept routing (error-handling.mode log) but that change reached no consumer. Any record alerts; the
    alert holds while the topic received one in the last 15 minutes."""
    if t.dead_letter_topic is None:
        return []
    received = f'{TOPIC_RECEIVED}{{kafka_id="{t.cluster_id}", topic="{t.dead_letter_topic}"}}'
    return [
        _alert(
            "RoutingDeadLetterRecords",
            f"sum by (kafka_id, topic) (sum_over_time({received}[15m])) > 0",
            "warning",
            "Raw records Flink could not deserialize went to {{ $labels.topic }} instead of any route",
            "Read them (`confluent kafka topic consume <topic> --from-beginning` with an operator key: the "
            "DLQ record names the error and carries the raw bytes), fix what wrote them (the connector's "
            'schema or format), and replay what consumers need; README "Bad records".',
        ),
    ]


def _heartbeat_rules(t: MonitoringTargets, th: Thresholds) -> list[Rule]:
    """Source lag seen from the connector's side without judging the database's activity: the heartbeat
    topic receives a record every `heartbeat.interval.ms` while the connector reads its slot, whether or
    not the captured table changes. The Metrics API has no streaming-lag metric for the Postgres CDC
    connector (METRICS-FACTS.md section 2); received_records per topic is exported. Silent for the
    stall window (at least three heartbeats): the connector no longer reads the slot, which now holds
    WAL."""
    if t.connector is None or t.connector.heartbeat_topic is None:
        return []
    beats_minutes = -(-3 * t.connector.heartbeat_interval_ms // 60_000)
    window = f"{max(th.cdc_stall_minutes, beats_minutes)}m"
    received = f'{TOPIC_RECEIVED}{{kafka_id="{t.cluster_id}", topic="{t.connector.heartbeat_topic}"}}'
    silent = f"sum by (kafka_id, topic) (sum_over_time({received}[{window}])) == 0"
    return [
        _alert(
            "CdcHeartbeatMissing",
            f"{silent} or absent_over_time({received}[{window}])",
            "critical",
            f"No CDC heartbeat on {{{{ $labels.topic }}}} for {window}: the connector is not reading its slot",
            "The replication slot holds WAL while the connector is away: `cdcctl status --stack <stack>` for "
            "the connector, `cdcctl slots status` for the slot's retained WAL and how near it is to the ceiling.",
        ),
    ]


def _cdc_stall_rules(connector: str, th: Thresholds) -> list[Rule]:
    """Throughput "stalled while the database changes". Prometheus sees only Confluent's side, so the
    database's activity is judged from the connector's own recent rate: a stall is `cdc_stall_minutes`
    without a record (or without the series) right after an hour whose rate predicted at least
    `cdc_stall_expected_records` records in such a window. A database that was busy does not fall silent
    by chance (at 10 expected records the odds are ~e^-10); one that winds down predicts fewer and stays
    quiet. The hour-long baseline slides past the silence after about an hour, so a detected stall is
    remembered (recording rule) and keeps alerting while the silence lasts, up to STALL_MEMORY."""
    window = f"{th.cdc_stall_minutes}m"
    sent = f"{CONNECTOR_SENT}{{{connector}}}"
    silent = f"sum by (connector_id) (sum_over_time({sent}[{window}])) == 0 or absent_over_time({sent}[{window}])"
    busy_before = (
        f"sum by (connector_id) (sum_over_time({sent}[1h] offset {window})) * {th.cdc_stall_minutes} / 60"
        f" >= {th.cdc_stall_expected_records}"
    )
    return [
        {"record": STALL_RECORD, "expr": f"({silent}) and on (connector_id) ({busy_before})"},
        _alert(
            "CdcConnectorStalled",
            f"({silent}) and on (connector_id) count_over_time({STALL_RECORD}{{{connector}}}[{STALL_MEMORY}])",
            "critical",
            f"CDC connector {{{{ $labels.connector_id }}}} has sent no record for {window} after a busy hour",
            "A RUNNING connector that stopped streaming: check the replication slot on the database "
            "(pg_replication_slots: active, lag), the connector's status (`cdcctl status`), and that the "
            "database still writes the captured table.",
        ),
    ]


def _consumer_rules(t: MonitoringTargets, th: Thresholds) -> list[Rule]:
    cluster = f'kafka_id="{t.cluster_id}"'
    rules = [
        _alert(
            "ConsumerGroupLagHigh",
            f"sum by (kafka_id, consumer_group_id) ({CONSUMER_LAG}{{{cluster}}}) > {th.consumer_lag_records}",
            "warning",
            f"Consumer group {{{{ $labels.consumer_group_id }}}} is more than {th.consumer_lag_records} records "
            f"behind for {th.consumer_lag_minutes} minutes",
            "The application consumes slower than its topics grow: scale its consumers (up to the topic's "
            "partitions) or find why it is slow; a short spike is not alerted.",
            f"{th.consumer_lag_minutes}m",
        )
    ]
    for consumer in t.consumers:
        # Groups without active members are not exported: the group's series vanish.
        selector = f'{CONSUMER_LAG}{{{cluster}, consumer_group_id=~"{consumer.group_prefix}.+"}}'
        rules.append(
            _alert(
                "ConsumerGroupMissing",
                f"absent({selector})",
                "warning",
                f"No consumer group {consumer.group_prefix}* of {consumer.name} is consuming on "
                "{{ $labels.kafka_id }}",
                f"The {consumer.name} application is down or idle in this region (groups without active members "
                "are not reported). Start it, or silence this alert where it is not meant to run.",
                f"{th.missing_group_minutes}m",
                consumer=consumer.name,
            )
        )
    return rules


def _link_rules(t: MonitoringTargets, th: Thresholds) -> list[Rule]:
    if t.link is None:
        return []
    on_link = f'kafka_id="{t.cluster_id}", link_name="{t.link.name}"'
    mirroring = f'{MIRROR_COUNT}{{{on_link}, link_mirror_topic_state="Mirror"}}'
    return [
        _alert(
            "MirrorTopicLagHigh",
            f"max by (kafka_id, link_name, topic) ({MIRROR_LAG}{{{on_link}}}) > {th.mirror_lag_records}",
            "warning",
            f"Mirror topic {{{{ $labels.topic }}}} is more than {th.mirror_lag_records} offsets behind its source",
            "Mirroring should be at or near zero lag: check ClusterLinkUnavailable, the link's throughput "
            "against the source's produce rate, and the peer region's cluster load.",
            f"{th.mirror_lag_minutes}m",
        ),
        _alert(
            "ClusterLinkUnavailable",
            f'max by (kafka_id, link_name, link_state) ({LINK_COUNT}{{{on_link}, link_state!="active"}}) > 0 '
            f"or absent({LINK_COUNT}{{{on_link}}})",
            "critical",
            "Cluster link {{ $labels.link_name }} is not active on {{ $labels.kafka_id }}",
            "The destination cannot reach the source (unavailable after 5 minutes) or the link is gone: check "
            "the peer region, networking, and the link's credentials; failover runbook in README.",
            "5m",
        ),
        _alert(
            "MirrorTopicsNotMirroring",
            f"sum by (kafka_id, link_name) ({mirroring}) < {len(t.link.mirror_topics)} or absent({mirroring})",
            "warning",
            f"Fewer than the {len(t.link.mirror_topics)} declared mirror topics of link {{{{ $labels.link_name }}}} "
            "are mirroring",
            "A mirror topic is paused, failed or stopped (expected after a failover or promotion). Check "
            "`confluent kafka mirror list --link <link>` and `pulumi up` the stack.",
            "10m",
        ),
    ]
