#!/usr/bin/env bash
# shellcheck disable=SC2016  # backticks here are Markdown, not command substitution
# The stack's drift issue "Drift: STACK": opened (or commented on) on drift and on any failure, closed by
# a clean run; then the run's outcome: an error, a job that failed before the check ran (STATE empty:
# the runner, the OIDC trust, the install), and drift when FAIL_ON_DRIFT is true fail the run.
# Usage: drift-issue.sh STACK   (env: STATE, EXIT_CODE, FAIL_ON_DRIFT, RUN_URL, GH_TOKEN, GITHUB_REPOSITORY)
set -euo pipefail
stack="$1"
title="Drift: $stack"
existing="$(gh issue list --repo "$GITHUB_REPOSITORY" --state open --label drift --limit 100 \
  --json number,title --jq ".[] | select(.title == \"$title\") | .number" | head -n 1)"
body="$(mktemp)"
trap 'rm -f "$body"' EXIT
case "${STATE:-}" in
  clean)
    if [ -n "$existing" ]; then
      gh issue close "$existing" --repo "$GITHUB_REPOSITORY" --comment "No drift in $RUN_URL: closing."
    fi
    exit 0 ;;
  drift) what='differs from its last deployment (`pulumi refresh --preview-only --expect-no-changes` without mirror topics exited 7)' ;;
  error) what="could not be checked (\`pulumi refresh --preview-only\` without mirror topics exited ${EXIT_CODE:-?})" ;;
  *) what='could not be checked: the job failed before the refresh ran (runner, OIDC trust, install: see the run)' ;;
esac
{
  printf 'Stack `%s` %s in %s.\n\n' "$stack" "$what" "$RUN_URL"
  if [ -f refresh.txt ]; then
    printf '```text\n'
    tail -c 60000 refresh.txt
    printf '```\n'
  fi
} > "$body"
if [ -n "$existing" ]; then
  gh issue comment "$existing" --repo "$GITHUB_REPOSITORY" --body-file "$body"
else
  gh issue create --repo "$GITHUB_REPOSITORY" --title "$title" --label drift --body-file "$body"
fi
if [ "${STATE:-}" = drift ] && [ "${FAIL_ON_DRIFT:-false}" != true ]; then
  exit 0
fi
exit 1
