# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Kafka principal a certificate is, as a broker works it out: ``ssl.principal.mapping.rules``.

Plain Python, no Ansible (``cryptography`` only for `rfc2253_of_name`, imported lazily). Used by the
node planner (``super.users``), the signing code (no certificate may share a node's or a super user's
principal) and the client bundle's name check.

- `parse_rules`       Kafka's ``SslPrincipalMapper``: ``RULE:pattern/replacement/[L|U]`` and ``DEFAULT``,
                      split and parsed with Kafka's own regular expressions; first match wins.
- `map_dn`            a DN (as the JDK's ``X500Principal.getName()`` renders it) -> the principal's name.
- `rfc2253_of_name`   a ``cryptography`` ``x509.Name`` -> that string; `dn_of_subject` the same for the
                      subjects the collection issues (CN plus kafkasec_cert_subject), without cryptography.
- `certificate_principal` a PEM certificate -> the principal a listener with these rules gives it (verify.yml).
- `super_users`       every Kafka node's own principal plus the declared ones, sorted, ``;``-joined.
- `protected_principals` / `impersonation_problem`: the principals no other certificate may map to.

Kafka (clients/.../security/ssl/SslPrincipalMapper.java) applies a rule with ``Matcher.matches()`` and
then ``String.replaceAll(pattern, replacement)`` after escaping back references to groups the
pattern does not have (its ``escapeLiteralBackReferences``, reproduced with its quirks); the
replacement follows ``java.util.regex.Matcher``'s syntax (``$n``, ``${name}``, ``\\x``), reproduced
in `_java_replacement`. Patterns are Java regular expressions: the ones that mean the same in Python
(the usual ``^CN=([^,]+).*$`` kind) are checked and applied here; a rule using Java-only syntax
(``\\p{..}``, ``\\Q..\\E``, class intersections ``&&``) is refused with a message rather than guessed at.
tests/security/test_principals.py runs Kafka's own SslPrincipalMapper on a table of DNs and rules
and compares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import Problem

RULES_VARIABLE = "kafkasec_ssl_principal_mapping_rules"
SUPER_USERS_VARIABLE = "kafkasec_super_users"
SHARED_VARIABLE = "kafkasec_shared_principals"
# The collection's default: the certificate's CN becomes the user name (CN=secure_user,OU=x -> secure_user);
# a DN whose first RDN is not CN (none the collection issues) keeps Kafka's DEFAULT, the whole DN.
DEFAULT_RULES = "RULE:^CN=([^,]+).*$/$1/,DEFAULT"
KAFKA_DEFAULT_RULES = "DEFAULT"  # Kafka's own default: the whole RFC 2253 DN
USER_PREFIX = "User:"

# Kafka's expressions, as SslPrincipalMapper compiles them (Java's \s is [ \t\n\x0B\f\r]).
_RULE_PATTERN = r"(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)"
_JAVA_SPACE = "[ \t\n\x0b\f\r]"
_RULE_SPLITTER = re.compile(_JAVA_SPACE + "*(" + _RULE_PATTERN + ")" + _JAVA_SPACE + "*(," + _JAVA_SPACE + "*|$)")
_RULE_PARSER = re.compile(_RULE_PATTERN)
_BACK_REFERENCE = re.compile(r"\$([0-9]+)")
# Java regex syntax that Python's re reads differently or not at all: refused, not guessed at.
_JAVA_ONLY = re.compile(r"\\[pPQEhHvVRXGzk]|&&|\(\?P")
_JAVA_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z][A-Za-z0-9]*)>")
_JAVA_MAX_INT = 2 ** 31 - 1


class PrincipalError(ValueError):
    """A rule that cannot be parsed or applied, or a DN no rule maps (Kafka refuses that connection)."""


def _java_trim(text: str) -> str:
    """String.trim(): every character up to U+0020 goes from both ends."""
    return text.strip("".join(chr(code) for code in range(33)))


# ------------------------------------------------------------------- Java's replacement syntax

