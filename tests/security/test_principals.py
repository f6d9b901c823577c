# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Principal mapping as Kafka sees it: plugins/module_utils/kafka/principals.py against the real thing.

For a table of certificate subjects x ssl.principal.mapping.rules, one JVM (tests/security/java/
PrincipalMapperCheck.java, compiled against the lab's kafka-clients jar) renders each subject with the
JDK's X500Principal.getName() and maps it with Kafka's own SslPrincipalMapper; the collection's Python
must give the same DN string, the same principal name, and an error exactly where Kafka has one.
The subjects are built with cryptography as the collection builds them (pki/core.py build_name) plus
hand-made ones (multi-valued RDNs, DC/UID, non-ASCII, characters that need escaping).

Needs no lab, only the jars: `lab/labctl fetch` (run here; it returns at once when lab/lib holds them).
"""

from __future__ import annotations

import base64
import itertools
import shutil
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from labkit import COLLECTIONS, ensure_collection_link

ensure_collection_link()
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

# pylint: disable=wrong-import-position
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import principals as pr  # noqa: E402
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import build_name  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
JAVA = Path(__file__).resolve().parent / "java" / "PrincipalMapperCheck.java"

SUBJECTS = [
    build_name({"CN": "kafka-1.lab.test"}),
    build_name({"CN": "secure_user", "OU": "clients", "O": "Example Corp", "L": "Munich", "ST": "Bayern", "C": "DE"}),
    build_name({"CN": "insecure_user", "O": "Example"}),
    build_name({"CN": "Duke", "OU": "JavaSoft", "O": "Sun Microsystems", "L": "Santa Clara", "ST": "CA", "C": "US"}),
    build_name({"CN": "with,comma+plus", "O": 'q"uote<a>;#='}),
    build_name({"CN": " lead and trail  "}),
    build_name({"CN": "back\\slash/and/slashes"}),
    build_name({"CN": "Jürgen Ærø", "OU": "Größe"}),
    build_name({"CN": "mail-user", "emailAddress": "ops@example.org"}),
    x509.Name([x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "com"),
               x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "example"),
               x509.NameAttribute(NameOID.USER_ID, "u42"),
               x509.NameAttribute(NameOID.COMMON_NAME, "dc-user")]),
    x509.Name([x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "multi"),
                                               x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "valued")])]),
    x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, "1234"), x509.NameAttribute(NameOID.COMMON_NAME, "sn")]),
]

RULES = [
    pr.DEFAULT_RULES,
    "DEFAULT",
    "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,DEFAULT",
    "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/U,DEFAULT",
    "RULE:^.*[Cc][Nn]=([a-zA-Z0-9._ -]*).*$/$1/L,DEFAULT",
    "RULE:^CN=(.*?),OU=(.*?)$/$1@$3 and $10 and \\$2/,DEFAULT",
    "RULE:^CN=(?<cn>[^,+]+).*$/${cn}/U",
    "RULE:^CN=([^,]+),O=Example$/ex-$1/, RULE:^CN=kafka-([0-9]+)\\..*$/node$1/ ,DEFAULT",
    "RULE:^CN=a\\/b$/x/,RULE:^CN=back.*/x\\/y/",
    "RULE:.*/x/",
    "RULE:^CN=.*$/$1/",                       # no group: Kafka does not escape $1, Java throws
    "RULE:^CN=([^,]*)$/$/,DEFAULT",           # a lone $: Java throws
    "RULE:^(CN=[a-z_]+)(,.*)?$/$1$2$0/",      # a group that takes no part adds nothing; $0 the whole DN
    "RULE:^CN=x$/x/",                         # matches none of them: no rule applies
    "RULE:^CN=([^,]+).*$/$1/Q,DEFAULT",       # not a rule: Kafka refuses the whole value
    "RULE:^1\\.2\\.840\\.113549\\.1\\.9\\.1=#[0-9a-f]+,CN=(.*)$/mail:$1/,DEFAULT",
]


def _python(rules: str, name: x509.Name):
    dn = pr.rfc2253_of_name(name)
    try:
        return dn, "ok", pr.map_dn(pr.parse_rules(rules), dn)
    except pr.PrincipalError as exc:
        return dn, "error", str(exc)


def _jars() -> Path:
    run = subprocess.run([sys.executable, str(REPO / "lab" / "labctl"), "fetch"], capture_output=True, text=True,
                         timeout=1800, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    lib = Path(run.stdout.strip().splitlines()[-1])
    lib = lib if lib.is_absolute() else REPO / lib
    assert list(lib.glob("kafka-clients-*.jar")), "no kafka-clients jar in %s" % lib
    return lib


def test_python_maps_every_subject_as_kafka_does(tmp_path):
    lib = _jars()
    classes = tmp_path / "classes"
    classpath = str(lib / "*")
    subprocess.run(["javac", "-nowarn", "-cp", classpath, "-d", str(classes), str(JAVA)], check=True,
                   capture_output=True, timeout=300)
    cases = list(itertools.product(RULES, SUBJECTS))
    lines = "".join("%s\t%s\n" % (base64.b64encode(rules.encode()).decode(), name.public_bytes().hex())
                    for rules, name in cases)
    run = subprocess.run(["java", "-Xmx128m", "-cp", "%s:%s" % (classes, classpath), "PrincipalMapperCheck"],
                         input=lines, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    answers = run.stdout.splitlines()
    assert len(answers) == len(cases)
    mismatches = []
    statuses = set()
    for (rules, name), answer in zip(cases, answers):
        dn_b64, status, out_b64 = answer.split("\t")
        java = (base64.b64decode(dn_b64).decode(), status, base64.b64decode(out_b64).decode())
        python = _python(rules, name)
        statuses.add(status)
        # Error messages are the JVM's; what must agree is the DN, whether Kafka maps it, and to what.
        if java[:2] != python[:2] or (status == "ok" and java[2] != python[2]):
            mismatches.append("rules %r, subject %s:\n  kafka  %r\n  python %r" % (rules, name.rfc4514_string(),
                                                                                  java, python))
    assert not mismatches, "\n".join(mismatches)
    assert statuses == {"ok", "error"}  # the table holds both kinds
    assert len(cases) == len(RULES) * len(SUBJECTS) >= 150


def test_jvm_is_available():
    """The check above needs a JDK (javac); the lab needs one anyway."""
    assert shutil.which("javac") and shutil.which("java")
