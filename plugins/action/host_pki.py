# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of kafkasec.tls.host_pki: runs the module on the host, then adds, for
step=request, the host's entry of the CA's batch (sign_request) built from the task's arguments as
the controller templated them, so the names the CA may sign come from the inventory and never from
what the host reports. A request that this run's sealed request memo answers (known_request,
plugins/module_utils/pki/request_memo.py) does not contact the host; any other request asks the host
to keep a memo under the digest of its options (memo_inputs). An install with defer (and the CA's answer) does
not contact the host either: it returns the contract the install will give and its own options
(deferred_install), which the caller's next call on the host installs (broker_config's pki_install)."""

from __future__ import annotations

import os
import time

from collections.abc import Mapping

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.principals import (
    SIGN_CHECK_VARIABLES,
    dn_of_subject,
    impersonation_problem,
    sign_check,
)
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import request_memo
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.contract import deferred_contract

_CODE: list = []


def _code_digest() -> str:
    """The digest of the code the request step runs on the host (this collection's files beside this plugin)."""
    if not _CODE:
        _CODE.append(request_memo.code_digest(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    return _CODE[0]


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # unused since Ansible 2.5
        args = dict(self._task.args)
        installed = args.pop('installed', None)
        defer = boolean(args.pop('defer', False), strict=False)
        passwords = args.pop('store_passwords', None)
        if args.get('step') == 'install' and installed:
            # The request call found the certificate kept and installed everything: its contract is
            # this call's result, and the host is not contacted again.
            result.update(installed, changed=False, changed_parts=[])
            return result
        signed = args.get('signed')
        if (args.get('step') == 'install' and defer and isinstance(signed, Mapping) and not signed.get('failed')
                and isinstance(passwords, Mapping)):
            # The caller's next call on the host installs (broker_config's pki_install): the contract it will give,
            # and this call's options for it. Nothing is written yet, so nothing is reported changed here.
            result.update(deferred_contract(args, passwords, signed), changed=False, changed_parts=[],
                          deferred_install=dict(args), msg='install deferred to the next call on the host')
            return result
        check = self._principal_check(args, task_vars) if args.get('step') == 'request' else None
        if check and not check['problems']:
            # The certificate the inventory asks for must not impersonate either: checked here, before the
            # host makes a key, and also when the CA would keep the current certificate (the request step
            # then installs without asking the CA, which would refuse it).
            problem = impersonation_problem(dn_of_subject(str(args.get('common_name') or ''), args.get('subject')),
                                            check['rules'], check['refused'], str(args.get('host')))
            if problem:
                check = dict(check, problems=[('kafkasec_cert_common_name', problem)])
        if check and check['problems']:
            # Bad authorisation settings in the inventory: refused before the host makes a key or a CSR.
            result.update(failed=True, msg=problems_message(str(args.get('host')), check['problems']),
                          problems=[dict(variable=v, message=m) for v, m in check['problems']])
            return result
        known = args.pop('known_request', None)
        # A backup set to keep first is no input of the request itself: out of the memo's digest, and a call that
        # must keep one runs on the host.
        backup = args.pop('backup', None)
        if args.get('step') == 'request':
            inputs = request_memo.inputs_digest(args, _code_digest())
            answer = None if backup else request_memo.open_memo((known or {}).get('sealed'), (known or {}).get('key'),
                                                                inputs, time.time())
            if answer is not None:
                # The host's memo of a call with these very options, and its files unchanged since (checked on the
                # host by this run's plan call): the call would return this again.
                result.update(answer, msg='answered on the controller from the host\'s request memo')
                return result
            args['memo_inputs'] = inputs
        if backup:
            args['backup'] = backup
        result.update(self._execute_module(module_name='kafkasec.tls.host_pki', module_args=args,
                                           task_vars=task_vars))
        result.pop('sign_request', None)  # only the controller says what the CA may sign
        if args.get('step') == 'request' and not result.get('installed'):
            # Imported here: pki.host loads cryptography, which the control node needs only when a host asks the
            # CA for a certificate (not on a rerun), and this plugin is loaded in a fresh worker per host and task.
            from ansible_collections.kafkasec.tls.plugins.module_utils.pki.host import sign_request
            entry = sign_request(args, result)
            if entry is not None:
                # No impersonation: the CA refuses a subject that maps to another node's or a super user's
                # principal (the nodes' mapping rules and super users, from the inventory).
                entry.update(principal_mapping_rules=check['rules'], refused_principals=check['refused'],
                             certificate_for=entry['host'])
                result['sign_request'] = entry
        return result

    def _principal_check(self, args, task_vars):
        """What this host's certificate must not map to, from the inventory as the controller templates it."""
        task_vars = task_vars or {}
        own = {name: self._templar.template(task_vars[name]) for name in SIGN_CHECK_VARIABLES if name in task_vars}
        return sign_check(str(args.get('host') or task_vars.get('inventory_hostname')), task_vars.get('groups') or {},
                          task_vars.get('hostvars') or {}, own)