def _java_replacement(replacement: str, group_count: int, named: Mapping[str, int]) -> List[Tuple[str, Any]]:
    """Matcher.appendExpandedReplacement's reading of ``replacement``: [("text", s) | ("group", n)].

    Raises PrincipalError where Java throws (IllegalArgumentException, IndexOutOfBoundsException)."""
    parts: List[Tuple[str, Any]] = []
    cursor, size = 0, len(replacement)
    while cursor < size:
        char = replacement[cursor]
        if char == "\\":
            cursor += 1
            if cursor == size:
                raise PrincipalError("character to be escaped is missing")
            parts.append(("text", replacement[cursor]))
            cursor += 1
        elif char == "$":
            cursor += 1
            if cursor == size:
                raise PrincipalError("Illegal group reference: group index is missing")
            char = replacement[cursor]
            if char == "{":
                cursor += 1
                name = ""
                while cursor < size:
                    char = replacement[cursor]
                    if ("a" <= char <= "z") or ("A" <= char <= "Z") or ("0" <= char <= "9"):
                        name += char
                        cursor += 1
                    else:
                        break
                if not name:
                    raise PrincipalError("named capturing group has 0 length name")
                if char != "}":
                    raise PrincipalError("named capturing group is missing trailing '}'")
                if "0" <= name[0] <= "9":
                    raise PrincipalError("capturing group name {%s} starts with digit character" % name)
                if name not in named:
                    raise PrincipalError("No group with name {%s}" % name)
                number = named[name]
                cursor += 1
            else:
                if not "0" <= char <= "9":
                    raise PrincipalError("Illegal group reference")
                number = ord(char) - ord("0")
                cursor += 1
                while cursor < size and "0" <= replacement[cursor] <= "9":
                    longer = number * 10 + ord(replacement[cursor]) - ord("0")
                    if group_count < longer:
                        break
                    number = longer
                    cursor += 1
            if number > group_count:
                raise PrincipalError("No group %d" % number)
            parts.append(("group", number))
        else:
            parts.append(("text", char))
            cursor += 1
    return parts


def _escape_literal_back_references(unescaped: str, group_count: int) -> str:
    """SslPrincipalMapper.escapeLiteralBackReferences, quirk included: it finds ``$n`` in the original
    text but inserts each backslash at that offset into the text already changed."""
    if group_count == 0:
        return unescaped
    value = unescaped
    for match in _BACK_REFERENCE.finditer(unescaped):
        digits = match.group(1)
        if digits.startswith("0"):
            continue
        index = int(digits)
        if index > _JAVA_MAX_INT:
            raise PrincipalError('For input string: "%s"' % digits)  # Integer.parseInt
        while index > group_count and index >= 10:
            index //= 10
        if index > group_count:
            start = match.start(1)
            value = value[:start - 1] + "\\" + value[start - 1:]
    return value


# ------------------------------------------------------------------------------------ the rules

@dataclass(frozen=True)
class Rule:
    """One rule: DEFAULT, or RULE:pattern/replacement/ with L (lower case) or U (upper case)."""

    is_default: bool
    pattern: str = ""
    replacement: str = ""
    lower: bool = False
    upper: bool = False

    def __str__(self) -> str:
        if self.is_default:
            return "DEFAULT"
        return "RULE:%s/%s%s" % (self.pattern, self.replacement, "/L" if self.lower else "/U" if self.upper else "")

    def compiled(self) -> "re.Pattern[str]":
        if _JAVA_ONLY.search(self.pattern):
            raise PrincipalError("the pattern %r uses Java regular-expression syntax this collection cannot check "
                                 "(\\p{..}, \\Q..\\E, \\z, \\k<..>, &&) or Python's (?P...); write it with the common syntax "
                                 "(character classes, groups, quantifiers, ^ and $)" % self.pattern)
        try:
            return re.compile(_JAVA_NAMED_GROUP.sub(r"(?P<\1>", self.pattern))
        except re.error as exc:
            raise PrincipalError("the pattern %r is not a valid regular expression: %s" % (self.pattern, exc)) from None

    def check(self) -> None:
        """Raise what Kafka would raise when the rule first matches (pattern or replacement errors)."""
        if self.is_default:
            return
        regex = self.compiled()
        try:
            escaped = _escape_literal_back_references(self.replacement, regex.groups)
            _java_replacement(escaped, regex.groups, regex.groupindex)
        except PrincipalError as exc:
            raise PrincipalError("the replacement %r: %s" % (self.replacement, exc)) from None

    def apply(self, dn: str) -> Optional[str]:
        """The principal's name, or None when the rule does not match the whole DN."""
        if self.is_default:
            return dn
        regex = self.compiled()
        if regex.fullmatch(dn) is None:
            return None
        parts = _java_replacement(_escape_literal_back_references(self.replacement, regex.groups),
                                  regex.groups, regex.groupindex)
        out: List[str] = []
        position = 0
        for match in regex.finditer(dn):  # String.replaceAll: every match, empty ones included
            out.append(dn[position:match.start()])
            for kind, value in parts:
                if kind == "text":
                    out.append(value)
                elif match.start(value) != -1:
                    out.append(match.group(value))
            position = match.end()
        out.append(dn[position:])
        result = "".join(out)
        if self.lower:
            return result.lower()
        if self.upper:
            return result.upper()
        return result


