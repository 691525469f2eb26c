#!/usr/bin/env bash
# `pulumi refresh --preview-only --expect-no-changes` of a stack: exit 7 is drift, 0 clean, anything
# else an error. Writes refresh.txt (what the issue quotes) and the step outputs state and exit-code;
# the step itself succeeds so that drift-issue.sh reports first and then decides the run's outcome.
# Usage: drift-refresh.sh STACK   (env: PROJECT, GITHUB_OUTPUT)
set -uo pipefail
stack="$1"
pulumi refresh --preview-only --expect-no-changes --diff --non-interactive \
  --stack "$PROJECT/$stack" > refresh.txt 2>&1
code=$?
cat refresh.txt
case "$code" in
  0) state=clean ;;
  7) state=drift; echo "::warning title=Drift in $stack::resources differ from the last deployment" ;;
  *) state=error ;;
esac
echo "state=$state" >> "$GITHUB_OUTPUT"
echo "exit-code=$code" >> "$GITHUB_OUTPUT"
