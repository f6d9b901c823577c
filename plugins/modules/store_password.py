#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: store_password
short_description: Generate a store password once on the host and keep it there
version_added: 0.1.0
description:
  - Returns the password kept in O(path) on the managed host. When the file does not exist, a random password
    is generated, written atomically with mode C(0600), and returned; later runs return the same password and
    change nothing.
  - Use it when the inventory (or Ansible Vault) does not provide a store password. The collection ships no
    default passwords.
  - "The return value is a secret: tasks that call this module must set C(no_log=true)."
options:
  path:
    description: File that keeps the password (one line).
    type: path
    required: true
  length:
    description: Number of characters of a new password (URL-safe alphabet, about 6 bits each).
    type: int
    default: 32
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: In check mode a missing password is generated in memory only (and differs from the one a real run keeps).
  diff_mode:
    support: none
    description: No diff; the content is a secret.
  platform:
    support: full
    platforms: posix
    description: Runs on POSIX hosts.
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Keystore password, generated once per host
  kafkasec.tls.store_password:
    path: /etc/kafka/pki/keystore.password
    owner: kafka
    group: kafka
  register: keystore_password
  no_log: true
'''

RETURN = r'''
password:
  description: The password. A secret; callers use C(no_log).
  returned: success
  type: str
created:
  description: Whether this run generated the password.
  returned: success
  type: bool
'''

import secrets

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import FileError, check_parent_dir, read_optional
from ansible_collections.kafkasec.tls.plugins.module_utils.common.module_glue import write

MIN_LENGTH = 16


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            length=dict(type='int', default=32, no_log=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path, length = module.params['path'], module.params['length']
    if length < MIN_LENGTH:
        module.fail_json(msg='length must be at least %d, got %d' % (MIN_LENGTH, length))
    try:
        check_parent_dir(path, 'path')
        existing = read_optional(path, 'path')
        password = existing.decode('utf-8').strip() if existing is not None else ''
        data = None
        if not password:
            password = secrets.token_urlsafe(length)[:length]
            data = (password + '\n').encode('utf-8')
        changed = write(module, path, data, module.params['mode'] or '0600', False)
    except (FileError, UnicodeDecodeError) as exc:
        module.fail_json(msg=str(exc) if isinstance(exc, FileError) else 'path %s: %s' % (path, exc))
    module.exit_json(changed=changed, created=data is not None, password=password)


if __name__ == '__main__':
    main()
