"""`cdcctl status` and the one Confluent client, as an attacker would use them: credentials reach only the
stack's own Confluent endpoints (https, its region), redirects are never followed, one deadline bounds the
whole command, and every HTTP failure is one line. Refused input: exit 2, one stderr line naming the file
and key, no traceback, nothing sent (a local listener stands in for the foreign host), no secret printed."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cdcctl.commands.status as status_command
from cdcctl.__main__ import main
from cdcctl.confluent_api import ConfluentApi, Credentials, confluent_host
from core.config_node import ConfigError
from tests.helpers import the_one_error_line
from tests.listeners import Listener, foreign_host, tls_server

OUTPUTS = Path(__file__).parent / "data" / "status" / "outputs-prod-east.json"
SECRETS = ("cloud-secret-value", "flink-secret-value", "kafka-secret-value")
KEY = Credentials("KEY", "s3cret")


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for kind, secret in zip(("CLOUD", "FLINK", "KAFKA"), SECRETS, strict=True):
        monkeypatch.setenv(f"CONFLUENT_{kind}_API_KEY", f"{kind}KEY")
        monkeypatch.setenv(f"CONFLUENT_{kind}_API_SECRET", secret)
    monkeypatch.setattr(status_command, "api", None)  # the real client: nothing is recorded


@pytest.fixture
def foreign() -> Iterator[Listener]:
    with foreign_host() as listener:
        yield listener


def tampered(change: Callable[[dict[str, Any], str], None]) -> Callable[[Path, str], str]:
    """An outputs file: the recorded prod-east outputs, changed (given the foreign host's URL)."""

    def write(directory: Path, foreign_url: str) -> str:
        outputs = json.loads(OUTPUTS.read_text())
        change(outputs, foreign_url)
        path = directory / "outputs.json"
        path.write_text(json.dumps(outputs))
        return str(path)

    return write


def raw(content: bytes) -> Callable[[Path, str], str]:
    def write(directory: Path, foreign_url: str) -> str:
        path = directory / "outputs.json"
        path.write_bytes(content)
        return str(path)

    return write


def special(kind: str) -> Callable[[Path, str], str]:
    def make(directory: Path, foreign_url: str) -> str:
        if kind == "fifo":
            os.mkfifo(directory / "fifo")  # no writer: opening it for reading would block
            return str(directory / "fifo")
        if kind == "directory":
            return str(directory)
        return "/dev/zero"

    return make


# (case, outputs file, the one error line after "error: FILE: ")
CASES: list[tuple[str, Callable[[Path, str], str], str]] = [
    (
        "flink-endpoint-foreign-host",
        tampered(lambda o, url: o["monitoring"].__setitem__("flinkRestEndpoint", url)),
        "monitoring.flinkRestEndpoint: 'https://127.0.0.1:",
    ),
    (
        "rest-endpoint-foreign-host",
        tampered(lambda o, url: o.__setitem__("restEndpoint", url)),
        "restEndpoint: 'https://127.0.0.1:",
    ),
    (
        "rest-endpoint-plain-http",
        tampered(lambda o, url: o.__setitem__("restEndpoint", "http://lkc-7x9q2m.us-east-1.aws.confluent.cloud")),
        "restEndpoint: 'http://lkc-7x9q2m.us-east-1.aws.confluent.cloud' is not an https:// endpoint",
    ),
    (
        "rest-endpoint-confluent-suffix-trick",
        tampered(lambda o, url: o.__setitem__("restEndpoint", "https://lkc-1.us-east-1.aws.confluent.cloud.evil.io")),
        "restEndpoint: 'https://lkc-1.us-east-1.aws.confluent.cloud.evil.io' is not an https:// endpoint",
    ),
    (
        "rest-endpoint-user-info",
        tampered(lambda o, url: o.__setitem__("restEndpoint", "https://evil.io@lkc-1.us-east-1.aws.confluent.cloud")),
        "restEndpoint: 'https://evil.io@lkc-1.us-east-1.aws.confluent.cloud' is not an https:// endpoint",
    ),
    (
        "rest-endpoint-other-region",
        tampered(lambda o, url: o.__setitem__("restEndpoint", "https://lkc-1.eu-west-1.aws.confluent.cloud")),
        "restEndpoint: 'https://lkc-1.eu-west-1.aws.confluent.cloud' is not an https:// endpoint of Confluent "
        "Cloud in us-east-1",
    ),
    (
        "flink-endpoint-with-newline",
        tampered(
            lambda o, url: o["monitoring"].__setitem__(
                "flinkRestEndpoint", "https://flink.us-east-1.aws.confluent.cloud\nX-Evil: 1"
            )
        ),
        "monitoring.flinkRestEndpoint: ",
    ),
    (
        "outputs-of-another-stack",
        tampered(lambda o, url: o["monitoring"].__setitem__("stack", "prod-west")),
        "monitoring.stack: these are the outputs of stack 'prod-west', not prod-east",
    ),
    (
        "outputs-of-another-region",
        tampered(lambda o, url: o.__setitem__("region", "us-west-2")),
        "region: 'us-west-2' is not stack prod-east's region us-east-1",
    ),
    ("dev-zero", special("zero"), "--outputs: is not a regular file (a device)"),
    ("fifo-without-writer", special("fifo"), "--outputs: is not a regular file (a FIFO)"),
    ("a-directory", special("directory"), "--outputs: is not a regular file (a directory)"),
    ("deep-nesting", raw(b"[" * 200_000 + b"]" * 200_000), "--outputs: nesting deeper than 64 levels"),
    ("moderately-deep", raw(b'{"a":' * 100 + b"1" + b"}" * 100), "--outputs: nesting deeper than 64 levels"),
    ("not-utf8", raw(b'{"region": "caf\xe9"}'), "--outputs: is not UTF-8 text (byte 0xe9 at offset 15)"),
    ("too-large", raw(b" " * (16 * 2**20 + 1)), "--outputs: is larger than 16 MiB"),
    ("not-json", raw(b"Current stack outputs (3):"), "--outputs: invalid JSON: "),
]


@pytest.mark.parametrize("case, make, error", CASES, ids=[c[0] for c in CASES])
def test_refused_outputs_send_nothing_and_are_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    keys: None,
    foreign: Listener,
    case: str,
    make: Callable[[Path, str], str],
    error: str,
) -> None:
    path = make(tmp_path, foreign.url)
    started = time.monotonic()
    assert main(["status", "--stack", "prod-east", "--outputs", path]) == 2
    line = the_one_error_line(capsys)
    assert line.startswith(f"error: {path}: {error}"), line
    assert not any(secret in line for secret in SECRETS)
    assert "\n" not in line and "\x1b" not in line
    assert time.monotonic() - started < 10  # never blocks (FIFO, /dev/zero)
    time.sleep(0.2)
    assert not foreign.reached


