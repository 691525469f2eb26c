"""`cdcctl link promote|failover|resume --stack NAME [--outputs FILE] [--dry-run]`: act on the stack's mirror
topics through Confluent's Kafka REST API after a preflight, then print the settings change that records
it (cdcctl/link.py says why this is not a `pulumi up`). Run it for the SURVIVING region's stack, from a
runner that reaches its cluster's REST endpoint.

Exit 0 when every mirror took the action (or was already there), 1 when the preflight or Confluent refused
some, 2 on bad input (a stack without a link, unreadable or foreign outputs, an endpoint that is not the
stack's own, a missing key). The key, CONFLUENT_KAFKA_API_KEY/_SECRET, is a Kafka API key of the stack's
cluster whose owner holds ClusterOperator and ResourceOwner on the mirror topics (Confluent's
cluster-linking security table: promote/failover); it goes only to the stack's own REST endpoint."""

from __future__ import annotations

import argparse
from typing import Any

from cdcctl.confluent_api import ConfluentApi, Credentials, https_endpoint
from cdcctl.environment import required_variables
from cdcctl.link import EXIT_REFUSED, Api, Half, act, preflight, refusal, report, unfinished
from cdcctl.stack_config import stack_settings
from cdcctl.stack_outputs import belonging_to, deployed_outputs, recorded_outputs
from cdcctl.status import KAFKA_KEY
from core.config_node import ConfigError
from core.progress import Progress
from core.region_exports import LINK_EXPORT, REGION_EXPORTS
from settings.link import MIRROR_STATUSES
from settings.model import NAMESPACE, link_settings, region_settings

# Preflight (two GETs) and one POST, each at most REQUEST_TIMEOUT_S.
DEADLINE_S = 60.0
# Tests replace it with recorded responses; None: the real client, allow-listed to the stack's region.
api: Api | None = None


def run(args: argparse.Namespace) -> int:
    settings = stack_settings(args.stack)
    region = region_settings(settings).region
    if link_settings(settings) is None:
        raise ConfigError(settings.file, f"{NAMESPACE}:link", "this stack has no cluster link: nothing to act on")
    if args.outputs:
        outputs, source = recorded_outputs(args.outputs), args.outputs
    else:
        outputs, source = deployed_outputs(args.stack), f"pulumi stack output --stack {args.stack}"
    belonging_to(outputs, args.stack, region, source)
    half = _half(outputs, source, region, args.stack, settings.file)
    keys = required_variables([KAFKA_KEY, KAFKA_KEY.replace("_KEY", "_SECRET")], "see `cdcctl link --help`")
    credentials = Credentials(keys[KAFKA_KEY], keys[KAFKA_KEY.replace("_KEY", "_SECRET")])
    client = api or ConfluentApi(region, DEADLINE_S)
    progress = Progress("link")
    progress.phase(f"preflight: link {half.link} and its mirrors on {half.cluster_id}")
    check = preflight(half, client, credentials)
    refused = refusal(args.action, check, half)
    if refused:
        print(f"link {args.action}: refused by the preflight: {refused}")
        return EXIT_REFUSED
    progress.phase(f"{args.action}{' (validate only)' if args.dry_run else ''} of the mirrors")
    outcomes = act(args.action, half, check, client, credentials, args.dry_run)
    print(report(args.action, half, check, outcomes, args.dry_run))
    return EXIT_REFUSED if unfinished(args.action, outcomes) else 0


def _half(outputs: dict[str, Any], source: str, region: str, stack: str, settings_file: str) -> Half:
    """The link half from the stack's outputs: its own REST endpoint, cluster, link name and mirrors."""
    endpoint = https_endpoint(outputs.get(REGION_EXPORTS.rest_endpoint), source, REGION_EXPORTS.rest_endpoint, region)
    cluster = outputs.get(REGION_EXPORTS.cluster_id)
    exported = outputs.get(REGION_EXPORTS.cluster_link)
    key = REGION_EXPORTS.cluster_link
    if not isinstance(exported, dict):
        raise ConfigError(source, key, "no such output: the link half is not deployed yet (see README, first deploy)")
    name, status, mirrors = (
        exported.get(k) for k in (LINK_EXPORT.name, LINK_EXPORT.mirror_status, LINK_EXPORT.mirrors)
    )
    if not isinstance(cluster, str) or not cluster.startswith("lkc-") or "/" in cluster:
        raise ConfigError(source, REGION_EXPORTS.cluster_id, "is not a Kafka cluster id (lkc-...)")
    if not isinstance(name, str) or not name or "/" in name:
        raise ConfigError(source, f"{key}.{LINK_EXPORT.name}", "is not a link name")
    if status not in MIRROR_STATUSES:
        raise ConfigError(source, f"{key}.{LINK_EXPORT.mirror_status}", f"is not one of {', '.join(MIRROR_STATUSES)}")
    if not isinstance(mirrors, list) or not all(isinstance(m, str) and m and "/" not in m for m in mirrors):
        raise ConfigError(source, f"{key}.{LINK_EXPORT.mirrors}", "is not a list of topic names")
    return Half(stack, settings_file, endpoint, cluster, name, tuple(mirrors), str(status))
