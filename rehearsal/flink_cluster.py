"""A Flink session cluster on loopback for `cdcctl local`: a JobManager, a TaskManager and the SQL Gateway,
with the routes submitted to the Gateway's REST API and run by the cluster as one persistent streaming job
(the approach of the seeds' flink-sql-gateway-deployment-notes: a job submitted through the Gateway runs
detached on the session cluster and outlives the Gateway session that submitted it).

Each process is Flink's own start script in the foreground (`start-foreground`: the script execs the JVM,
so the process is the JVM) from the pip distribution's bin/, pointed through FLINK_CONF_DIR, FLINK_LIB_DIR
and FLINK_OPT_DIR at a private directory: a config of free loopback ports, Flink's jars plus the Kafka
connector, and the Gateway jar (.engine-jars/, rehearsal/maven/pom.xml; pip's Flink ships the Gateway's
script but not its jar).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rehearsal.children import die_with_parent, stop_process
from rehearsal.errors import EngineError
from rehearsal.jvm import quick_start_options
from rehearsal.kafka import FLINK_JARS, JARS
from rehearsal.loopback import LOOPBACK, free_port

GATEWAY_JARS = JARS / "flink-gateway"
START_TIMEOUT_S = 300.0  # three JVMs starting on a busy laptop
STATEMENT_TIMEOUT_S = 120.0
# Small enough for a laptop beside Kafka, PostgreSQL and Debezium; the routes' one job needs one slot.
MEMORY = {"jobmanager.memory.process.size": "1024m", "taskmanager.memory.process.size": "1280m"}
CHECKPOINT_INTERVAL = "10s"


def flink_home(engine_python: Path) -> Path:
    """Where the engine virtualenv's pip-installed Flink lives (its bin/, lib/ and conf/)."""
    found = subprocess.run(
        [str(engine_python), "-c", "import os, pyflink; print(os.path.dirname(os.path.abspath(pyflink.__file__)))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        raise EngineError(f"apache-flink not found by {engine_python}: run `make engine`")
    return Path(found.stdout.strip())


def gateway_jar() -> Path:
    jars = sorted(GATEWAY_JARS.glob("flink-sql-gateway-*.jar"))
    if len(jars) != 1:
        raise EngineError(
            f"the Flink SQL Gateway jar (rehearsal/maven/pom.xml) not found in {GATEWAY_JARS}: run `make engine`"
        )
    return jars[0]


def cluster_config(work: Path, rest_port: int, rpc_port: int, gateway_port: int) -> dict[str, str]:
    """Every listener on loopback at a free port (the blob server and the TaskManager's at any free one:
    0); checkpoints in the cluster's directory, so the routing job's Kafka sink commits its records."""
    return {
        "jobmanager.rpc.address": LOOPBACK,
        "jobmanager.rpc.port": str(rpc_port),
        "jobmanager.bind-host": LOOPBACK,
        "taskmanager.host": LOOPBACK,
        "taskmanager.bind-host": LOOPBACK,
        "taskmanager.rpc.port": "0",
        "taskmanager.numberOfTaskSlots": "2",
        "blob.server.port": "0",
        "rest.address": LOOPBACK,
        "rest.bind-address": LOOPBACK,
        "rest.port": str(rest_port),
        "sql-gateway.endpoint.rest.address": LOOPBACK,
        "sql-gateway.endpoint.rest.bind-address": LOOPBACK,
        "sql-gateway.endpoint.rest.port": str(gateway_port),
        "execution.target": "remote",
        "parallelism.default": "1",
        "execution.checkpointing.interval": CHECKPOINT_INTERVAL,
        "execution.checkpointing.dir": (work / "checkpoints").as_uri(),
        "io.tmp.dirs": str(work / "tmp"),
        "env.log.dir": str(work / "log"),
        "env.pid.dir": str(work),
        **MEMORY,
    }


@dataclass(frozen=True)
class FlinkSessionCluster:
    rest: str  # the JobManager's REST API (and web UI)
    gateway: str  # the SQL Gateway's REST API
    processes: dict[str, subprocess.Popen[bytes]]

    def submit(self, statements: Sequence[str]) -> str:
        """Run `statements` in one Gateway session (the tables, then the statement set); returns the id of
        the job the last one started. The session is closed after: the job runs on."""
        session = _request(f"{self.gateway}/v1/sessions", {"sessionName": "cdc-local-routes"})["sessionHandle"]
        try:
            result: dict[str, Any] = {}
            for statement in statements:
                result = self._execute(session, statement)
        finally:
            _request(f"{self.gateway}/v1/sessions/{session}", method="DELETE")
        rows = result.get("results", {}).get("data", [])
        if not rows:
            raise EngineError("the SQL Gateway started no job for the statement set")
        return str(rows[0]["fields"][0])

    def _execute(self, session: str, statement: str) -> dict[str, Any]:
        base = f"{self.gateway}/v1/sessions/{session}"
        operation = _request(f"{base}/statements", {"statement": statement})["operationHandle"]
        deadline = time.monotonic() + STATEMENT_TIMEOUT_S
        while True:
            status = _request(f"{base}/operations/{operation}/status")["status"]
            if status == "FINISHED":
                return dict(_request(f"{base}/operations/{operation}/result/0?rowFormat=JSON"))
            if status in ("ERROR", "CANCELED", "CLOSED", "TIMEOUT"):
                _request(f"{base}/operations/{operation}/result/0?rowFormat=JSON")  # raises with the reason
                raise EngineError(f"the SQL Gateway ended a statement {status}: {statement[:200]}")
            if time.monotonic() > deadline:
                raise EngineError(f"the SQL Gateway did not finish a statement in {STATEMENT_TIMEOUT_S:.0f} s")
            time.sleep(0.2)


@contextmanager
def flink_session_cluster(home: Path, work: Path) -> Iterator[FlinkSessionCluster]:
    """Start the JobManager, the TaskManager and the SQL Gateway in `work` (created here, removed after),
    each dying with the process that started it; stop them (Gateway first) whatever ends the block.
    Ready once the TaskManager's slots are registered and the Gateway answers."""
    gateway = gateway_jar()
    commands = {
        "flink-jobmanager": ["jobmanager.sh", "start-foreground"],
        "flink-taskmanager": ["taskmanager.sh", "start-foreground"],
        "flink-sql-gateway": ["sql-gateway.sh", "start-foreground"],
    }
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)  # also when setting it up fails
        for name in ("conf", "lib", "opt", "log", "tmp", "checkpoints"):
            (work / name).mkdir(parents=True, mode=0o700)
        for jar in [*sorted((home / "lib").glob("*.jar")), *sorted(FLINK_JARS.glob("*.jar"))]:
            (work / "lib" / jar.name).symlink_to(jar)
        (work / "opt" / gateway.name).symlink_to(gateway)
        for log_config in ("log4j-console.properties", "logback-console.xml"):
            shutil.copy(home / "conf" / log_config, work / "conf")
        rest_port, rpc_port, gateway_port = free_port(), free_port(), free_port()
        config = {**_java_options(home), **cluster_config(work, rest_port, rpc_port, gateway_port)}
        (work / "conf/config.yaml").write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in config.items()))
        env = {
            **_inherited_env(),
            "FLINK_CONF_DIR": str(work / "conf"),
            "FLINK_LIB_DIR": str(work / "lib"),
            "FLINK_OPT_DIR": str(work / "opt"),
            # Flink's scripts put JVM_ARGS on every java command line they run (bin/config.sh, flink-console.sh).
            "JVM_ARGS": " ".join(quick_start_options()),
        }
        rest, gateway_url = f"http://{LOOPBACK}:{rest_port}", f"http://{LOOPBACK}:{gateway_port}"
        processes: dict[str, subprocess.Popen[bytes]] = {}
        for name, (script, *args) in commands.items():
            log = stack.enter_context((work / "log" / f"{name}.out").open("wb"))
            processes[name] = subprocess.Popen(
                ["bash", str(home / "bin" / script), *args],
                env=env,
                cwd=work,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=die_with_parent,
            )
            stack.callback(stop_process, processes[name])
        _wait_until(lambda: _request(f"{rest}/overview")["slots-available"] > 0, processes, work)
        _wait_until(lambda: bool(_request(f"{gateway_url}/v1/info")), processes, work)
        yield FlinkSessionCluster(rest, gateway_url, processes)


