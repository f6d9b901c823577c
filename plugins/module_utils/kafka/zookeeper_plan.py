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

An ensemble (zoo.cfg names more than one ``server.N``) gets quorum TLS with the live switch of
ZooKeeper's admin guide, one rolled step at a time over every server (``QUORUM_PHASES``):
1 ``portUnification=true`` (the quorum ports take TLS and plaintext, peers still talk plaintext,
the ``ssl.quorum.*`` stores in place), 2 ``sslQuorum=true`` (peers talk TLS, still accept
plaintext), 3 ``portUnification=false`` (TLS only). ``quorum_target`` says how far a server may go
in a roll step: never back, never more than one step past the ensemble's least advanced server.
``roll_plan`` orders a roll: the followers first, the leader last (one election per roll), from
each server's ``srvr`` answer (``parse_srvr``), which also makes the health gate after a restart
(``in_quorum``: the server serves as leader or follower again).
"""

from __future__ import annotations

import re

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

__all__ = ["CLIENT_AUTH", "QUORUM_FINAL", "QUORUM_PHASES", "TLS_PROTOCOLS", "ZookeeperPlan", "ZookeeperSettings",
           "bind_address", "command_problems", "ensemble_members", "file_problems", "four_letter_word_endpoint",
           "in_quorum", "parse_srvr", "plan_problems", "plan_zookeeper", "problems_message", "quorum_phase",
           "quorum_target", "restart_reasons", "roll_plan", "sasl_user_problems", "settings_from",
           "settings_problems"]

# The live switch of an ensemble's quorum to TLS: phase -> (sslQuorum, portUnification).
QUORUM_PHASES = {0: (False, False), 1: (False, True), 2: (True, True), 3: (True, False)}
QUORUM_FINAL = 3
QUORUM_PHASE_NAMES = {0: "plaintext quorum", 1: "portUnification on (plaintext quorum, TLS accepted)",
                      2: "sslQuorum on (TLS quorum, plaintext accepted)", 3: "TLS quorum only"}
_SERVER_KEY = re.compile(r"\Aserver\.([0-9]+)\Z")


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
    quorum_tls: bool = True                        # an ensemble's quorum goes to TLS (sslQuorum)
    quorum_hostname_verification: bool = True      # ssl.quorum.hostnameVerification (both ends, 3.8)
    quorum_step: Any = QUORUM_FINAL                # the roll step of this play (1, 2, 3)
    quorum_floor: Any = -1                         # the ensemble's least advanced phase; -1 = unknown


@dataclass
class ZookeeperPlan:
    """What zoo.cfg must say; no secret in it (the store passwords come from the PKI contract)."""

    values: Dict[str, Any]
    bind_address: str
    plain_port: str
    keep_plaintext: bool
    enforce_sasl: bool
    problems: List[Problem]
    ensemble: bool = False
    quorum_phase: int = 0                          # the phase zoo.cfg is in now
    quorum_target: int = 0                         # the phase this plan writes

    def as_dict(self) -> Dict[str, Any]:
        return dict(values=self.values, bind_address=self.bind_address, plain_port=self.plain_port,
                    keep_plaintext=self.keep_plaintext, enforce_sasl=self.enforce_sasl, ensemble=self.ensemble,
                    quorum_phase=self.quorum_phase, quorum_target=self.quorum_target,
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
    ensemble = len(ensemble_members(current)) > 1
    phase = quorum_phase(current)
    target = phase
    if ensemble and s.quorum_tls:
        step, floor = _int(s.quorum_step, QUORUM_FINAL), _int(s.quorum_floor, -1)
        target = quorum_target(phase, step, phase if floor < 0 else floor)
        ssl_quorum, unification = QUORUM_PHASES[target]
        values.update(quorum=True, ssl_quorum="true" if ssl_quorum else "false",
                      port_unification="true" if unification else "false",
                      quorum_hostname_verification="true" if s.quorum_hostname_verification else "false")
        # What the template lays out: the quorum's stores under this prefix (the PKI contract's, as the
        # client port's), then these keys in this order.
        values.update(quorum_store_prefixes=["ssl.quorum."], quorum_values={
            "sslQuorum": values["ssl_quorum"], "portUnification": values["port_unification"],
            "ssl.quorum.protocol": values["ssl_protocol"],
            "ssl.quorum.enabledProtocols": ",".join(values["ssl_enabled_protocols"]),
            "ssl.quorum.hostnameVerification": values["quorum_hostname_verification"]})
    else:
        values.update(quorum=False, quorum_store_prefixes=[], quorum_values={})
    plan = ZookeeperPlan(values=values, bind_address=bind, plain_port=plain_port, keep_plaintext=keep,
                         enforce_sasl=enforce, problems=[], ensemble=ensemble, quorum_phase=phase,
                         quorum_target=target)
    plan.problems = settings_problems(s) + file_problems(current, s, path)
    return plan


# ------------------------------------------------------------------------------------- the quorum

def _int(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def ensemble_members(current: Mapping[str, str]) -> Dict[int, str]:
    """zoo.cfg's ``server.N=host:quorum port:election port[...]`` lines: {N: value}."""
    out: Dict[int, str] = {}
    for key, value in current.items():
        m = _SERVER_KEY.match(str(key))
        if m:
            out[int(m.group(1))] = str(value)
    return out


