# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remote JMX of a JVM, planned from the inventory: every check, the JVM options and the files they name.

The JDK's management agent (``com.sun.management.jmxremote.*``) is configured through an owner-only
management file (``-Dcom.sun.management.config.file``), so the command line - which every user sees in
``ps`` - carries two options and no secret: that file and ``java.rmi.server.hostname``. The management file
names the password file, the access file and the ``ssl.config.file`` (the host's own keystore and truststore
with their passwords), all owner-only: the JDK refuses a password or SSL config file any other user can read.

Access without the guard: the JDK's access file is the authorisation. A user holding the admin role (directly
or through a group) gets ``readwrite`` (which can run code in the JVM: DiagnosticCommand,
HotSpotDiagnostic.dumpHeap), every other user ``readonly``; never ``create`` or ``unregister``.

With the guard (java/jmx-guard, guard.py): the JVM options also load the guard's jar (its SHA-256 on the command
line, so a new jar changes the environment file and restarts the JVM), every user gets ``readwrite`` in the
JDK's access file (the level the guard may grant), and the guard decides per MBean and operation from its rules
directory: ``guard_files`` renders it from the inventory (``kafkasec_jmx_guard``), with users and groups derived
from ``kafkasec_jmx_users`` / ``kafkasec_jmx_groups`` (the admin role mapped to the guard's ``admin``) where the
inventory gives none. Rules files are re-read by the guard at run time: they never need a restart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import Problem
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import format_entry
from ansible_collections.kafkasec.tls.plugins.module_utils.jmx import guard

PROTOCOLS = ("TLSv1.3", "TLSv1.2")
# What a JMX client sends the connector (names, attributes, queries, open data, the RMI wrapper): the rest,
# and so every gadget class of the class path, is refused before it is deserialised. Array types are
# checked by their element type; primitives pass.
DEFAULT_SERIAL_FILTER = ("maxdepth=16;maxarray=100000;java.lang.*;java.math.BigInteger;java.math.BigDecimal;"
                         "java.util.*;javax.management.*;javax.management.openmbean.*;"
                         "javax.security.auth.Subject;java.rmi.MarshalledObject;!*")
ACCESS_LEVELS = ("readonly", "readwrite")
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
ROLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A path or host name that goes into a double-quoted shell assignment and a java -D option unquoted.
SAFE_WORD = re.compile(r"^[A-Za-z0-9_./:+@%,-]+$")
MIN_PASSWORD = 12

FILE_NAMES = dict(management="management.properties", password="jmxremote.password",
                  access="jmxremote.access", ssl="jmxremote-ssl.properties")


@dataclass(frozen=True)
class ServiceStart:
    """How one service's start script takes the JVM options, and where its files and restart record live.

    ``append``: the environment file adds to the variable instead of setting it (ZooKeeper's SERVER_JVMFLAGS also
    carries the JAAS file, set by kafkasec.tls.zookeeper in a file sourced before this one). ``assignments``: other
    variables the file sets (``JMXDISABLE=true``: zkServer.sh then adds no JMX flag of its own, so an exported
    ``JMXPORT`` cannot append ``authenticate=false``/``ssl=false`` after ours). ``config_variable``: the service's
    main configuration file, whose directory holds the JMX directory and whose ``.kafkasec-restart-pending`` record
    is the one the service's restart engine reads. ``env_file``: a fixed default (Kafka's), else ``env_name`` next to
    the configuration file. ``host_variable``: the name clients use, the RMI stub's host name."""
    service: str
    env_variable: str
    script: str
    config_variable: str
    config_default: str
    env_name: str
    host_variable: str
    restart: str
    append: bool = False
    assignments: Tuple[Tuple[str, str], ...] = ()
    env_file: Optional[str] = None


SERVICES: Dict[str, ServiceStart] = {
    "kafka": ServiceStart("kafka", "KAFKA_JMX_OPTS", "kafka-server-start.sh / kafka-run-class.sh",
                          "kafkasec_broker_properties_path", "/etc/kafka/server.properties", "kafka-jmx.env",
                          "kafkasec_broker_advertised_host", "kafkasec.tls.rolling_restart",
                          env_file="/etc/kafka/kafka-jmx.env"),
    "connect": ServiceStart("connect", "KAFKA_JMX_OPTS", "connect-distributed.sh / kafka-run-class.sh",
                            "kafkasec_connect_properties_path", "/etc/kafka/connect-distributed.properties",
                            "connect-jmx.env", "kafkasec_connect_rest_advertised_host", "kafkasec.tls.connect"),
    "zookeeper": ServiceStart("zookeeper", "SERVER_JVMFLAGS", "zkServer.sh (zkEnv.sh)",
                              "kafkasec_zookeeper_config_path", "/etc/zookeeper/zoo.cfg", "zookeeper-jmx.env",
                              "kafkasec_zookeeper_advertised_host", "kafkasec.tls.zookeeper", append=True,
                              assignments=(("JMXDISABLE", "true"),)),
}
# Variables a JMX environment file must never set: each makes a start script add JMX flags of its own
# (kafka-run-class.sh: JMX_PORT, for every CLI tool too; zkServer.sh: JMXPORT with authenticate=false, ssl=false).
FORBIDDEN_ENV_VARIABLES = ("JMX_PORT", "JMXPORT")
RESTART_SUFFIX = ".kafkasec-restart-pending"


class UnknownService(ValueError):
    pass


# The groups whose hosts playbooks/jmx.yml secures, and the service each one's JVM runs, in jmx.yml's order (Kafka
# nodes, Connect workers, ZooKeeper servers): a host in several groups is the first one's.
SERVICE_GROUPS: Tuple[Tuple[str, str], ...] = (("kafka_broker", "kafka"), ("kafka_controller", "kafka"),
                                               ("kafka_connect", "connect"), ("zookeeper", "zookeeper"))
_YES = ("true", "yes", "on", "1")
_NO = ("false", "no", "off", "0")


def service_of_groups(group_names: Sequence[str]) -> Optional[str]:
    """The service whose JMX port a host of these groups has (playbooks/verify.yml checks each one with the same
    tasks, with that service's defaults); None for a host of none of them."""
    names = set(group_names or ())
    for group, service in SERVICE_GROUPS:
        if group in names:
            return service
    return None


def verify_wanted(setting: object, env_file_exists: bool) -> bool:
    """Whether verify.yml checks a host's JMX port: kafkasec_jmx_verify true or false, or auto - the host has the
    role's environment file (JMX set up by kafkasec.tls.jmx). Raises ValueError for anything else."""
    value = str(setting).strip().lower() if setting is not None else "auto"
    if value in _YES:
        return True
    if value in _NO:
        return False
    if value == "auto":
        return bool(env_file_exists)
    raise ValueError("kafkasec_jmx_verify (%r) must be auto, true or false" % (setting,))


def service_start(service: str) -> ServiceStart:
    try:
        return SERVICES[service]
    except KeyError:
        raise UnknownService("kafkasec_jmx_service (%r) must be one of %s" % (service, ", ".join(SERVICES))) from None


def service_defaults(service: str, host_vars: Mapping[str, object]) -> Dict[str, str]:
    """The role's per-service defaults for one host, from its inventory variables (absent or None: the service
    role's own default): the JMX directory, the environment file and its variable, the pending-restart record the
    service's restart engine reads, the RMI stub's host name, and which engine restarts the service."""
    start = service_start(service)
    config = str(host_vars.get(start.config_variable) or start.config_default)
    config_dir = config.rsplit("/", 1)[0] or "/"
    return dict(service=start.service, dir=config_dir.rstrip("/") + "/jmx",
                env_file=start.env_file or "%s/%s" % (config_dir.rstrip("/"), start.env_name),
                env_variable=start.env_variable, pending_restart_path=config + RESTART_SUFFIX,
                rmi_hostname=str(host_vars.get(start.host_variable) or host_vars.get("inventory_hostname") or ""),
                restart=start.restart, script=start.script)


@dataclass
class User:
    name: str
    password: Optional[str]
    roles: Tuple[str, ...] = ()
    groups: Tuple[str, ...] = ()


@dataclass
class JmxSettings:
    """What the jmx role passes for one host (the module's options, checked by `problems`)."""
    host: str
    directory: str
    port: int = 9999
    rmi_port: Optional[int] = None
    bind_address: str = ""
    rmi_hostname: str = ""
    certificate_names: Sequence[str] = ()
    keystore_type: str = "pkcs12"
    keystore_path: str = ""
    keystore_password: Optional[str] = None
    truststore_type: str = "pkcs12"
    truststore_path: str = ""
    truststore_password: Optional[str] = None
    need_client_auth: bool = False
    protocols: Sequence[str] = PROTOCOLS
    cipher_suites: Sequence[str] = ()
    serial_filter: str = DEFAULT_SERIAL_FILTER
    users: Sequence[User] = field(default_factory=list)
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    admin_role: str = "admin"
    env_variable: str = "KAFKA_JMX_OPTS"
    service: str = "kafka"
    guard_enabled: bool = False
    # The guard (used only when guard_enabled): its jar and rules directory on the host, the jar's SHA-256
    # (None until the jar is there), the poll interval (None: the guard's default) and the inventory's spec.
    guard_jar_path: str = ""
    guard_rules_dir: str = ""
    guard_jar_sha256: Optional[str] = None
    guard_poll_ms: Optional[int] = None
    guard_spec: Mapping[str, object] = field(default_factory=dict)

    def path(self, kind: str) -> str:
        return "%s/%s" % (self.directory.rstrip("/"), FILE_NAMES[kind])

    @property
    def effective_rmi_port(self) -> int:
        return self.port if self.rmi_port is None else self.rmi_port


def effective_roles(user: User, groups: Mapping[str, Sequence[str]]) -> List[str]:
    """The user's roles and those of its groups, each once, in order."""
    roles: List[str] = []
    for role in list(user.roles) + [r for g in user.groups for r in groups.get(g, ())]:
        if role not in roles:
            roles.append(role)
    return roles


def access_level(user: User, groups: Mapping[str, Sequence[str]], admin_role: str, guard_enabled: bool = False) -> str:
    """``readwrite`` for a holder of the admin role, else ``readonly`` (the JDK's access levels); with the guard,
    ``readwrite`` for everyone (the most the guard may grant; it decides per operation)."""
    return "readwrite" if guard_enabled or admin_role in effective_roles(user, groups) else "readonly"


def _guard_roles(roles: Sequence[str], admin_role: str) -> List[str]:
    """Roles as the guard knows them: the role's admin role is the guard's ``admin`` (which holds every role)."""
    out: List[str] = []
    for role in roles:
        role = guard.ADMIN_ROLE if role == admin_role else role
        if role not in out:
            out.append(role)
    return out


def guard_spec(s: JmxSettings) -> Dict[str, object]:
    """The guard's users, groups and rules: ``kafkasec_jmx_users``/``kafkasec_jmx_groups`` (roles as they are, the
    admin role mapped to ``admin``), then what ``kafkasec_jmx_guard`` gives on top (a user or group it names
    replaces the derived one), and its rules. Raises guard.GuardRulesError on a malformed spec."""
    spec = s.guard_spec or {}
    if not isinstance(spec, Mapping):
        raise guard.GuardRulesError("%s: a mapping with users, groups and rules is required, got %r"
                                    % (guard.VARIABLE, spec))
    unknown = sorted(str(k) for k in spec if k not in guard.TOP_KEYS)
    if unknown:
        raise guard.GuardRulesError("%s: unknown key(s) %s (known: %s)"
                                    % (guard.VARIABLE, ", ".join(unknown), ", ".join(guard.TOP_KEYS)))
    groups: Dict[str, object] = {g: _guard_roles(list(r), s.admin_role) for g, r in s.groups.items()}
    users: Dict[str, object] = {u.name: {"groups": list(u.groups), "roles": _guard_roles(u.roles, s.admin_role)}
                                for u in s.users}
    for key, target in (("groups", groups), ("users", users)):
        given = spec.get(key)
        if given is None:
            continue
        if not isinstance(given, Mapping):
            raise guard.GuardRulesError("%s.%s: a mapping is required, got %r" % (guard.VARIABLE, key, given))
        target.update(given)
    return {"users": users, "groups": groups, "rules": spec.get("rules") or []}


def guard_files(s: JmxSettings) -> Dict[str, str]:
    """The guard's rules directory, ``{file name: content}`` (guard.render_rules of guard_spec)."""
    return guard.render_rules(guard_spec(s))


def problems(s: JmxSettings) -> List[Problem]:
    """Every problem of the host's JMX input, each naming the variable and the value (never a password)."""
    out: List[Problem] = []
    for var, port in (("kafkasec_jmx_port", s.port), ("kafkasec_jmx_rmi_port", s.effective_rmi_port)):
        if not 1 <= int(port) <= 65535:
            out.append((var, "%s (%r) must be a TCP port, 1-65535" % (var, port)))
    for var, value in (("kafkasec_jmx_bind_address", s.bind_address), ("kafkasec_jmx_rmi_hostname", s.rmi_hostname),
                       ("kafkasec_jmx_dir", s.directory)):
        if not value or not SAFE_WORD.match(value):
            out.append((var, "%s (%r) must be a non-empty host name, address or path without spaces, quotes or "
                             "shell characters" % (var, value)))
    if s.rmi_hostname and s.rmi_hostname not in s.certificate_names:
        out.append(("kafkasec_jmx_rmi_hostname",
                    "kafkasec_jmx_rmi_hostname (%r) is not a name of the host's certificate (%s): clients check the "
                    "RMI stub's host name against it" % (s.rmi_hostname, ", ".join(s.certificate_names) or "none")))
    bad = [p for p in s.protocols if p not in PROTOCOLS]
    if bad or not s.protocols:
        out.append(("kafkasec_jmx_ssl_enabled_protocols",
                    "kafkasec_jmx_ssl_enabled_protocols (%r) may only hold %s" % (list(s.protocols), " and ".join(PROTOCOLS))))
    for kind in ("keystore", "truststore"):
        store_type, path, password = (getattr(s, kind + "_type"), getattr(s, kind + "_path"),
                                      getattr(s, kind + "_password"))
        if str(store_type).lower() not in ("pkcs12", "jks"):
            out.append(("kafkasec_pki", "kafkasec_pki.%s_type (%r): the JDK's ssl.config.file reads only the JVM's "
                                        "default store type (PKCS12, which also reads JKS), not PEM" % (kind, store_type)))
        if not path or not SAFE_WORD.match(path):
            out.append(("kafkasec_pki", "kafkasec_pki.%s_path (%r) must be a path without spaces or quotes" % (kind, path)))
        if not password:
            out.append(("kafkasec_pki", "kafkasec_pki.%s_password is empty: the JMX connector needs the store password" % kind))
    if s.service not in SERVICES:
        out.append(("kafkasec_jmx_service", "kafkasec_jmx_service (%r) must be one of %s"
                    % (s.service, ", ".join(SERVICES))))
    if not ENV_NAME.match(s.env_variable or ""):
        out.append(("kafkasec_jmx_env_variable", "kafkasec_jmx_env_variable (%r) must be a shell variable name" % s.env_variable))
    elif s.env_variable in FORBIDDEN_ENV_VARIABLES + _assigned_names(s):
        out.append(("kafkasec_jmx_env_variable", "kafkasec_jmx_env_variable (%r) must not be %s: the start script "
                                                 "would add JMX flags of its own (no authentication, no TLS)"
                    % (s.env_variable, " or ".join(FORBIDDEN_ENV_VARIABLES + _assigned_names(s)))))
    if not s.serial_filter or not s.serial_filter.rstrip().endswith("!*"):
        out.append(("kafkasec_jmx_serial_filter", "kafkasec_jmx_serial_filter (%r) must end with !* (refuse every "
                                                  "class not allowed before it)" % s.serial_filter))
    for suite in s.cipher_suites:
        if not re.match(r"^TLS_[A-Z0-9_]+$", suite) or ("_RSA_WITH_" in suite and "ECDHE" not in suite and "DHE" not in suite):
            out.append(("kafkasec_jmx_ssl_cipher_suites", "kafkasec_jmx_ssl_cipher_suites: %r is not a TLS suite name with "
                                                          "forward secrecy (TLS_ECDHE_..., TLS_AES_...)" % suite))
    out += _user_problems(s)
    if s.guard_enabled:
        out += _guard_problems(s)
    return out


def _guard_problems(s: JmxSettings) -> List[Problem]:
    out: List[Problem] = []
    # guard.jvm_options checks each of the three; asked one at a time, so each problem names its own variable
    for var, args in (("kafkasec_jmx_guard_jar_path", (s.guard_jar_path, "/r", None)),
                      ("kafkasec_jmx_guard_dir", ("/j", s.guard_rules_dir, None)),
                      ("kafkasec_jmx_guard_poll_ms", ("/j", "/r", s.guard_poll_ms))):
        try:
            guard.jvm_options(*args, variable=var)
        except guard.GuardRulesError as exc:
            out.append((var, str(exc)))  # "<var>: ..., got <value>"
    if s.guard_rules_dir and s.guard_rules_dir.rstrip("/") == s.directory.rstrip("/"):
        out.append(("kafkasec_jmx_guard_dir", "kafkasec_jmx_guard_dir (%r) must be a directory of its own, not "
                                              "kafkasec_jmx_dir: stale rules files are removed from it"
                    % s.guard_rules_dir))
    try:
        guard_files(s)
    except guard.GuardRulesError as exc:
        out.append((guard.VARIABLE, str(exc)))
    return out


def _user_problems(s: JmxSettings) -> List[Problem]:
    out: List[Problem] = []
    if not s.users:
        out.append(("kafkasec_jmx_users", "kafkasec_jmx_users is empty: with authentication on, nobody could log in"))
    if not ROLE_NAME.match(s.admin_role or ""):
        out.append(("kafkasec_jmx_admin_role", "kafkasec_jmx_admin_role (%r) must be a role name" % s.admin_role))
    for group, roles in s.groups.items():
        for role in list(roles) + [group]:
            if not ROLE_NAME.match(str(role)):
                out.append(("kafkasec_jmx_groups", "kafkasec_jmx_groups: %r (group %r) is not a valid name" % (role, group)))
    seen = set()
    for u in s.users:
        if not USER_NAME.match(u.name or ""):
            out.append(("kafkasec_jmx_users", "kafkasec_jmx_users: user name %r must be letters, digits, '.', '_', '@' "
                                              "or '-' (the password and access files split on whitespace)" % u.name))
            continue
        if u.name in seen:
            out.append(("kafkasec_jmx_users", "kafkasec_jmx_users: user %r is listed twice" % u.name))
        seen.add(u.name)
        unknown = [g for g in u.groups if g not in s.groups]
        if unknown:
            out.append(("kafkasec_jmx_users", "kafkasec_jmx_users: user %r is in group(s) %s that kafkasec_jmx_groups "
                                              "does not define" % (u.name, ", ".join(map(repr, unknown)))))
        if not effective_roles(u, s.groups):
            out.append(("kafkasec_jmx_users", "kafkasec_jmx_users: user %r has no role (neither roles nor a group "
                                              "with roles)" % u.name))
        for role in u.roles:
            if not ROLE_NAME.match(str(role)):
                out.append(("kafkasec_jmx_users", "kafkasec_jmx_users: user %r: role %r is not a valid name" % (u.name, role)))
        if u.password is not None:
            if len(u.password) < MIN_PASSWORD:
                out.append(("kafkasec_jmx_users", "kafkasec_jmx_users: the password of user %r is shorter than %d "
                                                  "characters" % (u.name, MIN_PASSWORD)))
            if any(c.isspace() or ord(c) < 32 for c in u.password):
                out.append(("kafkasec_jmx_users", "kafkasec_jmx_users: the password of user %r holds whitespace or a "
                                                  "control character (JmxTool's --jmx-auth-prop and the client "
                                                  "files cannot carry it)" % u.name))
    return out


def management_properties(s: JmxSettings) -> Dict[str, str]:
    """The ``com.sun.management.jmxremote.*`` settings of the management file, in the order written."""
    props = {
        "com.sun.management.jmxremote.port": str(s.port),
        "com.sun.management.jmxremote.rmi.port": str(s.effective_rmi_port),
        "com.sun.management.jmxremote.host": s.bind_address,
        "com.sun.management.jmxremote.local.only": "false",
        "com.sun.management.jmxremote.authenticate": "true",
        "com.sun.management.jmxremote.password.file": s.path("password"),
        "com.sun.management.jmxremote.password.toHashes": "true",
        "com.sun.management.jmxremote.access.file": s.path("access"),
        "com.sun.management.jmxremote.ssl": "true",
        "com.sun.management.jmxremote.registry.ssl": "true",
        "com.sun.management.jmxremote.ssl.need.client.auth": "true" if s.need_client_auth else "false",
        "com.sun.management.jmxremote.ssl.config.file": s.path("ssl"),
        "com.sun.management.jmxremote.ssl.enabled.protocols": ",".join(s.protocols),
    }
    if s.cipher_suites:
        props["com.sun.management.jmxremote.ssl.enabled.cipher.suites"] = ",".join(s.cipher_suites)
    props["com.sun.management.jmxremote.serial.filter.pattern"] = s.serial_filter
    return props


JAR_DIGEST_PROPERTY = "kafkasec.jmx.guard.jar.sha256"


def jvm_options(s: JmxSettings) -> List[str]:
    """The JVM options (no secret, no shell character): the management file and the RMI stub's host name; with
    the guard, guard.jvm_options and the jar's SHA-256 (a new jar changes the options, so the JVM restarts)."""
    options = ["-Dcom.sun.management.config.file=%s" % s.path("management"),
               "-Djava.rmi.server.hostname=%s" % s.rmi_hostname]
    if s.guard_enabled:
        options += guard.jvm_options(s.guard_jar_path, s.guard_rules_dir, s.guard_poll_ms)
        if s.guard_jar_sha256:
            options.append("-D%s=%s" % (JAR_DIGEST_PROPERTY, s.guard_jar_sha256))
    return options


def guard_jar_reasons(s: JmxSettings, old_env: str) -> List[str]:
    """The restart reason for a new guard jar: the environment file in place names another jar digest."""
    if not (s.guard_enabled and s.guard_jar_sha256) or JAR_DIGEST_PROPERTY not in old_env:
        return []
    if "%s=%s" % (JAR_DIGEST_PROPERTY, s.guard_jar_sha256) in old_env:
        return []
    return ["JMX: the guard's jar is new (%s)" % s.guard_jar_sha256[:12]]


def _assignments(s: JmxSettings) -> Tuple[Tuple[str, str], ...]:
    return SERVICES[s.service].assignments if s.service in SERVICES else ()


def _assigned_names(s: JmxSettings) -> Tuple[str, ...]:
    """The other variables the service's environment file sets (they cannot be the options' variable)."""
    return tuple(name for name, _value in _assignments(s))


def env_file(s: JmxSettings) -> str:
    """The environment file the service start reads (no secret).

    Kafka and Connect: ``KAFKA_JMX_OPTS="..."``, systemd EnvironmentFile= syntax and valid sh; kafka-run-class.sh puts
    it on the java command line in place of its own (unauthenticated) default. ZooKeeper: a sh fragment for zkEnv.sh
    (conf/java.env or zookeeper-env.sh sources it, after any file that sets SERVER_JVMFLAGS): ``JMXDISABLE=true`` so
    zkServer.sh adds no JMX flag, and the options appended to ``SERVER_JVMFLAGS``, which keeps the JAAS option."""
    start = SERVICES.get(s.service, SERVICES["kafka"])
    options = " ".join(jvm_options(s))
    if start.append:
        head = ("# Remote JMX of this JVM (kafkasec.tls.jmx; managed by Ansible). A sh fragment for %s: source it from\n"
                "# the start script's environment (conf/java.env), after any file that sets %s.\n"
                % (start.script, s.env_variable))
        value = "${%s:+$%s }%s" % (s.env_variable, s.env_variable, options)
    else:
        head = ("# Remote JMX of this JVM (kafkasec.tls.jmx; managed by Ansible). Sourced by the service start:\n"
                "# systemd EnvironmentFile=, or %s through the environment.\n" % start.script)
        value = options
    return head + "".join('%s=%s\n' % kv for kv in start.assignments) + '%s="%s"\n' % (s.env_variable, value)


def _properties(header: str, entries: Mapping[str, object]) -> str:
    return header + "".join(format_entry(k, v) + "\n" for k, v in entries.items())


def files(s: JmxSettings, existing_password_file: Optional[str] = None) -> Tuple[Dict[str, str], List[str]]:
    """kind -> content of every file but the environment file, and the users whose password entry is new.

    Needs every user's password (generated ones resolved by the role)."""
    from ansible_collections.kafkasec.tls.plugins.module_utils.jmx.passwords import render
    password_text, renewed = render([(u.name, u.password or "") for u in s.users], existing_password_file)
    access = "".join("%s %s\n" % (u.name, access_level(u, s.groups, s.admin_role, s.guard_enabled)) for u in s.users)
    ssl = {"javax.net.ssl.keyStore": s.keystore_path, "javax.net.ssl.keyStorePassword": s.keystore_password or "",
           "javax.net.ssl.trustStore": s.truststore_path,
           "javax.net.ssl.trustStorePassword": s.truststore_password or ""}
    return dict(
        management=_properties("# The JVM's remote JMX agent (kafkasec.tls.jmx; managed by Ansible).\n",
                               management_properties(s)),
        password=password_text,
        access=("# JMX access levels (kafkasec.tls.jmx; managed by Ansible): "
                + ("every user readwrite, the JMX guard decides per operation.\n" if s.guard_enabled
                   else "the admin role is readwrite.\n") + access),
        ssl=_properties("# Stores of the JMX connector and registry (kafkasec.tls.jmx; managed by Ansible).\n", ssl),
    ), renewed


# Which file kinds need a JVM restart when they change: the agent reads them once at start-up, but the
# password file is read again at every login (HashedPasswordManager.loadPasswords), so a new password or
# user takes effect at once.
RESTART_KINDS = ("management", "access", "ssl", "env")
