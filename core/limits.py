"""Confluent Cloud limits that the settings model and the policy pack both enforce (one source)."""

from __future__ import annotations

# FlinkComputePool.max_cfu accepts only these sizes (Confluent Cloud Flink compute pools).
MAX_CFU_VALUES = (5, 10, 20, 30, 40, 50)
