# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of kafkasec.tls.broker_config: for step=apply, when this run's plan call showed
(by keyed digests, plugins/module_utils/config/known_state.py) that the rendered block is already in
the file, the stores are in place, nothing changed in them and no restart is pending, the merge would
change nothing: return that result without contacting the host. Anything else runs the module."""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.kafkasec.tls.plugins.module_utils.config.known_state import merge_check, unchanged_merge_result


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # unused since Ansible 2.5
        args = dict(self._task.args)
        known = args.pop("known_state", None)
        if args.get("step") == "apply":
            digest_key = args.pop("digest_key", None)
            if known and digest_key:
                must_run = merge_check(dict(args, digest_key=digest_key), known)
                if args.get("pki_install"):
                    must_run.append("the PKI install left to this call")
                if boolean((args.get("closing_backup") or {}).get("after_changes", False), strict=False):
                    must_run.append("the closing backup set (an earlier call of this run changed the files)")
                if not must_run:
                    result.update(unchanged_merge_result(known))
                    return result
                result["merge_check"] = must_run  # why the host was asked: what differs (key names only)
        result.update(self._execute_module(module_name="kafkasec.tls.broker_config", module_args=args,
                                           task_vars=task_vars))
        return result
