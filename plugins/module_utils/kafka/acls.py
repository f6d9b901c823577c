# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka ACLs kept declaratively, in the shape of Strimzi's KafkaUser ``authorization.acls``.

Plain, typed Python with no Ansible imports. The module ``kafkasec.tls.kafka_acls`` calls it;
``tests/unit/test_acls.py`` covers it table by table.

    principals, problems = parse_principals(entries, variable="kafkasec_acls", state="present")
    problems            # [(variable path, message)]: refuse before the cluster is asked anything
    desired = expand(principals)                      # one Binding per operation
    to_create, to_delete = plan_acls(desired, current, "present", exclusive_principals(principals))
    acl_diff(current, to_create, to_delete, [p.principal for p in principals])   # before/after text

An entry is ``{principal: User:<name>, exclusive: bool, acls: [rule, ...]}``; a rule is
``{resource: {type, name, pattern_type}, operations: [...], host: '*', type: allow}``:

- ``resource.type``: topic, group, cluster or transactional_id (``transactionalId`` as Strimzi spells it is
  accepted); the cluster resource is always named ``kafka-cluster`` (the name may be left out).
- ``resource.pattern_type`` (``patternType``): literal (default) or prefixed; a literal ``*`` is every resource
  of the type.
- ``operations``: Kafka's operation names, in any case, with or without ``_`` (``describe_configs`` is
  ``DescribeConfigs``). An operation must apply to the resource type, as Kafka's own table says
  (``AclEntry.supportedOperations``; ``All`` applies to every type).
- ``host``: ``*`` (default) or one IP address. Kafka compares it with the client's address as Java prints it
  (``InetAddress.getHostAddress``), so an IPv6 address is kept in Java's form (``0:0:0:0:0:0:0:1`` for ``::1``),
  else it would never match.
- ``type``: allow (default) or deny.

The plan is Strimzi's: with ``state: present`` the bindings declared and missing are created; with
``state: absent`` the bindings declared and present are deleted; a principal marked ``exclusive`` loses
every binding the cluster has for it that is not declared. Only the principals named are ever read or
changed, with one exception that the caller asks for (``retire``, what ``playbooks/acls.yml`` does):