def split_rules(text: Optional[str]) -> List[str]:
    """SslPrincipalMapper.splitRules: the rule texts of ``ssl.principal.mapping.rules`` (None: DEFAULT)."""
    if text is None:
        text = KAFKA_DEFAULT_RULES
    return [match.group(1) for match in _RULE_SPLITTER.finditer(_java_trim(text))]


def parse_rules(text: Optional[str]) -> List[Rule]:
    """SslPrincipalMapper.parseRules: Rule objects, empty items ignored; PrincipalError as Kafka's."""
    rules: List[Rule] = []
    for item in split_rules(text):
        match = _RULE_PARSER.match(item)
        if match is None:
            raise PrincipalError("Invalid rule: %s" % item)
        if match.end() != len(item):
            raise PrincipalError("Invalid rule: `%s`, unmatched substring: `%s`" % (item, item[match.end():]))
        if match.group(1) is not None:
            rules.append(Rule(is_default=True))
        elif match.group(2) is not None:
            rules.append(Rule(is_default=False, pattern=match.group(2), replacement=match.group(4),
                              lower=match.group(6) == "L", upper=match.group(6) == "U"))
    return rules


def map_dn(rules: Sequence[Rule], dn: str) -> str:
    """SslPrincipalMapper.getName: the first rule that matches gives the name."""
    for rule in rules:
        name = rule.apply(dn)
        if name is not None:
            return name
    raise PrincipalError("No rules apply to %s, rules [%s]" % (dn, ", ".join(str(rule) for rule in rules)))


def principal_of(rules: Sequence[Rule], dn: str) -> str:
    """``User:<name>``: the principal Kafka's default principal builder makes of a certificate's DN."""
    return USER_PREFIX + map_dn(rules, dn)


