"""A private OpenLDAP server for the directory-sync tests: Debian's ``slapd`` run on loopback
with a generated ``slapd.conf``, its own certificate authority (LDAPS and StartTLS), the
Active Directory attributes loyaute reads by default (sAMAccountName, userPrincipalName,
proxyAddresses, employeeID, department) as a small schema of its own, and a size limit of 500
like a real server's, lifted for paged searches only.

The tree: ``ou=agents`` holds the agents (services, job families, a manager chain, several login
forms each), ``ou=comptes`` the read-only service account loyaute binds as. ``Slapd.add`` and
``Slapd.modify`` change the tree through ``ldapadd``/``ldapmodify`` as the server's root.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SLAPD = Path("/usr/sbin/slapd")
SUFFIX = "dc=lenord,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "root-secret-for-tests"
BIND_DN = f"cn=loyaute,ou=comptes,{SUFFIX}"
BIND_PASSWORD = "lecture seule 2026!"
AGENTS_DN = f"ou=agents,{SUFFIX}"

SCHEMA = """
attributetype ( 1.3.6.1.4.1.4203.666.1.901 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.1.902 NAME 'userPrincipalName'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.1.903 NAME 'proxyAddresses'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.4203.666.1.904 NAME 'employeeID'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.4203.666.1.905 NAME 'department'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.1.910 NAME 'adUser' SUP top AUXILIARY
  MAY ( sAMAccountName $ userPrincipalName $ proxyAddresses $ employeeID $ department ) )
"""


def free_port() -> int:
    """A free TCP port on the loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 and localhost: (ca.pem, server.pem, key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loyaute test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem, cert_pem, key_pem = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key_pem, 0o600)
    return ca_pem, cert_pem, key_pem


@dataclass
class Person:
    """One agent entry of the test tree."""

    agent_id: str
    sam: str
    name: str
    service: str
    family: str
    manager: str = ""  # sAMAccountName of the manager
    extra_mail: str = ""
    base: str = AGENTS_DN

    @property
    def dn(self) -> str:
        return f"cn={self.sam},{self.base}"


def ldif_of(person: Person) -> str:
    """The LDIF entry of an agent: four login forms (sAMAccountName, UPN, mail, proxyAddresses
    with a primary SMTP:, a secondary smtp: and an X500: that is no login)."""
    first, _, last = person.name.partition(" ")
    lines = [
        f"dn: {person.dn}",
        "objectClass: inetOrgPerson",
        "objectClass: adUser",
        f"cn: {person.sam}",
        f"sn: {last or first}",
        f"displayName: {person.name}",
        f"employeeID: {person.agent_id}",
        f"department: {person.service}",
        f"title: {person.family}",
        f"sAMAccountName: {person.sam}",
        f"userPrincipalName: {person.sam}@lenord.local",
        f"mail: {person.sam}@lenord.fr",
        f"proxyAddresses: SMTP:{person.sam}@lenord.fr",
        f"proxyAddresses: X500:/o=LeNord/ou=Exchange/cn=Recipients/cn={person.sam}",
    ]
    if person.extra_mail:
        lines.append(f"proxyAddresses: smtp:{person.extra_mail}")
    if person.manager:
        lines.append(f"manager: cn={person.manager},{person.base}")
    return "\n".join(lines) + "\n"


class Slapd:
    """A running slapd; ``ldap_url`` (StartTLS) and ``ldaps_url`` reach it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ldap_port = free_port()
        self.ldaps_port = free_port()
        self.ca, cert, key = make_ca(folder)
        (folder / "db").mkdir()
        (folder / "ad.schema").write_text(SCHEMA, encoding="utf-8")
        conf = folder / "slapd.conf"
        conf.write_text(
            "\n".join(
                [
                    "include /etc/ldap/schema/core.schema",
                    "include /etc/ldap/schema/cosine.schema",
                    "include /etc/ldap/schema/inetorgperson.schema",
                    f"include {folder / 'ad.schema'}",
                    f"pidfile {folder / 'slapd.pid'}",
                    f"argsfile {folder / 'slapd.args'}",
                    "modulepath /usr/lib/ldap",
                    "moduleload back_mdb",
                    f"TLSCACertificateFile {self.ca}",
                    f"TLSCertificateFile {cert}",
                    f"TLSCertificateKeyFile {key}",
                    # like Active Directory: a plain search stops at the limit, a paged one
                    # reads everything
                    "sizelimit size.soft=500 size.hard=500 size.prtotal=unlimited",
                    "database mdb",
                    f'suffix "{SUFFIX}"',
                    f'rootdn "{ROOT_DN}"',
                    f"rootpw {ROOT_PASSWORD}",
                    f"directory {folder / 'db'}",
                    "maxsize 104857600",
                    "access to attrs=userPassword by anonymous auth by * none",
                    f'access to * by dn.exact="{BIND_DN}" read by * none',
                    "",
                ]
            ),
            encoding="utf-8",
        )
        urls = f"ldap://127.0.0.1:{self.ldap_port}/ ldaps://127.0.0.1:{self.ldaps_port}/"
        self.log = (folder / "slapd.log").open("wb")
        self.process = subprocess.Popen(
            [str(SLAPD), "-f", str(conf), "-h", urls, "-d", "0"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait()
        self.add(
            f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: lenord\n"
            "o: Le Nord\n\n"
            f"dn: ou=comptes,{SUFFIX}\nobjectClass: organizationalUnit\nou: comptes\n\n"
            f"dn: {AGENTS_DN}\nobjectClass: organizationalUnit\nou: agents\n\n"
            f"dn: {BIND_DN}\nobjectClass: person\nobjectClass: simpleSecurityObject\n"
            f"cn: loyaute\nsn: loyaute\nuserPassword: {BIND_PASSWORD}\n"
        )

    @property
    def ldap_url(self) -> str:
        return f"ldap://127.0.0.1:{self.ldap_port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    def _wait(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "slapd stopped: " + (self.folder / "slapd.log").read_text(errors="replace")
                )
            try:
                with socket.create_connection(("127.0.0.1", self.ldap_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not start")

    def _tool(self, tool: str, ldif: str, *options: str) -> None:
        result = subprocess.run(
            [
                shutil.which(tool) or tool,
                "-x",
                "-H",
                self.ldap_url,
                "-D",
                ROOT_DN,
                "-w",
                ROOT_PASSWORD,
                *options,
            ],
            input=ldif.encode("utf-8"),
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool}: {result.stderr.decode(errors='replace')}")

    def add(self, ldif: str) -> None:
        """Add entries (LDIF, blank-line separated)."""
        self._tool("ldapadd", ldif)

    def add_people(self, people: Iterable[Person]) -> None:
        """Add agent entries."""
        self.add("\n".join(ldif_of(p) for p in people))

    def modify(self, ldif: str) -> None:
        """Apply an LDIF change record (changetype: modify / delete / modrdn)."""
        self._tool("ldapmodify", ldif)

    def delete(self, dns: Iterable[str]) -> None:
        """Remove entries."""
        self.modify("".join(f"dn: {dn}\nchangetype: delete\n\n" for dn in dns))

    def stop(self) -> None:
        """Stop the server (by its own process, started here)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
