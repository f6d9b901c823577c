# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node planner of a Kafka node: what its server.properties must say, and whether it restarts.

Pure functions, no Ansible: the module ``kafkasec.tls.broker_config`` reads the node's file and
calls them; ``tests/unit/test_broker_plan.py`` covers them table by table.

    settings = BrokerSettings.from_vars(role_variables, inventory_hostname="kafka-1")
    plan = plan_node(load(server_properties_text), settings)
    plan.problems            # [(variable, message)]: refuse before anything changes
    plan.values              # what templates/server-tls.properties.j2 lays out
    plan.remove              # keys to delete (SASL listener turned off, ...)
    plan.stage, plan.phase   # how far a live migration is on this node
    plan.switch_expected     # the change cannot roll: the whole quorum moves at once

The rules are those of a KRaft (or ZooKeeper-mode) node moving to TLS:

- listeners are advertised by name so that certificates and hostname verification can name them;
- the controller listener and inter-broker traffic use TLS (``<controller>:SSL``);
- a live migration (``migration_phase``) goes add_tls -> move_internal -> drop_plaintext; a phase
  never takes a node back, so each phase may be rerun, or run on a node that is ahead, unchanged;
- a first move of the controller listener to TLS (or to another port) cannot roll: a KRaft quorum
  cannot mix protocols on it; in ZooKeeper mode the same holds for the inter-broker listener.
"""

from __future__ import annotations

import ipaddress
import re

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.kafkasec.tls.plugins.module_utils.common.names import covering_san
from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import Problem
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import principals
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.store_settings import STORE_EXTENSIONS

PHASES = ("none", "add_tls", "move_internal", "drop_plaintext")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
TLS_PROTOCOLS = ("TLSv1.3", "TLSv1.2")
CLIENT_AUTH = ("required", "requested", "none")
STORE_TYPES = tuple(STORE_EXTENSIONS)
# The keys whose change moves the quorum's endpoints (with switch_expected: every node at once).
QUORUM_KEYS = ("listener.security.protocol.map", "controller.quorum.voters",
               "controller.quorum.bootstrap.servers", "listeners")
_LISTENER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FORWARD_SECRET_SUITE = re.compile(
    r"^TLS_(AES_(128|256)_GCM_SHA(256|384)|AES_128_CCM_SHA256|CHACHA20_POLY1305_SHA256|(ECDHE|DHE)_[A-Z0-9_]+)$")
_WEAK_SUITE = re.compile(r"_(NULL|anon|RC4|EXPORT|DES|3DES)_")
_PORT_AT_END = re.compile(r":[0-9]+(?=[ ]*(,|$))")
_BIND_OF_LISTENER = re.compile(r"^[A-Za-z0-9_]+://(.*):[0-9]+$")
# The authorizer of each metadata mode (KRaft: brokers and controllers alike; ZooKeeper mode: Kafka 3.x).
AUTHORIZERS = {"kraft": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
               "zookeeper": "kafka.security.authorizer.AclAuthorizer"}
# The authorisation keys the planner sets (read at start-up: a change rolls), as plan.values names them.
AUTHORIZATION_KEYS = {"authorizer.class.name": "authorizer_class_name",
                      "ssl.principal.mapping.rules": "principal_mapping_rules",
                      "super.users": "super_users",
                      "allow.everyone.if.no.acl.found": "allow_everyone_if_no_acl_found"}


def _split(value: Optional[str], sep: str = ",") -> List[str]:
    return [item.strip() for item in str(value or "").split(sep) if item.strip()]


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(value)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class BrokerSettings:
    """The inventory's wishes for one node (role variables without their ``kafkasec_broker_`` prefix)."""

    hostname: str
    advertised_host: str
    metadata_mode: str = "kraft"
    listen_address: Optional[str] = None
    ssl_listener_name: str = "SSL"
    ssl_port: int = 9093
    controller_listener_name: str = "CONTROLLER"
    controller_port: int = 9094
    keep_plaintext: bool = False
    plaintext_port: int = 9092
    ssl_client_auth: str = "required"
    ssl_enabled_protocols: Tuple[str, ...] = TLS_PROTOCOLS
    ssl_protocol: str = "TLSv1.3"
    ssl_cipher_suites: Tuple[str, ...] = ()
    sasl_enabled: bool = False
    sasl_listener_name: str = "SASL_SSL"
    sasl_port: int = 9096
    sasl_mechanisms: Tuple[str, ...] = ("SCRAM-SHA-512",)
    sasl_plain_users: Mapping[str, Any] = field(default_factory=dict, repr=False)
    migration_phase: str = "none"
    zookeeper_connect: Any = None
    zookeeper_ensemble: Tuple[Mapping[str, Any], ...] = ()
    zookeeper_chroot: str = ""
    zookeeper_sasl_username: str = ""
    zookeeper_sasl_password_set: bool = False
    # The certificate's names and the store types (the PKI contract).
    dns_names: Tuple[str, ...] = ()
    ip_addresses: Tuple[str, ...] = ()
    keystore_type: str = "pkcs12"
    truststore_type: str = "pkcs12"
    # Authorisation (kafkasec_authorizer_enabled, kafkasec_ssl_principal_mapping_rules, kafkasec_super_users,
    # kafkasec_allow_everyone_if_no_acl_found: cluster-wide, so without the broker_ prefix) and every Kafka
    # node's certificate subject from the inventory ({host, common_name, subject}), for super.users.
    authorizer_enabled: bool = True
    principal_mapping_rules: Any = principals.DEFAULT_RULES
    super_users: Any = ()
    allow_everyone_if_no_acl_found: bool = False
    kafka_nodes: Tuple[Mapping[str, Any], ...] = ()


