# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The worker planner of a Kafka Connect distributed worker: what its TLS block needs, what is
wrong with the inputs, and why the worker restarts.

Pure functions, no Ansible: the module ``kafkasec.tls.connect_config`` reads the worker's file and
calls them; ``tests/unit/test_connect_plan.py`` covers them table by table.

    settings = settings_from(role_variables_without_prefix)        # ConnectSettings
    plan = plan_worker(settings, brokers, properties_path, file_kind="file")
    plan.problems      # [(variable, message)]: refuse before anything changes
    plan.values        # what roles/connect/templates/worker-tls.properties.j2 and tasks/restart.yml use
    restart_reasons(changed_keys, pending, keystore_changed=True)   # why the worker restarts

The rules are those of a worker that talks TLS only: its bootstrap servers must be the brokers' TLS
listeners (a worker with ``security.protocol=SSL`` pointed at a PLAINTEXT port hangs in its
handshake), TLS 1.3/1.2 only, the REST API's advertised name must be in its certificate (the other
workers verify it when they forward requests), and the JVM-wide stores (``javax.net.ssl.*``) must
be of a type the JDK reads. A worker reads its properties, stores and JVM options at start-up only,
so every change of them is a restart reason.
"""

from __future__ import annotations

import math
import os
import re

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.kafkasec.tls.plugins.module_utils.common.names import covering_san, is_ip
from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import Problem
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.endpoints import (
    EndpointError,
    broker_listeners,
    non_tls_endpoints,
    parse_bootstrap_servers,
)
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.client_bundle import cipher_suite_problems
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.store_settings import STORE_EXTENSIONS

TLS_PROTOCOLS = ("TLSv1.3", "TLSv1.2")
CLIENT_AUTH = ("required", "requested", "none")
STORE_TYPES = tuple(STORE_EXTENSIONS)
# The Kafka clients of a worker that each get the whole TLS block: its own (no prefix) and the
# connectors' producers, consumers and admin clients, which do not inherit the worker's ssl.* keys.
CLIENT_PREFIXES = ("", "producer.", "consumer.", "admin.")
# How many changed keys a restart reason names before it says "...".
REASON_KEYS = 5
# What kind of file the worker's properties path is on the host (os.stat).
FILE_KINDS = ("file", "missing", "other")
_DIGITS = re.compile(r"^[0-9]+$")


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(value)


@dataclass(frozen=True)
class ConnectSettings:
    """The inventory's wishes for one worker (role variables without their ``kafkasec_connect_`` prefix).

    ``bootstrap_servers``, ``rest_port``, ``restart_command`` and ``health_timeout`` are kept as the
    inventory gives them, so that a wrong type is a problem that names the variable, not an exception.
    """

    hostname: str
    bootstrap_servers: Any = ()
    rest_listen_host: str = ""
    rest_advertised_host: str = ""
    rest_port: Any = 8443
    rest_client_auth: str = "required"
    ssl_enabled_protocols: Tuple[str, ...] = TLS_PROTOCOLS
    ssl_protocol: str = "TLSv1.3"
    # ssl.cipher.suites of every client block and of the REST listener (IANA names; empty: the JVM's defaults).
    ssl_cipher_suites: Tuple[str, ...] = ()
    jvm_stores: bool = True
    env_file: str = ""
    jvm_args_file: str = ""
    restart_command: Any = ""
    health_timeout: Any = 300
    # The certificate's names and the store types (the PKI contract, or its variables before it exists).
    dns_names: Tuple[str, ...] = ()
    ip_addresses: Tuple[str, ...] = ()
    keystore_type: str = "pkcs12"
    truststore_type: str = "pkcs12"


@dataclass
class ConnectPlan:
    """What the worker's TLS block needs beyond the role variables, and the reasons to refuse."""

    values: Dict[str, Any]
    problems: List[Problem]

    def as_dict(self) -> Dict[str, Any]:
        return dict(values=self.values, problems=[dict(variable=v, message=m) for v, m in self.problems])


def settings_from(params: Mapping[str, Any]) -> ConnectSettings:
    """ConnectSettings from a module's ``settings`` option; unknown keys are an error (a typo in vars/main.yml)."""
    known = set(ConnectSettings.__dataclass_fields__)
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError("settings: unknown keys %s" % ", ".join(unknown))
    values: Dict[str, Any] = {key: value for key, value in params.items() if value is not None}
    if "jvm_stores" in values:
        values["jvm_stores"] = _flag(values["jvm_stores"])
    for key in ("ssl_enabled_protocols", "ssl_cipher_suites", "dns_names", "ip_addresses"):
        if key in values:
            if isinstance(values[key], str) or not isinstance(values[key], (list, tuple)):
                raise ValueError("settings.%s must be a list, not %r" % (key, values[key]))
            values[key] = tuple(str(item) for item in values[key])
    for key in ("hostname", "rest_listen_host", "rest_advertised_host", "rest_client_auth", "ssl_protocol",
                "env_file", "jvm_args_file", "keystore_type", "truststore_type"):
        if key in values:
            values[key] = str(values[key])
    values.setdefault("hostname", "")
    values.setdefault("rest_advertised_host", values["hostname"])
    return ConnectSettings(**values)


