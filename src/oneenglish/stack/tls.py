"""The local stack's certificate authority and the server certificate both databases present.

Made with `cryptography` on first start, under DATA_DIR/tls: a CA that signs one server
certificate for `localhost` and 127.0.0.1 (the only address the stack listens on). The CA's key
never leaves that folder; the applications trust the CA certificate and verify the host name,
so a certificate issued for another host, or by another CA, is refused. A server certificate
that expires within a month is replaced on the next start.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = datetime.timedelta(days=3650)
SERVER_VALIDITY = datetime.timedelta(days=397)
RENEW_BEFORE = datetime.timedelta(days=30)
SERVER_NAMES = ("localhost",)
SERVER_ADDRESSES = ("127.0.0.1",)


@dataclass(frozen=True)
class LocalTLS:
    """Where the files are; `ensure()` makes whatever is missing or about to expire."""

    root: Path

    @property
    def ca_file(self) -> Path:
        return self.root / "ca.pem"

    @property
    def ca_key_file(self) -> Path:
        return self.root / "ca-key.pem"

    @property
    def cert_file(self) -> Path:
        return self.root / "server.pem"

    @property
    def key_file(self) -> Path:
        return self.root / "server-key.pem"

    def ensure(self) -> bool:
        """Create the CA and the server certificate if needed; True when something was made."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        made = False
        if not (self.ca_file.exists() and self.ca_key_file.exists()):
            _write_ca(self)
            made = True
        if made or _expires_soon(self.cert_file) or not self.key_file.exists():
            _write_server_certificate(self, SERVER_NAMES, SERVER_ADDRESSES)
            made = True
        return made

    def issue(
        self, cert_file: Path, key_file: Path, names: tuple[str, ...], addresses: tuple[str, ...]
    ) -> None:
        """A certificate signed by this CA for other names (tests: a certificate for the wrong
        host must fail verification)."""
        _write_leaf(self, cert_file, key_file, names, addresses)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    path.chmod(0o600)


def _write_ca(tls: LocalTLS) -> None:
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OneEnglish local stack CA")])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(tls.ca_key_file, key)
    tls.ca_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _write_server_certificate(
    tls: LocalTLS, names: tuple[str, ...], addresses: tuple[str, ...]
) -> None:
    _write_leaf(tls, tls.cert_file, tls.key_file, names, addresses)


def _write_leaf(
    tls: LocalTLS,
    cert_file: Path,
    key_file: Path,
    names: tuple[str, ...],
    addresses: tuple[str, ...],
) -> None:
    ca_cert = x509.load_pem_x509_certificate(tls.ca_file.read_bytes())
    ca_key = serialization.load_pem_private_key(tls.ca_key_file.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = _new_key()
    now = _now()
    alternatives: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alternatives += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + SERVER_VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(key_file, key)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _expires_soon(cert_file: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except (FileNotFoundError, ValueError):
        return True
    return cert.not_valid_after_utc - _now() < RENEW_BEFORE
