"""`cdcctl monitoring --stack NAME --out DIR [--outputs FILE]`: the stack's Prometheus scrape config and
alert rules, written as `DIR/<stack>-scrape.yml` and `DIR/<stack>-rules.yml`.

They are built here, as the stack builds its `prometheusScrapeConfig` and `prometheusRules` exports, from
the watched ids of its `monitoring` export and its `metricsApiKey` (from a recording of the deployed
stack's outputs with --outputs: real ids; else from its offline plan: mock ids, for review and `promtool`
checks) and the thresholds in this checkout's stack file. The exported YAML text itself is never copied:
a crafted outputs file cannot add a scrape target next to the metrics secret's `password_file`. The
outputs must be the stack's own. Each file is written to a new temporary file (O_EXCL) and renamed into
place, so a symlink planted at its name is replaced, never written through. A global stack runs nothing
the Metrics API reports per stack: its files hold no scrape job and no rule group, and say so on stderr."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from cdcctl.stack_config import stack_settings
from cdcctl.stack_outputs import belonging_to, planned_outputs, recorded_outputs
from core.config_node import ConfigError, Node
from core.output_file import replace_file
from core.region_exports import REGION_EXPORTS
from monitoring.prometheus import alert_rules, render, scrape_config
from monitoring.targets import MonitoringTargets, Thresholds
from settings.model import GlobalStackSettings, region_settings

# A Confluent API key id: letters and digits (16 upper-case ones today).
API_KEY_ID = r"[A-Za-z0-9]{1,64}"


def run(args: argparse.Namespace) -> int:
    stack = args.stack
    settings = stack_settings(stack)  # bad config: one line, before anything is planned or written
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError("--out", "", f"{out} exists and is not a directory")
    if isinstance(settings, GlobalStackSettings):
        print(f"stack {stack} is a global stack: no cluster, connector or compute pool to watch", file=sys.stderr)
        scrape = render(scrape_config(None, "", Thresholds()), stack)
        rules = render(alert_rules(None, Thresholds()), stack)
    else:
        if args.outputs:
            outputs, source = recorded_outputs(args.outputs), args.outputs
        else:
            print(f"planning stack {stack} offline: mock ids (pass --outputs for the deployed ones)", file=sys.stderr)
            outputs, source = planned_outputs(stack), f"offline plan of {stack}"
        region = region_settings(settings)
        belonging_to(outputs, stack, region.region, source)
        targets = MonitoringTargets.from_export(outputs[REGION_EXPORTS.monitoring], source)
        api_key = Node(outputs.get(REGION_EXPORTS.metrics_api_key), source, REGION_EXPORTS.metrics_api_key).string(
            API_KEY_ID, "an API key id"
        )
        thresholds = region.monitoring
        scrape = render(scrape_config(targets, api_key, thresholds), stack)
        rules = render(alert_rules(targets, thresholds), stack)
    scrape_file, rules_file = out / f"{stack}-scrape.yml", out / f"{stack}-rules.yml"
    try:
        out.mkdir(parents=True, exist_ok=True)
        # Prometheus reads them; no secret is in them (the key's secret is a file).
        replace_file(scrape_file, scrape, 0o644)
        replace_file(rules_file, rules, 0o644)
    except OSError as error:
        raise ConfigError("--out", "", f"cannot write to {out}: {error.strerror}") from None
    print(f"{scrape_file}: {_jobs(scrape)}")
    print(f"{rules_file}: {_rules(rules)}")
    return 0


def _jobs(scrape: str) -> str:
    jobs = yaml.safe_load(scrape)["scrape_configs"]
    if not jobs:
        return "no scrape job"
    return "; ".join(
        f"job {job['job_name']} scraping {', '.join(v for values in job['params'].values() for v in values)}"
        for job in jobs
    )


def _rules(rules: str) -> str:
    found = [rule for group in yaml.safe_load(rules)["groups"] for rule in group["rules"]]
    alerts = sorted({rule["alert"] for rule in found if "alert" in rule})
    if not found:
        return "no rule group"
    return f"{len(alerts)} alerts ({', '.join(alerts)}), {len(found)} rules"
