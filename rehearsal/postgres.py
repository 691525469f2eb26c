"""A throw-away PostgreSQL 15 for the rehearsal: loopback only, logical WAL, TLS, removed afterwards.

Not open to other local users: its directory (with the socket) is 0700 and every login, over the
socket too, needs a password (SCRAM); the superuser's is random, held in memory and a 0600 file."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.cdc_source import CdcSettings
from rehearsal.children import service
from rehearsal.errors import EngineError
from rehearsal.loopback import free_port, self_signed_certificate

MIGRATIONS = Path(__file__).resolve().parent.parent / "db" / "migrations"
SUPERUSER = "postgres"


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/15/bin")) or sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not found:
        raise EngineError("PostgreSQL server not installed (Debian package postgresql-15): run `make postgres`")
    return Path(found[-1])


@dataclass
class LocalPostgres:
    """A running server: psql access as the superuser over its private socket directory."""

    bin_dir: Path
    socket_dir: Path
    port: int
    database: str
    superuser_password: str
    certificate: Path  # self-signed: also the CA a verifying client trusts

    def psql(self, *args: str, database: str | None = None) -> str:
        command = [
            str(self.bin_dir / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            database or self.database,
            *args,
        ]
        env = {**os.environ, "PGPASSWORD": self.superuser_password}
        result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if result.returncode != 0:
            raise EngineError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def run_script(self, script: Path) -> None:
        self.psql("-f", str(script))

    def scalar(self, sql: str) -> str:
        return self.psql("-A", "-t", "-c", sql).strip()

    def apply_prerequisites(self, cdc: CdcSettings, cdc_password: str) -> None:
        """The repo's versioned database prerequisites, exactly as operators apply them."""
        self.psql("-c", f'CREATE DATABASE "{cdc.database}"', database="postgres")
        for migration in sorted(MIGRATIONS.glob("V*.sql")):
            self.psql("-v", f"publication={cdc.publication_name}", "-v", f"cdc_user={cdc.user}", "-f", str(migration))
        literal = "'" + cdc_password.replace("'", "''") + "'"
        self.psql("-c", f'ALTER ROLE "{cdc.user}" PASSWORD {literal}')

    def row_changes(self, table: str) -> int:
        """Rows inserted, updated and deleted in `table` so far (each is one change event)."""
        self.scalar("SELECT pg_stat_force_next_flush()")
        return int(
            self.scalar(f"SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relname = '{table}'")
            or 0
        )


@contextmanager
def local_postgres(database: str) -> Iterator[LocalPostgres]:
    """Start PostgreSQL on a free loopback port (as the unprivileged `postgres` user when run as root),
    with wal_level=logical and TLS (self-signed: the connector's sslmode=require applies unchanged)."""
    bin_dir = _bin_dir()
    as_user = ["runuser", "-u", SUPERUSER, "--"] if os.geteuid() == 0 else []
    work = Path(tempfile.mkdtemp(prefix="cdc-rehearsal-pg-"))  # 0700: the socket lives here
    data = work / "data"
    password = secrets.token_urlsafe(24)
    password_file = work / "superuser-password"
    password_file.write_text(password, encoding="utf-8")
    password_file.chmod(0o600)
    try:
        if as_user:
            shutil.chown(work, SUPERUSER)
            shutil.chown(password_file, SUPERUSER)
        _run(
            [
                *as_user,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                f"--pwfile={password_file}",
            ]
        )
        password_file.unlink()
        self_signed_certificate(data / "server.key", data / "server.crt", as_user)
        _run([*as_user, "chmod", "600", str(data / "server.key")])
        port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {work} -c wal_level=logical "
            "-c max_replication_slots=4 -c max_wal_senders=4 -c ssl=on -c fsync=off"
        )
        stop = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]

        def stop_server() -> None:
            # However the block ends (an error, SIGTERM, Ctrl-C); a server already gone is not an error.
            subprocess.run(stop, capture_output=True, check=False)

        # Registered before it starts: a signal while pg_ctl waits for the server must stop it too.
        with service("PostgreSQL", stop_server):
            start = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(work / "log")]
            _run([*start, "-w", "start"])
            yield LocalPostgres(bin_dir, work, port, database, password, data / "server.crt")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise EngineError(
            f"{Path(command[command.index('--') + 1] if '--' in command else command[0]).name} "
            f"failed: {(result.stderr or result.stdout).strip()[-2000:]}"
        )
