"""The test LDAP directory: Debian's slapd, its own process on a free port, its configuration and
its people (users and groups, loaded with slapadd) made in the test's folder."""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

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


def slapd_conf(folder: Path) -> str:
    schemas = "\n".join(
        f"include /etc/ldap/schema/{name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")
    )
    # "allow bind_anon_dn": like many directories, this one answers a DN with an empty password as
    # an anonymous bind that succeeds (RFC 4513 §5.1.2): the service must never send one.
    # Authenticated users read the directory; anonymous clients only bind.
    return f"""{schemas}
modulepath /usr/lib/ldap
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


@contextmanager
def hospital_directory(*, folder: Path) -> Iterator[HospitalDirectory]:
    if not shutil.which(SLAPD):
        raise RuntimeError("slapd is missing: `make system-packages` installs it (Debian's slapd).")
    (folder / "data").mkdir(parents=True)
    (folder / "slapd.conf").write_text(slapd_conf(folder))
    (folder / "people.ldif").write_text(directory_ldif())
    run_checked(
        [SLAPADD, "-q", "-f", str(folder / "slapd.conf"), "-l", str(folder / "people.ldif")],
        env=os.environ,
        cwd=folder,
        seconds=30,
    )
    port = free_port()
    url = f"ldap://127.0.0.1:{port}"
    # -d 0: in the foreground, so the test holds the process it stops.
    service = Service(
        "slapd",
        [SLAPD, "-f", str(folder / "slapd.conf"), "-h", f"{url}/", "-d", "0"],
        env=os.environ,
        cwd=settings.BACKEND_DIR,
        log=folder / "slapd.log",
    )
    try:
        service.wait_for(lambda: port_open(port), seconds=START_SECONDS, what="its port")
        yield HospitalDirectory(url=url, folder=folder, service=service)
    finally:
        service.stop()
