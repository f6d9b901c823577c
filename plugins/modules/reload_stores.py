#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: reload_stores
short_description: Make a running Kafka broker reload a listener's keystore and truststore, without a restart
version_added: 0.1.0
description:
  - Sets C(listener.name.<listener>.ssl.keystore.location) (and the truststore's) to the store's path as a per-broker
    dynamic config through the admin API (IncrementalAlterConfigs). The broker then reloads the file (KIP-226); the
    same path works because the collection replaces stores by an atomic rename, which makes the file newer. The
    passwords stay the static ones of server.properties.
  - Kafka refuses a new keystore whose certificate has another subject or other SANs, so a renewal passes and a
    certificate for another name fails the task, naming the broker.
  - O(listener) may be a combined node's controller listener (seen on Kafka 4.3.1, the per-broker config sent through
    the node's SSL listener makes the controller listener serve the new stores, same JVM). A controller-only node has
    no broker listener to connect to (KAFKA-20583 adds a per-controller resource), so a node with only the
    controller role still needs a restart for its controller listener; the broker role decides that.
  - Connects like M(kafkasec.tls.cluster_health) - from the node, to its own TLS listener, as the node.
    O(bootstrap_servers) is the broker's own TLS listener and O(cert_path) the node's own certificate; with an
    authorizer its principal needs ALTER_CONFIGS on the cluster.
extends_documentation_fragment:
  - kafkasec.tls.kafka_client
options:
  node_id:
    description: The broker's C(node.id).
    type: int
    required: true
  listener:
    description: The listener whose stores are reloaded.
    type: str
    default: SSL
  keystore_path:
    description: The keystore to reload. Unset - the keystore is left as it is.
    type: path
  truststore_path:
    description: The truststore to reload. Unset - the truststore is left as it is.
    type: path
  listener_port:
    description:
      - The port of O(listener) on the node (the host is O(bootstrap_servers)' first). With O(keystore_path), the
        task waits until that listener presents the certificate of O(cert_path), the node's own, and fails if it
        does not within O(served_timeout), because Kafka answers the request before the node has applied it.
      - Unset - the task does not wait.
    type: int
  served_timeout:
    description: Seconds to wait for the listener to present the reloaded certificate (with O(listener_port)).
    type: float
    default: 120
  request_timeout:
    description: Seconds for the request.
    type: float
    default: 30
attributes:
  check_mode:
    support: full
    description: Reports what it would reload; sends nothing.
  diff_mode:
    support: none
    description: Nothing to show.
  platform:
    support: full
    platforms: posix
    description: Runs where confluent-kafka is installed (the Kafka node, like the rolling restart's gates).
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Reload the renewed keystore on the SSL listener
  kafkasec.tls.reload_stores:
    bootstrap_servers: ["kafka-4.example.com:9093"]
    ca_path: /etc/kafka/pki/ca-chain.crt
    cert_path: /etc/kafka/pki/kafka-4.example.com.crt
    key_path: /etc/kafka/pki/kafka-4.example.com.key
    node_id: 4
    keystore_path: /etc/kafka/pki/keystore.p12
    listener_port: 9093
'''

RETURN = r'''
keys:
  description: The dynamic config keys set (or that would be set in check mode).
  returned: success
  type: list
  elements: str
  sample: [listener.name.ssl.ssl.keystore.location]
served_after:
  description: Seconds from the request's answer until the listener presented the reloaded certificate.
  returned: success, with O(listener_port) and O(keystore_path), not in check mode
  type: float
  sample: 0.6
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.client_options import KAFKA_CLIENT_OPTIONS
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.cluster import (
    ClusterRequest, HealthError, confluent_kafka_problem, reload_listener_stores, wait_until_served)
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.probe import served_certificate
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import PkiError, load_certificate_der


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            node_id=dict(type='int', required=True),
            listener=dict(type='str', default='SSL'),
            listener_port=dict(type='int'),
            served_timeout=dict(type='float', default=120),
            keystore_path=dict(type='path'),
            truststore_path=dict(type='path'),
            request_timeout=dict(type='float', default=30),
            **KAFKA_CLIENT_OPTIONS
        ),
        required_one_of=[('keystore_path', 'truststore_path')],
        supports_check_mode=True,
    )
    problem = confluent_kafka_problem()
    if problem:
        module.fail_json(msg=missing_required_lib('confluent-kafka'), exception=problem)
    params = module.params
    prefix = 'listener.name.%s.' % params['listener'].lower()
    keys = [prefix + 'ssl.%s.location' % kind for kind in ('keystore', 'truststore') if params[kind + '_path']]
    if module.check_mode:
        module.exit_json(changed=True, keys=keys)
    request = ClusterRequest.from_params(params)
    result = dict(changed=True, keys=keys)
    try:
        result['keys'] = reload_listener_stores(request, params['node_id'], params['listener'],
                                                params['keystore_path'], params['truststore_path'])
        if params['keystore_path'] and params['listener_port']:
            host = request.bootstrap_servers[0].rpartition(':')[0].strip('[]')
            expected = load_certificate_der(params['cert_path'])

            def fetch(address: str, port: int):
                return served_certificate(address, port, timeout=5, client_cert_path=params['cert_path'],
                                          client_key_path=params['key_path'])

            result['served_after'] = round(wait_until_served(host, params['listener_port'], expected,
                                                             params['served_timeout'], fetch), 2)
    except (HealthError, PkiError) as exc:
        module.fail_json(msg='broker %d, listener %s: %s' % (params['node_id'], params['listener'], exc), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
