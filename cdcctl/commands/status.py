"""`cdcctl status --stack NAME [--outputs FILE]`: the phase of the deployed stack's connector, routing
statement and cluster link half with its mirrors, from Confluent's Connect, Flink statement and Kafka REST
APIs, as one table with what to do next for anything unhealthy. Exit 0 when everything is healthy, 1 when
anything is not (a scheduled workflow alerts on it), 2 on bad input (missing key variables, unreadable
outputs, outputs of another stack, an endpoint that is not the stack's own on Confluent Cloud).

The ids come from the stack's `monitoring` output (with a link, also `restEndpoint` and `clusterLink`): a
recording of `pulumi stack output --json` with --outputs, else the Pulumi CLI. Keys come from the
environment: CONFLUENT_CLOUD_API_KEY/_SECRET (a Cloud API key whose owner may read the environment's
connectors), CONFLUENT_FLINK_API_KEY/_SECRET (a Flink API key of the stack's region whose owner may read
its statements) and, with a link, CONFLUENT_KAFKA_API_KEY/_SECRET (a Kafka API key of the stack's
cluster whose owner holds Operator on it)."""

from __future__ import annotations

import argparse
from typing import Any

from cdcctl.confluent_api import ConfluentApi, Credentials, https_endpoint
from cdcctl.environment import required_variables
from cdcctl.stack_config import stack_settings
from cdcctl.stack_outputs import belonging_to, deployed_outputs, recorded_outputs
from cdcctl.status import KAFKA_KEY, Api, ConnectorResume, LinkCheck, stack_health, table
from core.config_node import ConfigError
from core.progress import Progress
from core.region_exports import LINK_EXPORT, REGION_EXPORTS
from monitoring.targets import MonitoringTargets
from settings.link import MIRROR_STATUSES
from settings.model import link_settings, region_settings

EXIT_UNHEALTHY = 1
CLOUD_KEY = "CONFLUENT_CLOUD_API_KEY"
FLINK_KEY = "CONFLUENT_FLINK_API_KEY"
# Every request of one run together (each at most REQUEST_TIMEOUT_S): cdcctl/__main__.py's help says so;
# --resume-connector adds the wait for the connector to come back.
DEADLINE_S = 60.0
# Tests replace them with recorded responses (and a clock that does not wait); None: the real client,
# allow-listed to the stack's region.
api: Api | None = None
resume = ConnectorResume()


def run(args: argparse.Namespace) -> int:
    settings = stack_settings(args.stack)
    region = region_settings(settings).region  # a global stack runs no connector: exit 2
    peer = link_settings(settings)
    if args.outputs:
        outputs, source = recorded_outputs(args.outputs), args.outputs
    else:
        outputs, source = deployed_outputs(args.stack), f"pulumi stack output --stack {args.stack}"
    belonging_to(outputs, args.stack, region, source)
    targets = MonitoringTargets.from_export(outputs[REGION_EXPORTS.monitoring], source)
    https_endpoint(targets.flink_rest_endpoint, source, f"{REGION_EXPORTS.monitoring}.flinkRestEndpoint", region)
    link = _link_check(outputs, source, region) if targets.link is not None else None
    needed = [CLOUD_KEY] if targets.connector is not None else []
    needed += [FLINK_KEY, KAFKA_KEY] if link is not None else [FLINK_KEY]
    keys = _credentials(needed)
    progress = Progress("status")
    client = api or ConfluentApi(region, DEADLINE_S + (resume.wait_s if args.resume_connector else 0))
    rows = stack_health(
        targets,
        client,
        keys.get(CLOUD_KEY),
        keys[FLINK_KEY],
        progress.phase,
        LinkCheck(link[0], keys[KAFKA_KEY], link[1], peer.peer_stack if peer else "the peer stack") if link else None,
        resume if args.resume_connector else None,
    )
    print(table(targets.stack, targets.region, rows))
    return 0 if all(r.healthy for r in rows) else EXIT_UNHEALTHY


def _credentials(key_variables: list[str]) -> dict[str, Credentials]:
    """Each key variable with its _SECRET; every missing one named in one line."""
    secrets = {variable: variable.replace("_KEY", "_SECRET") for variable in key_variables}
    values = required_variables([name for pair in secrets.items() for name in pair], "see `cdcctl status --help`")
    return {variable: Credentials(values[variable], values[secret]) for variable, secret in secrets.items()}


def _link_check(outputs: dict[str, Any], source: str, region: str) -> tuple[str, str]:
    """Where the link half is asked about (the stack's own REST endpoint) and the mirror status the
    stack deployed."""
    endpoint = https_endpoint(outputs.get(REGION_EXPORTS.rest_endpoint), source, REGION_EXPORTS.rest_endpoint, region)
    half = outputs.get(REGION_EXPORTS.cluster_link)
    status = half.get(LINK_EXPORT.mirror_status) if isinstance(half, dict) else None
    if status not in MIRROR_STATUSES:
        raise ConfigError(
            source,
            f"{REGION_EXPORTS.cluster_link}.{LINK_EXPORT.mirror_status}",
            f"{status!r} is not one of {', '.join(MIRROR_STATUSES)}",
        )
    return endpoint, str(status)
