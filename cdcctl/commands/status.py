"""`cdcctl status --stack NAME [--outputs FILE]`: the phase of the deployed stack's connector and
routing statement, from Confluent's Connect and Flink statement APIs, as one table with what to do next
for anything not RUNNING. Exit 0 when everything runs, 1 when anything is unhealthy (a scheduled
workflow alerts on it), 2 on bad input (a missing key variable, unreadable outputs).

The ids come from the stack's `monitoring` output: a recording of `pulumi stack output --json` with
--outputs, else the Pulumi CLI. Keys come from the environment: CONFLUENT_CLOUD_API_KEY/_SECRET (a
Cloud API key whose owner may read the environment's connectors) and CONFLUENT_FLINK_API_KEY/_SECRET
(a Flink API key of the stack's region whose owner may read its statements)."""

from __future__ import annotations

import argparse
import os

from cdcctl.progress import Progress
from cdcctl.stack_config import stack_settings
from cdcctl.stack_outputs import deployed_outputs, recorded_outputs
from cdcctl.status import Api, Credentials, HttpApi, stack_health, table
from core.config_node import ConfigError
from infra.settings import region_settings
from monitoring.targets import EXPORT, MonitoringTargets

EXIT_UNHEALTHY = 1
CLOUD_KEY = "CONFLUENT_CLOUD_API_KEY"
FLINK_KEY = "CONFLUENT_FLINK_API_KEY"
# Replaced by tests with recorded responses.
api: Api = HttpApi()


def run(args: argparse.Namespace) -> int:
    region_settings(stack_settings(args.stack))  # a global stack runs no connector or statement: exit 2
    if args.outputs:
        outputs, source = recorded_outputs(args.outputs), args.outputs
    else:
        outputs, source = deployed_outputs(args.stack), f"pulumi stack output --stack {args.stack}"
    if outputs.get(EXPORT) is None:
        raise ConfigError(source, EXPORT, "no such output: deploy the stack with this version of the program first")
    targets = MonitoringTargets.from_export(outputs[EXPORT], source)
    cloud = _credentials(CLOUD_KEY) if targets.connector is not None else None
    flink = _credentials(FLINK_KEY)
    progress = Progress("status")
    rows = stack_health(targets, api, cloud, flink, progress.phase)
    print(table(targets.stack, targets.region, rows))
    return 0 if all(r.healthy for r in rows) else EXIT_UNHEALTHY


def _credentials(variable: str) -> Credentials:
    secret_variable = variable.replace("_KEY", "_SECRET")
    for name in (variable, secret_variable):
        if not os.environ.get(name):
            raise ConfigError("environment", name, "is not set (see `cdcctl status --help`)")
    return Credentials(os.environ[variable], os.environ[secret_variable])