@dataclass
class BrokerPlan:
    """What the node's file must say, and what that means for the node."""

    values: Dict[str, Any]
    remove: List[str]
    stage: int
    phase: str
    migrating: bool
    is_controller: bool
    dynamic_quorum: bool
    switch_expected: bool
    old_controller_name: str
    old_controller_endpoint: str
    problems: List[Problem]
    # ss's filter for the clients connected to the PLAINTEXT listener the file has (before drop_plaintext).
    plaintext_connections_filter: str = ""

    def as_dict(self) -> Dict[str, Any]:
        return dict(values=self.values, remove=self.remove, stage=self.stage, phase=self.phase,
                    migrating=self.migrating, is_controller=self.is_controller,
                    dynamic_quorum=self.dynamic_quorum, switch_expected=self.switch_expected,
                    old_controller_name=self.old_controller_name,
                    old_controller_endpoint=self.old_controller_endpoint,
                    plaintext_connections_filter=self.plaintext_connections_filter,
                    problems=[dict(variable=v, message=m) for v, m in self.problems])


@dataclass(frozen=True)
class _Current:
    """The parts of the node's current file the plan depends on."""

    props: Mapping[str, str]
    roles: List[str]
    listeners: List[str]
    advertised: List[str]
    protocol_map: Dict[str, str]
    controller_names: List[str]
    voters: str
    bootstrap: str

    @classmethod
    def of(cls, props: Mapping[str, str]) -> "_Current":
        protocol_map: Dict[str, str] = {}
        for item in _split(props.get("listener.security.protocol.map")):
            name, sep, protocol = item.partition(":")
            if sep:
                protocol_map[name] = protocol
        return cls(props=props, roles=_split(props.get("process.roles")), listeners=_split(props.get("listeners")),
                   advertised=_split(props.get("advertised.listeners")), protocol_map=protocol_map,
                   controller_names=_split(props.get("controller.listener.names")),
                   voters=str(props.get("controller.quorum.voters", "")),
                   bootstrap=str(props.get("controller.quorum.bootstrap.servers", "")))

    def bind_address(self) -> str:
        """The address the existing listeners bind to (the first one's host; '' = every interface)."""
        if not self.listeners:
            return ""
        return _BIND_OF_LISTENER.sub(r"\1", self.listeners[0])


def migration_stage(controller_names: Sequence[str], protocol_map: Mapping[str, str], controller_name: str) -> int:
    """How far the node's file is: 0 untouched, 1 add_tls, 2 move_internal, 3 migrated."""
    names = list(controller_names)
    if names == [controller_name] and protocol_map.get(controller_name, "") == "SSL":
        return 3
    if len(names) == 2 and names[0] == controller_name:
        return 2
    if len(names) == 2 and names[1] == controller_name:
        return 1
    return 0


def live_controller_listener(props: Mapping[str, str]) -> Optional[str]:
    """The controller listener a live store reload reaches on this node, from its current file: the one
    name of ``controller.listener.names`` when the node is both broker and controller (the admin client
    reaches it through the broker's SSL listener) and that listener is on TLS (SSL in the protocol map)
    and listens; None otherwise (a broker-only or controller-only node, a migration with two controller
    listeners, a PLAINTEXT controller listener)."""
    cur = _Current.of(props)
    if not {"broker", "controller"} <= set(cur.roles) or len(cur.controller_names) != 1:
        return None
    name = cur.controller_names[0]
    if cur.protocol_map.get(name, "") != "SSL" or not any(item.startswith(name + "://") for item in cur.listeners):
        return None
    return name


_EVERY_INTERFACE = ("0.0.0.0", "::", "[::]")


def plaintext_connections_filter(props: Mapping[str, str], port: int) -> str:
    """The ``ss`` filter for the established connections to the node's PLAINTEXT listener: its port and,
    when the file binds it to one address, that address - another process on the same port and another
    address (a second broker on the host, a lab beside it) is not this listener's client. A listener bound to a
    host name counts by port alone (ss takes addresses only)."""
    bind = ""
    for item in _Current.of(props).listeners:
        if item.startswith("PLAINTEXT://"):
            bind = _BIND_OF_LISTENER.sub(r"\1", item)
            break
    try:
        ipaddress.ip_address(bind.strip("[]"))
    except ValueError:
        # every interface, or a host name (ss takes addresses only): the port alone
        return "( sport = :%d )" % port
    if bind in _EVERY_INTERFACE:
        return "( sport = :%d )" % port
    return "( sport = :%d and src %s )" % (port, bind)


