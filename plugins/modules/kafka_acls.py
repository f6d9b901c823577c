#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: kafka_acls
short_description: Keep Kafka ACLs declared per principal, in the shape of Strimzi's KafkaUser
version_added: 0.3.0
description:
  - Keeps the ACL bindings of the principals in O(principals) through the admin API (DescribeAcls, CreateAcls,
    DeleteAcls), with rules in the shape operators know from Strimzi's KafkaUser C(authorization.acls) - a resource
    (type, name, pattern type), operations, a host and allow or deny.
  - O(state=present) creates the declared bindings the cluster does not have; O(state=absent) deletes the declared
    bindings it has. A principal with O(principals[].exclusive=true) also loses every binding the cluster has for it
    that is not declared (as Strimzi's User Operator does); principals not listed are never read or changed.
  - Every entry is checked before the cluster is asked anything - an unknown operation or resource type, an operation
    that does not apply to the resource type (Kafka's own table, C(AclEntry.supportedOperations)), a principal without
    C(User:), a host that is not an IP address or C(*), a principal listed twice, an empty resource name. The failure
    names O(hostname), the variable path (O(variable) and the entry) and the value.
  - Connects like M(kafkasec.tls.scram_users) - over mutual TLS, with a certificate whose principal may describe
    (Describe on the cluster) and change (Alter on the cluster) ACLs, for example a node's own certificate, which is
    a super user. confluent-kafka reports a DescribeAcls the broker refused as an empty list, so the module first reads
    the principal's cluster operations (DescribeCluster) and fails when Describe is not among them.
  - Creates before it deletes, so a binding that is replaced is never missing in between.
  - With O(retire=true), the cluster records which principals the module keeps (one marker binding per principal,
    DENY Describe on the literal topic C(kafkasec.tls:managed), a name no topic can have), and a principal with a
    marker that O(principals) no longer names loses every binding it has, reported in RV(retired) and RV(deleted).
    Principals without a marker (ACLs made by hand) are never read or changed.
  - The logic lives in C(plugins/module_utils/kafka/acls.py) (pure Python, unit-tested).
extends_documentation_fragment:
  - kafkasec.tls.kafka_client
options:
  principals:
    description: The principals whose ACLs are kept, each with its rules.
    type: list
    elements: dict
    required: true
    suboptions:
      principal:
        description:
          - The principal as Kafka matches it, C(User:<name>) (case-sensitive prefix), for example the name a
            certificate maps to through C(ssl.principal.mapping.rules), or C(User:*) for every principal.
        type: str
        required: true
      exclusive:
        description:
          - Delete every binding the cluster has for this principal that O(principals[].acls) does not declare, and
            report it in RV(deleted). With O(state=present) only; a principal with no rules and C(exclusive) loses all
            its ACLs.
          - Bindings of resource types the module does not manage (delegation tokens, users) are left alone.
        type: bool
        default: false
      acls:
        description: The principal's rules; each expands into one binding per operation.
        type: list
        elements: dict
        default: []
        suboptions:
          resource:
            description: The resource pattern.
            type: dict
            required: true
            suboptions:
              type:
                description:
                  - C(topic), C(group), C(cluster) or C(transactional_id) (case does not matter; C(transactionalId)
                    as Strimzi writes it is accepted).
                type: str
                required: true
              name:
                description:
                  - The resource name, or C(*) (with a literal pattern) for every resource of the type.
                  - The cluster resource is always C(kafka-cluster); leave the name out.
                type: str
              pattern_type:
                description: C(literal) (the exact name) or C(prefixed) (every name that starts with it).
                type: str
                default: literal
                aliases: [patternType]
          operations:
            description:
              - Kafka's operation names - C(Read), C(Write), C(Create), C(Delete), C(Alter), C(Describe),
                C(ClusterAction), C(DescribeConfigs), C(AlterConfigs), C(IdempotentWrite), C(All); case and
                C(_) do not matter (C(describe_configs) is C(DescribeConfigs)).
              - Each must apply to the resource type, as Kafka's table says - topic C(Read), C(Write), C(Create),
                C(Describe), C(Delete), C(Alter), C(DescribeConfigs), C(AlterConfigs); group C(Read), C(Describe),
                C(Delete), C(DescribeConfigs), C(AlterConfigs) (the configs since Kafka 4.0); cluster C(Create),
                C(ClusterAction), C(DescribeConfigs), C(AlterConfigs), C(IdempotentWrite), C(Alter), C(Describe);
                transactional_id C(Describe), C(Write); C(All) on every type.
            type: list
            elements: str
            required: true
          host:
            description:
              - C(*) or one IP address; Kafka compares it with the client's address exactly (no host names, no
                networks). An IPv6 address is kept in Java's form (C(0:0:0:0:0:0:0:1) for C(::1)), the form Kafka
                compares.
            type: str
            default: '*'
          type:
            description: C(allow) or C(deny). A deny binding wins over any allow.
            type: str
            default: allow
  state:
    description:
      - V(present) creates the declared bindings that are missing; V(absent) deletes the declared bindings that exist.
    type: str
    choices: [present, absent]
    default: present
  retire:
    description:
      - Keep a marker binding for every principal of O(principals) (with O(state=absent), delete it), and delete every
        binding of the principals that have a marker but are no longer in O(principals) - the principals a previous
        run kept whose inventory entry is gone.
      - Give the whole inventory's principals in one call; a call with part of them retires the rest.
    type: bool
    default: false
  hostname:
    description: The inventory name of the host the task runs for; failure messages start with it.
    type: str
  variable:
    description: The inventory variable O(principals) came from; failure messages name it, with the entry's path.
    type: str
    default: principals
  key_passphrase:
    description: Passphrase of O(key_path).
    type: str
  request_timeout:
    description: Seconds for each request to the cluster.
    type: float
    default: 30
attributes:
  check_mode:
    support: full
    description: Reads the principals' ACLs and reports what it would create and delete; changes nothing.
  diff_mode:
    support: full
    description: The managed principals' bindings before and after, one sorted line per binding.
  platform:
    support: full
    platforms: posix
    description: Runs where confluent-kafka is installed (a Kafka node, or the control node).
notes:
  - A rerun with the same input reports C(changed=false).
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: The ACLs of the demo's principals (the secure user may produce and consume, every principal may describe)
  kafkasec.tls.kafka_acls:
    bootstrap_servers: ["kafka-1.example.com:9093"]
    ca_path: /etc/kafka/pki/ca-chain.crt
    cert_path: /etc/kafka/pki/kafka-1.example.com.crt
    key_path: /etc/kafka/pki/kafka-1.example.com.key
    hostname: "{{ inventory_hostname }}"
    variable: kafkasec_acls
    principals:
      - principal: User:secure_user
        exclusive: true
        acls:
          - resource: {type: topic, name: test_secure_topic}
            operations: [Write, Read, Describe]
          - resource: {type: group, name: secure_, pattern_type: prefixed}
            operations: [Read]
      - principal: User:*
        acls:
          - resource: {type: topic, name: test_secure_topic}
            operations: [Describe]

- name: Take a grant back
  kafkasec.tls.kafka_acls:
    bootstrap_servers: ["kafka-1.example.com:9093"]
    ca_path: /etc/kafka/pki/ca-chain.crt
    cert_path: /etc/kafka/pki/kafka-1.example.com.crt
    key_path: /etc/kafka/pki/kafka-1.example.com.key
    state: absent
    principals:
      - principal: User:old_app
        acls:
          - resource: {type: cluster}
            operations: [IdempotentWrite]
'''

RETURN = r'''
created:
  description: The bindings created (in check mode, the ones that would be), sorted.
  returned: success
  type: list
  elements: dict
  sample: [{principal: "User:secure_user", resource_type: topic, resource_name: test_secure_topic,
            pattern_type: literal, operation: Write, host: "*", permission: allow}]
deleted:
  description: The bindings deleted (in check mode, the ones that would be), sorted; the same keys as RV(created).
  returned: success
  type: list
  elements: dict
  sample: [{principal: "User:secure_user", resource_type: topic, resource_name: old_topic,
            pattern_type: literal, operation: Read, host: "*", permission: allow}]
retired:
  description:
    - With O(retire=true), the principals that had a marker and are no longer named; each lost every binding (in check
      mode, would lose), listed in RV(deleted).
  returned: success
  type: list
  elements: str
  sample: ["User:old_app"]
problems:
  description: With a refusal of the input, each problem as C(variable) (the path of the entry) and C(message).
  returned: failure
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.acls import AclError, ensure, parse_principals
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.client_options import KAFKA_CLIENT_OPTIONS
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.cluster import ClusterRequest, confluent_kafka_problem

RESOURCE_OPTIONS = dict(
    type=dict(type='str', required=True),
    name=dict(type='str'),
    pattern_type=dict(type='str', default='literal', aliases=['patternType']),
)
RULE_OPTIONS = dict(
    resource=dict(type='dict', required=True, options=RESOURCE_OPTIONS),
    operations=dict(type='list', elements='str', required=True),
    host=dict(type='str', default='*'),
    type=dict(type='str', default='allow'),
)
PRINCIPAL_OPTIONS = dict(
    principal=dict(type='str', required=True),
    exclusive=dict(type='bool', default=False),
    acls=dict(type='list', elements='dict', default=[], options=RULE_OPTIONS),
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            principals=dict(type='list', elements='dict', required=True, options=PRINCIPAL_OPTIONS),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            retire=dict(type='bool', default=False),
            hostname=dict(type='str'),
            variable=dict(type='str', default='principals'),
            key_passphrase=dict(type='str', no_log=True),
            request_timeout=dict(type='float', default=30),
            **KAFKA_CLIENT_OPTIONS
        ),
        supports_check_mode=True,
    )
    params = module.params
    host = params['hostname'] or 'kafka_acls'
    result = dict(changed=False, created=[], deleted=[], retired=[])
    principals, problems = parse_principals(params['principals'], params['variable'], params['state'])
    if problems:
        module.fail_json(msg=problems_message(host, problems),
                         problems=[dict(variable=v, message=m) for v, m in problems], **result)
    problem = confluent_kafka_problem()
    if problem:
        module.fail_json(msg=missing_required_lib('confluent-kafka'), exception=problem, **result)
    try:
        outcome = ensure(ClusterRequest.from_params(params), principals, params['state'], module.check_mode,
                         retire=params['retire'])
    except AclError as exc:
        module.fail_json(msg="%s: %s" % (host, exc), **result)
    # Ansible shows the diff with --diff only.
    result.update(changed=outcome.changed, created=[b.as_dict() for b in outcome.to_create],
                  deleted=[b.as_dict() for b in outcome.to_delete], retired=outcome.retired,
                  diff=outcome.diff())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