def rules_text(value: Any) -> str:
    """The rules as Kafka's property value: a string, or a list of rules joined with commas."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(item).strip() for item in value)
    return "" if value is None else str(value)


def rules_problems(value: Any, variable: str = RULES_VARIABLE) -> List[Problem]:
    """Why ``value`` cannot be ssl.principal.mapping.rules (empty list: fine)."""
    text = rules_text(value)
    if not isinstance(value, (str, list, tuple)) or not text.strip():
        message = ("%s must be Kafka's ssl.principal.mapping.rules, a comma-separated list of "
                   "RULE:pattern/replacement/[L|U] and DEFAULT (e.g. %s), not %r" % (variable, DEFAULT_RULES, value))
        return [(variable, message)]
    if re.search(r"[\x00-\x1f\x7f\u0085\u2028\u2029]", text):
        return [(variable, "%s must not hold control characters or line breaks (%r)" % (variable, text))]
    try:
        rules = parse_rules(text)
        if not rules:
            raise PrincipalError("no rule in it")
        for rule in rules:
            rule.check()
    except PrincipalError as exc:
        return [(variable, "%s (%s) is not valid ssl.principal.mapping.rules: %s. Each rule is "
                           "RULE:pattern/replacement/ with optional L or U after the last slash, or DEFAULT; "
                           "a '/' inside a pattern or replacement is written \\/" % (variable, text, exc))]
    return []


# -------------------------------------------------------------------- DNs as the JDK prints them

# X500Principal.getName() (RFC 2253): the keywords the JDK writes by name; any other type is its OID.
_RFC2253_KEYWORDS = {
    "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
    "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
}
# The subject attributes the collection issues (pki/core.py build_name), in the certificate's order,
# with the string type cryptography gives each (C PrintableString, emailAddress IA5String, else UTF8String).
SUBJECT_ORDER = (("C", "2.5.4.6", 0x13), ("ST", "2.5.4.8", 0x0C), ("L", "2.5.4.7", 0x0C), ("O", "2.5.4.10", 0x0C),
                 ("OU", "2.5.4.11", 0x0C), ("CN", "2.5.4.3", 0x0C), ("emailAddress", "1.2.840.113549.1.9.1", 0x16))
# DER string tags the JDK prints as text (AVA.isDerString, non-canonical); others as #hex.
_TEXT_TAGS = {0x13: "latin-1", 0x14: "latin-1", 0x16: "latin-1", 0x1B: "latin-1", 0x1E: "utf-16-be", 0x0C: "utf-8"}
_OTHER_TAGS = {0x12: "latin-1", 0x1A: "latin-1", 0x1C: "utf-32-be"}
_ESCAPED = ',=+<>#;"\\'


def _der(tag: int, data: bytes) -> bytes:
    size = len(data)
    if size < 0x80:
        return bytes([tag, size]) + data
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + data


def _ava(oid: str, tag: int, value: str) -> str:
    """AVA.toRFC2253String with no keyword map: what X500Principal.getName() prints for one attribute."""
    keyword = _RFC2253_KEYWORDS.get(oid, oid)
    if keyword[0].isdigit() or tag not in _TEXT_TAGS:
        encoding = _TEXT_TAGS.get(tag) or _OTHER_TAGS.get(tag, "utf-8")
        return "%s=#%s" % (keyword, _der(tag, value.encode(encoding, "replace")).hex())
    # NUL is written \00 by current JDKs; the collection's names never hold one.
    escaped = "".join("\\" + char if char in _ESCAPED else "\\00" if char == "\0" else char for char in value)
    lead = 0
    while lead < len(escaped) and escaped[lead] in " \r":
        lead += 1
    trail = len(escaped) - 1
    while trail >= 0 and escaped[trail] in " \r":
        trail -= 1
    return "%s=%s" % (keyword, "".join("\\" + char if index < lead or index > trail else char
                                       for index, char in enumerate(escaped)))


def _rdns_to_dn(rdns: Iterable[Sequence[Tuple[str, int, str]]]) -> str:
    return ",".join("+".join(_ava(oid, tag, value) for oid, tag, value in rdn) for rdn in reversed(list(rdns)))


def rfc2253_of_name(name: Any) -> str:
    """A ``cryptography`` x509.Name as the JDK's X500Principal.getName() prints it (RFC 2253): the RDNs
    last first, CN/C/L/ST/O/OU/STREET/DC/UID by keyword, other types as OID=#hex of the DER value,
    ``,=+<>#;"\\`` escaped with a backslash and so are leading and trailing spaces."""
    rdns = []
    for rdn in name.rdns:
        avas = []
        for attribute in rdn:
            asn1 = getattr(attribute, "_type", None)
            tag = int(getattr(asn1, "value", 0x0C)) if asn1 is not None else 0x0C
            value = attribute.value if isinstance(attribute.value, str) else attribute.value.decode("latin-1")
            avas.append((attribute.oid.dotted_string, tag, value))
        rdns.append(avas)
    return _rdns_to_dn(rdns)


def dn_of_subject(common_name: str, subject: Optional[Mapping[str, Any]] = None) -> str:
    """The DN of a certificate the collection issues (pki/core.py build_name of kafkasec_cert_subject with
    CN = kafkasec_cert_common_name), as the JDK prints it; no cryptography needed."""
    values = dict((str(k), "" if v is None else str(v)) for k, v in (subject or {}).items())
    values["CN"] = str(common_name)
    return _rdns_to_dn([[(oid, tag, values[label])] for label, oid, tag in SUBJECT_ORDER if values.get(label)])


def certificate_principal(certificate_pem: Any, rules_value: Any = None) -> str:
    """The principal a listener with these rules (None: the collection's default) gives a TLS client that
    presents this PEM certificate: ``User:<name>``, or why none, as a sentence (what verify.yml prints)."""
    from cryptography import x509  # lazily: the rest of this module needs no cryptography

    text = certificate_pem.decode() if isinstance(certificate_pem, bytes) else str(certificate_pem or "")
    try:
        certificate = x509.load_pem_x509_certificate(text.encode())
    except ValueError as exc:
        return "not a PEM certificate (%s)" % exc
    dn = rfc2253_of_name(certificate.subject)
    try:
        # Not configured (null, or the empty string a templated null becomes): the broker role's default.
        text = rules_text(rules_value).strip()
        return principal_of(parse_rules(text or DEFAULT_RULES), dn)
    except PrincipalError as exc:
        return "no principal: %s" % exc