def listener_ports(props: Mapping[str, str]) -> Dict[str, int]:
    """Each listener's port in the file's ``listeners`` (``SSL://host:9093`` -> {"SSL": 9093})."""
    ports: Dict[str, int] = {}
    for item in _Current.of(props).listeners:
        name, sep, rest = item.partition("://")
        port = rest.rpartition(":")[2]
        if sep and port.isdigit():
            ports[name] = int(port)
    return ports


def move_ports(endpoints: str, port: int) -> str:
    """``1@a:9094,2@b:9094`` with every port replaced: the quorum keeps its ids and names."""
    return _PORT_AT_END.sub(":%d" % port, endpoints)


def sasl_absent_keys(listener_name: str, current: Mapping[str, str]) -> List[str]:
    """The SASL listener's keys to remove when it is turned off.

    A file the role never gave a SASL listener keeps its own ``sasl.enabled.mechanisms``: that key
    only goes when the listener-prefixed one shows the role had the listener on.
    """
    prefix = "listener.name.%s." % listener_name.lower()
    keys = [prefix + mechanism.lower() + ".sasl.jaas.config" for mechanism in SASL_MECHANISMS]
    keys.append(prefix + "sasl.enabled.mechanisms")
    if prefix + "sasl.enabled.mechanisms" in current:
        keys.append("sasl.enabled.mechanisms")
    return keys


def zookeeper_connect_of(explicit: Any, ensemble: Sequence[Mapping[str, Any]]) -> str:
    """zookeeper.connect without the chroot: the explicit value, else each ensemble host's secure port.

    ``ensemble`` is [{name, advertised, port}]: each ZooKeeper host's inventory name, advertised
    host (None: the name) and secure client port (None: 2182).
    """
    if explicit not in (None, ""):
        return explicit if isinstance(explicit, str) else ",".join(str(item) for item in explicit)
    return ",".join("%s:%s" % (member.get("advertised") or member.get("name"),
                               member.get("port") if member.get("port") not in (None, "") else 2182)
                    for member in ensemble)


def plan_node(props: Mapping[str, str], settings: BrokerSettings) -> BrokerPlan:
    """The plan for one node from its current server.properties (key -> value) and the settings."""
    cur = _Current.of(props)
    s = settings
    zk_mode = s.metadata_mode == "zookeeper"
    is_controller = "controller" in cur.roles
    ctrl = s.controller_listener_name
    bind = s.listen_address if s.listen_address is not None else cur.bind_address()
    dynamic_quorum = cur.voters == "" and cur.bootstrap != ""

    stage = migration_stage(cur.controller_names, cur.protocol_map, ctrl)
    wanted = PHASES.index(s.migration_phase) if s.migration_phase in PHASES else 0
    phase = "none" if s.migration_phase == "none" else PHASES[max(wanted, stage)]
    migrating = phase in ("add_tls", "move_internal")

    old_ctrl = ([n for n in cur.controller_names if n != ctrl] + ["CONTROLLER"])[0]
    old_ctrl_endpoint = ([item for item in cur.listeners if item.startswith(old_ctrl + "://")] + [""])[0]
    old_ctrl_advertised = ([item for item in cur.advertised if item.startswith(old_ctrl + "://")]
                           + [old_ctrl_endpoint])[0]
    old_ctrl_protocol = cur.protocol_map.get(old_ctrl, "PLAINTEXT")
    old_inter_broker = str(props.get("inter.broker.listener.name", "PLAINTEXT"))

    def endpoint(name: str, host: str, port: int) -> str:
        return "%s://%s:%s" % (name, host, port)

    host = s.advertised_host
    sasl_bound = [endpoint(s.sasl_listener_name, bind, s.sasl_port)] if s.sasl_enabled else []
    sasl_advertised = [endpoint(s.sasl_listener_name, host, s.sasl_port)] if s.sasl_enabled else []
    plaintext = (endpoint("PLAINTEXT", bind, s.plaintext_port), endpoint("PLAINTEXT", host, s.plaintext_port))
    ssl = (endpoint(s.ssl_listener_name, bind, s.ssl_port), endpoint(s.ssl_listener_name, host, s.ssl_port))
    controller = (endpoint(ctrl, bind, s.controller_port), endpoint(ctrl, host, s.controller_port))

    def listener_list(which: int, old_controller: str) -> List[str]:
        if migrating:
            items = [plaintext[which], ssl[which]] + ([old_controller, controller[which]] if is_controller else [])
        else:
            items = ([ssl[which]] + ([plaintext[which]] if s.keep_plaintext else [])
                     + ([controller[which]] if is_controller else []))
        return items + (sasl_advertised if which else sasl_bound)

    protocol_map = ["%s:SSL" % ctrl, "%s:SSL" % s.ssl_listener_name]
    if migrating:
        protocol_map += ["PLAINTEXT:PLAINTEXT", "%s:%s" % (old_ctrl, old_ctrl_protocol)]
    elif s.keep_plaintext:
        protocol_map.append("PLAINTEXT:PLAINTEXT")
    if s.sasl_enabled:
        protocol_map.append("%s:SASL_SSL" % s.sasl_listener_name)

    if phase == "add_tls":
        controller_names = [old_ctrl, ctrl]
    elif phase == "move_internal":
        controller_names = [ctrl, old_ctrl]
    else:
        controller_names = [ctrl]
    # Static or dynamic, the quorum's endpoints move with phase 2 (the nodes connect out on the new
    # listener from then on). A dynamic quorum's voters record their endpoints in the metadata log:
    # on Kafka 4.3 each voter updates its own record (UpdateRaftVoter) when it starts with the new
    # listener, which the roll's quorum gate waits for (docs/migration.md).
    voters = cur.voters if phase == "add_tls" else move_ports(cur.voters, s.controller_port)
    bootstrap = cur.bootstrap if phase == "add_tls" else move_ports(cur.bootstrap, s.controller_port)

    zk_switch = (zk_mode and not migrating and phase != "drop_plaintext"
                 and cur.protocol_map.get(old_inter_broker, old_inter_broker).upper() != "SSL")
    switch_expected = (
        (not migrating and phase != "drop_plaintext" and is_controller
         and (cur.protocol_map.get(ctrl, "PLAINTEXT") != "SSL" or voters != cur.voters or bootstrap != cur.bootstrap))
        or zk_switch)

    values: Dict[str, Any] = dict(
        listeners=listener_list(0, old_ctrl_endpoint),
        advertised_listeners=listener_list(1, old_ctrl_advertised),
        protocol_map=protocol_map,
        inter_broker_listener_name=old_inter_broker if phase == "add_tls" else s.ssl_listener_name,
        controller_listener_names=controller_names,
        quorum_voters=voters,
        quorum_bootstrap_servers=bootstrap,
    )
    if zk_mode:
        # No quorum: the KRaft keys go, and the protocol map loses the controller listener.
        values.update(protocol_map=[item for item in protocol_map if not item.startswith(ctrl + ":")],
                      controller_listener_names=[], quorum_voters="", quorum_bootstrap_servers="",
                      zookeeper_connect=zookeeper_connect_of(s.zookeeper_connect, s.zookeeper_ensemble)
                      + s.zookeeper_chroot)
    values.update(authorization_values(props, s, migrating))
    remove = [] if s.sasl_enabled else sasl_absent_keys(s.sasl_listener_name, props)

    plan = BrokerPlan(values=values, remove=remove, stage=stage, phase=phase, migrating=migrating,
                      is_controller=is_controller, dynamic_quorum=dynamic_quorum, switch_expected=switch_expected,
                      old_controller_name=old_ctrl, old_controller_endpoint=old_ctrl_endpoint, problems=[],
                      plaintext_connections_filter=plaintext_connections_filter(props, s.plaintext_port))
    plan.problems = problems_of(cur, settings, plan)
    return plan