def test_outputs_from_stdin_are_read_bounded(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], keys: None
) -> None:
    class Endless:
        """stdin as /dev/zero would be: never-ending bytes."""

        class buffer:  # the attribute name sys.stdin has
            @staticmethod
            def read(size: int) -> bytes:
                return b"0" * size

    monkeypatch.setattr("sys.stdin", Endless)
    assert main(["status", "--stack", "prod-east", "--outputs", "-"]) == 2
    assert the_one_error_line(capsys) == "error: stdin: --outputs: is larger than 16 MiB"


# --- the allow-list: a pure function of the host name and the stack's region ------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "api.confluent.cloud",
        "flink.us-east-1.aws.confluent.cloud",
        "flink.us-east-1.aws.private.confluent.cloud",
        "flink.dom4e1xk2.us-east-1.aws.confluent.cloud",
        "lkc-7x9q2m.dom4e1xk2.us-east-1.aws.confluent.cloud",
        "lkc-abc123-pr1jy6.us-east-1.aws.confluent.cloud",
        "pkc-00000.us-east-1.aws.confluent.cloud",
        "psrc-y1113.us-east-1.aws.confluent.cloud",
        "lsrc.us-east-1.aws.private.confluent.cloud",
        "lkc-abc123-apfoo123.us-east-1.aws.accesspoint.glb.confluent.cloud",
        "lkc-n02w6-43860.us-east-1.aws.glb.confluent.cloud",
    ],
)
def test_the_stacks_confluent_endpoints_are_allowed(host: str) -> None:
    assert confluent_host(host, "us-east-1")


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "evil.io",
        "confluent.cloud",
        "api.confluent.cloud.evil.io",
        "lkc-1.us-east-1.aws.confluent.cloud.evil.io",
        "lkc-1.us-east-1.aws.confluent.cloudx",
        "lkc-1.us-east-1.aws.evilconfluent.cloud",
        "lkc-1.eu-west-1.aws.confluent.cloud",  # another region: not this stack's
        "lkc-1.us-east-1.gcp.confluent.cloud",  # another cloud
        "a.b.c.us-east-1.aws.confluent.cloud",  # deeper than any documented form
        "evil.io#.us-east-1.aws.confluent.cloud",
        "LKC-1.US-EAST-1.AWS.CONFLUENT.CLOUD",
        "",
    ],
)
def test_other_hosts_are_refused(host: str) -> None:
    assert not confluent_host(host, "us-east-1")


