#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: sign
short_description: Sign a host's CSR with the CA, or keep the host's certificate while it is still good
version_added: 0.1.0
description:
  - Runs on the CA host (use C(delegate_to)), where the CA key is. The CSR comes in as a parameter and the
    certificate goes back as a result; no private key crosses the wire.
  - Verifies the CSR's signature and that every SAN it asks for is allowed by O(allowed_dns_names) and
    O(allowed_ip_addresses), then issues a certificate (basicConstraints CA:FALSE, keyUsage digitalSignature
    and, for RSA keys, keyEncipherment, the extended key usages of O(extended_key_usage), SAN, key identifiers).
  - Given the host's O(current_certificate), it keeps it (C(changed=false), RV(reason=kept)) when it was issued by
    this CA, certifies the CSR's key, subject and SANs, and is outside the renewal window; otherwise it issues a new
    one and says why in RV(reason).
  - "Batch mode: with O(requests) instead of O(csr), one call signs the CSRs of many hosts with the CA loaded
    once (C(run_once) on the CA host); each request carries its own allow-lists, lifetime and current certificate.
    A request the CA refuses fails only that host's entry of RV(certificates)."
  - Writes no file on the CA host. In check mode the certificate is still computed, so later check-mode tasks can
    show their diffs; C(changed) then says whether a real run would issue one.
