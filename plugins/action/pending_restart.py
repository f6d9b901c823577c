# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of kafkasec.tls.pending_restart: a query given this run's earlier reading of the
node (known_reading: what broker_config's plan call read, handed on by a merge that found nothing to
change) is answered with that reading, without contacting the host. Anything else runs the module."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.roll import known_query_result


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # unused since Ansible 2.5
        args = dict(self._task.args)
        known = args.pop("known_reading", None)
        answer = known_query_result(args, known)
        if answer is not None:
            result.update(answer)
            return result
        result.update(self._execute_module(module_name="kafkasec.tls.pending_restart", module_args=args,
                                           task_vars=task_vars))
        return result
