# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # Options shared by the keystore and truststore modules.
    DOCUMENTATION = r'''
options:
  path:
    description: Path of the store.
    type: path
    required: true
  type:
    description:
      - C(pkcs12) is what the Kafka documentation recommends and Java 17 reads natively.
      - C(pem) is for Kafka's PEM store type (Kafka 2.7 and later); it takes no store password.
      - C(jks) is for legacy readers only; it is converted from PKCS12 by the JDK's keytool, which must be installed
        on the host (the module fails clearly otherwise). Passwords reach keytool through its environment.
    type: str
    choices: [pkcs12, pem, jks]
    default: pkcs12
  password:
    description:
      - Store password (and key password; Kafka and ZooKeeper expect them equal). Required for C(pkcs12) and C(jks),
        refused for C(pem). No default; use M(kafkasec.tls.store_password) or Ansible Vault.
    type: str
  on_password_mismatch:
    description:
      - What to do when the store exists and O(password) does not open it. C(fail) (default) stops and changes nothing;
        C(overwrite) rebuilds the store with the new password (use it to change a password on purpose).
    type: str
    choices: [fail, overwrite]
    default: fail
'''
