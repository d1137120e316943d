"""The test LDAP directory: Debian's slapd, its own process on a free port, its configuration and
its people (users and groups, loaded with slapadd) made in the test's folder."""

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.deployment import Service, free_port, port_open, run_checked

START_SECONDS = 20
SLAPD, SLAPADD = "/usr/sbin/slapd", "/usr/sbin/slapadd"
BASE = "dc=hospital,dc=example"
PEOPLE = f"ou=people,{BASE}"
ROOT_DN, ROOT_PASSWORD = f"cn=admin,{BASE}", "root-passphrase-8812"
SERVICE_DN, SERVICE_PASSWORD = f"cn=cxr-service,ou=services,{BASE}", "service-passphrase-3307"
CLINICIANS, ADMINS = f"cn=cxr-clinicians,ou=groups,{BASE}", f"cn=cxr-admins,ou=groups,{BASE}"
PASSWORD = "directory-passphrase-7719"
# The directory's people: clinicians, an admin, and a radiographer in a group that gives no role.
GROUPS = {
    CLINICIANS: ["dr.house", "dr.cuddy"],
    ADMINS: ["it.lead"],
    f"cn=radiographers,ou=groups,{BASE}": ["radiographer"],
}


def person_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def directory_ldif() -> str:
    entries = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: St Elsewhere\ndc: hospital",
        *(
            f"dn: ou={unit},{BASE}\nobjectClass: organizationalUnit\nou: {unit}"
            for unit in ("people", "groups", "services")
        ),
        f"dn: {SERVICE_DN}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\n"
        f"cn: cxr-service\nuserPassword: {SERVICE_PASSWORD}",
    ]
    people = sorted({uid for members in GROUPS.values() for uid in members})
    for uid in people:
        given, _, family = uid.partition(".")
        entries.append(
            f"dn: {person_dn(uid)}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\n"
            f"givenName: {given}\nsn: {family or given}\nmail: {uid}@hospital.example\n"
            f"userPassword: {PASSWORD}"
        )
    for group, members in GROUPS.items():
        lines = [f"dn: {group}", "objectClass: groupOfNames", f"cn: {group.split(',')[0][3:]}"]
        entries.append("\n".join([*lines, *(f"member: {person_dn(uid)}" for uid in members)]))
    return "\n\n".join(entries) + "\n"


