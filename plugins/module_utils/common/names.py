# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host names, IP addresses and whether a certificate's SANs cover a name: one rule for the collection.

Used by the node planner (is the advertised name in the certificate?), the TLS probe (does the
served certificate match the name we connected to?) and the filters.
"""

from __future__ import annotations

import ipaddress

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
