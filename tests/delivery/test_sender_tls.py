"""Sending hits over TLS, as every production upstream is: a real local TLS server, a test CA."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
from pathlib import Path

import pytest

from gateway.delivery.sender import NotSent, VendorSender
from gateway.model.outbound_hits import OutboundHit


def make_ca(
    directory: Path, name: str, names: str = "DNS:localhost,IP:127.0.0.1"
) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for `names` signed by it (openssl, two days)."""
    directory.mkdir()

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    )
    (directory / "san.ext").write_text(f"subjectAltName={names}\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    )
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


@pytest.fixture(params=["DNS:localhost,IP:127.0.0.1"])
async def tls_vendor(request: pytest.FixtureRequest, tmp_path: Path):
    _, certificate, key = make_ca(tmp_path / "vendor-ca", "vendor test CA", request.param)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    received: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await _answer(reader, writer)

    async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while request := await reader.readuntil(b"\r\n\r\n"):
            received.append(request)
            writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    yield port, received, tmp_path / "vendor-ca" / "ca.pem"
    server.close()


def hit(port: int, host: str = "localhost") -> OutboundHit:
    return OutboundHit(
        "tls", "GET", f"https://{host}:{port}/collect?v=2", (("User-Agent", "consent-gateway"),)
    )


async def test_hits_go_over_verified_tls(tls_vendor) -> None:
    port, received, ca = tls_vendor
    sender = VendorSender(tls=ssl.create_default_context(cafile=str(ca)))
    assert (await sender.send(hit(port))).status == 204
    assert (await sender.send(hit(port))).status == 204
    await sender.close()
    assert received[0].startswith(b"GET /collect?v=2 HTTP/1.1\r\nHost: localhost:")


async def test_an_untrusted_certificate_is_refused(tls_vendor, tmp_path: Path) -> None:
    port, received, _ = tls_vendor
    other_ca, _, _ = make_ca(tmp_path / "other-ca", "someone else's CA")
    sender = VendorSender(tls=ssl.create_default_context(cafile=str(other_ca)))
    with pytest.raises(NotSent):
        await sender.send(hit(port))
    assert received == []


@pytest.mark.parametrize("tls_vendor", ["DNS:vendor.example"], indirect=True)
async def test_a_certificate_for_another_host_is_refused(tls_vendor) -> None:
    port, received, ca = tls_vendor  # trusted CA, reachable server, but it proves another name
    sender = VendorSender(tls=ssl.create_default_context(cafile=str(ca)))
    with pytest.raises(NotSent):
        await sender.send(hit(port))
    assert received == []
