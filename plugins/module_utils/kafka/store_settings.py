# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's stores as Kafka, ZooKeeper and Connect spell them: the one place of the password rule.

Kafka's PEM stores take no store password (the key is an unencrypted PKCS#8 key), and the key of
a PKCS12 store is read with the store password, so a key password is only written for JKS.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

STORE_EXTENSIONS = {"pkcs12": "p12", "pem": "pem", "jks": "jks"}


def store_settings(pki: Mapping[str, Any]) -> Dict[str, str]:
    """The PKI contract (``kafkasec_pki`` fact) -> type, location and passwords of both stores.

    Keys: keystore_type, keystore_location, keystore_password, key_password, truststore_type,
    truststore_location, truststore_password; a value that does not apply is ''.
    """
    keystore_type = str(pki.get("keystore_type", "pkcs12")).lower()
    truststore_type = str(pki.get("truststore_type", "pkcs12")).lower()
    for name, value in (("keystore_type", keystore_type), ("truststore_type", truststore_type)):
        if value not in STORE_EXTENSIONS:
            raise ValueError("%s must be one of %s, not %r" % (name, ", ".join(STORE_EXTENSIONS), value))
    keystore_password: Optional[str] = pki.get("keystore_password")
    truststore_password: Optional[str] = pki.get("truststore_password")
    return dict(
        keystore_type=keystore_type.upper(),
        keystore_location=str(pki.get("keystore_path", "")),
        keystore_password="" if keystore_type == "pem" else str(keystore_password or ""),
        key_password=str(keystore_password or "") if keystore_type == "jks" else "",
        truststore_type=truststore_type.upper(),
        truststore_location=str(pki.get("truststore_path", "")),
        truststore_password="" if truststore_type == "pem" else str(truststore_password or ""),
    )