def authorization_values(props: Mapping[str, str], s: BrokerSettings, migrating: bool) -> Dict[str, str]:
    """The authorisation keys (AUTHORIZATION_KEYS' names; '' removes a key).

    On: the metadata mode's authorizer, the mapping rules, super.users (every Kafka node's own principal,
    which the controllers need before any ACL loads, plus the declared ones) and
    allow.everyone.if.no.acl.found. Off: no authorizer, no super.users, no allow-everyone (the rules stay:
    they name principals for quotas and logs too). In the middle of a live migration (add_tls,
    move_internal) brokers and clients still use PLAINTEXT, where everyone is User:ANONYMOUS: the
    keys stay as the file has them until the phase drop_plaintext.
    """
    if migrating:
        return {name: str(props.get(key, "")) for key, name in AUTHORIZATION_KEYS.items()}
    rules = principals.rules_text(s.principal_mapping_rules)
    if not s.authorizer_enabled:
        return dict(authorizer_class_name="", principal_mapping_rules=rules, super_users="",
                    allow_everyone_if_no_acl_found="")
    try:
        supers = principals.super_users(principals.node_identities(s.kafka_nodes), principals.parse_rules(rules),
                                        [str(p) for p in s.super_users])
    except (principals.PrincipalError, KeyError, TypeError, ValueError):
        supers = ""  # settings_problems names what is wrong
    return dict(authorizer_class_name=AUTHORIZERS.get(s.metadata_mode, AUTHORIZERS["kraft"]),
                principal_mapping_rules=rules, super_users=supers,
                allow_everyone_if_no_acl_found="true" if s.allow_everyone_if_no_acl_found else "false")


def authorization_problems(s: BrokerSettings) -> List[Problem]:
    """The rules must parse as Kafka parses them and map every node; declared super users are User:<name>;
    with the authorizer on, the node list must hold this node (else the nodes could not talk)."""
    problems = principals.rules_problems(s.principal_mapping_rules)
    if not s.authorizer_enabled:
        return problems
    try:
        nodes = principals.node_identities(s.kafka_nodes)
    except (KeyError, TypeError, ValueError, AttributeError):
        return problems + [("kafka_nodes", "settings.kafka_nodes must be a list of {host, common_name, subject}, "
                                           "not %r" % (s.kafka_nodes,))]
    if not problems:
        problems += principals.super_user_problems(nodes, s.principal_mapping_rules, list(s.super_users)
                                                   if isinstance(s.super_users, (list, tuple)) else s.super_users)
    if s.hostname not in [node.host for node in nodes]:
        problems.append(("kafka_broker", (
            "with kafkasec_authorizer_enabled, super.users must hold every Kafka node's principal, but %s is not "
            "among the Kafka nodes the inventory names (groups kafka_broker and kafka_controller: %s)" % (
                s.hostname, ", ".join(node.host for node in nodes) or "none"))))
    return problems


