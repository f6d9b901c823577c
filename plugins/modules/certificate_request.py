#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: certificate_request
short_description: Ensure a host's private key and return a CSR for its names
version_added: 0.1.0
description:
  - Runs on the Kafka host. Creates the host's private key when it is missing (mode C(0600), kept across runs)
    and returns a certificate signing request for O(common_name) with O(dns_names) as DNS SANs and
    O(ip_addresses) as IP SANs, asking for the extended key usages serverAuth and clientAuth (brokers are
    clients of each other).
  - The key never leaves the host; only the CSR (public) is returned, for M(kafkasec.tls.sign) on the CA host.
  - The module writes nothing but the key, so it reports C(changed) only when it creates or replaces the key.
  - Invalid DNS names, IP addresses written as DNS names, and invalid IP addresses are refused, naming the value.
options:
  privatekey_path:
    description: Path of the host's private key (PKCS#8 PEM).
    type: path
    required: true
  privatekey_passphrase:
    description: Passphrase of the key. Leave unset for keys Kafka reads from PEM stores without C(ssl.key.password).
    type: str
  regenerate_key:
    description:
      - When to replace an existing key. C(never) keeps any existing key; C(if_mismatch) replaces it when its type
        or size differs from O(key_type)/O(key_size)/O(ec_curve); C(always) replaces it on every run (a key rollover;
        not idempotent).
    type: str
    choices: [never, if_mismatch, always]
    default: if_mismatch
  common_name:
    description: CN of the subject. Kafka's principal mapping rules usually map it to the principal name.
    type: str
    required: true
  subject:
    description: Other subject attributes (C, ST, L, O, OU, emailAddress).
    type: dict
    default: {}
  dns_names:
    description: DNS subject alternative names. Must cover every advertised host name of the host's listeners.
    type: list
    elements: str
    default: []
  ip_addresses:
    description: IP subject alternative names, for clients that connect by address.
    type: list
    elements: str
    default: []
  require_san:
    description:
      - Refuse a request without any SAN (O(dns_names) and O(ip_addresses) both empty). A server's certificate needs
        one (clients check the host name against the SANs); a client-only certificate, whose CN is a principal such
        as C(secure_user), may have none (V(false)).
    type: bool
    default: true
  certificate_path:
    description: The host's current certificate file (leaf first). When it exists its content is returned as
      RV(current_certificate), so the signing step can keep a certificate that is still good.
    type: path
extends_documentation_fragment:
  - kafkasec.tls.key
  - ansible.builtin.files
  - kafkasec.tls.kafkasec
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Host key and CSR
  kafkasec.tls.certificate_request:
    privatekey_path: /etc/kafka/pki/kafka-1.example.com.key
    common_name: kafka-1.example.com
    subject:
      O: Example Ltd
    dns_names:
      - kafka-1.example.com
      - kafka-1.internal.example.com
    ip_addresses:
      - 10.0.0.11
    certificate_path: /etc/kafka/pki/kafka-1.example.com.crt
    owner: kafka
    group: kafka
  register: request
'''

RETURN = r'''
csr:
  description: The certificate signing request (PEM).
  returned: success
  type: str
public_key_fingerprint_sha256:
  description: SHA-256 fingerprint of the key's SubjectPublicKeyInfo.
  returned: success
  type: str
key_created:
  description: Whether this run created or replaced the key.
  returned: success
  type: bool
key_reason:
  description: Why the key was created (C(missing), a changed type or size, C(regenerate_key=always)) or C(kept).
  returned: success
  type: str
current_certificate:
  description: Content of O(certificate_path) when it holds certificates, else null.
  returned: success
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.pki.csr import CsrRequest, ensure_key_and_csr
from ansible_collections.kafkasec.tls.plugins.module_utils.common.module_glue import (
    EXPECTED_ERRORS, KEY_SPEC_OPTIONS, require_cryptography, write)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            KEY_SPEC_OPTIONS,
            privatekey_path=dict(type='path', required=True),
            privatekey_passphrase=dict(type='str', no_log=True),
            regenerate_key=dict(type='str', choices=['never', 'if_mismatch', 'always'], default='if_mismatch'),
            common_name=dict(type='str', required=True),
            subject=dict(type='dict', default={}),
            dns_names=dict(type='list', elements='str', default=[]),
            ip_addresses=dict(type='list', elements='str', default=[]),
            certificate_path=dict(type='path'),
            require_san=dict(type='bool', default=True),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    require_cryptography(module)
    try:
        outcome = ensure_key_and_csr(CsrRequest.from_params(module.params))
        changed = write(module, module.params['privatekey_path'], outcome.key_pem,
                        module.params['mode'] or '0600', False)
    except EXPECTED_ERRORS as exc:
        module.fail_json(msg=str(exc))
    diff = dict(before='', after='new %s key (%s)\n' % (outcome.key_fingerprint, outcome.reason)) if outcome.key_pem else None
    module.exit_json(changed=changed, diff=diff, **outcome.result)


if __name__ == '__main__':
    main()
