"""`cdcctl status --stack NAME [--outputs FILE]`: the phase of the deployed stack's connector, routing
statement and cluster link half with its mirrors, from Confluent's Connect, Flink statement and Kafka REST
APIs, as one table with what to do next for anything unhealthy. Exit 0 when everything is healthy, 1 when
anything is not (a scheduled workflow alerts on it), 2 on bad input (a missing key variable, unreadable
outputs).

The ids come from the stack's `monitoring` output (with a link, also `restEndpoint` and `clusterLink`): a
recording of `pulumi stack output --json` with --outputs, else the Pulumi CLI. Keys come from the
environment: CONFLUENT_CLOUD_API_KEY/_SECRET (a Cloud API key whose owner may read the environment's
connectors), CONFLUENT_FLINK_API_KEY/_SECRET (a Flink API key of the stack's region whose owner may read
its statements) and, with a link, CONFLUENT_KAFKA_API_KEY/_SECRET (a Kafka API key of the stack's
cluster whose owner holds Operator on it)."""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

from cdcctl.stack_config import stack_settings
from cdcctl.stack_outputs import deployed_outputs, recorded_outputs
from cdcctl.status import KAFKA_KEY, Api, ConnectorResume, Credentials, HttpApi, LinkCheck, stack_health, table
from core.config_node import ConfigError
from core.progress import Progress
from infra.settings import MIRROR_STATUSES, region_settings
from monitoring.targets import EXPORT, SAFE_URL, MonitoringTargets

EXIT_UNHEALTHY = 1
CLOUD_KEY = "CONFLUENT_CLOUD_API_KEY"
FLINK_KEY = "CONFLUENT_FLINK_API_KEY"
# The region layer's exports (stacks/region_layer.py, not imported: it loads Pulumi); a test keeps them equal.
REST_ENDPOINT_EXPORT = "restEndpoint"
LINK_EXPORT = "clusterLink"
# Replaced by tests with recorded responses (and a clock that does not wait).
api: Api = HttpApi()
resume = ConnectorResume()


def run(args: argparse.Namespace) -> int:
    region_settings(stack_settings(args.stack))  # a global stack runs no connector or statement: exit 2
    if args.outputs:
        outputs, source = recorded_outputs(args.outputs), args.outputs
    else:
        outputs, source = deployed_outputs(args.stack), f"pulumi stack output --stack {args.stack}"
    if outputs.get(EXPORT) is None:
        raise ConfigError(source, EXPORT, "no such output: deploy the stack with this version of the program first")
    targets = MonitoringTargets.from_export(outputs[EXPORT], source)
    link = _link_check(outputs, source) if targets.link is not None else None
    cloud = _credentials(CLOUD_KEY) if targets.connector is not None else None
    flink = _credentials(FLINK_KEY)
    progress = Progress("status")
    rows = stack_health(targets, api, cloud, flink, progress.phase, link, resume if args.resume_connector else None)
    print(table(targets.stack, targets.region, rows))
    return 0 if all(r.healthy for r in rows) else EXIT_UNHEALTHY


def _credentials(variable: str) -> Credentials:
    secret_variable = variable.replace("_KEY", "_SECRET")
    for name in (variable, secret_variable):
        if not os.environ.get(name):
            raise ConfigError("environment", name, "is not set (see `cdcctl status --help`)")
    return Credentials(os.environ[variable], os.environ[secret_variable])


def _link_check(outputs: dict[str, Any], source: str) -> LinkCheck:
    """Where the link half is asked about (an id in a URL: checked like the `monitoring` ids) and the
    mirror status the stack deployed."""
    endpoint = outputs.get(REST_ENDPOINT_EXPORT)
    if not isinstance(endpoint, str) or not re.fullmatch(SAFE_URL, endpoint):
        raise ConfigError(source, REST_ENDPOINT_EXPORT, f"{str(endpoint)[:60]!r} is not an https:// host")
    half = outputs.get(LINK_EXPORT)
    status = half.get("mirrorStatus") if isinstance(half, dict) else None
    if status not in MIRROR_STATUSES:
        raise ConfigError(
            source, f"{LINK_EXPORT}.mirrorStatus", f"{status!r} is not one of {', '.join(MIRROR_STATUSES)}"
        )
    return LinkCheck(endpoint, _credentials(KAFKA_KEY), str(status))
