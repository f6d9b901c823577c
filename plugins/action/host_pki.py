# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of kafkasec.tls.host_pki: runs the module on the host, then adds, for
step=request, the host's entry of the CA's batch (sign_request) built from the task's arguments as
the controller templated them, so the names the CA may sign come from the inventory and never from
what the host reports."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.kafkasec.tls.plugins.module_utils.pki.host import sign_request


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # unused since Ansible 2.5
        args = dict(self._task.args)
        result.update(self._execute_module(module_name='kafkasec.tls.host_pki', module_args=args,
                                           task_vars=task_vars))
        result.pop('sign_request', None)  # only the controller says what the CA may sign
        if args.get('step') == 'request':
            entry = sign_request(args, result)
            if entry is not None:
                result['sign_request'] = entry
        return result
