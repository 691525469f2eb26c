#!/usr/bin/env bash
# shellcheck disable=SC2016  # backticks here are Markdown, not command substitution
# `cdcctl routes diff` against the base branch as a comment body in comments/ (also when it fails).
# Usage: routes-diff.sh BASE_REF
set -uo pipefail
mkdir -p comments
.venv/bin/python -m cdcctl routes diff --base "$1" > routes-diff.txt 2> routes-diff.err
code=$?
[ "$code" = 0 ] || tail -n 20 routes-diff.err >> routes-diff.txt
{
  printf '#### `cdcctl routes diff` against `%s`%s\n\n```text\n' "$1" "$([ "$code" = 0 ] || echo " (failed, exit $code)")"
  cat routes-diff.txt
  printf '```\n'
} > "comments/cdc-platform routes diff.md"
exit "$code"
