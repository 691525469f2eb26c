"""Observability as code: what a region stack runs, by id, and the Prometheus scrape config and alert
rules for Confluent's Metrics API export endpoint built from it. Pure Python (pyyaml only): the
program renders them into stack outputs, `cdcctl monitoring` writes them, `cdcctl status` reads the ids."""
