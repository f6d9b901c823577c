# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the *_config modules (broker_config, connect_config, zookeeper_config) do the same way: take
a rendered key=value block whose values may be secrets, and record the pending restart next to the
file they merged it into."""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.common import pending as pending_record
from ansible_collections.kafkasec.tls.plugins.module_utils.config.merge_file import block_to_changes, secret_values


class SecretBlockModule(AnsibleModule):
    """An AnsibleModule whose ``content`` option is a rendered key=value block carrying secrets (store
    passwords, JAAS lines). The block is parsed once (``self.block``: values to set, keys to remove)
    and its secret values masked before the invocation is logged (AnsibleModule.__init__ calls
    _log_invocation once the parameters are valid), so no result, diff or log shows them."""

    def extra_secrets(self) -> Mapping[str, Any]:
        """More key/value pairs whose secret values are masked too (a subclass's own options)."""
        return {}

    def _log_invocation(self):
        self.block = block_to_changes(self.params.get("content") or "")
        self.no_log_values.update(secret_values(self.block[0]))
        self.no_log_values.update(secret_values(dict(self.extra_secrets())))
        super(SecretBlockModule, self)._log_invocation()


def record_pending(module: AnsibleModule, marker: str, pending: Dict[str, Any], record: Dict[str, Any],
                   result: Dict[str, Any]) -> None:
    """Write the pending-restart ``record`` (when it differs from ``pending``, what the file said) and
    settle the marker's owner, group and mode (options owner, group, marker_mode); updates result."""
    result["pending"] = record
    if record != pending:
        result["changed"] = True
        if not module.check_mode:
            pending_record.write(marker, record)
    if not module.check_mode and os.path.exists(marker):
        file_args = module.load_file_common_arguments(dict(path=marker, mode=module.params["marker_mode"],
                                                           owner=module.params["owner"], group=module.params["group"]),
                                                      path=marker)
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