def quorum_phase(current: Mapping[str, str]) -> int:
    """Where zoo.cfg's quorum is on the way to TLS (QUORUM_PHASES) from ``sslQuorum``/``portUnification``."""
    ssl_quorum = _flag(current.get("sslQuorum", "false"))
    unification = _flag(current.get("portUnification", "false"))
    return {flags: phase for phase, flags in QUORUM_PHASES.items()}[(ssl_quorum, unification)]


def quorum_target(phase: int, step: int, floor: int) -> int:
    """The phase a server goes to in roll step ``step``: never back, at most the step, and at most one
    phase past the ensemble's least advanced server (``floor``): a peer two phases apart cannot talk
    to it (a TLS-only quorum port refuses a plaintext peer; a plaintext peer refuses TLS)."""
    step = max(0, min(step, QUORUM_FINAL))
    return max(phase, min(step, floor + 1, QUORUM_FINAL))


# ------------------------------------------------------------------------- srvr and the roll order

def four_letter_word_endpoint(current: Mapping[str, str], host: str) -> Dict[str, Any]:
    """Where a four-letter word (``srvr``) reaches the server: its secure client port over TLS when
    zoo.cfg has one, else the plain clientPort (a server not yet moved to TLS); ``port`` None: neither.
    ZooKeeper always answers ``srvr`` (FourLetterCommands whitelists it whatever
    ``4lw.commands.whitelist`` says): the gate opens nothing new."""
    secure = _port(current.get("secureClientPort", ""))
    if secure is not None:
        return dict(host=host, port=secure, tls=True)
    plain = _port(current.get("clientPort", ""))
    return dict(host=host, port=plain, tls=False)


def parse_srvr(text: str) -> Dict[str, Any]:
    """The ``srvr`` answer -> {"mode": leader|follower|observer|standalone|'' (not serving),
    "zxid": str, "serving": bool}."""
    out: Dict[str, Any] = dict(mode="", zxid="", serving=False)
    for line in (text or "").splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "mode":
            out["mode"] = value.lower()
        elif key == "zxid":
            out["zxid"] = value
    out["serving"] = out["mode"] in ("leader", "follower", "observer", "standalone")
    return out


def in_quorum(mode: str, ensemble: bool) -> bool:
    """The health gate after a restart: an ensemble's server leads or follows again (a standalone
    server serves on its own)."""
    return mode in (("leader", "follower") if ensemble else ("standalone",))