options:
  ca_certificate_path:
    description: CA certificate (PEM), as written by M(kafkasec.tls.ca).
    type: path
    required: true
  ca_privatekey_path:
    description: CA private key (PEM).
    type: path
    required: true
  ca_privatekey_passphrase:
    description: Passphrase of the CA key.
    type: str
  ca_chain_path:
    description: Chain above an intermediate CA (issuer first, root last). Missing file means a root CA.
    type: path
  csr:
    description:
      - The certificate signing request (PEM content), e.g. RV(kafkasec.tls.certificate_request#module:csr).
      - One of O(csr) and O(requests) is required.
    type: str
  requests:
    description:
      - Batch mode, the CSRs of many hosts. Each item has C(host) and C(csr), and may set C(current_certificate),
        C(validity_days), C(renewal_days), C(allowed_dns_names), C(allowed_ip_addresses), C(allowed_common_names),
        C(principal_mapping_rules), C(refused_principals), C(certificate_for) and C(force), which default to this
        module's options of the same names (C(certificate_for) to C(host)).
      - Build the allow-lists from the inventory on the controller, never from what a host reports, so that a
        host cannot ask for another host's names.
    type: list
    elements: dict
  current_certificate:
    description: The host's current certificate (PEM, leaf first), if it has one.
    type: str
  validity_days:
    description: Validity of a new certificate in days. Capped at the CA's own end of validity, with a warning.
    type: int
    default: 365
  renewal_days:
    description: A certificate that ends within this many days is reissued.
    type: int
    default: 30
  allowed_dns_names:
    description: Shell-style patterns (fnmatch) every DNS SAN of the CSR must match. Unset allows any name.
    type: list
    elements: str
  allowed_ip_addresses:
    description: Addresses or networks (CIDR) every IP SAN of the CSR must be in. Unset allows any address.
    type: list
    elements: str
  allowed_common_names:
    description:
      - Shell-style patterns (fnmatch) the subject's CN must match. Unset allows any CN.
      - Kafka's C(ssl.principal.mapping.rules) usually turn the CN into the principal, so pin it to the host's own
        name to keep one host from asking for another's identity.
    type: list
    elements: str
  principal_mapping_rules:
    description:
      - Kafka's C(ssl.principal.mapping.rules) (the brokers'), to work out which principal the CSR's subject would
        be. Used with O(refused_principals).
    type: str
    default: RULE:^CN=([^,]+).*$/$1/,DEFAULT
  refused_principals:
    description:
      - Principals (C(User:<name>)) the certificate must not map to, each with whose it is - the Kafka nodes' own
        principals and the super users, as the C(kafkasec.tls.kafka_principal_refusals) filter computes them on the
        controller from the inventory. A CSR whose subject (rendered as the JDK does, RFC 2253) maps to one of them
        under O(principal_mapping_rules) is refused, so no certificate can impersonate a node or a super user.
      - Empty - no check.
    type: dict
    default: {}
  certificate_for:
    description: Who the certificate is for, in the refusal message (batch mode - the request's C(host)).
    type: str
    default: this certificate
  extended_key_usage:
    description: Extended key usages of the certificate.
    type: list
    elements: str
    choices: [serverAuth, clientAuth]
    default: [serverAuth, clientAuth]
  force:
    description: Issue a new certificate even when the current one would be kept.
    type: bool
    default: false
extends_documentation_fragment:
  - kafkasec.tls.kafkasec
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Sign the CSRs of every host of the play, the CA loaded once
  kafkasec.tls.sign:
    ca_certificate_path: /etc/kafkasec/ca/ca.crt
    ca_privatekey_path: /etc/kafkasec/ca/ca.key
    requests:
      - host: kafka-1.example.com
        csr: "{{ hostvars['kafka-1.example.com'].request.csr }}"
        allowed_dns_names: [kafka-1.example.com]
        allowed_common_names: [kafka-1.example.com]
  delegate_to: "{{ groups['kafka_ca'][0] }}"
  run_once: true
  register: signed

- name: Sign on the CA host
  kafkasec.tls.sign:
    ca_certificate_path: /etc/kafkasec/ca/ca.crt
    ca_privatekey_path: /etc/kafkasec/ca/ca.key
    csr: "{{ request.csr }}"
    current_certificate: "{{ request.current_certificate }}"
    allowed_dns_names: "{{ kafkasec_cert_dns_names }}"
    allowed_ip_addresses: "{{ kafkasec_cert_ip_addresses }}"
  delegate_to: "{{ groups['kafka_ca'][0] }}"
  register: signed
'''

RETURN = r'''
certificate:
  description: The host certificate (PEM).
  returned: success, without O(requests)
  type: str
chain:
  description: The CA chain above the host certificate (PEM; the issuing CA first, the root last).
  returned: success, without O(requests)
  type: str
fullchain:
  description: RV(certificate) followed by RV(chain), what a keystore holds.
  returned: success, without O(requests)
  type: str
ca_certificate:
  description: The issuing CA's certificate (PEM).
  returned: success, without O(requests)
  type: str
root_certificate:
  description: The root at the top of the chain (PEM), what truststores hold.
  returned: success, without O(requests)
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint of the host certificate.
  returned: success, without O(requests)
  type: str
serial:
  description: Serial number of the host certificate.
  returned: success, without O(requests)
  type: int
not_after:
  description: End of validity of the host certificate (ISO 8601, UTC).
  returned: success, without O(requests)
  type: str
reason:
  description: Why a certificate was issued, or C(kept).
  returned: success, without O(requests)
  type: str
  sample: expiring
  choices: [kept, missing, expiring, names changed, key changed, other CA, forced]
certificates:
  description:
    - With O(requests), the outcome by host; each holds the return values above and C(changed), or C(failed)
      and C(msg) when the CA refused that host's request.
  returned: with O(requests)
  type: dict
ca_chain:
  description: With O(requests), the CA certificate and the issuers above it (a list of PEM), what truststores hold.
  returned: with O(requests)
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.common.module_glue import EXPECTED_ERRORS, require_cryptography
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.sign import SignRequest, sign, sign_batch


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            ca_certificate_path=dict(type='path', required=True),
            ca_privatekey_path=dict(type='path', required=True),
            ca_privatekey_passphrase=dict(type='str', no_log=True),
            ca_chain_path=dict(type='path'),
            csr=dict(type='str'),
            requests=dict(type='list', elements='dict'),
            current_certificate=dict(type='str'),
            validity_days=dict(type='int', default=365),
            renewal_days=dict(type='int', default=30),
            allowed_dns_names=dict(type='list', elements='str'),
            allowed_ip_addresses=dict(type='list', elements='str'),
            allowed_common_names=dict(type='list', elements='str'),
            principal_mapping_rules=dict(type='str', default='RULE:^CN=([^,]+).*$/$1/,DEFAULT'),
            refused_principals=dict(type='dict', default={}),
            certificate_for=dict(type='str', default='this certificate'),
            extended_key_usage=dict(type='list', elements='str', choices=['serverAuth', 'clientAuth'],
                                    default=['serverAuth', 'clientAuth']),
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
        required_one_of=[('csr', 'requests')],
        mutually_exclusive=[('csr', 'requests')],
    )
    require_cryptography(module)
    if module.params['requests'] is not None:
        try:
            results, warnings, changed, ca_chain = sign_batch(module.params)
        except EXPECTED_ERRORS as exc:
            module.fail_json(msg=str(exc))
        for warning in warnings:
            module.warn(warning)
        module.exit_json(changed=changed, certificates=results, ca_chain=ca_chain)
    try:
        outcome = sign(SignRequest.from_params(module.params))
    except EXPECTED_ERRORS as exc:
        module.fail_json(msg=str(exc))
    for warning in outcome.warnings:
        module.warn(warning)
    module.exit_json(changed=outcome.changed, diff=outcome.diff if outcome.changed else None, **outcome.result)


if __name__ == '__main__':
    main()
