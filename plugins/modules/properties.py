#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: properties
short_description: Set and remove keys in a Java C(.properties) file, keeping every other line
version_added: 0.1.0
description:
  - Merges keys into an existing Java C(.properties) file such as Kafka's C(server.properties),
    a Connect worker file or a client config. Only the lines of the keys it sets or removes
    change; comments, blank lines, ordering and every other key stay byte for byte.
  - The file is read exactly as Kafka reads it, with C(java.util.Properties.load) on an C(InputStream)
    semantics and ISO-8859-1 decoding. Continuation lines, C(#) and C(!) comments, C(=), C(:) or
    whitespace separators and C(\uXXXX) escapes are understood, and the last occurrence of a key wins.
  - A key is compared by its parsed value, not its spelling, so a key that already has the
    wanted value is not rewritten. An existing key is rewritten in place at its first
    occurrence (keeping indentation, key spelling and separator); later duplicates of that
    key are removed. New keys are appended at the end, or below O(header).
  - Values are written so that Java reads them back exactly; characters outside printable
    ASCII are written as C(\uXXXX), so the file stays plain ASCII.
  - Values of secret keys (see O(secret_keys)) never appear in the diff or in the results;
    the module returns key names only.
  - The file is replaced atomically (temporary file created C(0600) in the same directory,
    fsync, rename). The existing file's mode and owner are kept unless O(mode), O(owner) or
    O(group) say otherwise. A symlink is followed and its target is replaced.
author:
  - kafkasec.tls developers (@kafkasec)
options:
  path:
    description:
      - The C(.properties) file to change.
    type: path
    required: true
    aliases: [dest]
  set:
    description:
      - Keys to set, with their values.
      - Values are stringified the way Kafka expects them; booleans become V(true)/V(false),
        numbers their decimal form, and lists are joined with V(,). A V(null) value is an error;
        use O(remove) to delete a key.
    type: dict
    default: {}
  remove:
    description:
      - Keys to remove (every occurrence). A key that is absent is ignored.
      - A key may not appear in both O(set) and O(remove).
    type: list
    elements: str
    default: []
  secret_keys:
    description:
      - Keys whose values are secret. Their values are replaced by V(********) in the diff and
        are kept out of the module's results and logs.
      - Whatever this lists, any key containing V(password) or V(secret) (case-insensitive),
        any key ending in V(.jaas.config) and V(ssl.keystore.key) are treated as secret.
    type: list
    elements: str
    default: []
  header:
    description:
      - A comment line under which new keys are appended, for example V(Managed by Ansible - kafkasec.tls).
      - The line is written as C(# <header>) unless it already starts with C(#) or C(!). When the
        file already has that comment line, new keys go after the keys that follow it; otherwise
        the comment is added at the end of the file, followed by the new keys.
      - Keys that already exist stay where they are.
    type: str
  create:
    description:
      - Create the file when it does not exist.
      - When V(false) (the default), a missing file is an error, which catches a wrong O(path)
        before a half-empty configuration is written.
    type: bool
    default: false
  mode:
    description:
      - The permissions of the file, as in M(ansible.builtin.file).
      - When O(mode) is not given, an existing file keeps its mode and a file created by this
        module is C(0600) (configuration files often hold secrets).
      - Quote octal numbers (for example V('0640')) so that Ansible receives a string.
    type: raw
extends_documentation_fragment:
  - ansible.builtin.files
  - ansible.builtin.backup
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Values of secret keys are shown as V(********).
  platform:
    platforms: posix
seealso:
  - module: ansible.builtin.lineinfile
notes:
  - Kafka reads properties files as ISO-8859-1 through C(Properties.load) on an C(InputStream); a file
    saved as UTF-8 with non-ASCII characters in it is read by Kafka (and by this module) as
    Latin-1 characters. Values written by this module use C(\uXXXX) escapes instead.
  - Changes of a secret value show in the diff as an unchanged V(********) line; the
    RV(updated_keys) result names the key.
"""

EXAMPLES = r"""
- name: Turn on the SSL listener of a broker, keeping the rest of server.properties
  kafkasec.tls.properties:
    path: /etc/kafka/server.properties
    header: Managed by Ansible (kafkasec.tls)
    set:
      listeners: SSL://kafka-1.example.com:9093,CONTROLLER://kafka-1.example.com:9094
      ssl.keystore.type: PKCS12
      ssl.keystore.location: /etc/kafka/pki/kafka-1.p12
      ssl.keystore.password: "{{ kafka_keystore_password }}"
      ssl.client.auth: required
      ssl.enabled.protocols: [TLSv1.3, TLSv1.2]
      allow.everyone.if.no.acl.found: false
    remove:
      - ssl.keystore.pem
    owner: kafka
    group: kafka
    mode: "0640"
  register: broker_config

- name: Restart only when a key that cannot be reloaded changed
  ansible.builtin.debug:
    msg: "restart needed for {{ broker_config.changed_keys }}"
  when: broker_config.changed_keys | difference(['ssl.keystore.location', 'ssl.keystore.password']) | length > 0

- name: Write a client config with a SASL login, its JAAS line masked in the diff
  kafkasec.tls.properties:
    path: /etc/kafka/client.properties
    create: true
    mode: "0600"
    set:
      security.protocol: SASL_SSL
      sasl.mechanism: SCRAM-SHA-512
      sasl.jaas.config: >-
        {{ 'org.apache.kafka.common.security.scram.ScramLoginModule'
           | kafkasec.tls.jaas_config('required', {'username': 'admin', 'password': admin_password}) }}
    secret_keys:
      - ssl.truststore.location
"""

RETURN = r"""
path:
  description: The file that was (or would be) changed, after following symlinks.
  returned: always
  type: str
  sample: /etc/kafka/server.properties
changed_keys:
  description:
    - Keys whose value or presence changed (or would change in check mode), in the order
      added, updated, removed. Names only, never values.
    - A change of file attributes alone (mode, owner) leaves this list empty.
  returned: always
  type: list
  elements: str
  sample: [ssl.keystore.location, ssl.client.auth]
added_keys:
  description: Keys that were not in the file and were added.
  returned: always
  type: list
  elements: str
  sample: [ssl.keystore.location]
updated_keys:
  description:
    - Keys that existed and got a different value, or whose duplicate occurrences were removed.
  returned: always
  type: list
  elements: str
  sample: [ssl.client.auth]
removed_keys:
  description: Keys that were in the file and were removed.
  returned: always
  type: list
  elements: str
  sample: [ssl.keystore.pem]
backup_file:
  description: The backup copy of the original file.
  returned: when O(backup=true) and the file was changed
  type: str
  sample: /etc/kafka/server.properties.12345.2024-01-01@12:00:00~
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.kafkasec.tls.plugins.module_utils.config.merge_file import merge_file, secret_values


def _secret_values(params):
    """Stringified values of the secret keys in ``set`` (to be masked everywhere)."""
    return secret_values(params.get("set") or {}, params.get("secret_keys") or [])


class _PropertiesModule(AnsibleModule):
    def _log_invocation(self):
        # Called from AnsibleModule.__init__ once parameters are validated:
        # register the secret values first, so the syslog/journal line that
        # records the invocation has them masked too.
        self.no_log_values.update(_secret_values(self.params))
        super(_PropertiesModule, self)._log_invocation()


def main():
    module = _PropertiesModule(
        argument_spec=dict(
            path=dict(type="path", required=True, aliases=["dest"]),
            set=dict(type="dict", default={}),
            remove=dict(type="list", elements="str", default=[]),
            secret_keys=dict(type="list", elements="str", default=[], no_log=False),
            header=dict(type="str"),
            create=dict(type="bool", default=False),
            backup=dict(type="bool", default=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    module.no_log_values.update(_secret_values(module.params))
    params = module.params
    result = merge_file(module, os.path.realpath(params["path"]),
                        {to_native(key): value for key, value in params["set"].items()}, params["remove"],
                        header=params["header"], secret_keys=params["secret_keys"], create=params["create"],
                        backup=params["backup"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