def roll_plan(hosts: Sequence[str], statuses: Mapping[str, Mapping[str, Any]], step: int = QUORUM_FINAL,
              quorum_tls: bool = True) -> Dict[str, Any]:
    """The order and the quorum step of one roll over the ZooKeeper servers.

    ``statuses``: host -> the status step of kafkasec.tls.zookeeper_config ({"mode", "quorum_phase",
    "ensemble"}). The leader goes last (its restart is the roll's only election); the others keep
    the inventory order. ``floor`` is the least advanced phase (every server's plan in this step
    may go one past it); servers more than one phase apart are a problem (a split quorum that
    no roll step can mend: fix those servers' sslQuorum/portUnification by hand).
    """
    seen: set = set()
    unique = [h for h in hosts if not (h in seen or seen.add(h))]
    modes = {h: str((statuses.get(h) or {}).get("mode") or "") for h in unique}
    phases = {h: _int((statuses.get(h) or {}).get("quorum_phase"), 0) for h in unique}
    ensemble = any(bool((statuses.get(h) or {}).get("ensemble")) for h in unique)
    leaders = [h for h in unique if modes[h] == "leader"]
    order = [h for h in unique if h not in leaders] + leaders
    floor = min(phases.values()) if phases else 0
    problems: List[Problem] = []
    if ensemble and quorum_tls and phases and max(phases.values()) - floor > 1:
        problems.append((PREFIX + "quorum_tls", (
            "the ensemble's servers are more than one quorum TLS step apart (%s): they cannot all talk to each "
            "other and no roll step can mend that; set sslQuorum/portUnification on the servers by hand so "
            "that they are at most one step apart (steps: %s)" % (
                ", ".join("%s: %d" % (h, phases[h]) for h in unique),
                "; ".join("%d %s" % item for item in sorted(QUORUM_PHASE_NAMES.items()))))))
    targets = {h: quorum_target(phases[h], step, floor) if ensemble and quorum_tls else phases[h] for h in unique}
    if not ensemble:
        message = "ZooKeeper: %s, a standalone server" % ", ".join(order)
    else:
        message = "ZooKeeper roll step %d, order %s (%s)%s" % (
            step, " -> ".join(order),
            "the leader %s last" % leaders[0] if len(leaders) == 1 else
            "no server answered srvr as the leader: inventory order" if not leaders else
            "several servers say they lead: %s last" % ", ".join(leaders),
            "; quorum phases " + ", ".join("%s %d->%d" % (h, phases[h], targets[h]) for h in order)
            if quorum_tls else "")
    return dict(order=order, leader=leaders[0] if len(leaders) == 1 else None, floor=floor, ensemble=ensemble,
                targets=targets, message=message, problems=[dict(variable=v, message=m) for v, m in problems])


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
    if _int(s.quorum_step, -1) not in (1, 2, 3):
        problems.append((PREFIX + "quorum_step", "%squorum_step (%r) must be the roll step 1, 2 or 3" % (
            PREFIX, s.quorum_step)))
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
_FLAGS = ("keep_plaintext", "transition", "enforce_sasl", "quorum_tls", "quorum_hostname_verification")


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


def four_letter_word(host: str, port: int, word: str = "srvr", context: Any = None, timeout: float = 5.0) -> str:
    """Send a four-letter word and return the answer (read until the server closes). ``context``: an
    ``ssl.SSLContext`` for the secure client port (it checks the server's certificate and name, and
    carries the client certificate ``ssl.clientAuth=need`` asks for), None for the plain port."""
    import socket  # pylint: disable=import-outside-toplevel

    chunks: List[bytes] = []
    with socket.create_connection((host, port), timeout=timeout) as raw:
        sock = context.wrap_socket(raw, server_hostname=host) if context is not None else raw
        try:
            sock.sendall(word.encode("ascii"))
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
        finally:
            if sock is not raw:
                try:
                    sock.close()
                except OSError:
                    pass
    return b"".join(chunks).decode("utf-8", "replace")
