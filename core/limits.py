"""Confluent Cloud limits that the settings model and the policy pack both enforce (one source)."""

from __future__ import annotations

# FlinkComputePool.max_cfu accepts only these sizes (Confluent Cloud Flink compute pools).
MAX_CFU_VALUES = (5, 10, 20, 30, 40, 50)

# Largest partition count Kafka's protocol carries (int32).
MAX_PARTITIONS_PER_TOPIC = 2**31 - 1
# Partitions (pre-replication) one cluster holds, by the cluster types the settings accept: the
# "Cluster limit comparison" of https://docs.confluent.io/cloud/current/clusters/cluster-types.html
# (Standard 4,096, Dedicated 100,000; older revisions of the page list a lower Dedicated figure).
MAX_PARTITIONS_PER_CLUSTER = {"STANDARD": 4096, "DEDICATED": 100_000}
# Share of max_slot_wal_keep_size a replication slot may hold before the writer's alarms and
# `cdcctl slots status` flag it (aurora.alarms.slotWarningPercent).
SLOT_WARNING_PERCENT = 50
