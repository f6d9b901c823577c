# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the acls role keeps, from the inventory: the declared principals (kafkasec_acls_principals), the
Connect workers' principals with what a worker needs, and the client bundles of the principals named.

Pure Python (no Ansible, no Kafka): the role's filter kafka_acl_plan calls plan(); the kafka_acls module
then checks and applies the principals (module_utils/kafka/acls.py).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.acls import PRINCIPAL_PREFIX, parse_principals
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.principals import (
    DEFAULT_RULES, PrincipalError, dn_of_subject, parse_rules, principal_of, rules_text)

VARIABLE = "kafkasec_acls_principals"
CONNECT_VARIABLE = "kafkasec_acls_connect"
# A key of an inventory entry that the module does not take: whether the role writes the principal's client bundle.
BUNDLE_KEY = "bundle"
VERIFY_VARIABLE = "kafkasec_acls_verify"
CONNECT_KEYS = ("group_id", "config_topic", "offset_topic", "status_topic", "topic_prefixes", "group_prefixes")


def connect_worker_rules(settings: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """A distributed Connect worker's rules (Strimzi's shape): its group (join, commit), its config, offset
    and status topics (create at start-up, read, write, check their cleanup policy), and the connectors'
    topics and sink groups by prefix (source connectors write and may create theirs; sink connectors read
    in groups connect-<connector>). IdempotentWrite is implied by Write on a topic (Kafka 3.0+)."""
    rules: List[Dict[str, Any]] = [
        dict(resource=dict(type="group", name=str(settings["group_id"]), pattern_type="literal"),
             operations=["Read", "Describe"]),
    ]
    for key in ("config_topic", "offset_topic", "status_topic"):
        rules.append(dict(resource=dict(type="topic", name=str(settings[key]), pattern_type="literal"),
                          operations=["Create", "Describe", "DescribeConfigs", "Read", "Write"]))
    for prefix in settings.get("topic_prefixes") or []:
        rules.append(dict(resource=dict(type="topic", name=str(prefix), pattern_type="prefixed"),
                          operations=["Create", "Describe", "Read", "Write"]))
    for prefix in settings.get("group_prefixes") or []:
        rules.append(dict(resource=dict(type="group", name=str(prefix), pattern_type="prefixed"),
                          operations=["Read", "Describe"]))
    return rules


def _connect_problems(settings: Any) -> List[str]:
    if not isinstance(settings, Mapping):
        return ["%s must be a mapping with %s, not %r" % (CONNECT_VARIABLE, ", ".join(CONNECT_KEYS), settings)]
    problems = ["%s has unknown key %s (known: %s)" % (CONNECT_VARIABLE, key, ", ".join(CONNECT_KEYS))
                for key in sorted(map(str, settings)) if key not in CONNECT_KEYS]
    for key in CONNECT_KEYS[:4]:
        if not isinstance(settings.get(key), str) or not settings.get(key):
            problems.append("%s.%s must be a non-empty name, not %r" % (CONNECT_VARIABLE, key, settings.get(key)))
    for key in CONNECT_KEYS[4:]:
        value = settings.get(key) or []
        if not isinstance(value, (list, tuple)) or [v for v in value if not isinstance(v, str) or not v]:
            problems.append("%s.%s must be a list of non-empty prefixes, not %r" % (CONNECT_VARIABLE, key, value))
    return problems


def verify_rules(topic: str) -> List[Dict[str, Any]]:
    """The verify role's round trip (kafka_roundtrip): it creates its topic once, produces, and reads back from
    the offsets it got, without joining a group."""
    return [dict(resource=dict(type="topic", name=str(topic), pattern_type="literal"),
                 operations=["Create", "Describe", "Read", "Write"])]


def _verify_entry(verify: Any, parsed_rules: Any) -> Any:
    """(entry, problem) for kafkasec_acls_verify ({common_name, topic}): the verify client's principal is its
    certificate's CN mapped by the rules."""
    if not isinstance(verify, Mapping) or sorted(verify) != ["common_name", "topic"] \
            or [v for v in verify.values() if not isinstance(v, str) or not v]:
        return None, "%s must be a mapping of common_name and topic (non-empty names), not %r" % (VERIFY_VARIABLE, verify)
    try:
        principal = principal_of(parsed_rules, dn_of_subject(verify["common_name"]))
    except (PrincipalError, ValueError) as exc:
        return None, "%s.common_name (%r): %s" % (VERIFY_VARIABLE, verify["common_name"], exc)
    return dict(principal=principal, exclusive=False, acls=verify_rules(verify["topic"])), None


def plan(entries: Any, rules: Any = None, connect_principals: Optional[Mapping[str, str]] = None,
         connect: Any = None, bundles: bool = True, variable: str = VARIABLE, verify: Any = None) -> Dict[str, Any]:
    """The role's plan: {principals: the kafka_acls input, bundles: [{name}], problems: [message]}.

    - ``entries``: kafkasec_acls_principals, the module's {principal, exclusive, acls} plus ``bundle``
      (default true): whether the principal User:<name> gets a client bundle with CN <name>. A principal whose
      CN would not map back to it under ``rules`` (kafkasec_ssl_principal_mapping_rules) is refused, as is
      User:* with a bundle asked for explicitly.
    - ``connect_principals``: {worker host: its principal}; each that ``entries`` does not list gets
      connect_worker_rules(``connect``). With ``connect`` None, none.
    - ``verify``: kafkasec_acls_verify ({common_name, topic}, the verify role's client): its principal gets
      verify_rules(topic) unless ``entries`` lists it. None: nothing.
    - Every problem names the variable and the value; with a problem, nothing is planned.
    """
    problems: List[str] = []
    text = rules_text(rules if rules not in (None, "") else DEFAULT_RULES)
    try:
        parsed_rules = parse_rules(text)
    except PrincipalError as exc:
        return dict(principals=[], bundles=[], problems=["kafkasec_ssl_principal_mapping_rules: %s" % exc])
    if entries is None:
        entries = []
    if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, Sequence):
        return dict(principals=[], bundles=[], problems=[
            "%s (%r) must be a list of {principal, acls, exclusive, bundle}" % (variable, entries)])
    module_entries: List[Any] = []
    names: List[str] = []
    for index, entry in enumerate(entries):
        where = "%s[%d]" % (variable, index)
        if not isinstance(entry, Mapping):
            module_entries.append(entry)  # parse_principals names it
            continue
        module_entries.append({k: v for k, v in entry.items() if k != BUNDLE_KEY})
        wanted = entry.get(BUNDLE_KEY)
        if wanted is not None and not isinstance(wanted, bool):
            problems.append("%s.%s (%r) must be true or false" % (where, BUNDLE_KEY, wanted))
            continue
        principal = entry.get("principal")
        if not bundles or wanted is False or not isinstance(principal, str) or not principal.startswith(PRINCIPAL_PREFIX):
            continue
        name = principal[len(PRINCIPAL_PREFIX):]
        if name == "*":
            if wanted:
                problems.append("%s.%s: %s is every principal, no certificate's; leave %s out" % (
                    where, BUNDLE_KEY, principal, BUNDLE_KEY))
            continue
        try:
            mapped = principal_of(parsed_rules, dn_of_subject(name))
        except (PrincipalError, ValueError) as exc:
            problems.append("%s.principal (%r): no certificate CN for it: %s" % (where, principal, exc))
            continue
        if mapped != principal:
            problems.append("%s.principal (%r): a client bundle's certificate has CN=%s, which "
                            "kafkasec_ssl_principal_mapping_rules (%s) map to %s, not to it; set %s: false and issue "
                            "its certificate otherwise" % (where, principal, name, text, mapped, BUNDLE_KEY))
            continue
        names.append(name)
    if connect_principals:
        connect_problems = _connect_problems(connect) if connect is not None else []
        problems += connect_problems
        if connect is not None and not connect_problems:
            declared = set(e.get("principal") for e in module_entries if isinstance(e, Mapping))
            worker_rules = connect_worker_rules(connect)
            for principal in sorted(set(connect_principals.values())):
                if principal not in declared:
                    module_entries.append(dict(principal=principal, exclusive=False, acls=worker_rules))
    if verify is not None:
        entry, problem = _verify_entry(verify, parsed_rules)
        if problem:
            problems.append(problem)
        elif entry["principal"] not in set(e.get("principal") for e in module_entries if isinstance(e, Mapping)):
            module_entries.append(entry)
    _parsed, acl_problems = parse_principals(module_entries, variable)
    problems += [message if where in message else "%s: %s" % (where, message) for where, message in acl_problems]
    if problems:
        return dict(principals=[], bundles=[], problems=problems)
    for entry in module_entries:
        entry.setdefault("exclusive", False)
        entry.setdefault("acls", [])
    return dict(principals=module_entries, bundles=[dict(name=n) for n in names], problems=[])


