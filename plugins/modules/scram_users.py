#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: scram_users
short_description: Create, update and delete Kafka SCRAM credentials through the admin API
version_added: 0.1.0
description:
  - Keeps the SCRAM credentials (SCRAM-SHA-256, SCRAM-SHA-512) of O(users) in a KRaft cluster's metadata with
    DescribeUserScramCredentials and AlterUserScramCredentials (KIP-554), one request for all changes.
  - Connects like M(kafkasec.tls.cluster_health) - from the node, to its own TLS listener, as the node (mTLS).
    O(bootstrap_servers) is the node's own TLS (SSL, mTLS) listener and O(cert_path) the node's own certificate. With
    an authorizer the node's principal needs ALTER and DESCRIBE on the cluster (a super user).
  - Every entry of O(users) is checked before the cluster is asked anything; an unknown mechanism (e.g. C(SCRAM-SHA-1))
    fails the task naming the entry, the user and O(variable).
  - Kafka keeps only a salted hash, so whether a password is unchanged cannot be read back. With
    O(update_password=when_changed) a credential that exists with the wanted mechanism and iterations is checked by a real
    SCRAM login with the wanted password on the SASL_SSL listener (O(sasl_bootstrap_servers)); only a login that the
    broker refuses with an authentication failure updates it. If the listener does not answer, the task fails (it cannot
    tell). O(update_password=on_create) sets passwords of new credentials only.
extends_documentation_fragment:
  - kafkasec.tls.kafka_client
options:
  sasl_bootstrap_servers:
    description:
      - The SASL_SSL listener, as C(host:port) by host name, where O(update_password=when_changed) tries each existing
        credential's password. Required with C(when_changed) when a user is C(present).
      - Its certificate chain is verified with O(ca_path) as well.
    type: list
    elements: str
  users:
    description: The credentials to keep. Credentials of users not listed are left alone.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The user name (the principal C(User:<name>)).
        type: str
        required: true
      password:
        description: The password; required with O(users[].state=present). No default.
        type: str
      mechanism:
        description: C(SCRAM-SHA-256) or C(SCRAM-SHA-512), as Kafka spells them.
        type: str
        default: SCRAM-SHA-512
      iterations:
        description: SCRAM iterations (Kafka accepts 4096 to 16384).
        type: int
        default: 8192
      state:
        description: C(absent) deletes the user's credential for O(users[].mechanism).
        type: str
        choices: [present, absent]
        default: present
  update_password:
    description: When an existing credential's password is set again.
    type: str
    choices: [when_changed, on_create]
    default: when_changed
  variable:
    description: The inventory variable O(users) came from; error messages name it.
    type: str
    default: users
  request_timeout:
    description: Seconds for each request, and for each password check.
    type: float
    default: 30
attributes:
  check_mode:
    support: full
    description: Reads the credentials (and tries logins) and reports what it would change; alters nothing.
  diff_mode:
    support: none
    description: Passwords are secret; RV(actions) says what changes.
  platform:
    support: full
    platforms: posix
    description: Runs where confluent-kafka is installed (the Kafka node, like the rolling restart's gates).
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Keep the SCRAM users of the SASL_SSL listener
  kafkasec.tls.scram_users:
    bootstrap_servers: ["kafka-1.example.com:9093"]
    sasl_bootstrap_servers: ["kafka-1.example.com:9096"]
    ca_path: /etc/kafka/pki/ca-chain.crt
    cert_path: /etc/kafka/pki/kafka-1.example.com.crt
    key_path: /etc/kafka/pki/kafka-1.example.com.key
    users:
      - name: orders-app
        password: "{{ vault_orders_app_password }}"
      - name: old-app
        state: absent
  no_log: true
'''

RETURN = r'''
actions:
  description: The changes made (or due, in check mode), without passwords.
  returned: success
  type: list
  elements: dict
  sample: [{user: orders-app, mechanism: SCRAM-SHA-512, action: create, iterations: 8192, reason: no SCRAM-SHA-512 credential}]
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.client_options import KAFKA_CLIENT_OPTIONS
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.cluster import ClusterRequest, confluent_kafka_problem
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.scram import SaslLogin, ScramError, ensure, parse_users


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            sasl_bootstrap_servers=dict(type='list', elements='str'),
            users=dict(type='list', elements='dict', required=True, no_log=False, options=dict(
                name=dict(type='str', required=True),
                password=dict(type='str', no_log=True),
                mechanism=dict(type='str', default='SCRAM-SHA-512'),
                iterations=dict(type='int', default=8192),
                state=dict(type='str', choices=['present', 'absent'], default='present'),
            )),
            update_password=dict(type='str', choices=['when_changed', 'on_create'], default='when_changed', no_log=False),
            variable=dict(type='str', default='users'),
            request_timeout=dict(type='float', default=30),
            **KAFKA_CLIENT_OPTIONS
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        users = parse_users(params['users'], params['variable'])
    except ScramError as exc:
        module.fail_json(msg=str(exc))
    problem = confluent_kafka_problem()
    if problem:
        module.fail_json(msg=missing_required_lib('confluent-kafka'), exception=problem)
    login = None
    if params['sasl_bootstrap_servers']:
        login = SaslLogin(tuple(params['sasl_bootstrap_servers']), params['ca_path'], params['request_timeout'])
    try:
        actions = ensure(ClusterRequest.from_params(params), users, login, params['update_password'], module.check_mode)
    except ScramError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=bool(actions), actions=[action.result() for action in actions])


if __name__ == '__main__':
    main()
