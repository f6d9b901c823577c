# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner of a ZooKeeper server's TLS and SASL: what zoo.cfg must say, and why it restarts.

Pure functions, no Ansible: the module ``kafkasec.tls.zookeeper_config`` reads the server's zoo.cfg
(a Java properties file) and calls them; ``tests/unit/test_zookeeper_plan.py`` covers them table by
table, against golden cases recorded from the Jinja they replace (tests/unit/golden/zookeeper/).

    settings = settings_from(module_settings)            # the role variables without their prefix
    plan = plan_zookeeper(load(zoo_cfg_text), settings, path="/etc/zookeeper/zoo.cfg")
    plan.problems      # [(variable, message)]: refuse before anything changes
    plan.values        # what roles/zookeeper/templates/zoo-tls.properties.j2 lays out
    restart_reasons(changed_keys, store_changes, pending)

The rules:

- the secure client port binds where the plain one did: ``kafkasec_zookeeper_listen_address`` when
  the inventory sets it (an empty string is every interface), else zoo.cfg's ``clientPortAddress``,
  else its ``secureClientPortAddress``, else every interface;
- the plain ``clientPort`` is removed, unless ``keep_plaintext`` or a ``transition`` (a broker still
  connects in plaintext) keeps it; its ``clientPortAddress`` goes with it (ZooKeeper refuses an
  address without the port), and a zoo.cfg without a plain port does not get one back;
- SASL is enforced (``enforce.auth.enabled=true``, ``enforce.auth.schemes=sasl``) unless
  ``enforce_sasl`` is off or during a transition;
- ZooKeeper reads zoo.cfg, the JAAS file and the stores at start-up: any change to them is a
  restart reason, and a reason recorded by an earlier run stays until the restart has happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import Problem, problems_message  # noqa: F401 (re-exported)
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.jvm_args import JvmArgsError, env_quote
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.sasl import SaslError, user_options

TLS_PROTOCOLS = ("TLSv1.3", "TLSv1.2")
CLIENT_AUTH = ("need", "want", "none")
PREFIX = "kafkasec_zookeeper_"
# The role variables a module's ``commands`` option may name.
COMMAND_VARIABLES = ("kafkasec_zookeeper_restart_command", "kafkasec_zookeeper_status_command")
JAAS_FLAG = "-Djava.security.auth.login.config="

__all__ = ["CLIENT_AUTH", "TLS_PROTOCOLS", "ZookeeperPlan", "ZookeeperSettings", "bind_address", "command_problems",
           "file_problems", "plan_problems", "plan_zookeeper", "problems_message", "restart_reasons",
           "sasl_user_problems", "settings_from", "settings_problems"]


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(value)


def _port(value: Any) -> Optional[int]:
    """A port number 1..65535 from an int or its decimal text, else None."""
    if isinstance(value, bool):
        return None
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return port if 1 <= port <= 65535 else None


@dataclass(frozen=True)
class ZookeeperSettings:
    """The inventory's wishes for one ZooKeeper server (role variables without ``kafkasec_zookeeper_``).

    The fields the argument spec types are kept as given when they have the wrong type (the
    validation play runs the role's validate entry point, which has no argument spec): the planner
    reports them as problems instead of failing on them.
    """

    hostname: str
    secure_client_port: Any = 2182
    listen_address: Optional[str] = None           # None: unset (bind where the plain port did)
    keep_plaintext: bool = False
    transition: bool = False
    ssl_client_auth: Any = "need"
    ssl_enabled_protocols: Any = TLS_PROTOCOLS
    ssl_protocol: Any = "TLSv1.3"
    enforce_sasl: bool = True
    extra_properties: Any = field(default_factory=dict, repr=False)
    jaas_path: str = ""                            # '' = not checked


@dataclass
class ZookeeperPlan:
    """What zoo.cfg must say; no secret in it (the store passwords come from the PKI contract)."""

    values: Dict[str, Any]
    bind_address: str
    plain_port: str
    keep_plaintext: bool
    enforce_sasl: bool
    problems: List[Problem]

    def as_dict(self) -> Dict[str, Any]:
        return dict(values=self.values, bind_address=self.bind_address, plain_port=self.plain_port,
                    keep_plaintext=self.keep_plaintext, enforce_sasl=self.enforce_sasl,
                    problems=[dict(variable=v, message=m) for v, m in self.problems])


