# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/kafka/principals.py: Kafka's ssl.principal.mapping.rules, DNs as the JDK prints
them, super.users and the impersonation check, table by table.

The expected values here are Kafka's documented behaviour (SslPrincipalMapper and its unit test
SslPrincipalMapperTest); tests/security/test_principals.py runs Kafka's own SslPrincipalMapper and
the JDK's X500Principal on the same kind of table and compares.
"""

from __future__ import annotations

import pytest

from cryptography import x509
from cryptography.x509.oid import NameOID

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import principals as pr
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import build_name

NODES = pr.node_identities([{"host": "kafka-%d.lab.test" % n} for n in (1, 2, 3)])


# ------------------------------------------------------------------------------- parsing

@pytest.mark.parametrize("text, rules", [
    ("DEFAULT", ["DEFAULT"]),
    (None, ["DEFAULT"]),
    ("  DEFAULT  ", ["DEFAULT"]),
    (pr.DEFAULT_RULES, ["RULE:^CN=([^,]+).*$/$1", "DEFAULT"]),
    ("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,DEFAULT", ["RULE:^CN=(.*?),OU=ServiceUsers.*$/$1", "DEFAULT"]),
    ("RULE:^CN=(.*),O=(.*)$/$1@$2/L,  RULE:^.*$/x/U ,DEFAULT",
     ["RULE:^CN=(.*),O=(.*)$/$1@$2/L", "RULE:^.*$/x/U", "DEFAULT"]),
    # a '/' inside a pattern or replacement is escaped; the escape stays (Java's regex reads \/ as /)
    (r"RULE:^CN=a\/b$/x\/y/", [r"RULE:^CN=a\/b$/x\/y"]),
    # the pattern may hold commas: the splitter keeps the rule whole
    ("RULE:^CN=([^,]+),OU=x,O=y$/$1/", ["RULE:^CN=([^,]+),OU=x,O=y$/$1"]),
    ("", []),
    ("DEFAULT,,DEFAULT", ["DEFAULT", "DEFAULT"]),
])
def test_rules_parse_as_kafka_splits_them(text, rules):
    assert [str(rule) for rule in pr.parse_rules(text)] == rules


@pytest.mark.parametrize("text, message", [
    ("RULE:a/b/Lxyz", "unmatched substring: `xyz`"),
    ("RULE:a/b/X", "unmatched substring: `X`"),
    ("RULE:^CN=(.*)$/$1", "unmatched substring"),
    ("DEFAULTS", "unmatched substring"),
    ("rule:^(.*)$/$1/", "unmatched substring"),
])
def test_rules_kafka_refuses_are_refused(text, message):
    with pytest.raises(pr.PrincipalError, match=message.replace("`", ".")):
        pr.parse_rules(text)


@pytest.mark.parametrize("value, fragment", [
    ("", "must be Kafka's ssl.principal.mapping.rules"),
    ([], "must be Kafka's ssl.principal.mapping.rules"),
    (7, "must be Kafka's ssl.principal.mapping.rules"),
    ("RULE:^CN=(.*)$/$1", "unmatched substring"),
    ("RULE:^CN=(.*$/$1/", "not a valid regular expression"),
    (r"RULE:^CN=(\p{Lu}+)$/$1/", "Java regular-expression syntax"),
    ("RULE:^CN=(?P<n>.*)$/$1/", "Java regular-expression syntax"),
    ("RULE:^CN=(.*)$/$/", "group index is missing"),
    ("RULE:^CN=(.*)$/${nope}/", "No group with name {nope}"),
    ("RULE:^CN=.*$/$1/", "No group 1"),  # no group at all: Kafka does not escape, Java throws
    ("RULE:^CN=(.*)$/x\\/", "unmatched substring"),
    ("RULE:^CN=(.*)$/$1/,\nDEFAULT", "control characters"),
])
def test_rules_problems_name_the_variable_and_the_reason(value, fragment):
    problems = pr.rules_problems(value)
    assert len(problems) == 1, problems
    variable, message = problems[0]
    assert variable == "kafkasec_ssl_principal_mapping_rules"
    assert variable in message and fragment in message, message


@pytest.mark.parametrize("value", [pr.DEFAULT_RULES, "DEFAULT", ["RULE:^CN=(.*?),OU=.*$/$1/", "DEFAULT"],
                                   "RULE:^CN=(?<cn>[^,]+).*$/${cn}/L,DEFAULT", "RULE:^CN=(.*)$/$2/"])
def test_good_rules_have_no_problems(value):
    assert pr.rules_problems(value) == []


# ------------------------------------------------------------------------------- mapping

@pytest.mark.parametrize("rules, dn, name", [
    (pr.DEFAULT_RULES, "CN=secure_user,OU=clients,O=example", "secure_user"),
    (pr.DEFAULT_RULES, "CN=kafka-1.lab.test", "kafka-1.lab.test"),
    (pr.DEFAULT_RULES, "OU=clients,CN=x", "OU=clients,CN=x"),  # CN not first: DEFAULT, the whole DN
    ("DEFAULT", "CN=a,O=b", "CN=a,O=b"),
    # SslPrincipalMapperTest's table
    ("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,DEFAULT", "CN=kafka-server,OU=ServiceUsers,O=Org,C=US", "kafka-server"),
    ("RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,DEFAULT",
     "CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Santa Clara,ST=CA,C=US", "duke@javasoft"),
    ("RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/U,DEFAULT",
     "CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Santa Clara,ST=CA,C=US", "DUKE@JAVASOFT"),
    ("RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,DEFAULT", "CN=Duke,OU=JavaSoft,O=Sun Microsystems", "duke"),
    ("RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U,DEFAULT", "cn=duke,ou=JavaSoft,dc=example,dc=com",
     "DUKE@JAVASOFT"),
    # back references to groups the pattern lacks stay literal (escapeLiteralBackReferences)
    ("RULE:^CN=(.*?),OU=(.*?)$/$1@$3/", "CN=a,OU=b", "a@$3"),
    ("RULE:^CN=(.*?)$/$10/", "CN=a", "a0"),           # $10 with one group: group 1, then '0'
    ("RULE:^CN=(.*?)$/$0-x/", "CN=a", "CN=a-x"),      # $0 is the whole match
    ("RULE:^CN=(.*?),OU=(.*?)$/\\$1/", "CN=a,OU=b", "$1"),
    ("RULE:^CN=a\\/b$/x\\/y/", "CN=a/b", "x/y"),
    ("RULE:^CN=(?<cn>[^,]+).*$/${cn}!/", "CN=n,O=o", "n!"),
    ("RULE:^CN=(a)|(b)$/[$1|$2]/", "CN=a", "[a|]"),     # a group that did not take part adds nothing
    # replaceAll also replaces the empty match at the end of a pattern that can match nothing
    ("RULE:.*/x/", "CN=a", "xx"),
    # first match wins; a rule that does not match the whole DN passes
    ("RULE:^CN=b$/first/,RULE:^CN=(.*)$/second-$1/,DEFAULT", "CN=b", "first"),
    ("RULE:^CN=b/first/,RULE:^CN=(.*)$/second-$1/,DEFAULT", "CN=bc", "second-bc"),
])
def test_mapping_follows_kafka(rules, dn, name):
    assert pr.map_dn(pr.parse_rules(rules), dn) == name
    assert pr.principal_of(pr.parse_rules(rules), dn) == "User:" + name


def test_no_matching_rule_is_an_error_as_in_kafka():
    with pytest.raises(pr.PrincipalError, match="No rules apply to CN=x"):
        pr.map_dn(pr.parse_rules("RULE:^CN=y$/y/"), "CN=x")


# --------------------------------------------------------------------- DNs as the JDK prints them

def _name(*pairs):
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])


@pytest.mark.parametrize("name, dn", [
    (_name((NameOID.COMMON_NAME, "kafka-1.lab.test")), "CN=kafka-1.lab.test"),
    (build_name({"CN": "secure_user", "OU": "clients", "O": "Example", "C": "DE"}),
     "CN=secure_user,OU=clients,O=Example,C=DE"),
    (build_name({"CN": "a", "ST": "Bayern", "L": "Munich"}), "CN=a,L=Munich,ST=Bayern"),
    (build_name({"CN": "a,b+c", "O": 'x"y<z>;#='}), 'CN=a\\,b\\+c,O=x\\"y\\<z\\>\\;\\#\\='),
    (build_name({"CN": " padded  "}), "CN=\\ padded\\ \\ "),
    (build_name({"CN": "back\\slash"}), "CN=back\\\\slash"),
    (build_name({"CN": "Jürgen"}), "CN=Jürgen"),
    # emailAddress has no RFC 2253 keyword: its OID and the DER value in hex (IA5String)
    (build_name({"CN": "a", "emailAddress": "a@b.c"}), "1.2.840.113549.1.9.1=#16056140622e63,CN=a"),
    (_name((NameOID.DOMAIN_COMPONENT, "com"), (NameOID.DOMAIN_COMPONENT, "example"), (NameOID.USER_ID, "u1")),
     "UID=u1,DC=example,DC=com"),
    (_name((NameOID.SERIAL_NUMBER, "42"), (NameOID.COMMON_NAME, "n")), "CN=n,2.5.4.5=#13023432"),
    (x509.Name([x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "a"),
                                                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "b")])]),
     "CN=a+OU=b"),
])
def test_dn_is_rendered_as_the_jdk_renders_it(name, dn):
    assert pr.rfc2253_of_name(name) == dn


@pytest.mark.parametrize("common_name, subject", [
    ("kafka-1.lab.test", {}),
    ("secure_user", {"OU": "clients", "O": "Example Corp", "C": "DE", "ST": "BY", "L": "Munich"}),
    ("weird,name+x", {"O": "a;b"}),
    ("a", {"emailAddress": "ops@example.org", "OU": ""}),
])
def test_subject_dn_without_cryptography_equals_the_issued_name(common_name, subject):
    assert pr.dn_of_subject(common_name, subject) == pr.rfc2253_of_name(build_name(dict(subject, CN=common_name)))


# ------------------------------------------------------------------ super users, impersonation

@pytest.mark.parametrize("nodes, rules, declared, expected", [
    (NODES, pr.DEFAULT_RULES, [], "User:kafka-1.lab.test;User:kafka-2.lab.test;User:kafka-3.lab.test"),
    (NODES, pr.DEFAULT_RULES, ["User:admin", "User:kafka-1.lab.test"],
     "User:admin;User:kafka-1.lab.test;User:kafka-2.lab.test;User:kafka-3.lab.test"),
    (NODES, "DEFAULT", [], "User:CN=kafka-1.lab.test;User:CN=kafka-2.lab.test;User:CN=kafka-3.lab.test"),
    (pr.node_identities([{"host": "b", "common_name": "Broker-B", "subject": {"O": "Org"}},
                         {"host": "a", "common_name": "Broker-A", "subject": {"O": "Org"}}]),
     "RULE:^CN=([^,]+),O=Org$/$1/L,DEFAULT", [], "User:broker-a;User:broker-b"),
    # nodes that share a principal count once
    (NODES, "RULE:^CN=kafka-[0-9].*$/kafka/,DEFAULT", ["User:ops"], "User:kafka;User:ops"),
])
def test_super_users_are_the_nodes_and_the_declared(nodes, rules, declared, expected):
    assert pr.super_users(nodes, pr.parse_rules(rules), declared) == expected
    assert pr.super_user_problems(nodes, rules, declared) == []


@pytest.mark.parametrize("rules, declared, fragment", [
    ("RULE:^CN=x$/x/", [], "maps no principal for the certificate of kafka-1.lab.test"),
    ("RULE:^CN=(.*)$/a;$1/", [], "super.users cannot hold"),
    (pr.DEFAULT_RULES, ["admin"], "User:<name>"),
    (pr.DEFAULT_RULES, ["User:a;User:b"], "no ';'"),
    (pr.DEFAULT_RULES, ["User: spaced"], "User:<name>"),
    (pr.DEFAULT_RULES, "User:admin", "must be a list"),
])
def test_super_user_problems(rules, declared, fragment):
    problems = pr.super_user_problems(NODES, rules, declared)
    assert problems and fragment in problems[0][1], problems


@pytest.mark.parametrize("own_host, shared, dn, refused_by", [
    (None, [], "CN=kafka-2.lab.test", "the principal of Kafka node kafka-2.lab.test"),
    (None, [], "CN=kafka-2.lab.test,OU=clients", "the principal of Kafka node kafka-2.lab.test"),
    (None, [], "CN=admin,O=x", "a super user (kafkasec_super_users)"),
    (None, [], "CN=secure_user", None),
    (None, [], "OU=x,CN=kafka-2.lab.test", None),  # maps (DEFAULT) to the whole DN: another principal
    ("kafka-2.lab.test", [], "CN=kafka-2.lab.test", None),  # a node's own certificate
    ("kafka-2.lab.test", [], "CN=kafka-3.lab.test", "the principal of Kafka node kafka-3.lab.test"),
    ("tools.lab.test", ["User:admin"], "CN=admin", None),  # declared
    ("tools.lab.test", ["User:admin"], "CN=kafka-1.lab.test", "the principal of Kafka node kafka-1.lab.test"),
])
def test_impersonation_is_refused_unless_declared(own_host, shared, dn, refused_by):
    rules = pr.parse_rules(pr.DEFAULT_RULES)
    refused = pr.protected_principals(NODES, rules, ["User:admin"], own_host=own_host, shared=shared)
    problem = pr.impersonation_problem(dn, pr.DEFAULT_RULES, refused, own_host or "client x")
    if refused_by is None:
        assert problem is None
    else:
        assert refused_by in problem and "kafkasec_shared_principals" in problem and dn in problem, problem


def test_inventory_identities_use_the_certificates_role_defaults():
    hostvars = {"kafka-1": {}, "kafka-2": {"kafkasec_cert_common_name": "k2", "kafkasec_cert_subject": {"O": "x"}},
                "kafka-3": {"kafkasec_cert_node_common_name": "prod-kafka"}}
    assert pr.inventory_identities(["kafka-1", "kafka-2", "kafka-1", "kafka-3"], hostvars) == [
        {"host": "kafka-1", "common_name": "kafka-node", "subject": {}},
        {"host": "kafka-2", "common_name": "k2", "subject": {"O": "x"}},
        {"host": "kafka-3", "common_name": "prod-kafka", "subject": {}}]


def test_nodes_with_the_default_subject_are_one_super_user_so_a_new_node_changes_no_super_users():
    rules = pr.parse_rules(pr.rules_text(pr.DEFAULT_RULES))

    def supers(hosts):
        return pr.super_users(pr.node_identities(pr.inventory_identities(hosts, {})), rules)
    assert supers(["kafka-1", "kafka-2", "kafka-3"]) == supers(["kafka-1", "kafka-2", "kafka-3", "kafka-4"]) \
        == "User:kafka-node"


# ------------------------------------------------------------------ a client certificate on a listener (verify.yml)

def _client_pem(cn: str) -> str:
    from pki_helpers import cert_pem, make_ca, make_leaf, new_key
    return cert_pem(make_leaf(make_ca("principal test CA"), new_key(), cn))


@pytest.mark.parametrize("cn, rules, expected", [
    ("secure_user", None, "User:secure_user"),                       # the collection's default rules
    ("secure_user", "", "User:secure_user"),                         # a templated null: the same
    ("secure_user", "DEFAULT", "User:CN=secure_user"),                 # Kafka's own default: the whole DN
    ("Secure_User", "RULE:^CN=([^,]+)$/$1/L,DEFAULT", "User:secure_user"),
    ("secure_user", ["RULE:^CN=(.*)_user$/$1/U", "DEFAULT"], "User:SECURE"),
    ("secure_user", "RULE:^OU=(.*)$/$1/", "no principal: No rules apply to CN=secure_user"),
])
def test_certificate_principal(cn, rules, expected):
    assert pr.certificate_principal(_client_pem(cn), rules).startswith(expected)


def test_certificate_principal_of_garbage_says_so():
    assert pr.certificate_principal("not a certificate").startswith("not a PEM certificate")


def test_listener_principal_lines_use_a_listeners_own_rules():
    pems = [_client_pem("secure_user"), _client_pem("insecure_user")]
    listeners = [{"name": "SSL", "host": "kafka-1", "port": 9093},
                 {"name": "CONTROLLER", "host": "kafka-1", "port": 9094, "principal_mapping_rules": "DEFAULT"}]
    assert pr.listener_principal_lines(listeners, ["a.crt", "b.crt"], pems) == [
        "SSL kafka-1:9093: a.crt -> User:secure_user",
        "SSL kafka-1:9093: b.crt -> User:insecure_user",
        "CONTROLLER kafka-1:9094: a.crt -> User:CN=secure_user",
        "CONTROLLER kafka-1:9094: b.crt -> User:CN=insecure_user",
    ]
    with pytest.raises(pr.PrincipalError):
        pr.listener_principal_lines(listeners, ["a.crt"], pems)


@pytest.mark.parametrize("groups, expected", [
    ({}, []),
    ({"kafka_broker": ["b1", "b2"]}, ["b1", "b2"]),
    ({"kafka_broker": ["n1", "b2"], "kafka_controller": ["c1", "n1"]}, ["n1", "b2", "c1"]),  # combined once
    ({"kafka_controller": ["c1"], "kafka_connect": ["w1"], "kafka_ca": ["ca"]}, ["c1"]),     # other groups: no
    ({"kafka_broker": None, "kafka_controller": ["c1"]}, ["c1"]),
])
def test_kafka_node_hosts(groups, expected):
    assert pr.kafka_node_hosts(groups) == expected
