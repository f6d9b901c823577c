# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every kafkasec.tls module does the same way: library check, atomic writes with
owner/group/mode, and turning library errors into a clean failure."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Mapping, Optional, Sequence

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import FileError, atomic_write, stat_or_none
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import PkiError, cryptography_problem

EXPECTED_ERRORS = (PkiError, FileError)


def require_cryptography(module: AnsibleModule) -> None:
    problem = cryptography_problem()
    if problem:
        module.fail_json(msg=problem)


def file_args(module: AnsibleModule, path: str, mode: str, attributes: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    args = module.load_file_common_arguments(module.params if attributes is None else dict(module.params, **attributes),
                                             path=path)
    args["mode"] = mode
    return args


def write(module: AnsibleModule, path: str, data: Optional[bytes], mode: str, changed: bool,
          attributes: Optional[Mapping[str, Any]] = None) -> bool:
    """Write data (when given) atomically, then settle owner/group and `mode`; returns changed.

    `mode` is the effective mode the caller decided (a key is always owner-only). The owner and group are the
    module's options, or those of `attributes` (C(owner), C(group)) for files another module's options describe.
    In check mode nothing is written and the attribute check only reports.
    """
    if data is not None:
        if module.check_mode:
            return True
        atomic_write(path, data, like=stat_or_none(path))
        changed = True
    # No diff dict here: set_fs_attributes_if_different writes owner/mode keys into it,
    # and the modules' diffs are content summaries (strings), reported separately.
    return module.set_fs_attributes_if_different(file_args(module, path, mode, attributes), changed)


def write_all(module: AnsibleModule, writes: Sequence[Any], changed: bool = False,
              attributes: Optional[Mapping[str, Any]] = None) -> bool:
    """Every FileWrite of a step (pki/host.py): bookkeeping files (a store's seal) written but never a change, and
    skipped in check mode; a file with no new data that is not there (check mode: a real run writes it first) left
    alone; the others written and settled. Returns changed."""
    for item in writes:
        if item.bookkeeping:
            if not module.check_mode:
                write(module, item.path, item.data, item.mode, False, attributes)
            continue
        if item.data is None and not os.path.exists(item.path):
            continue
        changed = write(module, item.path, item.data, item.mode, False, attributes) or changed
    return changed


# Options shared by modules that make keys (documented in the kafkasec.tls.key doc fragment).
KEY_SPEC_OPTIONS: Dict[str, Dict[str, Any]] = dict(
    key_type=dict(type='str', choices=['rsa', 'ec'], default='rsa'),
    key_size=dict(type='int', choices=[2048, 3072, 4096], default=3072),
    ec_curve=dict(type='str', choices=['P-256', 'P-384'], default='P-256'),
)

# Options shared by keystore and truststore (documented in the kafkasec.tls.store doc fragment).
STORE_OPTIONS: Dict[str, Dict[str, Any]] = dict(
    path=dict(type='path', required=True),
    type=dict(type='str', choices=['pkcs12', 'pem', 'jks'], default='pkcs12'),
    password=dict(type='str', no_log=True),
    on_password_mismatch=dict(type='str', choices=['fail', 'overwrite'], default='fail', no_log=False),
)


def run_store_module(options: Dict[str, Dict[str, Any]], ensure: Callable[[Dict[str, Any]], Any],
                     default_mode: Callable[[Dict[str, Any]], str]) -> None:
    """The whole of the keystore and truststore modules but their options and backend."""
    module = AnsibleModule(argument_spec=dict(STORE_OPTIONS, **options), add_file_common_args=True,
                           supports_check_mode=True)
    require_cryptography(module)
    try:
        outcome = ensure(module.params)
        changed = write(module, module.params['path'], outcome.data, module.params['mode'] or default_mode(module.params),
                        False)
    except EXPECTED_ERRORS as exc:
        module.fail_json(msg=str(exc))
    for warning in outcome.warnings:
        module.warn(warning)
    module.exit_json(changed=changed, diff=outcome.diff if outcome.data else None, **outcome.result)
