# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka bootstrap server lists, and whether they point at TLS listeners.

Plain Python, no Ansible imports. A Connect worker or a client configured with
``security.protocol=SSL`` fails in an unhelpful way (a handshake timeout, or an
"out of memory" when the broker's PLAINTEXT answer is read as a TLS record) when its
bootstrap list names a broker's PLAINTEXT port. When the broker is in the inventory,
what its listeners are is known, and the mistake can be named before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Iterable, List, Sequence, Tuple, Union

__all__ = [
    "BrokerListeners",
    "Endpoint",
    "EndpointError",
    "bootstrap_servers",
    "broker_listeners",
    "non_tls_endpoints",
    "parse_bootstrap_servers",
]

# The broker role's defaults (roles/broker/defaults/main.yml); keep in step.
DEFAULT_SSL_PORT = 9093
DEFAULT_PLAINTEXT_PORT = 9092
DEFAULT_CONTROLLER_PORT = 9094
# Security protocols a bootstrap entry's prefix may name: the TLS ones.
TLS_PROTOCOLS = ("SSL", "SASL_SSL")


class EndpointError(ValueError):
    """A bootstrap list that is not ``host:port[,host:port...]``; the message names the variable."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    # The security protocol prefix of the entry (SSL://host:port), upper case; "" without one. Kafka
    # ignores it, but a PLAINTEXT:// entry says the list was written for a PLAINTEXT listener.
    protocol: str = field(default="", compare=False)

    def __str__(self) -> str:
        return "[%s]:%d" % (self.host, self.port) if ":" in self.host else "%s:%d" % (self.host, self.port)


@dataclass(frozen=True)
class BrokerListeners:
    """What the inventory says about one broker's listeners."""

    inventory_name: str
    advertised: str                 # the name clients use (kafkasec_broker_advertised_host)
    names: Tuple[str, ...]          # names (and addresses) that reach this broker, lower case
    tls_port: int
    # port -> what it is, for ports that are not a TLS client listener
    other_ports: Tuple[Tuple[int, str], ...] = ()


def _parse_one(item: str, variable: str) -> Endpoint:
    text = item.strip()
    # A bootstrap entry may carry a security protocol prefix (SSL://host:port), as Kafka allows.
    protocol = ""
    if "://" in text:
        protocol, text = text.split("://", 1)
        protocol = protocol.strip().upper()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise EndpointError("%s: %r is not [IPv6 address]:port" % (variable, item))
        port_text = rest[1:]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or ":" in host:
            raise EndpointError("%s: %r is not host:port" % (variable, item))
    if not host:
        raise EndpointError("%s: %r has no host" % (variable, item))
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise EndpointError("%s: %r has no valid port" % (variable, item))
    return Endpoint(host, int(port_text), protocol)


def parse_bootstrap_servers(value: Union[str, Sequence[str]], variable: str = "bootstrap_servers") -> List[Endpoint]:
    """``"a:9093,b:9093"`` or ``["a:9093", "b:9093"]`` as endpoints; at least one."""
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if not isinstance(item, str):
                raise EndpointError("%s: expected host:port strings, not %r" % (variable, item))
            items.extend(item.split(","))
    else:
        raise EndpointError("%s: expected a list of host:port or a comma-separated string" % variable)
    endpoints = [_parse_one(item, variable) for item in items if item.strip()]
    if not endpoints:
        raise EndpointError("%s: no bootstrap server given" % variable)
    return endpoints


def _int(value: object, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(str(value))
    except ValueError:
        return default


def _true(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(value)


def broker_listeners(inventory_name: str, host_vars: Mapping) -> BrokerListeners:
    """A broker's listeners as the kafkasec.tls.broker role configures them from its variables."""
    advertised = host_vars.get("kafkasec_broker_advertised_host")
    if not isinstance(advertised, str) or not advertised:
        advertised = inventory_name
    names = {inventory_name.lower()}
    for key in ("kafkasec_broker_advertised_host", "ansible_host"):
        value = host_vars.get(key)
        if isinstance(value, str) and value:
            names.add(value.lower())
    for key in ("kafkasec_cert_extra_dns_names", "kafkasec_cert_ip_addresses"):
        for value in host_vars.get(key) or []:
            if isinstance(value, str) and value:
                names.add(value.lower())
    tls_port = _int(host_vars.get("kafkasec_broker_ssl_port"), DEFAULT_SSL_PORT)
    plaintext_port = _int(host_vars.get("kafkasec_broker_plaintext_port"), DEFAULT_PLAINTEXT_PORT)
    controller_port = _int(host_vars.get("kafkasec_broker_controller_port"), DEFAULT_CONTROLLER_PORT)
    keep = _true(host_vars.get("kafkasec_broker_keep_plaintext", False))
    other = [(plaintext_port, "PLAINTEXT listener (kafkasec_broker_plaintext_port)" if keep
              else "PLAINTEXT port (kafkasec_broker_plaintext_port), which the broker role closes"),
             (controller_port, "controller listener (kafkasec_broker_controller_port), not for clients")]
    return BrokerListeners(inventory_name, advertised, tuple(sorted(names)), tls_port,
                           tuple((port, what) for port, what in other if port != tls_port))


def non_tls_endpoints(servers: Iterable[Endpoint], brokers: Iterable[BrokerListeners]) -> List[str]:
    """One message for each endpoint that names a known broker on a port other than its TLS listener,
    and for each endpoint whose prefix names a protocol that is not TLS (PLAINTEXT://, SASL_PLAINTEXT://).

    Other endpoints whose host is no broker of the inventory are not judged: nothing is known of them.
    """
    by_name = {}
    for broker in brokers:
        for name in broker.names:
            by_name.setdefault(name, broker)
    problems = []
    for endpoint in servers:
        if endpoint.protocol and endpoint.protocol not in TLS_PROTOCOLS:
            problems.append("%s://%s names security protocol %s, which is not TLS; give the TLS listener as "
                            "host:port (or SSL://host:port)" % (endpoint.protocol, endpoint, endpoint.protocol))
            continue
        broker = by_name.get(endpoint.host.lower().rstrip("."))
        if broker is None or endpoint.port == broker.tls_port:
            continue
        what = dict(broker.other_ports).get(endpoint.port, "port other than its TLS listener")
        problems.append("%s is broker %s's %s; its TLS listener is port %d (kafkasec_broker_ssl_port)"
                        % (endpoint, broker.inventory_name, what, broker.tls_port))
    return problems


def bootstrap_servers(brokers: Iterable[BrokerListeners]) -> List[str]:
    """``advertised:tls_port`` of each broker, in inventory order: a TLS bootstrap list."""
    return [str(Endpoint(broker.advertised, broker.tls_port)) for broker in brokers]