# ----------------------------------------------------------------------------------------- values

def bootstrap_list(value: Any) -> List[str]:
    """The bootstrap servers as the template joins them: a string is split at commas (blanks dropped),
    a list is taken as it is."""
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, (list, tuple)):
        return [item if isinstance(item, str) else str(item) for item in value]
    return [str(value)]


def url_host(host: str) -> str:
    """A host for a URL: an IPv6 address in brackets."""
    return "[%s]" % host if ":" in host else host


def health_retries(timeout: Any) -> int:
    """Gate retries two seconds apart that cover ``timeout`` seconds (0 for a timeout that is no number)."""
    try:
        return int(math.ceil(int(str(timeout).strip()) / 2.0))
    except ValueError:
        return 0


def plan_values(s: ConnectSettings) -> Dict[str, Any]:
    return dict(
        bootstrap_servers=bootstrap_list(s.bootstrap_servers),
        rest_listener="https://%s:%s" % (url_host(s.rest_listen_host), s.rest_port),
        rest_url="https://%s:%s" % (url_host(s.rest_advertised_host), s.rest_port),
        health_retries=health_retries(s.health_timeout),
    )


# ----------------------------------------------------------------------------------------- checks

def bootstrap_problems(s: ConnectSettings, brokers: Sequence[Mapping[str, Any]]) -> List[Problem]:
    """Bootstrap servers present, well formed, and none of them a broker's non-TLS port.

    ``brokers`` is what the controller knows of each host of inventory group kafka_broker: its
    inventory name (``name``) and the variables that say where its listeners are
    (``kafkasec_broker_ssl_port``, ``kafkasec_broker_advertised_host``, ... as
    ``endpoints.broker_listeners`` reads them).
    """
    variable = "kafkasec_connect_bootstrap_servers"
    servers = bootstrap_list(s.bootstrap_servers)
    if not [item for item in servers if item.strip(" ,")]:
        return [(variable, (
            "%s is empty and inventory group kafka_broker has no host to take them from; set it to the brokers' "
            "TLS listeners (host:port)" % variable))]
    try:
        endpoints = parse_bootstrap_servers(s.bootstrap_servers, variable)
    except EndpointError as exc:
        return [(variable, "%s; give the brokers' TLS listeners as host:port" % exc)]
    listeners = [broker_listeners(str(broker["name"]), broker) for broker in brokers]
    wrong = non_tls_endpoints(endpoints, listeners)
    if not wrong:
        return []
    return [(variable, "%s. The worker talks SSL only: point %s at the brokers' TLS listeners" % (
        "; ".join("%s: %s" % (variable, item) for item in wrong), variable))]


def tls_problems(s: ConnectSettings) -> List[Problem]:
    problems: List[Problem] = []
    protocols = list(s.ssl_enabled_protocols)
    if not protocols or [p for p in protocols if p not in TLS_PROTOCOLS]:
        problems.append(("kafkasec_connect_ssl_enabled_protocols", (
            "kafkasec_connect_ssl_enabled_protocols (%s) may hold only TLSv1.3 and TLSv1.2, and at least one "
            "of them" % (",".join(protocols) or "empty"))))
    if protocols and s.ssl_protocol not in protocols:
        problems.append(("kafkasec_connect_ssl_protocol", (
            "kafkasec_connect_ssl_protocol (%s) must be one of kafkasec_connect_ssl_enabled_protocols (%s)" % (
                s.ssl_protocol, ",".join(protocols)))))
    problems += [("kafkasec_connect_ssl_cipher_suites", message) for message in
                 cipher_suite_problems(list(s.ssl_cipher_suites), protocols, "kafkasec_connect_ssl_cipher_suites")]
    if s.rest_client_auth not in CLIENT_AUTH:
        problems.append(("kafkasec_connect_rest_client_auth", (
            "kafkasec_connect_rest_client_auth (%s) must be one of %s" % (s.rest_client_auth, ", ".join(CLIENT_AUTH)))))
    return problems


