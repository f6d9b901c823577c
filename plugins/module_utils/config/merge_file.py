# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merge keys into a Java properties file on the host: the part every properties-writing module shares.

Reads the file, merges (``properties.merge``: only the lines of the keys set or removed change),
builds a diff with the secret values masked, writes atomically unless in check mode, and applies
owner/group/mode. Fails the module with a message that never carries a value.
"""

from __future__ import annotations

import os

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import (
    MASK,
    PropertiesDocument,
    PropertiesError,
    is_secret_key,
    merge_bytes,
    to_java_string,
    write_file_atomic,
)


def block_to_changes(content: str) -> Tuple[Dict[str, str], List[str]]:
    """A rendered block of ``key=value`` lines -> (keys to set, keys to remove).

    A key laid out with an empty value does not apply to this host (a store password with a PEM
    store, a quorum key in ZooKeeper mode): it is removed, so a template can list every key it
    manages in one readable place.
    """
    values = PropertiesDocument.parse(content).as_dict()
    return ({key: value for key, value in values.items() if value != ""},
            [key for key, value in values.items() if value == ""])


def secret_values(set_values: Mapping[str, Any], extra: Sequence[str] = ()) -> set:
    values = set()
    for key, value in set_values.items():
        if is_secret_key(to_native(key), extra):
            try:
                text = to_java_string(value)
            except PropertiesError:
                continue
            if text:
                values.add(text)
    return values


def merge_file(module: Any, path: str, set_values: Mapping[str, Any], remove: Sequence[str], *,
               header: Optional[str] = None, secret_keys: Sequence[str] = (), create: bool = False,
               backup: bool = False, result: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Merge into ``path`` and return the result keys (changed, changed_keys, added/updated/removed, diff)."""
    result = result if result is not None else {}
    result.update(changed=False, path=path, changed_keys=[], added_keys=[], updated_keys=[], removed_keys=[])
    if os.path.isdir(path):
        module.fail_json(msg="%s is a directory, not a properties file" % path, **result)
    exists = os.path.exists(path)
    if not exists and not create:
        module.fail_json(msg="properties file %s does not exist (set create=true to create it)" % path, **result)
    try:
        before_bytes = b""
        before_stat = None
        if exists:
            before_stat = os.stat(path)
            with open(path, "rb") as handle:
                before_bytes = handle.read()
        for key, value in set_values.items():
            try:
                to_java_string(value)
            except PropertiesError as exc:
                module.fail_json(msg="set.%s: %s" % (key, to_native(exc)), **result)
        after_bytes, merged = merge_bytes(before_bytes, set_values, list(remove), header=header)
    except PropertiesError as exc:
        module.fail_json(msg="%s: %s" % (path, to_native(exc)), **result)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read %s: %s" % (path, to_native(exc)), **result)

    content_changed = merged.changed or not exists
    result.update(changed_keys=merged.changed_keys, added_keys=merged.added, updated_keys=merged.updated,
                  removed_keys=merged.removed)
    diffs = []
    if module._diff and content_changed:
        def secret(key: str) -> bool:
            return is_secret_key(key, secret_keys)

        diffs.append(dict(
            before_header=path if exists else "%s (absent)" % path,
            after_header=path,
            before=merged.original.render_masked(secret, MASK) if exists else "",
            after=merged.document.render_masked(secret, MASK),
        ))
    if content_changed and not module.check_mode:
        if backup and exists:
            result["backup_file"] = module.backup_local(path)
        context = None
        if exists and module.selinux_enabled():
            context = module.selinux_context(path)
        try:
            write_file_atomic(path, after_bytes, like=before_stat)
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot write %s: %s" % (path, to_native(exc)), **result)
        if context is not None:
            module.set_context_if_different(path, context, False)

    changed = content_changed
    if os.path.exists(path):
        attr_diff: Dict[str, Any] = dict(before={}, after={})
        file_args = module.load_file_common_arguments(module.params, path=path)
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=attr_diff)
        if module._diff and (attr_diff["before"] or attr_diff["after"]):
            attr_diff["before_header"] = attr_diff["after_header"] = "%s (attributes)" % path
            diffs.append(attr_diff)
    if diffs:
        result["diff"] = diffs if len(diffs) > 1 else diffs[0]
    result["changed"] = changed
    return result
