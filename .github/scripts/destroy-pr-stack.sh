#!/usr/bin/env bash
# Destroy and remove a pr-N stack (its config as last deployed: a fresh checkout has no
# Pulumi.pr-N.yaml), then drop its replication slot on the shared dev database when the database runs
# (a stopped cluster writes no WAL: the nightly sweep drops it on a night it runs). The slot is dropped
# by the environment's slot role (rds_replication), never the master user.
# Usage: destroy-pr-stack.sh STACK   (env: PROJECT, DEV_CLUSTER, PG* of the slot role)
set -euo pipefail
stack="$1"
if ! pulumi stack select "$PROJECT/$stack" 2>/dev/null; then
  echo "no stack $stack: nothing to destroy"
  exit 0
fi
pulumi config refresh --force --stack "$PROJECT/$stack" || true
pulumi destroy --yes --non-interactive --remove --stack "$PROJECT/$stack"
status="$(aws rds describe-db-clusters --db-cluster-identifier "$DEV_CLUSTER" \
  --query 'DBClusters[0].Status' --output text)"
if [ "$status" != available ]; then
  echo "::notice::$DEV_CLUSTER is $status: slot of $stack left to ephemeral-sweep"
  exit 0
fi
.venv/bin/python -m cdcctl slots drop --stack "$stack"
