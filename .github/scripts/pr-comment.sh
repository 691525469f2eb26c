#!/usr/bin/env bash
# Upsert one pull-request comment: the comment whose first line is exactly `<!-- MARKER -->` is edited
# in place, else one is created. Exact markers (`<!-- cdc-platform pulumi preview prod -->`), never a
# heading prefix: prod's marker is no prefix of prod-east's. Only the workflows' own comments
# (github-actions[bot]) are candidates: a person's comment quoting a marker is left alone.
# Usage: pr-comment.sh MARKER BODY_FILE   (env: GH_TOKEN, GITHUB_REPOSITORY, PR_NUMBER)
set -euo pipefail
marker="<!-- $1 -->"
body_file="$2"
[[ "$PR_NUMBER" =~ ^[0-9]+$ ]] || { echo "::error::not a pull request number: $PR_NUMBER"; exit 2; }
body="$(mktemp)"
trap 'rm -f "$body"' EXIT
{ printf '%s\n' "$marker"; head -c 60000 "$body_file"; } > "$body"
existing="$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" \
  --jq ".[] | select(.user.login == \"github-actions[bot]\" and (.body | split(\"\n\")[0] == \"$marker\")) | .id" |
  head -n 1)"
if [ -n "$existing" ]; then
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$existing" -F "body=@$body" > /dev/null
  echo "updated comment $existing ($1)"
else
  gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" -F "body=@$body" > /dev/null
  echo "created a comment ($1)"
fi
