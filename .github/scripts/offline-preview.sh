#!/usr/bin/env bash
# shellcheck disable=SC2016  # backticks here are Markdown, not command substitution
# The credential-free first review of a pull request: `cdcctl preview` of each stack against the base
# branch, one comment body per stack in comments/, the pull request's number beside them. Runs the
# pull request's code with no secret and no write token; preview-comment.yml posts the bodies.
# Usage: offline-preview.sh BASE_REF STACK...   (env: PR_NUMBER)
set -uo pipefail
base="$1"
shift
mkdir -p comments
printf '%s\n' "$PR_NUMBER" > comments/pr-number
failed=0
for stack in "$@"; do
  .venv/bin/python -m cdcctl preview --stack "$stack" --base "$base" --fail-on-replace > preview.txt 2> preview.err
  code=$?
  case "$code" in
    0) verdict="nothing protected or stateful is replaced or deleted" ;;
    3) verdict="**protected or stateful resources are replaced or deleted** (see FLAGGED)"
       echo "::warning title=cdcctl preview $stack::protected or stateful resources replaced or deleted" ;;
    *) verdict="**the preview failed** (exit $code)"; failed=1
       tail -n 20 preview.err >> preview.txt ;;
  esac
  {
    printf '#### `cdcctl preview --stack %s` (offline, no credentials): %s\n\n' "$stack" "$verdict"
    printf '```text\n'
    cat preview.txt
    printf '```\n'
  } > "comments/cdc-platform offline preview $stack.md"
done
exit "$failed"