def make_certificate(folder: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (its own CA: the service trusts it by CXR_LDAP_CA_FILE)."""
    certificate, key = folder / "directory.pem", folder / "directory.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return certificate


def tls_conf(folder: Path) -> str:
    certificate = make_certificate(folder)
    return (
        f"TLSCACertificateFile {certificate}\nTLSCertificateFile {certificate}\n"
        f"TLSCertificateKeyFile {folder / 'directory.key'}\n"
    )


def slapd_conf(folder: Path, *, with_tls: bool) -> str:
    schemas = "\n".join(
        f"include /etc/ldap/schema/{name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")
    )
    # "allow bind_anon_dn": like many directories, this one answers a DN with an empty password as
    # an anonymous bind that succeeds (RFC 4513 §5.1.2): the service must never send one.
    # Authenticated users read the directory; anonymous clients only bind.
    tls = tls_conf(folder) if with_tls else ""
    return f"""{schemas}
{tls}modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {folder}/slapd.pid
allow bind_anon_dn
database mdb
maxsize 10485760
suffix "{BASE}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {folder}/data
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
"""


@dataclass(frozen=True)
class HospitalDirectory:
    url: str
    # With TLS only: the ldaps:// URL (StartTLS is on url) and the certificate to trust.
    ldaps_url: str | None
    certificate: Path | None
    folder: Path
    service: Service

    def modify(self, ldif: str) -> None:
        """Changes the directory as its administrator would (ldapmodify, bound as its root)."""
        (self.folder / "change.ldif").write_text(ldif)
        run_checked(
            [
                "ldapmodify",
                "-x",
                "-H",
                self.url,
                "-D",
                ROOT_DN,
                "-w",
                ROOT_PASSWORD,
                "-f",
                str(self.folder / "change.ldif"),
            ],
            env=os.environ,
            cwd=self.folder,
            seconds=20,
        )

    def stop(self) -> None:
        self.service.stop()


def prepared_slapd(*, folder: Path, urls: list[str], with_tls: bool = False) -> list[str]:
    """Writes the directory's configuration and people into folder; returns the slapd command that
    serves them at urls, in the foreground (-d 0), so that whoever starts it holds the process."""
    if not shutil.which(SLAPD):
        raise RuntimeError("slapd is missing: `make system-packages` installs it (Debian's slapd).")
    (folder / "data").mkdir(parents=True)
    (folder / "slapd.conf").write_text(slapd_conf(folder, with_tls=with_tls))
    (folder / "people.ldif").write_text(directory_ldif())
    run_checked(
        [SLAPADD, "-q", "-f", str(folder / "slapd.conf"), "-l", str(folder / "people.ldif")],
        env=os.environ,
        cwd=folder,
        seconds=30,
    )
    return [SLAPD, "-f", str(folder / "slapd.conf"), "-h", " ".join(f"{url}/" for url in urls), "-d", "0"]


@contextmanager
def hospital_directory(*, folder: Path, with_tls: bool = False) -> Iterator[HospitalDirectory]:
    """The directory on ldap://127.0.0.1; with_tls, StartTLS offered there and ldaps:// beside it."""
    port, tls_port = free_port(), free_port()
    url, ldaps_url = f"ldap://127.0.0.1:{port}", f"ldaps://127.0.0.1:{tls_port}" if with_tls else None
    command = prepared_slapd(
        folder=folder, urls=[url, *([ldaps_url] if ldaps_url else [])], with_tls=with_tls
    )
    service = Service("slapd", command, env=os.environ, cwd=folder, log=folder / "slapd.log")
    try:
        service.wait_for(
            lambda: port_open(port) and (not with_tls or port_open(tls_port)),
            seconds=START_SECONDS,
            what="its ports",
        )
        yield HospitalDirectory(
            url=url,
            ldaps_url=ldaps_url,
            certificate=folder / "directory.pem" if with_tls else None,
            folder=folder,
            service=service,
        )
    finally:
        service.stop()


def service_environment(url: str) -> dict[str, str]:
    """The service's settings for this directory, as environment variables (search mode)."""
    return {
        "CXR_LDAP_URL": url,
        "CXR_LDAP_USER_SEARCH_BASE": PEOPLE,
        "CXR_LDAP_SERVICE_BIND_DN": SERVICE_DN,
        "CXR_LDAP_SERVICE_BIND_PASSWORD": SERVICE_PASSWORD,
        "CXR_LDAP_CLINICIAN_GROUPS": CLINICIANS,
        "CXR_LDAP_ADMIN_GROUPS": ADMINS,
        "E2E_LDAP_USERNAME": "dr.house",
        "E2E_LDAP_NO_ROLE_USERNAME": "radiographer",
        "E2E_LDAP_PASSWORD": PASSWORD,
    }


if __name__ == "__main__":
    # For frontend/e2e/with-backend.sh:
    #   python -m tests.hospital_directory environment PORT   (export lines for the service's settings)
    #   python -m tests.hospital_directory serve FOLDER PORT  (becomes slapd, serving the directory)
    if sys.argv[1] == "environment":
        url = f"ldap://127.0.0.1:{sys.argv[2]}"
        print(
            "\n".join(
                f"export {name}={shlex.quote(value)}" for name, value in service_environment(url).items()
            )
        )
    else:
        command = prepared_slapd(folder=Path(sys.argv[2]), urls=[f"ldap://127.0.0.1:{sys.argv[3]}"])
        os.execv(command[0], command)
