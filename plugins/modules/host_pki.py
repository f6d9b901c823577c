#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: host_pki
short_description: A host's key, CSR, certificate, keystore and truststore in two calls
version_added: 0.3.0
description:
  - What the M(kafkasec.tls.certificate_request), M(kafkasec.tls.store_password), M(kafkasec.tls.keystore) and
    M(kafkasec.tls.truststore) modules do one by one, as two calls per host around one signing call on the CA host
    (M(kafkasec.tls.sign) with O(kafkasec.tls.sign#module:requests)). The kafkasec.tls.certificates role uses it.
  - O(step=request) checks every input first (names, lifetime, store passwords, the PKI directory's parent, the CA
    group) and fails before anything is written, naming the host, the variable and the value. It then makes the
    PKI directory (C(0750)), keeps or makes the host key (C(0600); it never leaves the host), builds the CSR, and
    keeps or generates the store passwords on the host (C(0600)).
  - O(step=install) writes the certificate and CA chain the CA returned (O(signed), O(ca_chain)), then the keystore
    (key and full chain) and the truststore (the CA certificates and O(truststore_extra_certificates)). Stores are
    compared by parsed content, not bytes.
  - O(step=facts) only reads (it generates a missing store password file, as O(step=request) would).
  - O(step=truststore) is for a host that needs only a truststore (the kafkasec.tls.truststore role) - its checks,
    the PKI directory, the truststore password and the truststore from O(ca_chain) and
    O(truststore_extra_certificates); the key, certificate and keystore options are not used.
  - Every step returns the PKI contract, the fact the consumer roles read (register it as C(kafkasec_pki)). It holds
    the store passwords (listed in RV(secret_fields)), so tasks that call this module with O(step=install) or
    O(step=facts) set C(no_log=true).
options:
  step:
    description:
      - Which part of the host's PKI to do.
      - Every step but V(truststore) needs O(common_name), O(privatekey_path), O(certificate_path), O(ca_chain_path),
        O(keystore_path) and O(keystore_password_file).
    type: str
    choices: [request, install, facts, truststore]
    required: true
  host:
    description: The host's inventory name, used in messages.
    type: str
    required: true
  pki_dir:
    description: Directory of the host's PKI files; its parent must exist.
    type: path
    required: true
  common_name:
    description: CN of the host certificate.
    type: str
  subject:
    description: Other subject attributes (O, OU, C, ...); not CN.
    type: dict
    default: {}
  dns_names:
    description: DNS SANs.
    type: list
    elements: str
    default: []
  ip_addresses:
    description: IP SANs.
    type: list
    elements: str
    default: []
  force_renew:
    description: Have the CA issue a new certificate even when the current one would be kept (RV(sign_request)).
    type: bool
    default: false
  regenerate_key:
    description: When to replace an existing key; C(if_mismatch) replaces a key of another type or size.
    type: str
    choices: [never, if_mismatch, always]
    default: if_mismatch
  privatekey_path:
    description: The host key (PEM, C(0600)).
    type: path
  privatekey_passphrase:
    description: Passphrase of the host key.
    type: str
  certificate_path:
    description: The host certificate followed by its issuers (PEM, C(0644)).
    type: path
  ca_chain_path:
    description: The CA chain (PEM, C(0644)).
    type: path
  validity_days:
    description: Validity of a new certificate (checked here, used by the CA).
    type: int
    default: 365
  renewal_days:
    description: A certificate that ends within this many days is reissued (checked here, used by the CA).
    type: int
    default: 30
  keystore_path:
    description: The keystore.
    type: path
  keystore_type:
    description: Type of the keystore.
    type: str
    choices: [pkcs12, pem, jks]
    default: pkcs12
  keystore_alias:
    description: Alias of the key entry (not used for C(pem)).
    type: str
    default: kafka
  keystore_password:
    description: Keystore password; unset means the one kept in O(keystore_password_file). Not for C(pem).
    type: str
  keystore_password_file:
    description: Where the host keeps a generated keystore password (C(0600)).
    type: path
  keystore_on_password_mismatch:
    description: What to do when the existing keystore does not open with the password.
    type: str
    choices: [fail, overwrite]
    default: fail
  truststore:
    description: Whether to write the truststore too.
    type: bool
    default: true
  truststore_path:
    description: The truststore; required with O(truststore).
    type: path
  truststore_type:
    description: Type of the truststore.
    type: str
    choices: [pkcs12, pem, jks]
    default: pkcs12
  truststore_password:
    description: Truststore password; unset means the one kept in O(truststore_password_file). Not for C(pem).
    type: str
  truststore_password_file:
    description: Where the host keeps a generated truststore password (C(0600)); required with O(truststore).
    type: path
  truststore_on_password_mismatch:
    description: What to do when the existing truststore does not open with the password.
    type: str
    choices: [fail, overwrite]
    default: fail
  truststore_alias_prefix:
    description: Prefix of the truststore aliases (followed by a fingerprint).
    type: str
    default: kafkasec-ca
  truststore_extra_certificates:
    description: More CA certificates (PEM text) to trust, e.g. the next CA during a rotation.
    type: list
    elements: str
    default: []
  ca_hosts:
    description: The hosts of inventory group C(kafka_ca); must be exactly one. Unset skips the check.
    type: list
    elements: str
  ca_ready:
    description: Whether the CA role has run for the CA host in this run (its file locations are known).
    type: bool
    default: true
  signed:
    description:
      - O(step=install), this host's entry of the CA's batch result (RV(kafkasec.tls.sign#module:certificates)); unset
        when signing did not run, and the files on the host are used as they are.
    type: dict
  installed:
    description:
      - O(step=install), the RV(pki) of this host's O(step=request) call when that call already installed
        everything (RV(installed)). The action plugin then returns it as this call's result without
        running on the host; the module itself ignores it and installs from the files.
    type: dict
  defer:
    description:
      - O(step=install) with O(signed), install in a later call on the host instead of this one. The action plugin
        returns the PKI contract the install will give (paths, types, the passwords of O(store_passwords), the
        CA's answer; RV(deferred)) and the install's options as RV(deferred_install), without contacting the host.
        The caller passes them to that later call (M(kafkasec.tls.broker_config)'s
        O(kafkasec.tls.broker_config#module:pki_install), which installs first, then merges server.properties, one
        call less per host). Without O(signed) or O(store_passwords), or when O(installed) is set, it has no effect.
    type: bool
    default: false
  store_passwords:
    description:
      - O(step=install) with O(defer), the store passwords of the host's O(step=request) call
        (RV(store_passwords)), for the contract of the deferred install. Secrets.
    type: dict
  ca_chain:
    description:
      - O(step=install), the CA certificates (PEM each) the truststore holds, e.g.
        RV(kafkasec.tls.sign#module:ca_chain); unset means the host's O(ca_chain_path).
      - O(step=request), the CA certificates as the CA role returned them; a host whose certificate
        the CA would keep (issued by this CA, same key and names, outside the renewal window, no
        O(force_renew)) needs no signing, and the call installs at once (RV(installed)).
    type: list
    elements: str
    default: []
  known_request:
    description:
      - O(step=request), this run's sealed request memo of the host and the key to open it with
        (C(sealed), C(key)), that is what M(kafkasec.tls.broker_config)'s read-only plan call returned as
        RV(kafkasec.tls.broker_config#module:known_request) and the run's digest key. The action plugin opens it
        on the controller and, when it was kept under exactly this call's options and code and the certificate is
        not in its renewal window, returns the memo's result without contacting the host (see
        C(plugins/module_utils/pki/request_memo.py)). The module itself ignores it.
    type: dict
  memo_inputs:
    description:
      - O(step=request), set by the action plugin (the digest of this call's options and code). After a call
        that changed nothing, the host keeps its memo (C(.kafkasec-request.memo) in O(pki_dir), 0600) under it.
        Writing the memo is bookkeeping, never reported as a change, and skipped in check mode.
    type: str
  backup:
    description:
      - O(step=request), a backup set of the node's files to keep before this call writes anything (the set
        before the run, in this call instead of a backup call of its own), with M(kafkasec.tls.backup)'s options.
        The set is taken only when the files differ from the newest set; RV(backup) says what happened.
      - Not part of the request memo's digest, and a call with it always runs on the host.
    type: dict
    suboptions:
      paths:
        description: The files of the set (e.g. server.properties, the stores, the certificate and the CA chain).
        type: list
        elements: path
        required: true
      backup_dir:
        description: Where the sets live on the host (0700).
        type: path
        required: true
      keep:
        description: How many sets to keep (the oldest go).
        type: int
        default: 5
      stamp:
        description: The set's name, a UTC time after the newest set (the run's first stamp).
        type: str
        required: true
  owner:
    description: Owner of the files and the directory (the Kafka service user).
    type: str
  group:
    description: Group of the files and the directory.
    type: str
extends_documentation_fragment:
  - kafkasec.tls.key
  - kafkasec.tls.kafkasec
notes:
  - The modes are fixed by what each file is, not options - key, password files and stores C(0600) (a PEM truststore
    C(0644)), certificates C(0644), the directory C(0750).
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Key and CSR on the host
  kafkasec.tls.host_pki:
    step: request
    host: "{{ inventory_hostname }}"
    pki_dir: /etc/kafka/pki
    common_name: "{{ inventory_hostname }}"
    dns_names: ["{{ inventory_hostname }}"]
    privatekey_path: /etc/kafka/pki/host.key
    certificate_path: /etc/kafka/pki/host.crt
    ca_chain_path: /etc/kafka/pki/ca-chain.crt
    keystore_path: /etc/kafka/pki/keystore.p12
    keystore_password_file: /etc/kafka/pki/keystore.password
    truststore_path: /etc/kafka/pki/truststore.p12
    truststore_password_file: /etc/kafka/pki/truststore.password
    owner: kafka
    group: kafka
  register: request
'''

RETURN = r'''
csr:
  description: O(step=request), the CSR (PEM) for the CA.
  returned: step is request
  type: str
current_certificate:
  description: O(step=request), the host's current certificate (PEM), or null.
  returned: step is request
  type: str
key_reason:
  description: O(step=request), why the key was kept or made (kept, missing, ...).
  returned: step is request
  type: str
installed:
  description: O(step=request) with O(ca_chain), true when the CA would keep the host's certificate and this call
    installed the chain and stores already (no signing, no install call needed).
  returned: step is request and the certificate is kept
  type: bool
pki:
  description: With RV(installed), the PKI contract, as O(step=install) returns it.
  returned: step is request and the certificate is kept
  type: dict
sign_request:
  description:
    - O(step=request), unless RV(installed), this host's entry for O(kafkasec.tls.sign#module:requests) - the CSR and current certificate
      from the host, the allow-lists (O(dns_names), O(ip_addresses), O(common_name)) and lifetime from the task's
      arguments as the controller templated them (the action plugin adds it), never from what the host reports.
  returned: step is request
  type: dict
changed_parts:
  description: What this call wrote (key, certificate, CA chain, keystore, truststore, passwords).
  returned: always
  type: list
  elements: str
keystore_path:
  description: The keystore (the contract; the other contract fields are named the same way).
  returned: step is install or facts
  type: str
keystore_changed:
  description: Whether this call rewrote the keystore (Kafka must reload or restart).
  returned: step is install or facts
  type: bool
truststore_changed:
  description: Whether this call rewrote the truststore.
  returned: step is install or facts
  type: bool
fingerprint_sha256:
  description: SHA-256 fingerprint of the host certificate.
  returned: step is install or facts
  type: str
keystore_password:
  description: The keystore password, a secret (null for C(pem)).
  returned: step is install or facts
  type: str
truststore_password:
  description: The truststore password, a secret (null for C(pem)).
  returned: step is install or facts
  type: str
store_passwords:
  description:
    - O(step=request), when the host needs a certificate from the CA, the passwords (C(keystore), C(truststore))
      its stores will have (given in the inventory, kept on the host, or made in this call). Secrets.
  returned: step is request and the CA must sign
  type: dict
deferred:
  description: O(step=install) with O(defer), true when the install was left to a later call (RV(deferred_install)).
  returned: when the install was deferred
  type: bool
deferred_install:
  description:
    - O(step=install) with O(defer), this install's options (the O(step=install) call that was not made), for
      M(kafkasec.tls.broker_config)'s O(kafkasec.tls.broker_config#module:pki_install). Holds the store passwords
      when the inventory gives them, so register the result with no_log.
  returned: when the install was deferred
  type: dict
backup:
  description: With O(backup), C(taken) (whether a set was written) and C(stamp).
  returned: step is request and backup is given
  type: dict
secret_fields:
  description: The names of the contract's secret fields.
  returned: step is install or facts
  type: list
  elements: str
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.common.module_glue import (
    EXPECTED_ERRORS,
    require_cryptography,
    write,
    write_all,
)
from ansible_collections.kafkasec.tls.plugins.module_utils.common.backups import BackupError, snapshot
from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import read_optional
from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import host as host_pki
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.host_options import HOST_PKI_OPTIONS, HOST_PKI_REQUIRED_IF
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import request_memo


def _settle_directory(module: AnsibleModule, path: str) -> bool:
    """Make the PKI directory (0750) when it is missing; settle its owner, group and mode."""
    changed = False
    if not os.path.isdir(path):
        if module.check_mode:
            return True
        os.mkdir(path, 0o750)
        changed = True
    return write(module, path, None, '0750', changed)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(HOST_PKI_OPTIONS),
        required_if=HOST_PKI_REQUIRED_IF,
        supports_check_mode=True,
    )
    require_cryptography(module)
    params = module.params
    settings = host_pki.HostPki.from_params(params)
    problems = host_pki.host_problems(settings, truststore_only=params['step'] == 'truststore')
    if problems:
        module.fail_json(msg=problems_message(settings.host, problems),
                         problems=[dict(variable=v, message=m) for v, m in problems])
    changed = False
    backup = None
    if params['step'] == 'request' and params['backup']:
        # The set before the run, before this call writes anything (the key, the passwords, and the stores when the
        # CA keeps the certificate).
        options = params['backup']
        try:
            backup = snapshot(options['paths'], options['backup_dir'], options['keep'], module.check_mode,
                              options['stamp'])
        except (BackupError, OSError) as exc:
            module.fail_json(msg='%s: keeping the backup set in %s (kafkasec_broker_backup_dir) failed: %s'
                             % (settings.host, options['backup_dir'], exc))
        changed = backup.changed
    try:
        if params['step'] == 'request':
            changed = _settle_directory(module, settings.pki_dir) or changed
            outcome = host_pki.request(settings, pki_dir_exists=os.path.isdir(settings.pki_dir),
                                       ca_chain=params['ca_chain'])
        elif params['step'] == 'install':
            key_available = not module.check_mode or os.path.exists(settings.privatekey_path)
            outcome = host_pki.install(settings, params['signed'], params['ca_chain'], key_available)
        elif params['step'] == 'truststore':
            changed = _settle_directory(module, settings.pki_dir)
            outcome = host_pki.truststore_only(settings, params['ca_chain'])
        else:
            outcome = host_pki.facts(settings)
        changed = write_all(module, outcome.writes, changed)
    except EXPECTED_ERRORS as exc:
        module.fail_json(msg='%s: %s' % (settings.host, exc))
    for warning in outcome.warnings:
        module.warn('%s: %s' % (settings.host, warning))
    result = dict(changed=changed, changed_parts=outcome.changed_parts, **outcome.result)
    if backup is not None:
        result['backup'] = dict(taken=backup.changed, stamp=backup.stamp)
    if (params['step'] == 'request' and params['memo_inputs'] and not changed and not outcome.changed_parts
            and not outcome.warnings and outcome.renew_from is not None and not module.check_mode):
        # A converged host: the next run's plan call can hand this result to the controller (bookkeeping,
        # like the stores' seals: never a change).
        path = request_memo.memo_path(settings.pki_dir)
        memo = request_memo.memo_text(params['memo_inputs'], host_pki.watched_paths(settings), result,
                                      outcome.renew_from)
        try:
            if read_optional(path, path) != memo:
                write(module, path, memo, '0600', False)
        except EXPECTED_ERRORS + (OSError,):
            pass  # no memo: the next run asks the host, as without one
    module.exit_json(**result)


if __name__ == '__main__':
    main()
