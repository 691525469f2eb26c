#!/usr/bin/env bash
# The pr-N stacks to sweep: those whose pull request is closed or no longer labelled LABEL (a destroy
# that failed, a workflow run that never came). A stack whose pull request cannot be found is kept.
# Prints a JSON array of stack names (the sweep job's matrix).
# Usage: sweep-list.sh LABEL   (env: GH_TOKEN, GITHUB_REPOSITORY; pulumi logged in)
set -euo pipefail
label="$1"
sweep=()
for stack in $(pulumi stack ls --json | jq -r '.[].name | split("/") | last | select(test("^pr-[0-9]+$"))'); do
  number="${stack#pr-}"
  if ! pr="$(gh pr view "$number" --repo "$GITHUB_REPOSITORY" --json state,labels \
      --jq "[.state, ([.labels[].name] | index(\"$label\") != null)] | @tsv")"; then
    echo "::warning::$stack: pull request $number not found, stack kept" >&2
    continue
  fi
  if [ "$pr" != "$(printf 'OPEN\ttrue')" ]; then
    echo "$stack: pull request $number is ${pr%%$'\t'*}, labelled: ${pr##*$'\t'}: to sweep" >&2
    sweep+=("$stack")
  fi
done
printf '%s\n' "${sweep[@]}" | jq -R . | jq -sc 'map(select(. != ""))'
