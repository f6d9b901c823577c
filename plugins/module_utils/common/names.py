# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host names, IP addresses and whether a certificate's SANs cover a name: one rule for the collection.

Used by the node planner (is the advertised name in the certificate?), the TLS probe (does the
served certificate match the name we connected to?), the client bundles (a client's name is a
principal, and a DNS SAN only when it is a DNS name) and the filters.
"""

from __future__ import annotations

import ipaddress
import re

from typing import Optional, Sequence


def is_ip(text: str) -> bool:
    """Whether ``text`` is an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(str(text).strip())
    except ValueError:
        return False
    return True


def covering_san(name: str, dns_names: Sequence[str], ip_addresses: Sequence[str]) -> Optional[str]:
    """The SAN that covers ``name`` (RFC 6125: SANs only, one left-most wildcard label), or None.

    An address is covered only by an equal IP SAN (compared as addresses, so ``::1`` matches
    ``0:0::1``); a name by an equal DNS SAN (case-insensitive, trailing dot ignored) or by
    ``*.<rest>`` when the name is one label followed by ``<rest>``.
    """
    candidate = str(name).strip().rstrip(".").lower()
    if is_ip(candidate):
        wanted = ipaddress.ip_address(candidate)
        for value in ip_addresses:
            if is_ip(value) and ipaddress.ip_address(str(value).strip()) == wanted:
                return "IP:%s" % value
        return None
    for pattern in dns_names:
        pattern = str(pattern).lower().rstrip(".")
        if pattern == candidate:
            return "DNS:%s" % pattern
        if pattern.startswith("*.") and "." in candidate:
            first, rest = candidate.split(".", 1)
            if first and rest == pattern[2:]:
                return "DNS:%s" % pattern
    return None


# A DNS name: labels of letters, digits and '-' (not first or last), at most 63 each and 253 in all; the
# same rule as pki/core.py validate_dns_name for a name without a wildcard.
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# A principal's name as the collection issues it in a client certificate's CN: what Kafka principals hold
# (user names with '_', '@', '.'), nothing that RFC 2253 escapes or a mapping rule's [^,]+ would cut (',',
# '+', '=', '"', '\\', '<', '>', ';', '#'), no '/' or leading '.' (the name is a directory and file name),
# no spaces (librdkafka reads its properties without escapes). 64 characters at most (X.520 ub-common-name).
_PRINCIPAL_NAME = re.compile(r"^[A-Za-z0-9_@][A-Za-z0-9_@.-]{0,63}$")


def is_dns_name(name: object) -> bool:
    """Whether ``name`` is a host name a DNS SAN can hold (no wildcard, no IP address)."""
    if not isinstance(name, str) or not name or is_ip(name):
        return False
    candidate = name.rstrip(".").lower()
    return len(candidate) <= 253 and all(_DNS_LABEL.match(label) for label in candidate.split("."))


def principal_name_problem(name: object) -> Optional[str]:
    """Why ``name`` cannot be a client certificate's CN and principal name, or None."""
    if not isinstance(name, str) or not name:
        return "a name must be a non-empty string, not %r" % (name,)
    if len(name) > 64:
        return "%r is longer than 64 characters (a certificate's CN holds at most 64)" % name
    if not _PRINCIPAL_NAME.match(name):
        return ("%r may hold only letters, digits and _ @ . - (not first: . or -): no '/', ',', '=', '+', quotes, "
                "spaces or other characters that certificate DNs escape, mapping rules cut or paths "
                "misread" % name)
    return None


def client_dns_names(name: str, declared: Optional[Sequence[str]] = None) -> list:
    """A client certificate's DNS SANs: the declared ones, else the name when it is a DNS name, else none."""
    if declared:
        return [str(item) for item in declared]
    return [name] if is_dns_name(name) else []