def rest_problems(s: ConnectSettings) -> List[Problem]:
    problems: List[Problem] = []
    port = str(s.rest_port).strip()
    if isinstance(s.rest_port, bool) or not _DIGITS.match(port) or not 1 <= int(port) <= 65535:
        problems.append(("kafkasec_connect_rest_port",
                         "kafkasec_connect_rest_port (%r) must be a port between 1 and 65535" % (s.rest_port,)))
    host = s.rest_advertised_host
    if not host or covering_san(host, s.dns_names, s.ip_addresses) is None:
        problems.append(("kafkasec_connect_rest_advertised_host", (
            "kafkasec_connect_rest_advertised_host %s is not among the certificate's subject alternative names "
            "(kafkasec_cert_dns_names %s, kafkasec_cert_ip_addresses %s). The other workers and REST clients "
            "verify it; add it to kafkasec_cert_%s" % (
                host or "(empty)", list(s.dns_names), list(s.ip_addresses),
                "ip_addresses" if is_ip(host) else "extra_dns_names"))))
    return problems


def store_problems(s: ConnectSettings) -> List[Problem]:
    problems: List[Problem] = []
    for variable, value in (("kafkasec_keystore_type", s.keystore_type), ("kafkasec_truststore_type", s.truststore_type)):
        if value not in STORE_TYPES:
            problems.append((variable, "%s (%r) must be one of %s" % (variable, value, ", ".join(STORE_TYPES))))
    pem = [variable for variable, value in (("kafkasec_keystore_type", s.keystore_type),
                                            ("kafkasec_truststore_type", s.truststore_type)) if value == "pem"]
    if s.jvm_stores and pem:
        problems.append(("kafkasec_connect_jvm_stores", (
            "kafkasec_connect_jvm_stores is true, but %s is pem, which only Kafka's own clients read; "
            "javax.net.ssl.* needs pkcs12 or jks. Use pkcs12, or set kafkasec_connect_jvm_stores to false" % (
                " and ".join(pem)))))
    return problems


def restart_problems(s: ConnectSettings) -> List[Problem]:
    problems: List[Problem] = []
    if not isinstance(s.restart_command, str):
        problems.append(("kafkasec_connect_restart_command", (
            "kafkasec_connect_restart_command (%r) must be a command string (empty: the role only reports that "
            "a restart is needed)" % (s.restart_command,))))
    timeout = s.health_timeout
    if isinstance(timeout, bool) or not _DIGITS.match(str(timeout).strip()) or int(str(timeout).strip()) <= 0:
        problems.append(("kafkasec_connect_health_timeout", (
            "kafkasec_connect_health_timeout (%r) must be a number of seconds above 0" % (timeout,))))
    return problems


def path_problems(s: ConnectSettings, properties_path: str, file_kind: str) -> List[Problem]:
    """Absolute paths, and the worker's properties file a regular file on the host (``file_kind``)."""
    problems: List[Problem] = []
    for variable, path in (("kafkasec_connect_properties_path", properties_path),
                           ("kafkasec_connect_env_file", s.env_file),
                           ("kafkasec_connect_jvm_args_file", s.jvm_args_file)):
        if not os.path.isabs(str(path)):
            problems.append((variable, "%s (%s) must be an absolute path" % (variable, path)))
    if file_kind != "file":
        problems.append(("kafkasec_connect_properties_path", (
            "kafkasec_connect_properties_path is %s, which is not a file on the host (%s). The role merges TLS "
            "settings into the existing connect-distributed.properties of the worker; point the variable at it"
            % (properties_path, "it does not exist" if file_kind == "missing" else "not a regular file"))))
    return problems


def plan_worker(s: ConnectSettings, brokers: Sequence[Mapping[str, Any]], properties_path: str,
                file_kind: str = "file") -> ConnectPlan:
    """The plan for one worker: the values its templates need, and every reason to refuse it."""
    problems = (bootstrap_problems(s, brokers) + tls_problems(s) + rest_problems(s) + store_problems(s)
                + restart_problems(s) + path_problems(s, properties_path, file_kind))
    return ConnectPlan(values=plan_values(s), problems=problems)


# ---------------------------------------------------------------------------------------- restart

def restart_reasons(changed_keys: Sequence[str], pending: Optional[Mapping[str, Any]] = None, *,
                    keystore_changed: bool = False, truststore_changed: bool = False,
                    args_file_changed: bool = False, env_file_changed: bool = False) -> List[str]:
    """Why the worker restarts: a pending restart's reasons first, then this run's, each once.

    The worker reads its properties, its stores (neither its Kafka clients nor its REST server reload
    them) and its JVM options at start-up only, so each change of them is a reason.
    """
    reasons = [str(reason) for reason in ((pending or {}).get("reasons") or [])]
    keys = list(changed_keys)
    if keys:
        reasons.append("properties: %d keys changed (%s%s)" % (
            len(keys), ", ".join(keys[:REASON_KEYS]), ", ..." if len(keys) > REASON_KEYS else ""))
    for changed, reason in ((keystore_changed, "keystore changed"), (truststore_changed, "truststore changed"),
                            (args_file_changed, "JVM argument file changed"),
                            (env_file_changed, "KAFKA_OPTS environment file changed")):
        if changed:
            reasons.append(reason)
    return list(dict.fromkeys(reasons))
