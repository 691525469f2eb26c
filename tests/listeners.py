"""Local stand-ins for hosts on the network, on loopback: a foreign host that must receive nothing, and
TLS servers that answer as a Confluent endpoint would (or as a hostile one does)."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rehearsal.loopback import self_signed_certificate


@dataclass
class Listener:
    """A TCP port that records every connection and byte it receives, answering nothing."""

    port: int
    connections: int = 0
    received: bytearray = field(default_factory=bytearray)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def reached(self) -> bool:
        return self.connections > 0 or bool(self.received)


@contextmanager
def foreign_host() -> Iterator[Listener]:
    """A host that is not the stack's: a test asserts it was never reached."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    listener = Listener(server.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            listener.connections += 1
            connection.settimeout(0.5)
            try:
                while chunk := connection.recv(65536):
                    listener.received += chunk
            except OSError:
                pass
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


@dataclass
class TlsServer:
    port: int
    requests: list[bytes]
    trusting: ssl.SSLContext  # a client context that trusts this server's certificate

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


@contextmanager
def tls_server(directory: Path, answer: Callable[[socket.socket, bytes], None]) -> Iterator[TlsServer]:
    """A TLS server on loopback: each connection's request head is recorded, then `answer` writes
    whatever the test wants (a good answer, a redirect, garbage, a trickle)."""
    cert, key = directory / "server.crt", directory / "server.key"
    self_signed_certificate(key, cert)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    requests: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = server.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(raw, server_side=True) as connection:
                    connection.settimeout(5)
                    head = b""
                    while b"\r\n\r\n" not in head:
                        chunk = connection.recv(65536)
                        if not chunk:
                            break
                        head += chunk
                    requests.append(head)
                    answer(connection, head)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    trusting = ssl.create_default_context(cafile=str(cert))
    try:
        yield TlsServer(server.getsockname()[1], requests, trusting)
    finally:
        stop.set()
        thread.join(timeout=10)
        server.close()