def authorization_warnings(s: BrokerSettings, plan: "BrokerPlan") -> List[str]:
    """What the play's output says about a weaker authorisation than the default."""
    host = s.hostname
    if plan.migrating:
        return []
    if not s.authorizer_enabled:
        return ["%s: kafkasec_authorizer_enabled is false: no authorizer, so every certificate the CA signs may do "
                "anything on this node (create and delete topics, alter configs, the controller listener "
                "included)" % host]
    if s.allow_everyone_if_no_acl_found:
        return ["%s: kafkasec_allow_everyone_if_no_acl_found is true: a resource without ACLs is open to every "
                "authenticated principal. Use it only for a staged roll-out: write the ACLs, then set it back "
                "to false (the default)" % host]
    return []


# ----------------------------------------------------------------------------------------- checks

def settings_problems(s: BrokerSettings) -> List[Problem]:
    """Cross-field checks of the settings alone (types and choices are the argument specs' job)."""
    problems: List[Problem] = []
    ports = [s.ssl_port, s.controller_port] + ([s.plaintext_port] if s.keep_plaintext else [])
    names = [s.ssl_listener_name, s.controller_listener_name, "PLAINTEXT"]
    if s.sasl_enabled:
        ports.append(s.sasl_port)
        names.append(s.sasl_listener_name)
    bad_ports = [p for p in ports if not 1 <= _int(p) <= 65535]
    if bad_ports or len(set(_int(p) for p in ports)) != len(ports):
        problems.append(("kafkasec_broker_ssl_port", (
            "kafkasec_broker_ssl_port (%s), kafkasec_broker_controller_port (%s)%s%s must be distinct ports "
            "between 1 and 65535" % (
                s.ssl_port, s.controller_port,
                ", kafkasec_broker_plaintext_port (%s)" % s.plaintext_port if s.keep_plaintext else "",
                ", kafkasec_broker_sasl_port (%s)" % s.sasl_port if s.sasl_enabled else ""))))
    bad_names = [n for n in names if not _LISTENER_NAME.match(str(n))]
    if bad_names or len(set(str(n).upper() for n in names)) != len(names):
        problems.append(("kafkasec_broker_ssl_listener_name", (
            "kafkasec_broker_ssl_listener_name (%s), kafkasec_broker_controller_listener_name (%s)%s must be "
            "distinct listener names (a letter, then letters, digits, _) other than PLAINTEXT" % (
                s.ssl_listener_name, s.controller_listener_name,
                " and kafkasec_broker_sasl_listener_name (%s)" % s.sasl_listener_name if s.sasl_enabled else ""))))
    if s.sasl_enabled and str(s.sasl_listener_name).upper() == "SASL_PLAINTEXT":
        problems.append(("kafkasec_broker_sasl_listener_name",
                         "kafkasec_broker_sasl_listener_name must not be SASL_PLAINTEXT: the listener is always "
                         "SASL over TLS"))
    host = s.advertised_host
    if not isinstance(host, str) or not host or re.search(r"[/ ,]", host):
        problems.append(("kafkasec_broker_advertised_host",
                         "kafkasec_broker_advertised_host (%r) must be a host name" % (host,)))
    elif covering_san(host, s.dns_names, s.ip_addresses) is None:
        problems.append(("kafkasec_broker_advertised_host", (
            "kafkasec_broker_advertised_host %s is not among the certificate's subject alternative names "
            "(kafkasec_cert_dns_names %s, kafkasec_cert_ip_addresses %s). Clients and the other brokers verify the "
            "name they connect to (ssl.endpoint.identification.algorithm=https): add it to "
            "kafkasec_cert_extra_dns_names, or advertise a name the certificate has" % (
                host, list(s.dns_names), list(s.ip_addresses)))))
    protocols = list(s.ssl_enabled_protocols)
    if not protocols or [p for p in protocols if p not in TLS_PROTOCOLS] or s.ssl_protocol not in protocols:
        problems.append(("kafkasec_broker_ssl_enabled_protocols", (
            "kafkasec_broker_ssl_enabled_protocols (%s) must list TLSv1.3 and/or TLSv1.2 (nothing older), and "
            "kafkasec_broker_ssl_protocol (%s) must be one of them" % (
                ",".join(map(str, protocols)) or "empty", s.ssl_protocol))))
    if s.ssl_client_auth not in CLIENT_AUTH:
        problems.append(("kafkasec_broker_ssl_client_auth", "kafkasec_broker_ssl_client_auth (%s) must be one of %s" % (
            s.ssl_client_auth, ", ".join(CLIENT_AUTH))))
    problems += cipher_suite_problems(s.ssl_cipher_suites, protocols)
    for variable, value in (("kafkasec_keystore_type", s.keystore_type), ("kafkasec_truststore_type", s.truststore_type)):
        if value not in STORE_TYPES:
            problems.append((variable, "%s (%r) must be one of %s" % (variable, value, ", ".join(STORE_TYPES))))
    if s.sasl_enabled:
        problems += sasl_problems(s)
    problems += authorization_problems(s)
    if s.metadata_mode == "zookeeper":
        connect = zookeeper_connect_of(s.zookeeper_connect, s.zookeeper_ensemble)
        if not connect.strip() or re.search(r"[ /]", connect):
            problems.append(("kafkasec_broker_zookeeper_connect",
                             "the secure ZooKeeper endpoints (kafkasec_broker_zookeeper_connect, default every host "
                             "of group zookeeper on its kafkasec_zookeeper_secure_client_port) must be host:port "
                             "items, not %r" % connect))
        if s.zookeeper_chroot and not re.match(r"^/[^ ,]+$", s.zookeeper_chroot):
            problems.append(("kafkasec_broker_zookeeper_chroot",
                             "kafkasec_broker_zookeeper_chroot (%r) must be empty or a path" % s.zookeeper_chroot))
        if not s.zookeeper_sasl_username or not s.zookeeper_sasl_password_set:
            problems.append(("kafkasec_broker_zookeeper_sasl_password", (
                "in ZooKeeper mode the broker logs in to ZooKeeper with SASL digest: "
                "kafkasec_broker_zookeeper_sasl_username (%r) and kafkasec_broker_zookeeper_sasl_password (one of "
                "ZooKeeper's kafkasec_zookeeper_sasl_users) must be set; there is no default password. Keep it in "
                "Ansible Vault" % s.zookeeper_sasl_username)))
    return problems


