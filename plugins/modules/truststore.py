#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: truststore
short_description: Write a truststore with the CA certificates Kafka should trust
version_added: 0.1.0
description:
  - Builds a PKCS12 truststore (default) whose entries Java's keytool lists as C(trustedCertEntry), one per CA
    certificate, or a PEM bundle, or a JKS truststore.
  - Several CAs at once are supported (during a CA rotation the stores trust the old and the new CA).
  - Idempotent by the set of SHA-256 fingerprints; aliases are derived from the fingerprints so they are stable.
options:
  certificates:
    description: PEM contents of the certificates to trust; each item may hold several certificates.
    type: list
    elements: str
    default: []
  certificate_paths:
    description: Files with PEM certificates to trust.
    type: list
    elements: path
    default: []
  alias_prefix:
    description: Aliases are this prefix, a dash, and the first 16 hex digits of the certificate's SHA-256 fingerprint.
    type: str
    default: kafkasec-ca
extends_documentation_fragment:
  - kafkasec.tls.store
  - ansible.builtin.files
  - kafkasec.tls.kafkasec
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Truststore with the current CA
  kafkasec.tls.truststore:
    path: /etc/kafka/pki/truststore.p12
    password: "{{ truststore_password }}"
    certificates:
      - "{{ ca_certificate_pem }}"
  no_log: true

- name: PEM bundle for librdkafka clients
  kafkasec.tls.truststore:
    path: /etc/kafka/pki/ca-bundle.pem
    type: pem
    certificate_paths:
      - /etc/kafka/pki/ca.crt
    mode: "0644"
'''

RETURN = r'''
fingerprints:
  description: SHA-256 fingerprints of the trusted certificates, sorted.
  returned: success
  type: list
  elements: str
aliases:
  description: Aliases of the entries (empty for C(pem)).
  returned: success
  type: list
  elements: str
type:
  description: The store type written.
  returned: success
  type: str
'''

from ansible_collections.kafkasec.tls.plugins.module_utils.common.module_glue import run_store_module
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.store_files import ensure_truststore


def main() -> None:
    run_store_module(
        dict(
            certificates=dict(type='list', elements='str', default=[]),
            certificate_paths=dict(type='list', elements='path', default=[]),
            alias_prefix=dict(type='str', default='kafkasec-ca'),
        ),
        ensure_truststore,
        # A PEM bundle of CA certificates is public; password-protected stores stay owner-only.
        lambda params: '0644' if params['type'] == 'pem' else '0600',
    )


if __name__ == '__main__':
    main()