def listener_principal_lines(listeners: Iterable[Mapping[str, Any]], labels: Sequence[str],
                             certificate_pems: Sequence[Any], rules_value: Any = None) -> List[str]:
    """One line per listener and certificate: ``<listener> <host>:<port>: <label> -> User:<name>``. A listener
    item's own ``principal_mapping_rules`` win over ``rules_value`` (listener.name.<l>.ssl.principal.mapping.rules)."""
    if len(labels) != len(certificate_pems):
        raise PrincipalError("%d certificate names but %d certificates" % (len(labels), len(certificate_pems)))
    lines = []
    for listener in listeners:
        rules = listener.get("principal_mapping_rules", rules_value)
        where = "%s %s:%s" % (listener.get("name", "?"), listener.get("host", "?"), listener.get("port", "?"))
        for label, pem in zip(labels, certificate_pems):
            lines.append("%s: %s -> %s" % (where, label, certificate_principal(pem, rules)))
    return lines


# -------------------------------------------------------------------------- who may be whom

@dataclass(frozen=True)
class NodeIdentity:
    """A Kafka node's certificate subject, from the inventory (kafkasec_cert_common_name, kafkasec_cert_subject)."""

    host: str
    common_name: str
    subject: Mapping[str, Any]

    @property
    def dn(self) -> str:
        return dn_of_subject(self.common_name, self.subject)


def node_identities(items: Iterable[Mapping[str, Any]]) -> List[NodeIdentity]:
    return [NodeIdentity(host=str(item["host"]), common_name=str(item.get("common_name") or item["host"]),
                         subject=dict(item.get("subject") or {})) for item in items]


def principal_problems(principals: Iterable[Any], variable: str) -> List[Problem]:
    """Declared principals (super users, shared ones) must be ``User:<name>`` that super.users can hold."""
    bad = [p for p in principals if not isinstance(p, str) or not p.startswith(USER_PREFIX)
           or not p[len(USER_PREFIX):].strip() or p[len(USER_PREFIX):] != p[len(USER_PREFIX):].strip() or ";" in p]
    if bad:
        return [(variable, "%s must list principals as Kafka writes them, User:<name> (case-sensitive, no ';', no "
                           "spaces around it), not %s" % (variable, ", ".join(repr(p) for p in bad)))]
    return []


def node_principals(nodes: Sequence[NodeIdentity], rules: Sequence[Rule]) -> Dict[str, str]:
    """host -> the node's own principal after mapping (PrincipalError when no rule maps a node's DN)."""
    return {node.host: principal_of(rules, node.dn) for node in nodes}


def super_users(nodes: Sequence[NodeIdentity], rules: Sequence[Rule], declared: Iterable[str] = ()) -> str:
    """super.users: every node's own principal after mapping plus the declared ones, sorted, ';'-joined."""
    return ";".join(sorted(set(node_principals(nodes, rules).values()) | set(str(p) for p in declared)))


def super_user_problems(nodes: Sequence[NodeIdentity], rules_value: Any, declared: Any) -> List[Problem]:
    """Why super.users cannot be computed: bad rules, a node no rule maps, a name super.users cannot hold."""
    problems = rules_problems(rules_value)
    if not isinstance(declared, (list, tuple)):
        return problems + [(SUPER_USERS_VARIABLE, "%s must be a list of principals (User:<name>), not %r" % (
            SUPER_USERS_VARIABLE, declared))]
    problems += principal_problems(declared, SUPER_USERS_VARIABLE)
    if problems:
        return problems
    rules = parse_rules(rules_text(rules_value))
    for node in nodes:
        try:
            principal = principal_of(rules, node.dn)
        except PrincipalError:
            problems.append((RULES_VARIABLE, "%s (%s) maps no principal for the certificate of %s (%s): Kafka would "
                                             "refuse its connections; end the rules with DEFAULT" % (
                                                 RULES_VARIABLE, rules_text(rules_value), node.host, node.dn)))
            continue
        if ";" in principal or principal != principal.strip() or principal == USER_PREFIX:
            problems.append((RULES_VARIABLE, "%s maps the certificate of %s (%s) to %r, which super.users cannot "
                                             "hold (empty, ';' or spaces around it)" % (
                                                 RULES_VARIABLE, node.host, node.dn, principal)))
    return problems


