#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: ca
short_description: Create or import the certificate authority that signs the estate's certificates
version_added: 0.1.0
description:
  - Runs on the CA host (inventory group C(kafka_ca)). The CA private key is created there and never leaves it.
  - Creates a self-signed root CA (basicConstraints CA:TRUE with a path length, keyUsage keyCertSign and cRLSign,
    subject and authority key identifiers), or imports an operator's existing CA certificate and key, which may be
    an intermediate under a corporate root; the chain above it is then kept in O(chain_path).
  - An existing CA is never replaced. A second run with the same options changes nothing. When the existing CA differs
    from the options (subject, key type) the module keeps it and warns; CA rotation is a separate, phased procedure.
  - Fails, changing no file, when the key does not match the certificate, the certificate is not a CA, or it has expired.
options:
  privatekey_path:
    description: Path of the CA private key (PKCS#8 PEM). Written with mode C(0600) whatever O(mode) says.
    type: path
    required: true
  certificate_path:
    description: Path of the CA certificate (PEM).
    type: path
    required: true
  chain_path:
    description:
      - Path of the PEM chain above an imported intermediate CA (its issuer first, the root last).
      - Required when O(src_certificate_path) is not self-signed.
    type: path
  privatekey_passphrase:
    description: Passphrase that encrypts the CA key at rest (and decrypts an existing one).
    type: str
  subject:
    description: Subject of a new CA, as attribute names (C, ST, L, O, OU, CN, emailAddress) and values.
    type: dict
    default: {CN: kafkasec CA}
  validity_days:
    description: Validity of a new CA in days.
    type: int
    default: 3650
  path_length:
    description: basicConstraints pathLenConstraint of a new CA; C(0) lets it sign only end-entity certificates.
    type: int
    default: 0
  src_certificate_path:
    description: Import this CA certificate (PEM) instead of creating one. Needs O(src_privatekey_path).
    type: path
  src_privatekey_path:
    description: Private key (PEM) of O(src_certificate_path).
    type: path
  src_privatekey_passphrase:
    description: Passphrase of O(src_privatekey_path).
    type: str
  src_chain_path:
    description: PEM chain above O(src_certificate_path) (issuer first, root last) when it is an intermediate.
    type: path
  directory:
    description:
      - The CA directory. Made (owner only, C(0700)) when missing, its mode set to C(0700) when it differs.
      - In check mode a missing directory is reported as a change, and nothing else is read.
    type: path
  rotation_status:
    description:
      - Also return the CA rotation's state as M(kafkasec.tls.ca_rotation) C(step=status) reads it (RV(rotation)),
        in the same call. Needs O(directory), where the rotation keeps its files.
    type: bool
    default: false
  host:
    description: The inventory host, named first in the failure message on bad input.
    type: str
  variable_prefix:
    description:
      - When set, bad input is named by the role variable an operator sets, not by the option
        (C(src_<x>) is C(<prefix>import_<x>), O(directory) is C(<prefix>dir), every other option
        C(<prefix><option>)); the role passes C(kafkasec_ca_).
      - Every input is checked before the module touches the host, and every problem is reported at once.
    type: str
extends_documentation_fragment:
  - kafkasec.tls.key
  - ansible.builtin.files
  - kafkasec.tls.kafkasec
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Create the CA once (later runs change nothing)
  kafkasec.tls.ca:
    privatekey_path: /etc/kafkasec/ca/ca.key
    certificate_path: /etc/kafkasec/ca/ca.crt
    subject:
      CN: Example Kafka CA
      O: Example Ltd
    key_type: ec
    ec_curve: P-384
  register: ca

- name: Make the CA directory and the CA in one call, and read the rotation state too
  kafkasec.tls.ca:
    directory: /etc/kafkasec/ca
    privatekey_path: /etc/kafkasec/ca/ca.key
    certificate_path: /etc/kafkasec/ca/ca.crt
    rotation_status: true
    host: "{{ inventory_hostname }}"
    variable_prefix: kafkasec_ca_

- name: Import a corporate intermediate CA and keep its chain
  kafkasec.tls.ca:
    privatekey_path: /etc/kafkasec/ca/ca.key
    certificate_path: /etc/kafkasec/ca/ca.crt
    chain_path: /etc/kafkasec/ca/ca-issuers.crt
    src_certificate_path: /root/intermediate.crt
    src_privatekey_path: /root/intermediate.key
    src_privatekey_passphrase: "{{ vault_intermediate_passphrase }}"
    src_chain_path: /root/corporate-root.crt
'''

RETURN = r'''
certificate:
  description: The CA certificate (PEM).
  returned: success
  type: str
chain:
  description: The CA certificate followed by its issuers up to the root, as PEM strings.
  returned: success
  type: list
  elements: str
root_certificate:
  description: The self-signed root at the top of the chain (equals RV(certificate) for a self-signed CA).
  returned: success
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint of the CA certificate, colon-separated hex.
  returned: success
  type: str
  sample: "8A:42:26:4D:..."
subject:
  description: Subject of the CA certificate (RFC 4514).
  returned: success
  type: str
serial:
  description: Serial number of the CA certificate.
  returned: success
  type: int
not_before:
  description: Start of validity (ISO 8601, UTC).
  returned: success
  type: str
not_after:
  description: End of validity (ISO 8601, UTC).
  returned: success
  type: str
imported:
  description: Whether the CA came from O(src_certificate_path).
  returned: success
  type: bool
rotation:
  description:
    - The CA rotation's state (C(state), C(trust_pems), C(current_fingerprint), C(in_progress)), as
      M(kafkasec.tls.ca_rotation) C(step=status) returns it.
  returned: when O(rotation_status) is true, except in check mode before the directory exists
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.pki import rotation
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.ca import (
    CaRequest, ensure_ca, ensure_directory, request_problems)
from ansible_collections.kafkasec.tls.plugins.module_utils.common.module_glue import (
    EXPECTED_ERRORS, KEY_SPEC_OPTIONS, require_cryptography, write)
from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            KEY_SPEC_OPTIONS,
            privatekey_path=dict(type='path', required=True),
            certificate_path=dict(type='path', required=True),
            chain_path=dict(type='path'),
            privatekey_passphrase=dict(type='str', no_log=True),
            subject=dict(type='dict', default={'CN': 'kafkasec CA'}),
            validity_days=dict(type='int', default=3650),
            path_length=dict(type='int', default=0),
            src_certificate_path=dict(type='path'),
            src_privatekey_path=dict(type='path'),
            src_privatekey_passphrase=dict(type='str', no_log=True),
            src_chain_path=dict(type='path'),
            directory=dict(type='path'),
            rotation_status=dict(type='bool', default=False),
            host=dict(type='str'),
            variable_prefix=dict(type='str'),
        ),
        required_if=[('rotation_status', True, ['directory'])],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    require_cryptography(module)
    p = module.params
    problems = request_problems(p, p['variable_prefix'] or '')
    if problems:
        module.fail_json(msg=problems_message(p['host'] or 'CA host', problems),
                         problems=[dict(variable=v, message=m) for v, m in problems])
    changed = False
    try:
        if p['directory']:
            changed = ensure_directory(p['directory'], module.check_mode)
            if module.check_mode and changed and not os.path.isdir(p['directory']):
                # Nothing in it to read yet: the run would make the directory, then the CA.
                module.exit_json(changed=True, msg='%s would be made, then the CA in it' % p['directory'])
        outcome = ensure_ca(CaRequest.from_params(p))
        # The key's mode is always 0600 (see ca_backend.KEY_MODE), whatever `mode` says.
        for path, data, mode in outcome.writes:
            changed = write(module, path, data, mode, changed)
        extra = {}
        if p['rotation_status']:
            paths = rotation.CaPaths(p['directory'], p['certificate_path'], p['privatekey_path'])
            extra['rotation'] = rotation.status(rotation.RotationRequest(paths=paths)).result
    except EXPECTED_ERRORS + (rotation.RotationError,) as exc:
        module.fail_json(msg=str(exc))
    for warning in outcome.warnings:
        module.warn(warning)
    module.exit_json(changed=changed, diff=outcome.diff, **dict(outcome.result, **extra))


if __name__ == '__main__':
    main()