def cipher_suite_problems(suites: Sequence[Any], protocols: Sequence[str]) -> List[Problem]:
    texts = [str(suite) for suite in suites]
    bad = [t for t in texts if not _FORWARD_SECRET_SUITE.match(t) or _WEAK_SUITE.search(t)]
    if bad:
        return [("kafkasec_broker_ssl_cipher_suites", (
            "kafkasec_broker_ssl_cipher_suites must list forward-secret cipher suites by their IANA names "
            "(TLS_AES_*/TLS_CHACHA20_* for TLS 1.3, TLS_ECDHE_*/TLS_DHE_* for TLS 1.2); %s are not" % bad))]
    if texts and "TLSv1.3" in protocols and not [t for t in texts if re.match(r"^TLS_(AES|CHACHA20)_", t)]:
        return [("kafkasec_broker_ssl_cipher_suites",
                 "kafkasec_broker_ssl_cipher_suites: with TLSv1.3 enabled it must include TLS 1.3 suites")]
    return []


def sasl_problems(s: BrokerSettings) -> List[Problem]:
    mechanisms = [str(m) for m in s.sasl_mechanisms]
    unknown = [m for m in mechanisms if m not in SASL_MECHANISMS]
    problems: List[Problem] = []
    if not mechanisms or unknown or len(set(mechanisms)) != len(mechanisms):
        problems.append(("kafkasec_broker_sasl_mechanisms", (
            "kafkasec_broker_sasl_mechanisms (%s) must list distinct mechanisms among %s (Kafka's spelling; "
            "unknown: %s)" % (mechanisms, ", ".join(SASL_MECHANISMS), unknown))))
    users = s.sasl_plain_users
    if not isinstance(users, Mapping):
        problems.append(("kafkasec_broker_sasl_plain_users",
                         "kafkasec_broker_sasl_plain_users must be a mapping of user name to password"))
    elif "PLAIN" in mechanisms and (not users or [u for u, p in users.items() if p in (None, "")]):
        problems.append(("kafkasec_broker_sasl_plain_users",
                         "with PLAIN, kafkasec_broker_sasl_plain_users must map each user name to a non-empty "
                         "password"))
    return problems


def problems_of(cur: _Current, s: BrokerSettings, plan: BrokerPlan) -> List[Problem]:
    """Every reason to refuse this node, before anything on it changes."""
    problems = settings_problems(s)
    ctrl = s.controller_listener_name
    if s.metadata_mode == "zookeeper":
        if cur.roles or not str(cur.props.get("zookeeper.connect", "")):
            problems.append(("kafkasec_broker_metadata_mode", (
                "kafkasec_broker_metadata_mode is zookeeper, so the file must be a ZooKeeper-mode broker's: no "
                "process.roles (found %s) and zookeeper.connect set (found %r)" % (
                    cur.roles, str(cur.props.get("zookeeper.connect", ""))))))
        return problems
    names_accepted = (not cur.controller_names or cur.controller_names == [ctrl]
                      or (plan.phase != "none" and len([n for n in cur.controller_names if n != ctrl]) <= 1))
    kraft_ok = (cur.roles and not [r for r in cur.roles if r not in ("broker", "controller")]
                and (cur.voters != "" or cur.bootstrap != "") and names_accepted)
    if not kraft_ok:
        problems.append(("kafkasec_broker_properties_path", (
            "the file must be a KRaft node's: process.roles broker and/or controller (found %s), "
            "controller.quorum.voters or controller.quorum.bootstrap.servers set, and controller.listener.names "
            "(found %s) equal to kafkasec_broker_controller_listener_name (%s); after playbooks/migrate_to_tls.yml "
            "set kafkasec_broker_controller_listener_name and kafkasec_broker_controller_port to the migrated "
            "listener (CONTROLLER_SSL, 9095 by default) - moving it again would stop the whole quorum. A node that "
            "still lists the old controller listener is in the middle of a migration: finish it with "
            "playbooks/migrate_to_tls.yml" % (cur.roles, cur.controller_names, ctrl))))
    if (plan.dynamic_quorum and s.migration_phase == "none"
            and plan.values["quorum_bootstrap_servers"] != cur.bootstrap):
        problems.append(("kafkasec_broker_controller_port", (
            "a dynamic quorum (controller.quorum.bootstrap.servers %s) keeps its controller port: the voters' "
            "endpoints are recorded in the metadata log, so kafkasec_broker_controller_port (%s) must stay at the "
            "port it has; playbooks/migrate_to_tls.yml moves it, one voter at a time" % (
                cur.bootstrap, s.controller_port))))
    return problems


