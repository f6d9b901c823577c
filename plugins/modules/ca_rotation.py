#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: ca_rotation
short_description: The CA host's side of a CA rotation in three phases - state, next CA, promotion, archive
version_added: 0.2.0
description:
  - Runs on the CA host (inventory group C(kafka_ca)); C(playbooks/rotate_ca.yml) drives it. Every file stays on
    the CA host; only public certificates are returned.
  - "Phase 1 (O(step=phase), O(phase=1)): makes the next CA in C(<ca_dir>/next/) - with O(mode=renew) a new
    certificate for the same key and subject (a CA near its end), with O(mode=rekey) a new key and certificate
    (a compromised or weak key) - and writes the state file C(<ca_dir>/rotation.json)."
  - "Phase 2: refused unless phase 1 completed and every truststore in O(truststores) holds the new CA; moves the
    old CA to C(<ca_dir>/previous/) (kept) and puts the new one at O(certificate_path) / O(privatekey_path), so
    every later signing uses it."
  - "Phase 3: refused unless every listener in O(listeners) serves a certificate of the new CA (verified from
    outside against the new CA alone); archives the old CA in C(<ca_dir>/archive/<fingerprint>/) (directory 0700,
    key 0600) and removes C(previous/)."
  - A refused phase changes nothing and fails, naming what is missing (host, what, CA fingerprint). A phase that
    began and stopped carries on when run again; a completed phase run again changes nothing.
  - O(step=complete) marks the phase complete (the playbook's last task, once every host converged).
    O(step=status) only reads - the state, and the extra CA certificate every truststore holds during the
    rotation (the next CA in phase 1, the previous one in phase 2), which the C(kafkasec.tls.ca) role exports.
options:
  step:
    description: What to do.
    type: str
    choices: [status, phase, complete]
    default: status
  phase:
    description: The phase to run or to mark complete (1, 2 or 3). Required unless O(step=status).
    type: int
  mode:
    description:
      - V(renew) (same CA key, new CA certificate) or V(rekey) (new CA key). Read from the state file after
        phase 1; a different value while a rotation runs is refused. Unset in phase 1 means V(renew).
    type: str
    choices: [renew, rekey]
  ca_dir:
    description: The CA directory (C(kafkasec_ca_dir)); the rotation's files live below it.
    type: path
    required: true
  certificate_path:
    description: The signing CA's certificate (C(kafkasec_ca_certificate_path)).
    type: path
    required: true
  privatekey_path:
    description: The signing CA's key (C(kafkasec_ca_privatekey_path)); never returned, never copied off the host.
    type: path
    required: true
  privatekey_passphrase:
    description: Passphrase of the CA key; a rekeyed CA key is encrypted with it too.
    type: str
  subject:
    description: Subject of a rekeyed CA (O(mode=rekey)); renew keeps the current subject. Unset keeps the current.
    type: dict
  validity_days:
    description: Validity of the next CA certificate in days.
    type: int
    default: 3650
  path_length:
    description: basicConstraints pathLenConstraint of the next CA certificate.
    type: int
    default: 0
  truststores:
    description:
      - Phase 2's evidence - rows of C(kafkasec.tls.cert_expiry) reading every host's truststore (C(source=file),
        C(kind=truststore)); each host's truststore must hold the new CA.
    type: list
    elements: dict
  listeners:
    description:
      - Phase 3's evidence - listener rows of C(kafkasec.tls.cert_expiry) probing every listener with the new CA
        as the only CA (C(verified) true, and issued after the new CA certificate was made).
    type: list
    elements: dict
extends_documentation_fragment:
  - kafkasec.tls.key
  - kafkasec.tls.kafkasec
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Read the rotation state (read only)
  kafkasec.tls.ca_rotation:
    ca_dir: /etc/kafkasec/ca
    certificate_path: /etc/kafkasec/ca/ca.crt
    privatekey_path: /etc/kafkasec/ca/ca.key
  register: rotation

- name: Phase 1 - make the next CA (a new key)
  kafkasec.tls.ca_rotation:
    step: phase
    phase: 1
    mode: rekey
    ca_dir: /etc/kafkasec/ca
    certificate_path: /etc/kafkasec/ca/ca.crt
    privatekey_path: /etc/kafkasec/ca/ca.key
'''

RETURN = r'''
state:
  description: The rotation state after the call (null when no rotation ever ran).
  returned: success
  type: dict
trust_pems:
  description: O(step=status) - the extra CA certificate(s) (PEM) every truststore holds beside the signing CA.
  returned: success
  type: list
  elements: str
current_fingerprint:
  description: O(step=status) - SHA-256 fingerprint of the signing CA certificate.
  returned: success
  type: str
action:
  description: O(step=phase) - V(start), V(resume) or V(rerun).
  returned: success
  type: str
changes:
  description: What changed on the CA host, one line each.
  returned: success
  type: list
  elements: str
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.common.module_glue import (
    EXPECTED_ERRORS, KEY_SPEC_OPTIONS, require_cryptography, write)
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import KeySpec
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import rotation


def _apply(module: AnsibleModule, outcome: rotation.RotationOutcome, state_path: str) -> bool:
    changed = False
    for directory in outcome.directories:
        if not os.path.isdir(directory):
            changed = True
            if not module.check_mode:
                os.makedirs(directory, mode=0o700, exist_ok=True)
        if not module.check_mode:
            os.chmod(directory, 0o700)
    state_write = None
    for path, data, mode in outcome.writes:
        if path == state_path:
            state_write = (path, data, mode)
            continue
        changed = write(module, path, data, mode, changed)
    for path in outcome.removals:
        changed = True
        if not module.check_mode:
            os.unlink(path)
    if state_write:  # the state file last: a phase that stops before it carries on when run again
        changed = write(module, state_write[0], state_write[1], state_write[2], changed)
    return changed


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            KEY_SPEC_OPTIONS,
            step=dict(type='str', choices=['status', 'phase', 'complete'], default='status'),
            phase=dict(type='int'),
            mode=dict(type='str', choices=['renew', 'rekey']),
            ca_dir=dict(type='path', required=True),
            certificate_path=dict(type='path', required=True),
            privatekey_path=dict(type='path', required=True),
            privatekey_passphrase=dict(type='str', no_log=True),
            subject=dict(type='dict'),
            validity_days=dict(type='int', default=3650),
            path_length=dict(type='int', default=0),
            truststores=dict(type='list', elements='dict'),
            listeners=dict(type='list', elements='dict'),
        ),
        required_if=[('step', 'phase', ['phase']), ('step', 'complete', ['phase'])],
        supports_check_mode=True,
    )
    require_cryptography(module)
    p = module.params
    paths = rotation.CaPaths(p['ca_dir'], p['certificate_path'], p['privatekey_path'])
    try:
        request = rotation.RotationRequest(
            paths=paths, phase=p['phase'] or 0, mode=p['mode'], privatekey_passphrase=p['privatekey_passphrase'],
            key_spec=KeySpec(p['key_type'], p['key_size'], p['ec_curve']),
            subject={str(k): str(v) for k, v in p['subject'].items()} if p['subject'] else None,
            validity_days=p['validity_days'], path_length=p['path_length'],
            truststores=(tuple(rotation.evidence_from_rows('truststores', p['truststores']))
                         if p['truststores'] is not None else None),
            listeners=(tuple(rotation.evidence_from_rows('listeners', p['listeners']))
                       if p['listeners'] is not None else None))
        if p['step'] == 'status':
            outcome = rotation.status(request)
        elif p['step'] == 'complete':
            outcome = rotation.complete(request)
        else:
            outcome = rotation.run_phase(request)
            if not outcome.decision.allowed:
                module.fail_json(msg='%s: %s' % (p['ca_dir'], outcome.decision.message),
                                 missing=list(outcome.decision.missing), changed=False,
                                 state=outcome.state.to_dict() if outcome.state else None)
        changed = _apply(module, outcome, paths.state())
    except EXPECTED_ERRORS + (rotation.RotationError,) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed, changes=outcome.changes, **outcome.result)


if __name__ == '__main__':
    main()
