# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PKI contract: one fact per host (``kafkasec_pki``) that every consumer role reads.

Plain, typed Python with no Ansible imports and no cryptography: the control node builds the contract of a
deferred install (``deferred_contract``) without loading the library, and pki/host.py builds the installed one.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence

# The fields of the contract that are secrets: consumers keep them out of logs (no_log).
SECRET_FIELDS = ("keystore_password", "truststore_password")

# host_pki's defaults for the options the contract reads (a task may leave them out).
_DEFAULTS: Dict[str, Any] = dict(keystore_type="pkcs12", keystore_alias="kafka", truststore=True,
                                 truststore_type="pkcs12", dns_names=(), ip_addresses=(), common_name="")


def contract_of(options: Mapping[str, Any], passwords: Mapping[str, Optional[str]], *,
                certificate: Mapping[str, Any], certificate_changed: bool, keystore_changed: bool,
                truststore_changed: bool, truststore_fingerprints: Sequence[str]) -> Dict[str, Any]:
    """The contract from host_pki's options (``options``: its paths, types, names), the store passwords and the
    certificate's identity. Paths and types of the key, certificate, chain and stores; the certificate's names
    and identity; what this run changed; the store passwords, named in ``secret_fields`` (consumers use no_log).
    The store settings Kafka, ZooKeeper and Connect write come from it through the ``kafkasec.tls.store_settings``
    filter (the PEM/JKS password rule)."""
    def option(name: str) -> Any:
        value = options.get(name)
        return _DEFAULTS.get(name) if value is None else value

    truststore = bool(option("truststore"))
    return dict(
        pki_dir=option("pki_dir"),
        common_name=option("common_name"),
        dns_names=list(option("dns_names")),
        ip_addresses=list(option("ip_addresses")),
        privatekey_path=option("privatekey_path"),
        certificate_path=option("certificate_path"),
        ca_chain_path=option("ca_chain_path"),
        keystore_path=option("keystore_path"),
        keystore_type=option("keystore_type"),
        keystore_alias=option("keystore_alias"),
        keystore_password=passwords.get("keystore"),
        keystore_changed=keystore_changed,
        truststore_path=option("truststore_path") if truststore else None,
        truststore_type=option("truststore_type") if truststore else None,
        truststore_password=passwords.get("truststore") if truststore else None,
        truststore_changed=truststore_changed,
        truststore_fingerprints=list(truststore_fingerprints),
        certificate_changed=certificate_changed,
        fingerprint_sha256=certificate.get("fingerprint_sha256", ""),
        not_after=certificate.get("not_after", ""),
        serial=certificate.get("serial"),
        sign_reason=certificate.get("reason", ""),
        secret_fields=list(SECRET_FIELDS),
    )


def deferred_contract(options: Mapping[str, Any], passwords: Mapping[str, Optional[str]],
                      signed: Mapping[str, Any]) -> Dict[str, Any]:
    """The contract of an install that a later call on the host makes (host_pki's O(defer)): the paths, types and
    passwords the stores will have, the CA's answer as the certificate, ``deferred: true``. What the install will
    change is known only there: a new certificate always rewrites the keystore; the truststore is reported
    unchanged here, and the installing call returns the real changes (broker_config's RV(pki))."""
    changed = bool(signed.get("changed"))
    result = contract_of(options, passwords, certificate=signed, certificate_changed=changed, keystore_changed=changed,
                         truststore_changed=False, truststore_fingerprints=[])
    result["deferred"] = True
    return result