def migration_problems(plan: BrokerPlan, settings: BrokerSettings, pending_reasons: Sequence[str]) -> List[Problem]:
    """Whether a phase of playbooks/migrate_to_tls.yml may run on this node now."""
    wanted = PHASES.index(settings.migration_phase) if settings.migration_phase in PHASES else 0
    match = re.search(r":([0-9]+)$", plan.old_controller_endpoint)
    old_port = int(match.group(1)) if match else 0
    ready = ((settings.controller_listener_name.upper() != plan.old_controller_name.upper() or plan.stage == 3)
             and (_int(settings.controller_port) != old_port or plan.stage == 3)
             and plan.stage >= wanted - 1
             and (not pending_reasons or plan.stage >= wanted))
    if ready:
        return []
    return [("kafkasec_broker_migration_phase", (
        "phase %s of the migration cannot run here. The node's controller listener is at step %d of 3%s. Each phase "
        "needs the one before it done and rolled on every node (run the playbook without --tags, or the earlier "
        "phase's tag first); the new controller listener (kafkasec_broker_controller_listener_name %s, port "
        "kafkasec_broker_controller_port %s) must differ in name and port from the old one (%s)" % (
            settings.migration_phase, plan.stage,
            ", with a pending restart: " + "; ".join(pending_reasons) if pending_reasons else "",
            settings.controller_listener_name, settings.controller_port,
            plan.old_controller_endpoint or plan.old_controller_name)))]


# ---------------------------------------------------------------------------------------- restart

@dataclass
class RestartDecision:
    reasons: List[str]
    controller_switch: bool
    live_reload: bool
    # The listeners whose stores reload live, in order (empty when live_reload is false).
    reload_listeners: List[str] = field(default_factory=list)


def decide_restart(changed_keys: Sequence[str], store_changes: Sequence[str], pending: Mapping[str, Any],
                   plan: BrokerPlan, ssl_listener_running: bool, live_reload_enabled: bool,
                   other_reasons: Sequence[str] = (), ssl_listener: str = "SSL",
                   controller_listener: Optional[str] = None) -> RestartDecision:
    """Whether the node restarts, why, and whether the whole quorum must move with it.

    Kafka reads the stores at start-up, except that a node whose SSL listener already runs and whose
    file did not change reloads renewed stores live (KIP-226): a broker-only node its SSL listener; a
    combined node (broker and controller) its SSL listener and its controller listener, when that one
    is on TLS (``controller_listener``, the caller's reading of server.properties: the listener name
    when the node has both roles and the controller listener maps to SSL, else None). Seen on the lab
    (Kafka 4.3.1): a per-broker ``listener.name.<controller>.ssl.keystore.location`` sent through the
    node's own SSL listener makes its controller listener serve the new certificate, same JVM, quorum
    healthy. A controller-only node has no broker listener the admin client can reach (confluent-kafka
    cannot bootstrap to a controller) and the lab has none to try it on: it restarts for its stores.
    """
    pending_reasons = list(pending.get("reasons", [])) if pending else []
    controller_ok = not plan.is_controller or bool(controller_listener)
    live_reload = bool(live_reload_enabled and store_changes and not changed_keys and not pending_reasons
                       and not other_reasons and controller_ok and ssl_listener_running)
    reasons = list(pending_reasons)
    if changed_keys:
        reasons.append("server.properties: " + ", ".join(changed_keys))
    reasons += list(other_reasons)
    if not live_reload:
        suffix = ""
        if plan.is_controller:
            why = _why_no_reload(changed_keys, pending_reasons, other_reasons, ssl_listener_running,
                                 live_reload_enabled)
            suffix = (" (no live reload: %s)" % why if controller_listener
                      else " (the controller listener reads it at start-up)")
        reasons += [change + suffix for change in store_changes]
    unique = list(dict.fromkeys(reasons))
    switch = bool((pending or {}).get("controller_switch")) or (
        plan.switch_expected and bool(set(changed_keys) & set(QUORUM_KEYS)))
    listeners = ([ssl_listener] + ([controller_listener] if plan.is_controller and controller_listener else [])
                 if live_reload else [])
    return RestartDecision(reasons=unique, controller_switch=bool(unique) and switch, live_reload=live_reload,
                           reload_listeners=listeners)