def bind_address(current: Mapping[str, str], listen_address: Optional[str]) -> str:
    """Where the secure port binds: the inventory's address, else where zoo.cfg's ports bind now."""
    if listen_address is not None:
        return listen_address
    for key in ("clientPortAddress", "secureClientPortAddress"):
        if key in current:
            return str(current[key])
    return ""


def plan_zookeeper(current: Mapping[str, str], settings: ZookeeperSettings, path: str = "zoo.cfg") -> ZookeeperPlan:
    """The plan for one server from its current zoo.cfg (key -> value) and the settings."""
    s = settings
    keep = s.keep_plaintext or s.transition
    enforce = s.enforce_sasl and not s.transition
    bind = bind_address(current, s.listen_address)
    plain_port = str(current.get("clientPort", ""))
    port = _port(s.secure_client_port)
    protocols = list(s.ssl_enabled_protocols) if _is_list(s.ssl_enabled_protocols) else []
    values: Dict[str, Any] = dict(
        secure_client_port=str(port if port is not None else s.secure_client_port),
        secure_client_port_address=bind,
        client_port=plain_port if keep else "",
        client_port_address=bind if keep and plain_port != "" else "",
        ssl_client_auth=str(s.ssl_client_auth),
        ssl_protocol=str(s.ssl_protocol),
        ssl_enabled_protocols=[str(p) for p in protocols],
        enforce_auth_enabled="true" if enforce else "false",
        enforce_auth_schemes="sasl" if enforce else "",
    )
    plan = ZookeeperPlan(values=values, bind_address=bind, plain_port=plain_port, keep_plaintext=keep,
                         enforce_sasl=enforce, problems=[])
    plan.problems = settings_problems(s) + file_problems(current, s, path)
    return plan


# ----------------------------------------------------------------------------------------- checks

def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def settings_problems(s: ZookeeperSettings) -> List[Problem]:
    """Checks of the settings alone; each problem names its variable and the value (never a secret)."""
    problems: List[Problem] = []
    if _port(s.secure_client_port) is None:
        problems.append((PREFIX + "secure_client_port",
                         "%ssecure_client_port (%r) must be a port number between 1 and 65535" % (
                             PREFIX, s.secure_client_port)))
    if s.ssl_client_auth not in CLIENT_AUTH:
        problems.append((PREFIX + "ssl_client_auth", "%sssl_client_auth (%r) must be one of %s" % (
            PREFIX, s.ssl_client_auth, ", ".join(CLIENT_AUTH))))
    protocols = s.ssl_enabled_protocols
    if not _is_list(protocols) or not protocols or [p for p in protocols if p not in TLS_PROTOCOLS]:
        problems.append((PREFIX + "ssl_enabled_protocols", (
            "%sssl_enabled_protocols (%r) must be a list of TLSv1.3 and/or TLSv1.2 (nothing older)" % (
                PREFIX, list(protocols) if _is_list(protocols) else protocols))))
    elif s.ssl_protocol not in protocols:
        problems.append((PREFIX + "ssl_protocol", "%sssl_protocol (%r) must be one of %sssl_enabled_protocols (%s)" % (
            PREFIX, s.ssl_protocol, PREFIX, ", ".join(protocols))))
    if not isinstance(s.extra_properties, Mapping):
        problems.append((PREFIX + "extra_properties",
                         "%sextra_properties must be a mapping of zoo.cfg key to value, not %s" % (
                             PREFIX, type(s.extra_properties).__name__)))
    if s.jaas_path:
        try:
            env_quote(JAAS_FLAG + s.jaas_path, "%sjaas_path (%s)" % (PREFIX, s.jaas_path))
        except JvmArgsError as exc:
            problems.append((PREFIX + "jaas_path", "%s: the environment file names it in SERVER_JVMFLAGS" % exc))
        if not s.jaas_path.startswith("/"):
            problems.append((PREFIX + "jaas_path", "%sjaas_path (%s) must be an absolute path" % (PREFIX, s.jaas_path)))
    return problems


def file_problems(current: Mapping[str, str], s: ZookeeperSettings, path: str = "zoo.cfg") -> List[Problem]:
    """Checks against the server's zoo.cfg: the secure port must not be the plain clientPort."""
    port = _port(s.secure_client_port)
    plain = _port(current.get("clientPort", ""))
    if port is not None and port == plain:
        return [(PREFIX + "secure_client_port", (
            "%ssecure_client_port (%s) is the plain clientPort of %s; choose another port (2182 by default)" % (
                PREFIX, port, path)))]
    return []


