"""The policy pack: `pulumi preview --policy-pack policy` (needs the Pulumi CLI). Its version is
PulumiPolicy.yaml's `version` (bump it with every rule change)."""

import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

# The policy host runs this file from policy/: make the project's `policy` package importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy.pack import NAME, POLICIES

PolicyPack(name=NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