def job_state(rest: str, job: str) -> str:
    """The job's state (RUNNING, RESTARTING, FAILED, ...) as the JobManager reports it, or UNREACHABLE."""
    try:
        return str(_request(f"{rest}/jobs/{job}")["state"])
    except (EngineError, OSError, KeyError, ValueError):
        return "UNREACHABLE"


def _java_options(home: Path) -> dict[str, str]:
    """The distribution's JVM options (the --add-opens Flink needs on Java 17), from its own config."""
    for line in (home / "conf/config.yaml").read_text().splitlines():
        if line.strip().startswith("all: --add-exports"):
            return {"env.java.opts.all": line.split("all:", 1)[1].strip()}
    return {}


def _inherited_env() -> dict[str, str]:
    """This process's environment without FLINK_* settings that would point the scripts elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FLINK_")}


def _wait_until(ready: Callable[[], bool], processes: dict[str, subprocess.Popen[bytes]], work: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                raise EngineError(f"{name} exited (code {process.returncode}):\n{_tail(work, name)}")
        try:
            if ready():
                return
        except (EngineError, OSError):
            pass
        if time.monotonic() > deadline:
            raise EngineError(f"the Flink session cluster did not start in {START_TIMEOUT_S:.0f} s")
        time.sleep(0.3)


def _tail(work: Path, name: str) -> str:
    logs = sorted((work / "log").glob(f"*{name.removeprefix('flink-')}*"))
    text = "".join(log.read_text(encoding="utf-8", errors="replace") for log in logs)
    return text[text.find("ERROR") :][:3000] if "ERROR" in text else text[-3000:]


def _request(url: str, body: dict[str, Any] | None = None, method: str | None = None) -> Any:
    """One JSON call to a loopback REST API; a Flink error reply raises EngineError with Flink's reason."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"))
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as failure:
        errors = json.loads(failure.read().decode() or "{}").get("errors", [])
        raise EngineError(f"Flink: {_root_cause(errors)}") from None
    return json.loads(text) if text else {}


def _root_cause(errors: list[Any]) -> str:
    """The deepest cause of a Flink REST error (its replies hold whole Java stack traces), without the
    exception's class name: "Object 'nowhere' not found"."""
    lines = [line.strip() for error in errors for line in str(error).splitlines()]
    causes = [line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused by: ")]
    deepest = (causes or lines or ["no reason given"])[-1]
    return re.sub(r"^([\w$]+\.)+[\w$]+: ", "", deepest)[:500]
