#!/usr/bin/env bash
# shellcheck disable=SC2016  # backticks here are Markdown, not command substitution
# `pulumi preview` of a stack with the policy pack, its output kept as a comment body or a step summary
# whatever the outcome: a policy violation is the preview people most need to read.
# Usage: pulumi-preview.sh STACK OUT_FILE   (env: PROJECT)
set -uo pipefail
stack="$1"
out="$2"
pulumi preview --diff --non-interactive --stack "$PROJECT/$stack" --policy-pack policy > preview.txt 2>&1
code=$?
{
  if [ "$code" = 0 ]; then
    printf '#### `pulumi preview --stack %s` with the policy pack\n\n' "$stack"
  else
    printf '#### `pulumi preview --stack %s` with the policy pack: **failed** (exit %s)\n\n' "$stack" "$code"
  fi
  printf '```text\n'
  tail -c 58000 preview.txt
  printf '```\n'
} >> "$out"
cat preview.txt
exit "$code"
