#!/usr/bin/env bash
# `pulumi refresh --preview-only --expect-no-changes` of a stack without mirror topics: exit 7 is drift, 0 clean, anything
# else an error. Writes refresh.txt (what the issue quotes) and the step outputs state and exit-code;
# the step itself succeeds so that drift-issue.sh reports first and then decides the run's outcome.
# Mirror topics are never refreshed: a refresh stores a mirror's live status, and one stored during an
# outage (SOURCE_UNAVAILABLE) blocks the provider's failover (infra/cluster_link.py); their status is
# `cdcctl status`'s job. URN globs in --exclude need Pulumi >= 3.158 (the workflows pin 3.272.0); the
# glob is cdcctl/status.py's MIRROR_URNS.
# Usage: drift-refresh.sh STACK   (env: PROJECT, GITHUB_OUTPUT)
set -uo pipefail
stack="$1"
pulumi refresh --preview-only --expect-no-changes --diff --non-interactive \
  --exclude '**kafkaMirrorTopic:KafkaMirrorTopic::**' \
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