def worker_principals(hosts: Sequence[str], hostvars: Mapping[str, Any], rules: Any = None) -> Dict[str, str]:
    """{Connect worker host: its principal}: its certificate's subject from the inventory (the certificates
    role's kafkasec_cert_common_name, else the inventory name, and kafkasec_cert_subject), mapped by ``rules``."""
    parsed = parse_rules(rules_text(rules if rules not in (None, "") else DEFAULT_RULES))
    out: Dict[str, str] = {}
    for host in hosts or []:
        variables = hostvars.get(host) or {}
        subject = variables.get("kafkasec_cert_subject") or {}
        dn = dn_of_subject(str(variables.get("kafkasec_cert_common_name") or host),
                           {str(k): str(v) for k, v in dict(subject).items()})
        out[str(host)] = principal_of(parsed, dn)
    return out


def inventory_plan(entries: Any, connect_hosts: Sequence[str], hostvars: Mapping[str, Any], rules: Any = None,
                   connect: Any = None, bundles: bool = True, verify: Any = None) -> Dict[str, Any]:
    """plan() with the Connect workers' principals read from the inventory (group kafka_connect)."""
    try:
        workers = worker_principals(connect_hosts, hostvars, rules) if connect is not None else {}
    except (PrincipalError, ValueError) as exc:
        return dict(principals=[], bundles=[], problems=["kafkasec_ssl_principal_mapping_rules: %s" % exc])
    return plan(entries, rules, workers, connect, bundles, verify=verify)