# --- the client against local servers: refused before connecting, and through the test seam ---------------


def local(host: str, region: str) -> bool:
    """The test seam: the local TLS server counts as the stack's endpoint."""
    return host == "127.0.0.1"


def answer_json(code: int, body: dict[str, Any], extra: str = "") -> Callable[[socket.socket, bytes], None]:
    def answer(connection: socket.socket, head: bytes) -> None:
        data = json.dumps(body).encode()
        connection.sendall(
            f"HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n".encode()
            + f"{extra}\r\n".encode()
            + data
        )

    return answer


def test_the_real_allow_list_refuses_a_local_server_before_connecting(foreign: Listener) -> None:
    api = ConfluentApi("us-east-1", 10)
    with pytest.raises(ConfigError, match="refused: not an https endpoint of the stack"):
        api.get(f"{foreign.url}/kafka/v3/clusters/lkc-1/links/x", KEY)
    with pytest.raises(ConfigError):
        api.get("http://flink.us-east-1.aws.confluent.cloud/x", KEY)
    time.sleep(0.2)
    assert not foreign.reached


def test_the_client_sends_basic_auth_over_tls_and_reads_json(tmp_path: Path) -> None:
    with tls_server(tmp_path, answer_json(200, {"ok": True})) as server:
        api = ConfluentApi("us-east-1", 10, allowed_host=local, tls=server.trusting)
        assert api.get(f"{server.url}/ok", KEY) == (200, {"ok": True})
    assert b"Authorization: Basic S0VZOnMzY3JldA==" in server.requests[0]


def test_a_redirect_is_never_followed_and_its_target_receives_nothing(tmp_path: Path, foreign: Listener) -> None:
    plain = f"http://127.0.0.1:{foreign.port}/steal"
    with tls_server(tmp_path, answer_json(302, {}, f"Location: {plain}\r\n")) as server:
        api = ConfluentApi("us-east-1", 10, allowed_host=local, tls=server.trusting)
        code, body = api.get(f"{server.url}/statements/x", KEY)
    assert code == 0
    assert body["message"] == f"redirected (HTTP 302) to '127.0.0.1:{foreign.port}': not followed"
    assert len(server.requests) == 1
    time.sleep(0.2)
    assert not foreign.reached


def garbage(data: bytes) -> Callable[[socket.socket, bytes], None]:
    return lambda connection, head: connection.sendall(data)


def trickle(connection: socket.socket, head: bytes) -> None:
    """Headers a byte at a time, each well within a socket timeout, never ending."""
    connection.sendall(b"HTTP/1.1 200 OK\r\n")
    for _ in range(40):
        connection.sendall(b"X")
        time.sleep(0.25)


@pytest.mark.parametrize(
    "answer, message",
    [
        (garbage(b"HELLO\r\n\r\n"), "a broken HTTP answer (BadStatusLine)"),
        (garbage(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n"), "a broken HTTP answer (LineTooLong)"),
        (garbage(b""), "a broken HTTP answer (RemoteDisconnected)"),
        (trickle, "no answer within the command's deadline of 2 s"),
    ],
    ids=["bad-status-line", "line-too-long", "closed", "trickled-headers"],
)
def test_every_http_failure_is_one_line_within_the_deadline(
    tmp_path: Path, answer: Callable[[socket.socket, bytes], None], message: str
) -> None:
    with tls_server(tmp_path, answer) as server:
        api = ConfluentApi("us-east-1", 2, allowed_host=local, tls=server.trusting, request_timeout_s=1.5)
        started = time.monotonic()
        code, body = api.get(f"{server.url}/x", KEY)
        assert time.monotonic() - started < 4
    assert code == 0 and body["message"] == message


def test_an_untrusted_certificate_is_one_line(tmp_path: Path) -> None:
    with tls_server(tmp_path, answer_json(200, {})) as server:
        code, body = ConfluentApi("us-east-1", 10, allowed_host=local).get(f"{server.url}/x", KEY)
    assert code == 0 and body["message"].startswith("TLS failed: CERTIFICATE_VERIFY_FAILED")


def test_once_the_deadline_has_passed_nothing_more_is_sent(tmp_path: Path) -> None:
    with tls_server(tmp_path, answer_json(200, {})) as server:
        api = ConfluentApi("us-east-1", 0.5, allowed_host=local, tls=server.trusting)
        time.sleep(0.6)
        code, body = api.get(f"{server.url}/x", KEY)
    assert (code, body) == (0, {"message": "not asked: the command's deadline of 0.5 s has passed"})
    assert server.requests == []
