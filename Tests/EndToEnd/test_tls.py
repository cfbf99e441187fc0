"""TLS on the listener: `server.tls: {cert_file, key_file}` (PEM) makes the one port
serve `wss://` and `https://`.

The test makes a throw-away self-signed certificate for 127.0.0.1 (a SAN IP, so
hostname verification really runs) with the `cryptography` package, and every
client here verifies the server against exactly that certificate.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pusher.requests import RequestsBackend
from websockets.sync.client import connect as ws_connect

import pusher
from helpers import ENCRYPTION_MASTER_KEY_B64, PusherWS, unique

WS_QUERY = "protocol=7&client=js&version=8.4.0&flash=false"


def make_self_signed(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "switchboard-e2e")])
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