def _why_no_reload(changed_keys, pending_reasons, other_reasons, ssl_listener_running, live_reload_enabled) -> str:
    if not live_reload_enabled:
        return "live reload is off"
    if changed_keys or pending_reasons or other_reasons:
        return "the node restarts anyway"
    if not ssl_listener_running:
        return "its SSL listener does not run yet"
    return "not possible"


def settings_from(params: Mapping[str, Any]) -> BrokerSettings:
    """BrokerSettings from a module's ``settings`` option (the role variables without their prefix).

    ``listen_address_set: false`` says the inventory leaves ``listen_address`` unset (the listeners
    keep the address they bind to now), which an empty ``listen_address`` (every interface) cannot say.
    """
    params = dict(params)
    if not _flag(params.pop("listen_address_set", True)):
        params.pop("listen_address", None)
    known = set(BrokerSettings.__dataclass_fields__)
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError("settings: unknown keys %s" % ", ".join(unknown))
    values: Dict[str, Any] = {key: value for key, value in params.items() if value is not None}
    for key in ("ssl_port", "controller_port", "plaintext_port", "sasl_port"):
        if key in values:
            values[key] = _int(values[key], -1)
    for key in ("keep_plaintext", "sasl_enabled", "zookeeper_sasl_password_set", "authorizer_enabled",
                "allow_everyone_if_no_acl_found"):
        if key in values:
            values[key] = _flag(values[key])
    for key in ("ssl_enabled_protocols", "ssl_cipher_suites", "sasl_mechanisms", "dns_names", "ip_addresses"):
        if key in values:
            if isinstance(values[key], str) or not isinstance(values[key], (list, tuple)):
                raise ValueError("settings.%s must be a list, not %r" % (key, values[key]))
            values[key] = tuple(str(item) for item in values[key])
    if "zookeeper_ensemble" in values:
        values["zookeeper_ensemble"] = tuple(dict(member) for member in values["zookeeper_ensemble"])
    if "kafka_nodes" in values:
        if not isinstance(values["kafka_nodes"], (list, tuple)):
            raise ValueError("settings.kafka_nodes must be a list, not %r" % (values["kafka_nodes"],))
        values["kafka_nodes"] = tuple(dict(node) for node in values["kafka_nodes"])
    if isinstance(values.get("super_users"), list):
        values["super_users"] = tuple(values["super_users"])
    for key in ("advertised_host", "hostname", "ssl_listener_name", "controller_listener_name", "sasl_listener_name",
                "migration_phase", "metadata_mode", "ssl_client_auth", "ssl_protocol",
                "zookeeper_chroot", "listen_address", "zookeeper_sasl_username", "keystore_type", "truststore_type"):
        if key in values:
            values[key] = str(values[key])
    values.setdefault("hostname", values.get("advertised_host", ""))
    values.setdefault("advertised_host", values["hostname"])
    return BrokerSettings(**values)


def host_problems(plan: BrokerPlan, settings: BrokerSettings, *, ca_hosts: Optional[Sequence[str]],
                  quorum_hosts: Sequence[str], run_hosts: Sequence[str], store_paths: Mapping[str, str],
                  pki_dir: Optional[str], commands: Mapping[str, Any], is_dir: Callable[[str], bool]) -> List[Problem]:
    """The checks that need the inventory or the host: the CA group, the run's hosts, directories, commands."""
    problems: List[Problem] = []
    if ca_hosts is not None and len(ca_hosts) != 1:
        problems.append(("kafka_ca", (
            "inventory group kafka_ca must exist and hold exactly one host, the CA host that signs this broker's "
            "certificate; it holds [%s]" % ", ".join(ca_hosts))))
    pki_root = (pki_dir or "").rstrip("/")
    for variable, path in sorted(store_paths.items()):
        directory = str(path).rsplit("/", 1)[0] or "/"
        if is_dir(directory):
            continue
        if pki_root and directory.rstrip("/") == pki_root and is_dir(pki_root.rsplit("/", 1)[0] or "/"):
            continue
        problems.append((variable, (
            "%s is %s, but %s is not a directory on the host (and not kafkasec_pki_dir below an existing directory, "
            "which the PKI roles create)" % (variable, path, directory))))
    for variable, command in sorted(commands.items()):
        if not isinstance(command, str) or not command.strip():
            problems.append((variable, "%s must be the command that does this to the Kafka service on the host "
                                       "(e.g. systemctl ... kafka), not %r" % (variable, command)))
    missing = [h for h in quorum_hosts if h not in run_hosts]
    if plan.switch_expected and run_hosts and missing:
        problems.append(("--limit", (
            "this run moves the %s listener %s, which the whole KRaft quorum must do together, but %s are not in "
            "this run. Run without --limit (every host of kafka_broker and kafka_controller)" % (
                settings.controller_listener_name,
                "to SSL or to port %s" % settings.controller_port, ", ".join(missing)))))
    return problems