def protected_principals(nodes: Sequence[NodeIdentity], rules: Sequence[Rule], declared: Iterable[str] = (),
                         own_host: Optional[str] = None, shared: Iterable[str] = ()) -> Dict[str, str]:
    """principal -> whose it is: what a certificate signed for ``own_host`` must not map to.

    Every node's principal and every declared super user, except the principal of ``own_host`` itself
    (a node's own certificate) and the principals the inventory lets this host share."""
    protected: Dict[str, str] = {}
    for node in nodes:
        try:
            principal = principal_of(rules, node.dn)
        except PrincipalError:
            continue  # the broker planner refuses these rules before any node uses them
        protected.setdefault(principal, "the principal of Kafka node %s" % node.host)
    for principal in declared:
        protected.setdefault(str(principal), "a super user (%s)" % SUPER_USERS_VARIABLE)
    if own_host is not None:
        own = [n for n in nodes if n.host == own_host]
        for node in own:
            try:
                protected.pop(principal_of(rules, node.dn), None)
            except PrincipalError:
                pass
    for principal in shared:
        protected.pop(str(principal), None)
    return protected


def impersonation_problem(dn: str, rules_value: Any, refused: Mapping[str, str], who: str) -> Optional[str]:
    """Why a certificate with subject ``dn`` must not be signed for ``who``, or None."""
    if not refused:
        return None
    try:
        principal = principal_of(parse_rules(rules_text(rules_value)), dn)
    except PrincipalError as exc:
        return "the subject %s maps to no principal under ssl.principal.mapping.rules %s (%s)" % (
            dn, rules_text(rules_value), exc)
    if principal in refused:
        return ("the subject %s maps to the principal %s under ssl.principal.mapping.rules %s, which is %s: a "
                "certificate for %s must not share it. Choose another name, or declare %s in %s for %s if that "
                "is intended" % (dn, principal, rules_text(rules_value), refused[principal], who, principal,
                                 SHARED_VARIABLE, who))
    return None


# The CN every Kafka node's certificate carries by default (the certificates role's
# kafkasec_cert_node_common_name): one principal for all nodes, as Strimzi's brokers share one subject and
# as Kafka asks of brokers that set ZooKeeper ACLs with x509. super.users then names one principal for
# the nodes, so a node added to the inventory changes no other node's file (no roll of the cluster).
NODE_COMMON_NAME_VARIABLE = "kafkasec_cert_node_common_name"
DEFAULT_NODE_COMMON_NAME = "kafka-node"