def sasl_user_problems(users: Any, variable: str = PREFIX + "sasl_users") -> List[Problem]:
    """The SASL digest accounts: at least one, each name mapped to a non-empty password.

    Messages name the variable and the account, never a password.
    """
    hint = ("must map each SASL digest account ZooKeeper accepts (e.g. the brokers' "
            "kafkasec_broker_zookeeper_sasl_username) to its password, none empty; there is no default account or "
            "password. Keep the passwords in Ansible Vault")
    if users is None:
        return [(variable, "%s is not set: it %s" % (variable, hint))]
    if not isinstance(users, Mapping) or not users:
        return [(variable, "%s %s (it is %s)" % (
            variable, hint, "empty" if isinstance(users, Mapping) else "a %s" % type(users).__name__))]
    try:
        options = user_options(users, variable)
    except SaslError as exc:
        return [(variable, "%s; it %s" % (exc, hint))]
    # The JDK's JAAS file parser expands ${...} whatever the quoting (the JAAS filters refuse it when
    # the file is rendered, after zoo.cfg has changed): refuse it here, before anything changes.
    expanded = sorted(name[len("user_"):] for name, password in options.items() if "${" in password)
    if expanded:
        return [(variable, (
            "%s: the password of %s contains '${', which the JDK's JAAS file parser expands as a system "
            "property; choose another password" % (variable, ", ".join(repr(name) for name in expanded))))]
    return []


def command_problems(commands: Mapping[str, Any]) -> List[Problem]:
    """Each service command (variable -> command) must be a non-empty command."""
    return [(variable, "%s must be the command that does this to the ZooKeeper service on the host "
                       "(e.g. systemctl ... zookeeper), not %r" % (variable, command))
            for variable, command in sorted(commands.items())
            if not isinstance(command, str) or not command.strip()]


# ---------------------------------------------------------------------------------------- restart

def restart_reasons(changed_keys: Sequence[str], store_changes: Sequence[str], pending: Mapping[str, Any],
                    other_reasons: Sequence[str] = ()) -> List[str]:
    """Why ZooKeeper restarts ([] when it does not): a pending restart's reasons first, then zoo.cfg's
    changed keys, other files of the JVM (JAAS, environment file), and the renewed stores
    (``keystore``, ``truststore``). ZooKeeper's client port does not reload its stores."""
    reasons = list((pending or {}).get("reasons", []))
    if changed_keys:
        reasons.append("zoo.cfg: " + ",".join(changed_keys))
    reasons += list(other_reasons) + list(store_changes)
    return list(dict.fromkeys(reasons))


# --------------------------------------------------------------------------------------- settings

_LISTS = ("ssl_enabled_protocols",)
_FLAGS = ("keep_plaintext", "transition", "enforce_sasl")


def settings_from(params: Mapping[str, Any]) -> ZookeeperSettings:
    """ZookeeperSettings from a module's ``settings`` option (the role variables without their prefix).

    ``listen_address_set: false`` says the inventory leaves ``listen_address`` unset (the secure port
    binds where zoo.cfg's ports bind now), which an empty ``listen_address`` (every interface)
    cannot say. An unknown key is a ValueError (a typo in the role, not in the inventory).
    """
    params = dict(params)
    if not _flag(params.pop("listen_address_set", True)):
        params.pop("listen_address", None)
    known = set(ZookeeperSettings.__dataclass_fields__)
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError("settings: unknown keys %s" % ", ".join(unknown))
    values: Dict[str, Any] = {key: value for key, value in params.items() if value is not None}
    for key in _FLAGS:
        if key in values:
            values[key] = _flag(values[key])
    for key in _LISTS:
        if key in values and _is_list(values[key]):
            values[key] = tuple(values[key])
    for key in ("hostname", "listen_address", "jaas_path"):
        if key in values:
            values[key] = str(values[key])
    values.setdefault("hostname", "")
    return ZookeeperSettings(**values)


def plan_problems(plan: ZookeeperPlan, *, sasl_users: Any = None, check_sasl_users: bool = False,
                  commands: Optional[Mapping[str, Any]] = None) -> List[Problem]:
    """Every problem of the plan step: the plan's own, the SASL accounts and the service commands."""
    problems = list(plan.problems)
    if check_sasl_users:
        problems += sasl_user_problems(sasl_users)
    problems += command_problems(commands or {})
    return problems
