"""TLS on the listener: `server.tls: {cert_file, key_file}` (PEM) makes the one port
serve `wss://` and `https://`.

The test makes a throw-away self-signed certificate for 127.0.0.1 (a SAN IP, so
hostname verification really runs) with the `cryptography` package, and every
client here verifies the server against exactly that certificate.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import signal
import socket
import ssl
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pusher.requests import RequestsBackend
from websockets.sync.client import connect as ws_connect

import pusher
from helpers import ENCRYPTION_MASTER_KEY_B64, WS_QUERY, PusherWS, RawWS, unique, wait_until
from test_upgrade import LIVE, assert_switched, read_response, upgrade_head


def make_self_signed(directory, common_name="switchboard-e2e"):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "cert.pem"
    key_file = directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def tls_server(switchboard, tmp_path):
    cert_file, key_file = make_self_signed(tmp_path)
    try:
        srv = switchboard(server={"tls": {"cert_file": str(cert_file), "key_file": str(key_file)}})
    except RuntimeError as e:
        text = str(e)
        if "tls" in text and ("unknown key" in text or "not supported" in text or "unsupported" in text):
            pytest.skip(f"this switchboard build rejects server.tls (TLS unsupported): "
                        f"{[line.strip() for line in text.splitlines() if 'tls' in line and 'tls:' not in line][:1]}")
        raise
    return srv, cert_file


def client_context(cert_file) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(cert_file))
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    return ctx


def wss_connect(srv, cert_file) -> PusherWS:
    ws = ws_connect(f"wss://{srv.host}:{srv.port}/app/app-key?{WS_QUERY}", ssl=client_context(cert_file),
                    open_timeout=5, close_timeout=2, ping_interval=None, proxy=None)
    client = PusherWS(ws, srv, "app-key")
    ev = client.expect("pusher:connection_established")
    client.established = ev
    client.socket_id = ev["data"]["socket_id"]
    return client


def tls_sdk(srv, cert_file) -> pusher.Pusher:
    """The official SDK over https. With ssl=True its requests backend pins `verify`
    to the SDK's own CA bundle (ignoring REQUESTS_CA_BUNDLE), so a backend subclass
    points it at the test certificate instead."""

    class TestCABackend(RequestsBackend):
        def __init__(self, client, **options):
            super().__init__(client, **options)
            self.options["verify"] = str(cert_file)

    app = srv.app("1")
    return pusher.Pusher(app_id="1", key=app["key"], secret=app["secret"], host=srv.host, port=srv.port,
                         ssl=True, timeout=5, encryption_master_key_base64=ENCRYPTION_MASTER_KEY_B64,
                         backend=TestCABackend)


def test_wss_connection_is_established_with_a_verified_certificate(tls_server):
    srv, cert_file = tls_server
    client = wss_connect(srv, cert_file)
    try:
        assert client.socket_id
        client.ping_pong()
    finally:
        client.close()


def test_event_triggered_over_https_with_the_sdk_arrives_over_wss(tls_server):
    srv, cert_file = tls_server
    client = wss_connect(srv, cert_file)
    try:
        channel = unique("tls-")
        client.subscribe_ok(channel)
        assert tls_sdk(srv, cert_file).trigger(channel, "over-tls", {"secure": True}) == {}
        ev = client.expect("over-tls", channel=channel)
        assert ev["data"] == {"secure": True}
    finally:
        client.close()


def test_health_endpoints_answer_over_https(tls_server):
    srv, cert_file = tls_server
    r = requests.get(f"https://{srv.host}:{srv.port}/ready", verify=str(cert_file), timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ready"}, r.text
    r = requests.get(f"https://{srv.host}:{srv.port}/live", verify=str(cert_file), timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "live"}, r.text


def test_client_without_the_certificate_fails_verification(tls_server):
    srv, _ = tls_server
    with pytest.raises(ssl.SSLCertVerificationError):
        ws_connect(f"wss://{srv.host}:{srv.port}/app/app-key?{WS_QUERY}", ssl=ssl.create_default_context(),
                   open_timeout=5, proxy=None)



def test_idle_kept_alive_https_client_does_not_hold_up_shutdown(tls_server):
    """A client keeps its HTTPS connection open after a request and reads nothing, so
    it never answers the server's close_notify: SIGTERM still exits within a second
    (the drain has nothing to close), not after a 5 s close_notify wait."""
    srv, cert_file = tls_server
    with requests.Session() as kept_alive:
        r = kept_alive.get(f"https://{srv.host}:{srv.port}/live", verify=str(cert_file), timeout=5)
        assert r.status_code == 200, r.text
        signalled = time.monotonic()
        srv.proc.terminate()
        assert srv.proc.wait(timeout=10) == 0
        elapsed = time.monotonic() - signalled
    assert elapsed < 1.5, f"exited {elapsed:.2f}s after SIGTERM"


# ---------------------------------------------------------------------------
# Certificate reload on SIGHUP


def test_wss_handshake_on_a_kept_alive_https_connection_is_upgraded(tls_server):
    """An API request, then a WebSocket handshake, on one TLS connection: the upgrade
    path takes the connection back from the HTTP handlers behind the TLS handler."""
    srv, cert_file = tls_server
    sock = client_context(cert_file).wrap_socket(socket.create_connection((srv.host, srv.port), timeout=5),
                                                 server_hostname=srv.host)
    ws = RawWS(sock)
    try:
        sock.sendall(LIVE)
        head, body = read_response(ws)
        assert head.startswith("HTTP/1.1 200 ") and b'"live"' in body, head
        upgrade, key = upgrade_head(srv)
        sock.sendall(upgrade)
        assert_switched(ws, key)
        channel = unique("tls-kept-alive-")
        ws.send_text(f'{{"event":"pusher:subscribe","data":{{"channel":"{channel}"}}}}')
        assert ws.recv_json()["event"] == "pusher_internal:subscription_succeeded"
    finally:
        ws.close()


def served_certificate(srv) -> x509.Certificate:
    """The certificate a new TLS handshake gets (no verification: just look at it)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((srv.host, srv.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            der = tls.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der)


def common_name(cert: x509.Certificate) -> str:
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def wait_served(srv, name: str, timeout: float = 5.0):
    return wait_until(lambda: common_name(served_certificate(srv)) == name, timeout=timeout,
                      what=f"new handshakes to get the certificate {name!r}")


def test_sighup_reloads_the_certificate_for_new_connections_and_keeps_old_ones(switchboard, tmp_path):
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    dir_a.mkdir()
    dir_b.mkdir()
    cert_a, key_a = make_self_signed(dir_a, "cert-a")
    cert_b, key_b = make_self_signed(dir_b, "cert-b")
    live_cert, live_key = tmp_path / "cert.pem", tmp_path / "key.pem"
    live_cert.write_bytes(cert_a.read_bytes())
    live_key.write_bytes(key_a.read_bytes())
    srv = switchboard(server={"tls": {"cert_file": str(live_cert), "key_file": str(live_key)}})

    assert common_name(served_certificate(srv)) == "cert-a"
    old = wss_connect(srv, cert_a)
    try:
        channel = unique("tls-reload-")
        old.subscribe_ok(channel)

        # Renewal: both files replaced, then SIGHUP (what a certbot deploy hook does).
        live_cert.write_bytes(cert_b.read_bytes())
        live_key.write_bytes(key_b.read_bytes())
        mark = srv.stderr_mark()
        os.kill(srv.proc.pid, signal.SIGHUP)
        wait_until(lambda: "TLS certificate reloaded" in srv.stderr_since(mark), what="the reload log line")
        assert srv.alive(), f"switchboard exited with {srv.proc.returncode} on SIGHUP"
        assert common_name(served_certificate(srv)) == "cert-b"

        # A client that trusts only B now verifies; one that trusts only A does not.
        new = wss_connect(srv, cert_b)
        try:
            new.ping_pong()
        finally:
            new.close()
        with pytest.raises(ssl.SSLCertVerificationError):
            wss_connect(srv, cert_a)

        # The connection made with A is untouched and still gets events.
        old.ping_pong()
        assert tls_sdk(srv, cert_b).trigger(channel, "after-reload", {"n": 1}) == {}
        assert old.expect("after-reload", channel=channel)["data"] == {"n": 1}

        # A broken file: the reload fails, is logged at error, and B stays in use.
        live_cert.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n")
        mark = srv.stderr_mark()
        os.kill(srv.proc.pid, signal.SIGHUP)
        log = wait_until(lambda: (lambda t: t if "reload failed" in t else None)(srv.stderr_since(mark)),
                         what="an error log line for the failed reload")
        assert any(" error " in line and "reload failed" in line for line in log.splitlines()), log
        assert srv.alive(), f"switchboard exited with {srv.proc.returncode} on SIGHUP with a broken file"
        assert common_name(served_certificate(srv)) == "cert-b"
        again = wss_connect(srv, cert_b)
        again.ping_pong()
        again.close()
        old.ping_pong()
    finally:
        old.close()


def test_sighup_with_a_key_that_does_not_match_the_certificate_keeps_the_old_pair(switchboard, tmp_path):
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    dir_a.mkdir()
    dir_b.mkdir()
    cert_a, key_a = make_self_signed(dir_a, "cert-a")
    cert_b, _ = make_self_signed(dir_b, "cert-b")
    live_cert, live_key = tmp_path / "cert.pem", tmp_path / "key.pem"
    live_cert.write_bytes(cert_a.read_bytes())
    live_key.write_bytes(key_a.read_bytes())
    srv = switchboard(server={"tls": {"cert_file": str(live_cert), "key_file": str(live_key)}})
    assert common_name(served_certificate(srv)) == "cert-a"

    # Half a renewal: the certificate is new but the key is still A's.
    live_cert.write_bytes(cert_b.read_bytes())
    mark = srv.stderr_mark()
    os.kill(srv.proc.pid, signal.SIGHUP)
    wait_until(lambda: "TLS certificate" in srv.stderr_since(mark), what="a reload log line")
    assert "reload failed" in srv.stderr_since(mark), srv.stderr_since(mark)
    client = wss_connect(srv, cert_a)
    try:
        client.ping_pong()
    finally:
        client.close()


def test_sighup_right_after_start_does_not_stop_the_server(switchboard, tmp_path):
    """A renewal hook may fire while the node is starting: the signal must not take the
    default action (terminate) before the reload service traps it."""
    cert, key = make_self_signed(tmp_path)
    for _ in range(3):
        srv = switchboard(server={"tls": {"cert_file": str(cert), "key_file": str(key)}})
        os.kill(srv.proc.pid, signal.SIGHUP)
        time.sleep(0.3)
        assert srv.alive(), f"switchboard exited with {srv.proc.returncode} on a SIGHUP right after start"
        wss_connect(srv, cert).close()
        srv.stop()


def test_sighup_without_tls_does_not_stop_the_server(switchboard):
    """`systemctl reload` or a shared renewal hook may send SIGHUP to a node without TLS."""
    srv = switchboard()
    os.kill(srv.proc.pid, signal.SIGHUP)
    time.sleep(0.5)
    assert srv.alive(), f"switchboard exited with {srv.proc.returncode} on SIGHUP (no TLS configured)"
    client = PusherWS.connect(srv)
    client.ping_pong()
    client.close()
