# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument spec of a Kafka client connection over mutual TLS, shared by modules.

Plain, typed Python with no Ansible imports. KAFKA_CLIENT_OPTIONS is what the
kafka_roundtrip, reload_stores, scram_users and kafka_acls modules take to connect
to the cluster: the brokers to bootstrap from, the CA and the client certificate and key,
all required. It is documented in the kafkasec.tls.kafka_client doc fragment; a
module adds it with AnsibleModule(argument_spec=dict(..., **KAFKA_CLIENT_OPTIONS)).

Options whose default, requirement or meaning differs between modules stay in the
module: key_passphrase, request_timeout, security_protocol, and cluster_health's
ca_path, cert_path and key_path (required only with security_protocol=SSL).
"""

from __future__ import annotations

from typing import Any, Dict

KAFKA_CLIENT_OPTIONS: Dict[str, Dict[str, Any]] = dict(
    bootstrap_servers=dict(type='list', elements='str', required=True),
    ca_path=dict(type='path', required=True),
    cert_path=dict(type='path', required=True),
    key_path=dict(type='path', required=True),
)