def inventory_identities(hosts: Iterable[str], hostvars: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The Kafka nodes' certificate subjects from the inventory (the certificates role's defaults: a Kafka
    node's CN is kafkasec_cert_node_common_name, no other attributes), as plain data for a module's settings."""
    out: List[Dict[str, Any]] = []
    seen = set()
    for host in hosts:
        if host in seen:
            continue
        seen.add(host)
        variables = hostvars.get(host) or {}
        common_name = (variables.get("kafkasec_cert_common_name") or variables.get(NODE_COMMON_NAME_VARIABLE)
                       or DEFAULT_NODE_COMMON_NAME)
        subject = variables.get("kafkasec_cert_subject") or {}
        out.append(dict(host=str(host), common_name=str(common_name),
                        subject={str(k): str(v) for k, v in dict(subject).items()}))
    return out


def refusal_list(hosts: Iterable[str], hostvars: Mapping[str, Any], own_host: Optional[str] = None,
                 shared: Any = (), rules: Any = None, declared: Any = ()) -> Dict[str, Any]:
    """What signing for ``own_host`` checks, from the inventory: the Kafka nodes (``hosts``: groups
    kafka_broker and kafka_controller), their mapping rules and super users (a node's inventory value wins
    over ``rules``/``declared``, the caller's view; the collection's default last), minus ``own_host``'s
    own principal and the principals ``shared`` (kafkasec_shared_principals) lets it hold.

    Returns {"rules": text, "refused": {principal: whose}, "problems": [(variable, message)]}."""
    hosts = list(dict.fromkeys(str(h) for h in hosts or []))
    rules_value: Any = None
    supers: List[str] = [str(p) for p in (declared or [])] if isinstance(declared, (list, tuple)) else []
    for host in hosts:
        variables = hostvars.get(host) or {}
        if rules_value is None and variables.get(RULES_VARIABLE) not in (None, ""):
            rules_value = variables.get(RULES_VARIABLE)
        node_supers = variables.get(SUPER_USERS_VARIABLE) or []
        if isinstance(node_supers, (list, tuple)):
            supers += [str(p) for p in node_supers if str(p) not in supers]
    if rules_value is None:
        rules_value = rules if rules not in (None, "") else DEFAULT_RULES
    shared_list = list(shared) if isinstance(shared, (list, tuple)) else None
    problems = rules_problems(rules_value) + principal_problems(supers, SUPER_USERS_VARIABLE)
    if shared_list is None:
        problems.append((SHARED_VARIABLE, "%s must be a list of principals (User:<name>), not %r" % (
            SHARED_VARIABLE, shared)))
    else:
        problems += principal_problems(shared_list, SHARED_VARIABLE)
    text = rules_text(rules_value)
    if problems:
        return dict(rules=text, refused={}, problems=problems)
    refused = protected_principals(node_identities(inventory_identities(hosts, hostvars)), parse_rules(text), supers,
                                   own_host=own_host, shared=shared_list or [])
    return dict(rules=text, refused=refused, problems=[])


def client_problems(clients: Any, refusal: Mapping[str, Any], variable: str = "kafkasec_client_bundle_clients") -> List[str]:
    """Why the client bundles cannot be issued: each client's name is its certificate's CN and its principal
    (common/names.py principal_name_problem), unique, not a node's or a super user's principal (``refusal``:
    refusal_list's answer), and ``dns_names``, when given, a list."""
    # Imported here: common/names.py is plain too, but the planner does not need it.
    from ansible_collections.kafkasec.tls.plugins.module_utils.common.names import principal_name_problem

    shape = ("%s must be a list of mappings, each with a unique name (the client's certificate CN and principal: "
             "letters, digits and _ @ . -, at most 64 characters; also its DNS SAN when it is a DNS name) and "
             "optionally dns_names (a list)" % variable)
    if not isinstance(clients, (list, tuple)) or [c for c in clients if not isinstance(c, Mapping)]:
        return ["%s; found %r" % (shape, clients)]
    problems = ["%s: %s" % (variable, message) for _v, message in refusal.get("problems") or []]
    names = [client.get("name") for client in clients]
    bad = [principal_name_problem(name) for name in names]
    if [b for b in bad if b] or len(set(map(str, names))) != len(names):
        details = [b for b in bad if b] + (["names repeat"] if len(set(map(str, names))) != len(names) else [])
        problems.append("%s; %s" % (shape, "; ".join(details)))
        return problems
    for client in clients:
        dns_names = client.get("dns_names")
        if dns_names is not None and (not isinstance(dns_names, (list, tuple))
                                      or [d for d in dns_names if not isinstance(d, str)]):
            problems.append("%s: client %s: dns_names must be a list of DNS names, not %r" % (
                variable, client["name"], dns_names))
        problem = impersonation_problem(dn_of_subject(client["name"]), refusal.get("rules") or DEFAULT_RULES,
                                        refusal.get("refused") or {}, "client %s (%s)" % (client["name"], variable))
        if problem:
            problems.append("%s: client %s: %s" % (variable, client["name"], problem))
    return problems


NODE_GROUPS = ("kafka_broker", "kafka_controller")


def kafka_node_hosts(groups: Mapping[str, Any]) -> List[str]:
    """The Kafka nodes of an inventory: the hosts of groups kafka_broker and kafka_controller, each once, in
    inventory order (the one definition the certificates, broker and client_bundle roles and signing use)."""
    hosts: List[str] = []
    for group in NODE_GROUPS:
        for host in groups.get(group) or []:
            if str(host) not in hosts:
                hosts.append(str(host))
    return hosts


# The inventory variables of the host a certificate is for that the signing check reads.
SIGN_CHECK_VARIABLES = (SHARED_VARIABLE, RULES_VARIABLE, SUPER_USERS_VARIABLE)


def sign_check(host: str, groups: Mapping[str, Any], hostvars: Mapping[str, Any],
               own_vars: Mapping[str, Any]) -> Dict[str, Any]:
    """refusal_list for the certificate of inventory host ``host`` (the host_pki action plugin): the Kafka nodes
    are groups kafka_broker and kafka_controller; ``own_vars`` are ``host``'s SIGN_CHECK_VARIABLES as templated."""
    return refusal_list(kafka_node_hosts(groups), hostvars, own_host=host, shared=own_vars.get(SHARED_VARIABLE, []),
                        rules=own_vars.get(RULES_VARIABLE), declared=own_vars.get(SUPER_USERS_VARIABLE, []))
