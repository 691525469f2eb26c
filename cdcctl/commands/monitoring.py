"""`cdcctl monitoring --stack NAME --out DIR [--outputs FILE]`: the stack's Prometheus scrape config and
alert rules, written as `DIR/<stack>-scrape.yml` and `DIR/<stack>-rules.yml`.

They are the stack's own exports (`prometheusScrapeConfig`, `prometheusRules`): from a recording of
the deployed stack's outputs with --outputs (real ids), else from its offline plan (mock ids: for review
and `promtool` checks). A global stack runs nothing the Metrics API reports per stack: its files hold
no scrape job and no rule group, and say so on stderr."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from cdcctl.stack_config import stack_settings
from cdcctl.stack_outputs import planned_outputs, recorded_outputs
from core.config_node import ConfigError
from core.region_exports import REGION_EXPORTS
from monitoring.prometheus import alert_rules, render, scrape_config
from monitoring.targets import Thresholds
from settings.model import GlobalStackSettings


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
        scrape = _output(outputs, REGION_EXPORTS.prometheus_scrape_config, source)
        rules = _output(outputs, REGION_EXPORTS.prometheus_rules, source)
    try:
        out.mkdir(parents=True, exist_ok=True)
        scrape_file, rules_file = out / f"{stack}-scrape.yml", out / f"{stack}-rules.yml"
        scrape_file.write_text(scrape, encoding="utf-8")
        rules_file.write_text(rules, encoding="utf-8")
    except OSError as error:
        raise ConfigError("--out", "", f"cannot write to {out}: {error.strerror}") from None
    print(f"{scrape_file}: {_jobs(scrape)}")
    print(f"{rules_file}: {_rules(rules)}")
    return 0


def _output(outputs: dict[str, Any], key: str, source: str) -> str:
    value = outputs.get(key)
    if not isinstance(value, str):
        raise ConfigError(source, key, "no such output: deploy the stack with this version of the program first")
    return value


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