- every principal named gets a marker binding, ``managed_marker(principal)``: DENY Describe on the literal topic
  ``kafkasec.tls:managed``. ``:`` is not a legal character of a topic name (Kafka's ``Topic.validate``), so the
  topic can never exist and the binding denies nothing; it records on the cluster itself (in the metadata log, or
  in ZooKeeper's ACL znodes) that the collection keeps this principal;
- a principal with a marker that the input no longer names is retired: every binding the cluster has for it
  (its marker included) is deleted, and it is reported. A principal without a marker (ACLs made by hand, or by
  another tool) is never read or changed.
"""

from __future__ import annotations

import ipaddress
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

try:
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType,
                                       ResourceType)
except ImportError:  # pragma: no cover - the import error is reported by cluster.confluent_kafka_problem()
    IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    IMPORT_ERROR = None

from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import Problem
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.cluster import ClusterReader, ClusterRequest, HealthError

__all__ = [
    "AclAdmin",
    "AclError",
    "Binding",
    "CLUSTER_NAME",
    "OPERATIONS",
    "PrincipalAcls",
    "RESOURCE_TYPES",
    "SUPPORTED_OPERATIONS",
    "MANAGED_MARKER_NAME",
    "acl_diff",
    "ensure",
    "managed_marker",
    "managed_principals",
    "expand",
    "exclusive_principals",
    "normalise_host",
    "parse_principals",
    "plan_acls",
    "plan_with_retirement",
]

# The resource types the module manages, as the variables spell them.
RESOURCE_TYPES = ("topic", "group", "cluster", "transactional_id")
PATTERN_TYPES = ("literal", "prefixed")
PERMISSIONS = ("allow", "deny")
STATES = ("present", "absent")
# Kafka's name of the one CLUSTER resource (ResourcePattern / AclCommand).
CLUSTER_NAME = "kafka-cluster"
# Kafka's ACL operations (org.apache.kafka.common.acl.AclOperation) under the names Kafka's documentation and
# Strimzi use; CreateTokens and DescribeTokens belong to the user resource, which the module does not manage.
OPERATIONS = ("All", "Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction", "DescribeConfigs",
              "AlterConfigs", "IdempotentWrite")
# Kafka's AclEntry.supportedOperations (server/src/main/java/org/apache/kafka/security/authorizer/AclEntry.java,
# Kafka 4.x; Kafka 3.9 and older know Read, Describe and Delete on groups only: group configs came with KIP-848,
# KAFKA-14510). All applies to every type (AclCommand adds it to this table).
SUPPORTED_OPERATIONS: Dict[str, Tuple[str, ...]] = {
    "topic": ("Read", "Write", "Create", "Describe", "Delete", "Alter", "DescribeConfigs", "AlterConfigs"),
    "group": ("Read", "Describe", "Delete", "DescribeConfigs", "AlterConfigs"),
    "cluster": ("Create", "ClusterAction", "DescribeConfigs", "AlterConfigs", "IdempotentWrite", "Alter", "Describe"),
    "transactional_id": ("Describe", "Write"),
}
PRINCIPAL_PREFIX = "User:"
ENTRY_KEYS = ("principal", "acls", "exclusive")
RULE_KEYS = ("resource", "operations", "host", "type")
RESOURCE_KEYS = ("type", "name", "pattern_type", "patternType")


def _key(value: str) -> str:
    """How names are compared when case and separators do not matter: ``Describe_Configs`` -> ``describeconfigs``."""
    return value.lower().replace("_", "").replace("-", "")


_OPERATION_BY_KEY = {_key(name): name for name in OPERATIONS}
_RESOURCE_BY_KEY = {_key(name): name for name in RESOURCE_TYPES}


class AclError(ValueError):
    """A request the cluster refused or did not answer; the message names the bindings or the principal."""


@dataclass(frozen=True, order=True)
class Binding:
    """One ACL binding: a principal may (or may not) do one operation on one resource pattern from one host."""

    principal: str
    resource_type: str
    resource_name: str
    pattern_type: str
    operation: str
    host: str = "*"
    permission: str = "allow"

    def line(self) -> str:
        """One stable line per binding (diffs, messages)."""
        return "%s %s %s on %s %s (%s) from host %s" % (
            self.principal, self.permission, self.operation, self.resource_type, self.resource_name,
            self.pattern_type, self.host)

    def as_dict(self) -> Dict[str, str]:
        return dict(principal=self.principal, resource_type=self.resource_type, resource_name=self.resource_name,
                    pattern_type=self.pattern_type, operation=self.operation, host=self.host,
                    permission=self.permission)


@dataclass(frozen=True)
class PrincipalAcls:
    principal: str
    bindings: FrozenSet[Binding]
    exclusive: bool = False


# -- input ---------------------------------------------------------------------------------------

def normalise_host(host: str) -> Optional[str]:
    """``*``, or the address as Kafka compares it (Java's ``getHostAddress``); None when it is not an address."""
    if host == "*":
        return host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:  # fe80::1%eth0: the zone is the client's business, not an ACL's
            return None
        if address.ipv4_mapped is not None:  # Java turns ::ffff:a.b.c.d into an Inet4Address
            return str(address.ipv4_mapped)
        packed = address.packed
        return ":".join("%x" % (packed[i] << 8 | packed[i + 1]) for i in range(0, 16, 2))
    return str(address)


def _text(value: Any) -> Optional[str]:
    """A string option's value (numbers as YAML may give them, turned into text); None when it is not text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return str(value)
    return value if isinstance(value, str) else None


def _principal_problems(value: Any, where: str) -> List[Problem]:
    if value is None or value == "":
        return [(where, "%s (%r) is missing: each entry names its principal as User:<name>" % (where, value))]
    if not isinstance(value, str):
        return [(where, "%s (%r) must be a string, User:<name>" % (where, value))]
    if not value.startswith(PRINCIPAL_PREFIX):
        hint = ""
        if value.lower().startswith("user:"):
            hint = " (the prefix is case-sensitive: User:)"
        elif ":" not in value:
            hint = " (write User:%s)" % value
        return [(where, "%s (%r) is not a principal Kafka matches: it must start with User:%s"
                 % (where, value, hint))]
    name = value[len(PRINCIPAL_PREFIX):]
    if not name.strip():
        return [(where, "%s (%r) has an empty name after User:" % (where, value))]
    if name != name.strip() or any(ord(ch) < 32 for ch in name):
        return [(where, "%s (%r) holds surrounding spaces or a control character; Kafka compares principals "
                 "exactly" % (where, value))]
    return []


def _resource(raw: Any, where: str, problems: List[Problem]) -> Optional[Tuple[str, str, str]]:
    """(type, name, pattern type) of a rule's resource, or None after adding its problems."""
    if not isinstance(raw, Mapping):
        problems.append((where, "%s (%r) must be a mapping with type, name and pattern_type" % (where, raw)))
        return None
    unknown = sorted(str(k) for k in raw if k not in RESOURCE_KEYS)
    if unknown:
        problems.append((where, "%s has unknown key(s) %s; a resource has type, name and pattern_type"
                         % (where, ", ".join(unknown))))
    count = len(problems)
    raw_type = _text(raw.get("type"))
    resource_type = _RESOURCE_BY_KEY.get(_key(raw_type)) if raw_type is not None else None
    if resource_type is None:
        problems.append((where + ".type", "%s.type (%r) is not a resource type the module manages; one of %s"
                         % (where, raw.get("type"), ", ".join(RESOURCE_TYPES))))
    raw_pattern = raw.get("pattern_type") if raw.get("pattern_type") is not None else raw.get("patternType")
    pattern_text = _text(raw_pattern) if raw_pattern is not None else "literal"
    pattern_type = pattern_text.lower() if pattern_text is not None else None
    if pattern_type not in PATTERN_TYPES:
        problems.append((where + ".pattern_type", "%s.pattern_type (%r) must be literal or prefixed"
                         % (where, raw_pattern)))
    raw_name = raw.get("name")
    name = _text(raw_name)
    if resource_type == "cluster":
        if raw_name is not None and name != CLUSTER_NAME:
            problems.append((where + ".name", "%s.name (%r): the cluster resource is always named %s (leave the name "
                             "out)" % (where, raw_name, CLUSTER_NAME)))
        if pattern_type == "prefixed":
            problems.append((where + ".pattern_type", "%s.pattern_type (%r): the cluster resource takes a literal "
                             "pattern only" % (where, raw_pattern)))
        name = CLUSTER_NAME
    elif name is None or not name:
        problems.append((where + ".name", "%s.name (%r) is empty: name the %s (or * with pattern_type literal for "
                         "every %s)" % (where, raw_name, resource_type or "resource", resource_type or "resource")))
    if len(problems) > count or resource_type is None or pattern_type is None or name is None:
        return None
    return resource_type, name, pattern_type


def _operations(raw: Any, resource_type: Optional[str], where: str, problems: List[Problem]) -> List[str]:
    if isinstance(raw, str) or not isinstance(raw, Sequence) or not raw:
        problems.append((where, "%s (%r) must be a non-empty list of operations (%s)"
                         % (where, raw, ", ".join(OPERATIONS))))
        return []
    found: List[str] = []
    for index, value in enumerate(raw):
        here = "%s[%d]" % (where, index)
        text = _text(value)
        operation = _OPERATION_BY_KEY.get(_key(text)) if text is not None else None
        if operation is None:
            problems.append((here, "%s (%r) is not a Kafka ACL operation; Kafka knows %s"
                             % (here, value, ", ".join(OPERATIONS))))
            continue
        if resource_type is not None and operation != "All" and operation not in SUPPORTED_OPERATIONS[resource_type]:
            problems.append((here, "%s (%r) does not apply to a %s; Kafka's operations on a %s are %s and All"
                             % (here, value, resource_type, resource_type,
                                ", ".join(SUPPORTED_OPERATIONS[resource_type]))))
            continue
        if operation not in found:
            found.append(operation)
    return found


def _rule(raw: Any, principal: str, where: str, problems: List[Problem]) -> List[Binding]:
    if not isinstance(raw, Mapping):
        problems.append((where, "%s (%r) must be a mapping with resource, operations, host and type" % (where, raw)))
        return []
    count = len(problems)
    unknown = sorted(str(k) for k in raw if k not in RULE_KEYS)
    if unknown:
        problems.append((where, "%s has unknown key(s) %s; a rule has resource, operations, host and type"
                         % (where, ", ".join(unknown))))
    resource = _resource(raw.get("resource"), where + ".resource", problems)
    operations = _operations(raw.get("operations"), resource[0] if resource else None, where + ".operations",
                             problems)
    raw_host = raw.get("host") if raw.get("host") is not None else "*"
    host_text = _text(raw_host)
    host = normalise_host(host_text.strip()) if host_text is not None else None
    if host is None:
        problems.append((where + ".host", "%s (%r) is not an IP address or *: Kafka compares an ACL's host with the "
                         "client's address exactly (no names, no networks)" % (where + ".host", raw_host)))
    raw_permission = raw.get("type") if raw.get("type") is not None else "allow"
    permission_text = _text(raw_permission)
    permission = permission_text.lower() if permission_text is not None else None
    if permission not in PERMISSIONS:
        problems.append((where + ".type", "%s.type (%r) must be allow or deny" % (where, raw_permission)))
    if len(problems) > count or resource is None or host is None or permission is None:
        return []
    resource_type, name, pattern_type = resource
    return [Binding(principal, resource_type, name, pattern_type, operation, host, permission)
            for operation in operations]


def parse_principals(entries: Any, variable: str = "principals",
                     state: str = "present") -> Tuple[List[PrincipalAcls], List[Problem]]:
    """The declared principals and their bindings, and every problem of the input (variable path, message).

    Nothing is returned as parsed when there is a problem: the caller refuses the whole input.
    """
    problems: List[Problem] = []
    if state not in STATES:
        problems.append(("state", "state (%r) must be present or absent" % (state,)))
    if entries is None:
        entries = []
    if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, Sequence):
        problems.append((variable, "%s (%r) must be a list of {principal, acls, exclusive}" % (variable, entries)))
        return [], problems
    parsed: List[PrincipalAcls] = []
    seen: Dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = "%s[%d]" % (variable, index)
        if not isinstance(entry, Mapping):
            problems.append((where, "%s (%r) must be a mapping with principal, acls and exclusive" % (where, entry)))
            continue
        unknown = sorted(str(k) for k in entry if k not in ENTRY_KEYS)
        if unknown:
            problems.append((where, "%s has unknown key(s) %s; an entry has principal, acls and exclusive"
                             % (where, ", ".join(unknown))))
        principal = entry.get("principal")
        principal_problems = _principal_problems(principal, where + ".principal")
        problems.extend(principal_problems)
        if not principal_problems:
            if principal in seen:
                problems.append((where + ".principal", "%s.principal (%r) is listed twice (also %s[%d]); give each "
                                 "principal one entry" % (where, principal, variable, seen[principal])))
            else:
                seen[principal] = index
        exclusive = entry.get("exclusive") if entry.get("exclusive") is not None else False
        if not isinstance(exclusive, bool):
            problems.append((where + ".exclusive", "%s.exclusive (%r) must be true or false" % (where, exclusive)))
        elif exclusive and state == "absent":
            problems.append((where + ".exclusive", "%s.exclusive (True) with state absent would delete every ACL of %s; "
                             "to do that, use state present, exclusive true and no acls" % (where, principal)))
        rules = entry.get("acls") if entry.get("acls") is not None else []
        if isinstance(rules, (str, bytes, Mapping)) or not isinstance(rules, Sequence):
            problems.append((where + ".acls", "%s.acls (%r) must be a list of rules" % (where, rules)))
            continue
        bindings: List[Binding] = []
        for rule_index, rule in enumerate(rules):
            bindings.extend(_rule(rule, str(principal), "%s.acls[%d]" % (where, rule_index), problems))
        if not principal_problems:
            parsed.append(PrincipalAcls(str(principal), frozenset(bindings), exclusive is True))
    if problems:
        return [], problems
    return parsed, problems


def expand(principals: Iterable[PrincipalAcls]) -> FrozenSet[Binding]:
    """Every declared binding (one per operation), duplicates merged."""
    return frozenset(b for p in principals for b in p.bindings)


def exclusive_principals(principals: Iterable[PrincipalAcls]) -> FrozenSet[str]:
    return frozenset(p.principal for p in principals if p.exclusive)


# -- the plan ------------------------------------------------------------------------------------

def plan_acls(desired: Iterable[Binding], current: Iterable[Binding], state: str,
              exclusive: Iterable[str] = ()) -> Tuple[List[Binding], List[Binding]]:
    """(to_create, to_delete), each sorted.

    present: create what is declared and missing. absent: delete what is declared and there. Either way, a
    principal in ``exclusive`` loses every current binding that is not declared.
    """
    if state not in STATES:
        raise ValueError("state must be present or absent, not %r" % (state,))
    wanted = frozenset(desired)
    have = frozenset(current)
    owned = frozenset(exclusive)
    if state == "present":
        to_create = wanted - have
        to_delete = frozenset(b for b in have if b.principal in owned and b not in wanted)
    else:
        to_create = frozenset()
        to_delete = (wanted & have) | frozenset(b for b in have if b.principal in owned and b not in wanted)
    return sorted(to_create), sorted(to_delete)


def acl_diff(current: Iterable[Binding], to_create: Iterable[Binding], to_delete: Iterable[Binding],
             principals: Iterable[str]) -> Dict[str, str]:
    """Ansible's diff: the managed principals' bindings before and after, one sorted line each."""
    names = frozenset(principals)
    before = frozenset(b for b in current if b.principal in names)
    after = (before - frozenset(to_delete)) | frozenset(to_create)

    def text(bindings: FrozenSet[Binding]) -> str:
        return "".join(b.line() + "\n" for b in sorted(bindings))

    return dict(before=text(before), after=text(after),
                before_header="ACLs of %d principal(s)" % len(names), after_header="ACLs of %d principal(s)" % len(names))


# -- the collection's own principals (retire) ----------------------------------------------------

# The marker's topic: ':' is not a legal topic character (Topic.validate: [a-zA-Z0-9._-]), so no topic of that name
# can ever be created and the DENY binding never matches a request; it holds no '/', which ZooKeeper mode's
# AclAuthorizer would read as a znode path.
MANAGED_MARKER_NAME = "kafkasec.tls:managed"


def managed_marker(principal: str) -> Binding:
    """The binding that records on the cluster that the collection keeps ``principal``'s ACLs."""
    return Binding(principal, "topic", MANAGED_MARKER_NAME, "literal", "Describe", "*", "deny")


def managed_principals(bindings: Iterable[Binding]) -> FrozenSet[str]:
    """The principals whose marker is among ``bindings``."""
    return frozenset(b.principal for b in bindings if b == managed_marker(b.principal))


def plan_with_retirement(principals: Sequence[PrincipalAcls], current: Iterable[Binding], state: str,
                         managed: Iterable[str] = ()) -> Tuple[List[Binding], List[Binding], List[str]]:
    """(to_create, to_delete, retired) with the markers: plan_acls over the declared bindings plus one marker per
    principal named (created with state present, deleted with state absent, kept by an exclusive principal), and
    every current binding of a principal in ``managed`` (it has a marker) that ``principals`` no longer names.

    ``current`` holds the bindings of the principals named and of those in ``managed``."""
    names = frozenset(p.principal for p in principals)
    retired = sorted(frozenset(managed) - names)
    desired = expand(principals) | frozenset(managed_marker(name) for name in names)
    have = frozenset(current)
    to_create, to_delete = plan_acls(desired, frozenset(b for b in have if b.principal in names), state,
                                     exclusive_principals(principals))
    gone = frozenset(b for b in have if b.principal in frozenset(retired))
    return to_create, sorted(frozenset(to_delete) | gone), retired


# -- the real cluster ----------------------------------------------------------------------------

_KAFKA_RESOURCE = {"topic": "TOPIC", "group": "GROUP", "cluster": "BROKER", "transactional_id": "TRANSACTIONAL_ID"}
_KAFKA_OPERATION = {"All": "ALL", "Read": "READ", "Write": "WRITE", "Create": "CREATE", "Delete": "DELETE",
                    "Alter": "ALTER", "Describe": "DESCRIBE", "ClusterAction": "CLUSTER_ACTION",
                    "DescribeConfigs": "DESCRIBE_CONFIGS", "AlterConfigs": "ALTER_CONFIGS",
                    "IdempotentWrite": "IDEMPOTENT_WRITE"}
_RESOURCE_FROM_KAFKA = {v: k for k, v in _KAFKA_RESOURCE.items()}
_OPERATION_FROM_KAFKA = {v: k for k, v in _KAFKA_OPERATION.items()}


def to_kafka(binding: Binding) -> "AclBinding":
    return AclBinding(ResourceType[_KAFKA_RESOURCE[binding.resource_type]], binding.resource_name,
                      ResourcePatternType[binding.pattern_type.upper()], binding.principal, binding.host,
                      AclOperation[_KAFKA_OPERATION[binding.operation]],
                      AclPermissionType[binding.permission.upper()])


def to_filter(binding: Binding) -> "AclBindingFilter":
    """A filter that matches exactly ``binding`` (every field concrete)."""
    return AclBindingFilter(ResourceType[_KAFKA_RESOURCE[binding.resource_type]], binding.resource_name,
                            ResourcePatternType[binding.pattern_type.upper()], binding.principal, binding.host,
                            AclOperation[_KAFKA_OPERATION[binding.operation]],
                            AclPermissionType[binding.permission.upper()])


def _enum_name(value: Any) -> str:
    return str(getattr(value, "name", value)).upper()


def from_kafka(acl: Any) -> Optional[Binding]:
    """The Binding of an AclBinding the cluster reported; None for a resource type the module does not manage."""
    resource_type = _RESOURCE_FROM_KAFKA.get(_enum_name(acl.restype))
    operation = _OPERATION_FROM_KAFKA.get(_enum_name(acl.operation))
    pattern_type = _enum_name(acl.resource_pattern_type).lower()
    permission = _enum_name(acl.permission_type).lower()
    if resource_type is None or operation is None or pattern_type not in PATTERN_TYPES or permission not in PERMISSIONS:
        return None
    return Binding(acl.principal, resource_type, acl.name, pattern_type, operation, acl.host, permission)


def _detail(exc: BaseException) -> Tuple[str, Any]:
    err = exc.args[0] if exc.args else exc
    return (err.str() if hasattr(err, "str") else str(err)), (err.code() if hasattr(err, "code") else None)


class AclAdmin:
    """DescribeAcls / CreateAcls / DeleteAcls through ClusterReader's AdminClient (mTLS, as in scram.py)."""

    def __init__(self, request: ClusterRequest) -> None:
        try:
            self.reader = ClusterReader(request)
        except HealthError as exc:
            raise AclError(str(exc)) from None
        self.timeout = request.request_timeout

    def _refused(self, what: str, exc: BaseException) -> AclError:
        detail, code = _detail(exc)
        if IMPORT_ERROR is None and code == KafkaError.SECURITY_DISABLED:
            return AclError("%s: the cluster has no authorizer (authorizer.class.name is not set), so it keeps no "
                            "ACLs (%s)" % (what, detail))
        if IMPORT_ERROR is None and code == KafkaError.CLUSTER_AUTHORIZATION_FAILED:
            return AclError("%s: the client certificate's principal may not do this: describing ACLs needs Describe, "
                            "creating and deleting them Alter on the cluster (a super user has both) (%s)"
                            % (what, detail))
        return AclError(str(self.reader.failure(what, exc)))

    def authorized(self) -> FrozenSet[str]:
        """The cluster operations the client's principal may do (DescribeCluster, KIP-430), as Kafka names them."""
        try:
            described = self.reader.admin.describe_cluster(include_authorized_operations=True,
                                                           request_timeout=self.timeout).result(timeout=self.timeout + 5)
        except Exception as exc:  # pylint: disable=broad-except  # KafkaException or a timeout
            raise self._refused("cannot describe the cluster", exc) from None
        return frozenset(_enum_name(op) for op in (described.authorized_operations or ()))

    def describe(self, principals: Sequence[str]) -> List[Binding]:
        """Every binding the cluster has for ``principals`` (of the resource types the module manages).

        confluent-kafka (2.16) answers a DescribeAcls the broker refused with an empty list instead of an
        error, which would read as "no ACLs"; so the client's right to describe them is checked first.
        """
        if principals and "DESCRIBE" not in self.authorized():
            raise AclError("cannot describe the ACLs: the client certificate's principal has no Describe on the cluster "
                           "(describing ACLs needs Describe, creating and deleting them Alter; a super user has both)")
        futures = []
        for principal in sorted(set(principals)):
            flt = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, principal, None, AclOperation.ANY,
                                   AclPermissionType.ANY)
            try:
                futures.append((principal, self.reader.admin.describe_acls(flt, request_timeout=self.timeout)))
            except KafkaException as exc:
                raise self._refused("cannot describe the ACLs of %s" % principal, exc) from None
        found: List[Binding] = []
        for principal, future in futures:
            try:
                acls = future.result(timeout=self.timeout + 5)
            except Exception as exc:  # pylint: disable=broad-except  # KafkaException or a timeout
                raise self._refused("cannot describe the ACLs of %s" % principal, exc) from None
            found.extend(b for b in (from_kafka(acl) for acl in acls) if b is not None and b.principal == principal)
        return sorted(set(found))

    def markers(self) -> List[Binding]:
        """Every marker binding of the cluster (managed_marker), whatever its principal: one DescribeAcls."""
        if "DESCRIBE" not in self.authorized():
            raise AclError("cannot describe the ACLs: the client certificate's principal has no Describe on the cluster "
                           "(describing ACLs needs Describe, creating and deleting them Alter; a super user has both)")
        flt = AclBindingFilter(ResourceType.TOPIC, MANAGED_MARKER_NAME, ResourcePatternType.LITERAL, None, None,
                               AclOperation.DESCRIBE, AclPermissionType.DENY)
        try:
            acls = self.reader.admin.describe_acls(flt, request_timeout=self.timeout).result(timeout=self.timeout + 5)
        except Exception as exc:  # pylint: disable=broad-except  # KafkaException or a timeout
            raise self._refused("cannot describe the collection's markers (%s)" % MANAGED_MARKER_NAME, exc) from None
        found = [from_kafka(acl) for acl in acls]
        return sorted(b for b in found if b is not None and b == managed_marker(b.principal))

    def create(self, bindings: Sequence[Binding]) -> None:
        if not bindings:
            return
        by_acl = {to_kafka(b): b for b in bindings}
        try:
            futures = self.reader.admin.create_acls(list(by_acl), request_timeout=self.timeout)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._refused("cannot create ACLs", exc) from None
        failed = []
        for acl, future in futures.items():
            try:
                future.result(timeout=self.timeout + 5)
            except Exception as exc:  # pylint: disable=broad-except
                failed.append("%s: %s" % (by_acl[acl].line(), _detail(exc)[0]))
        if failed:
            raise AclError("the cluster refused to create %d ACL binding(s): %s" % (len(failed), "; ".join(failed)))

    def delete(self, bindings: Sequence[Binding]) -> None:
        if not bindings:
            return
        by_filter = {to_filter(b): b for b in bindings}
        try:
            futures = self.reader.admin.delete_acls(list(by_filter), request_timeout=self.timeout)
        except Exception as exc:  # pylint: disable=broad-except
            raise self._refused("cannot delete ACLs", exc) from None
        failed = []
        for flt, future in futures.items():
            try:
                future.result(timeout=self.timeout + 5)
            except Exception as exc:  # pylint: disable=broad-except
                failed.append("%s: %s" % (by_filter[flt].line(), _detail(exc)[0]))
        if failed:
            raise AclError("the cluster refused to delete %d ACL binding(s): %s" % (len(failed), "; ".join(failed)))


@dataclass
class AclOutcome:
    current: List[Binding]
    to_create: List[Binding]
    to_delete: List[Binding]
    principals: List[str]
    retired: List[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.to_create or self.to_delete)

    def diff(self) -> Dict[str, str]:
        return acl_diff(self.current, self.to_create, self.to_delete, self.principals + self.retired)


def ensure(request: ClusterRequest, principals: Sequence[PrincipalAcls], state: str,
           check_mode: bool = False, retire: bool = False) -> AclOutcome:
    """Read the principals' bindings, plan and (unless ``check_mode``) apply: create first, then delete, so a
    binding that is replaced is never missing in between. With ``retire``, plan_with_retirement: the markers of
    the principals named, and the principals the cluster marks as the collection's that are no longer named
    lose every binding."""
    names = [p.principal for p in principals]
    admin = AclAdmin(request)
    if retire:
        managed = managed_principals(admin.markers())
        current = admin.describe(sorted(frozenset(names) | managed))
        to_create, to_delete, retired = plan_with_retirement(principals, current, state, managed)
    else:
        current = admin.describe(names)
        to_create, to_delete = plan_acls(expand(principals), current, state, exclusive_principals(principals))
        retired = []
    if not check_mode:
        admin.create(to_create)
        admin.delete(to_delete)
    return AclOutcome(current, to_create, to_delete, names, retired)
