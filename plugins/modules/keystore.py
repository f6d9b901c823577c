#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: keystore
short_description: Write a Kafka keystore from the host's key and certificate chain
version_added: 0.1.0
description:
  - Builds a PKCS12 keystore (default), a PEM keystore (unencrypted PKCS#8 key followed by the full chain, for
    C(ssl.keystore.type=PEM)), or a JKS keystore, holding one private key entry with the full chain (Kafka needs the
    chain to present it to peers).
  - Idempotent by parsed content, not bytes; the store is rewritten only when the alias, the key or the chain differ.
  - Fails before writing when the key does not match the first certificate, the chain is out of order, or the
    existing store does not open with O(password) (see O(on_password_mismatch)).
options:
  privatekey_path:
    description: The host's private key (PEM).
    type: path
    required: true
  privatekey_passphrase:
    description: Passphrase of O(privatekey_path).
    type: str
  certificate_path:
    description: PEM file with the host certificate first, then its issuers (fullchain).
    type: path
    required: true
  alias:
    description: Alias (friendly name) of the key entry; unused for C(pem).
    type: str
    default: kafka
extends_documentation_fragment:
  - kafkasec.tls.store
  - ansible.builtin.files
  - kafkasec.tls.kafkasec
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: PKCS12 keystore for the broker
  kafkasec.tls.keystore:
    path: /etc/kafka/pki/keystore.p12
    password: "{{ keystore_password }}"
    privatekey_path: /etc/kafka/pki/kafka-1.example.com.key
    certificate_path: /etc/kafka/pki/kafka-1.example.com.crt
    alias: kafka-1.example.com
    owner: kafka
    group: kafka
    mode: "0600"
  no_log: true
'''

RETURN = r'''
fingerprint_sha256:
  description: SHA-256 fingerprint of the host certificate in the store.
  returned: success
  type: str
chain_length:
  description: Number of certificates in the entry's chain.
  returned: success
  type: int
type:
  description: The store type written.
  returned: success
  type: str
alias:
  description: Alias of the key entry (null for C(pem)).
  returned: success
  type: str
'''

from ansible_collections.kafkasec.tls.plugins.module_utils.common.module_glue import run_store_module
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.store_files import ensure_keystore


def main() -> None:
    run_store_module(
        dict(
            privatekey_path=dict(type='path', required=True),
            privatekey_passphrase=dict(type='str', no_log=True),
            certificate_path=dict(type='path', required=True),
            alias=dict(type='str', default='kafka'),
        ),
        ensure_keystore,
        lambda params: '0600',
    )


if __name__ == '__main__':
    main()
