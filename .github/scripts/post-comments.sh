#!/usr/bin/env bash
# Post the comment bodies an unprivileged pull-request run left (preview-comment.yml, after `preview`
# completed): the artifact is data from untrusted code, so the number it names must be an open pull
# request whose head is the very commit that run checked out, and each body is posted under its own
# file's name as marker, never executed.
# Usage: post-comments.sh DIR   (env: GH_TOKEN, GITHUB_REPOSITORY, HEAD_SHA)
set -euo pipefail
dir="$1"
PR_NUMBER="$(head -c 20 "$dir/pr-number" | tr -d '[:space:]')"
[[ "$PR_NUMBER" =~ ^[0-9]+$ ]] || { echo "::error::the artifact names no pull request number"; exit 2; }
head="$(gh api "repos/$GITHUB_REPOSITORY/pulls/$PR_NUMBER" --jq .head.sha)"
if [ "$head" != "$HEAD_SHA" ]; then
  echo "::notice::pull request $PR_NUMBER is at $head now, not $HEAD_SHA: a newer run comments"
  exit 0
fi
export PR_NUMBER
for body in "$dir"/*.md; do
  [ -e "$body" ] || continue
  name="$(basename "$body" .md)"
  [[ "$name" =~ ^cdc-platform\ [a-z0-9\ -]+$ ]] || { echo "::warning::skipped $name"; continue; }
  "$(dirname "$0")/pr-comment.sh" "$name" "$body"
done
