# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kafkasec.tls.host_pki's options (documented in plugins/modules/host_pki.py), shared with the module that makes a
deferred install (broker_config's pki_install: the same options, checked by the same spec). It loads cryptography
(module_glue, pki/host.py): broker_config imports it only for a call with an install."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.kafkasec.tls.plugins.module_utils.common.module_glue import (
    EXPECTED_ERRORS,
    KEY_SPEC_OPTIONS,
    require_cryptography,
    write_all,
)
from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import host as host_pki

HOST_PKI_OPTIONS: Dict[str, Dict[str, Any]] = dict(
    step=dict(type='str', choices=['request', 'install', 'facts', 'truststore'], required=True),
    host=dict(type='str', required=True),
    pki_dir=dict(type='path', required=True),
    common_name=dict(type='str'),
    subject=dict(type='dict', default={}),
    dns_names=dict(type='list', elements='str', default=[]),
    ip_addresses=dict(type='list', elements='str', default=[]),
    force_renew=dict(type='bool', default=False),
    regenerate_key=dict(type='str', choices=['never', 'if_mismatch', 'always'], default='if_mismatch'),
    privatekey_path=dict(type='path'),
    privatekey_passphrase=dict(type='str', no_log=True),
    certificate_path=dict(type='path'),
    ca_chain_path=dict(type='path'),
    validity_days=dict(type='int', default=365),
    renewal_days=dict(type='int', default=30),
    keystore_path=dict(type='path'),
    keystore_type=dict(type='str', choices=['pkcs12', 'pem', 'jks'], default='pkcs12'),
    keystore_alias=dict(type='str', default='kafka', no_log=False),
    keystore_password=dict(type='str', no_log=True),
    keystore_password_file=dict(type='path', no_log=False),
    keystore_on_password_mismatch=dict(type='str', choices=['fail', 'overwrite'], default='fail', no_log=False),
    truststore=dict(type='bool', default=True),
    truststore_path=dict(type='path'),
    truststore_type=dict(type='str', choices=['pkcs12', 'pem', 'jks'], default='pkcs12'),
    truststore_password=dict(type='str', no_log=True),
    truststore_password_file=dict(type='path', no_log=False),
    truststore_on_password_mismatch=dict(type='str', choices=['fail', 'overwrite'], default='fail',
                                         no_log=False),
    truststore_alias_prefix=dict(type='str', default='kafkasec-ca'),
    truststore_extra_certificates=dict(type='list', elements='str', default=[]),
    ca_hosts=dict(type='list', elements='str'),
    ca_ready=dict(type='bool', default=True),
    signed=dict(type='dict'),
    installed=dict(type='dict', no_log=True),
    defer=dict(type='bool', default=False),
    store_passwords=dict(type='dict', no_log=True),
    known_request=dict(type='dict', no_log=True),
    memo_inputs=dict(type='str'),
    ca_chain=dict(type='list', elements='str', default=[]),
    backup=dict(type='dict', options=dict(
        paths=dict(type='list', elements='path', required=True),
        backup_dir=dict(type='path', required=True),
        keep=dict(type='int', default=5),
        stamp=dict(type='str', required=True),
    )),
    owner=dict(type='str'),
    group=dict(type='str'),
    **KEY_SPEC_OPTIONS
)

HOST_PKI_REQUIRED_IF: List[Tuple[Any, ...]] = (
    [('truststore', True, ('truststore_path', 'truststore_password_file'))]
    + [('step', step, ('common_name', 'privatekey_path', 'certificate_path', 'ca_chain_path', 'keystore_path',
                       'keystore_password_file')) for step in ('request', 'install', 'facts')]
)


# The contract's fields a merge returns for the install it made (no secret among them).
INSTALL_RESULT_FIELDS = ("keystore_changed", "truststore_changed", "certificate_changed", "fingerprint_sha256",
                         "not_after", "serial", "sign_reason", "truststore_fingerprints")


@dataclass(frozen=True)
class DeferredInstall:
    """What install_deferred did: whether it changed a file, the files it wrote or would write, and the contract's
    non-secret fields with the parts it changed (``result``)."""

    changed: bool
    writes: List[Any]
    result: Dict[str, Any]


def install_deferred(module: Any, options: Dict[str, Any], host: str) -> DeferredInstall:
    """Make in `module`'s call the install that host_pki left to it (host_pki's defer; its RV(deferred_install) as
    `options`): the options checked by host_pki's own spec and rules, then certificate, CA chain and stores written
    with the owner and group those options name. A bad option or a failed install fails the module with a message
    that names the host."""
    require_cryptography(module)
    checked = ArgumentSpecValidator(HOST_PKI_OPTIONS, required_if=HOST_PKI_REQUIRED_IF).validate(dict(options))
    if checked.error_messages or checked.validated_parameters.get("step") != "install":
        module.fail_json(msg="%s: pki_install is not an install step of kafkasec.tls.host_pki: %s" % (
            host, "; ".join(checked.error_messages) or "step is %s" % checked.validated_parameters.get("step")))
    params = checked.validated_parameters
    for secret in ("keystore_password", "truststore_password", "privatekey_passphrase"):
        if params.get(secret):
            module.no_log_values.add(str(params[secret]))
    settings = host_pki.HostPki.from_params(params)
    problems = host_pki.host_problems(settings)
    if problems:
        module.fail_json(msg=problems_message(settings.host, problems))
    try:
        key_available = not module.check_mode or os.path.exists(settings.privatekey_path)
        outcome = host_pki.install(settings, params["signed"], params["ca_chain"], key_available)
        changed = write_all(module, outcome.writes, False, dict(owner=params["owner"], group=params["group"]))
    except EXPECTED_ERRORS as exc:
        module.fail_json(msg="%s: %s" % (settings.host, exc))
    for warning in outcome.warnings:
        module.warn("%s: %s" % (settings.host, warning))
    result = {name: outcome.result[name] for name in INSTALL_RESULT_FIELDS}
    result["changed_parts"] = list(outcome.changed_parts)
    return DeferredInstall(changed, [item for item in outcome.writes if not item.bookkeeping], result)
