#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: backup
short_description: Keep timestamped backup sets of a Kafka node's managed files, and restore them
version_added: 0.1.0
description:
  - A backup set is a directory C(<backup_dir>/<UTC stamp>/) with a copy of each file of O(paths) that exists
    (mode C(0600), in a C(0700) directory) and a manifest of their checksums, modes and owners.
  - O(state=present) takes a set only when the files differ from the newest set, so a run that changes nothing
    takes none and reports C(changed=false). Sets beyond O(keep) are removed, oldest first. The playbooks take one
    before they change anything and one at the end, so the newest set is always the last known state.
  - O(state=restored) puts back O(stamp), or without it the newest set that differs from the files as they are -
    after a run that changed something, the state before it; after a run that failed half-way, the last good
    state. Files are written atomically with the owner, group and mode they had. Restoring what is already
    there changes nothing.
  - The copies hold what the files hold, store passwords in server.properties included; O(backup_dir) must be
    as private as the files (the module creates it C(0700)).
options:
  paths:
    description: The files a set holds (absolute paths). Missing files are left out of a set.
    type: list
    elements: path
    default: []
  backup_dir:
    description: Where the sets live.
    type: path
    required: true
  state:
    description: V(present) takes a set when needed; V(restored) puts one back.
    type: str
    choices: [present, restored]
    default: present
  keep:
    description: How many sets to keep (O(state=present)).
    type: int
    default: 5
  stamp:
    description:
      - With O(state=present), the name of a new set (a UTC time C(YYYYmmddTHHMMSS[.ffffff]Z) later than the newest
        set); default - now. Playbooks give every node of a run the same stamp, so a rollback can name the run.
      - With O(state=restored), the set to restore, as RV(sets) lists it; default - the newest set that differs
        from the files as they are.
    type: str
  properties_path:
    description:
      - With O(state=restored), the node's server.properties. When the restore changes files, a pending restart is
        recorded next to it (C(<properties_path>.kafkasec-restart-pending), M(kafkasec.tls.pending_restart)'s record),
        with the set as its reason; it is a whole-quorum restart (C(controller_switch)) when the restored file moves
        the quorum's controller listener (plugins/module_utils/kafka/roll.py, restore_moves_quorum).
    type: path
  marker_owner:
    description: Owner of the pending-restart record.
    type: str
  marker_group:
    description: Group of the pending-restart record.
    type: str
  missing_ok:
    description: With O(state=restored) and O(stamp), leave a node that has no such set as it is instead of
      failing (the run that took the set did not change that node).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports the set it would take or the files it would restore; writes nothing.
  diff_mode:
    support: none
    description: The files may hold secrets; RV(files) names them.
  platform:
    support: full
    platforms: posix
    description: Runs on POSIX hosts.
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Keep the node's files before the run changes them
  kafkasec.tls.backup:
    paths: [/etc/kafka/server.properties, /etc/kafka/pki/keystore.p12, /etc/kafka/pki/truststore.p12]
    backup_dir: /etc/kafka/.kafkasec-backups
    keep: 5

- name: Put the last good files back
  kafkasec.tls.backup:
    backup_dir: /etc/kafka/.kafkasec-backups
    state: restored
'''

RETURN = r'''
restart:
  description: With O(properties_path), the pending restart recorded (reasons, controller_switch), or empty.
  returned: success
  type: dict
stamp:
  description: The set taken or restored (for O(state=present) without change, the newest set).
  returned: success
  type: str
  sample: 20261123T120501.123456Z
files:
  description: The files the set holds (V(present)) or the files restored (V(restored)).
  returned: success
  type: list
  elements: str
sets:
  description: The sets in O(backup_dir) after the task, oldest first.
  returned: success
  type: list
  elements: str
removed_sets:
  description: Sets removed to keep O(keep).
  returned: success
  type: list
  elements: str
msg:
  description: What happened.
  returned: success
  type: str
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.common import pending
from ansible_collections.kafkasec.tls.plugins.module_utils.common.backups import BackupError, restore, snapshot
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import PropertiesError, load
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.roll import restore_moves_quorum


def _properties(path: str) -> dict:
    try:
        with open(path, 'rb') as handle:
            return dict(load(handle.read().decode('latin-1')))
    except FileNotFoundError:
        return {}


def record_restart(module: AnsibleModule, properties_path: str, before: dict, outcome) -> dict:
    """After a restore that changed files: the pending restart, whole-quorum when the quorum moves."""
    reason = 'rollback to backup set %s: %s' % (outcome.stamp, ', '.join(os.path.basename(f) for f in outcome.files))
    record = pending.merged(pending.read(pending.marker_path(properties_path)), [reason],
                            restore_moves_quorum(before, _properties(properties_path)))
    if not module.check_mode:
        marker = pending.marker_path(properties_path)
        pending.write(marker, record)
        module.set_fs_attributes_if_different(module.load_file_common_arguments(dict(
            path=marker, owner=module.params['marker_owner'], group=module.params['marker_group'], mode='0640')), True)
    return record


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type='list', elements='path', default=[]),
            backup_dir=dict(type='path', required=True),
            state=dict(type='str', choices=['present', 'restored'], default='present'),
            keep=dict(type='int', default=5),
            stamp=dict(type='str'),
            missing_ok=dict(type='bool', default=False),
            properties_path=dict(type='path'),
            marker_owner=dict(type='str'),
            marker_group=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    restart = {}
    try:
        if params['state'] == 'present':
            outcome = snapshot(params['paths'], params['backup_dir'], params['keep'], module.check_mode, params['stamp'])
        else:
            before = _properties(params['properties_path']) if params['properties_path'] else {}
            outcome = restore(params['backup_dir'], module.check_mode, params['stamp'], params['paths'],
                              params['missing_ok'])
            if params['properties_path'] and outcome.changed:
                restart = record_restart(module, params['properties_path'], before, outcome)
    except (BackupError, OSError, PropertiesError) as exc:
        module.fail_json(msg='%s (backup_dir %s)' % (exc, params['backup_dir']))
    module.exit_json(changed=outcome.changed, stamp=outcome.stamp, files=outcome.files, sets=outcome.sets,
                     removed_sets=outcome.removed_sets, msg=outcome.message,
                     restart=restart)


if __name__ == '__main__':
    main()
