#!/usr/bin/env bash
# Log the Pulumi CLI in with a short-lived token from Pulumi Cloud's OIDC token exchange: the job's
# GitHub OIDC token (audience urn:pulumi:org:ORG) for a team token (scope team:TEAM), so no long-lived
# PULUMI_ACCESS_TOKEN exists anywhere. The team decides what the token may do (read-only for previews
# and drift, update for deploys). Needs `permissions: id-token: write`. On an ephemeral runner the
# credentials file the CLI writes dies with the runner.
# Usage: pulumi-login.sh   (env: PULUMI_ORG, PULUMI_TEAM, ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN)
set -euo pipefail
id_token="$(curl -sSf -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
  "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=urn:pulumi:org:$PULUMI_ORG" | jq -r .value)"
token="$(curl -sSf -X POST https://api.pulumi.com/api/oauth/token \
  --data-urlencode "audience=urn:pulumi:org:$PULUMI_ORG" \
  --data-urlencode "grant_type=urn:ietf:params:oauth:grant-type:token-exchange" \
  --data-urlencode "subject_token_type=urn:ietf:params:oauth:token-type:id_token" \
  --data-urlencode "requested_token_type=urn:pulumi:token-type:access_token:team" \
  --data-urlencode "scope=team:$PULUMI_TEAM" \
  --data-urlencode "expiration=7200" \
  --data-urlencode "subject_token=$id_token" | jq -r .access_token)"
echo "::add-mask::$token"
PULUMI_ACCESS_TOKEN="$token" pulumi login --non-interactive > /dev/null
echo "logged in to Pulumi Cloud as team $PULUMI_TEAM of $PULUMI_ORG (OIDC, 2 h)"
