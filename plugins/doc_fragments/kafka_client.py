# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # The Kafka client connection over mutual TLS of kafka_roundtrip, reload_stores, scram_users and kafka_acls
    # (argument spec: KAFKA_CLIENT_OPTIONS in plugins/module_utils/kafka/client_options.py).
    DOCUMENTATION = r'''
options:
  bootstrap_servers:
    description:
      - Brokers to bootstrap from, as C(host:port) of their TLS listener.
      - Host names, not addresses - librdkafka checks the broker's host name against the certificate's DNS
        SANs only and does not verify IP SANs. The brokers' advertised listeners must be names as well.
    type: list
    elements: str
    required: true
  ca_path:
    description: CA certificate(s) the brokers' chains lead to (PEM).
    type: path
    required: true
  cert_path:
    description:
      - Client certificate (PEM, leaf first). With an authorizer, its principal needs the ACLs the module's
        description names.
    type: path
    required: true
  key_path:
    description: Private key of O(cert_path) (PEM).
    type: path
    required: true
'''
