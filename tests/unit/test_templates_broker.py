# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""templates/broker/server-ssl.yml.j2: the cipher suites a broker offers.

Without ssl.cipher.suites the JVM negotiates TLS_RSA_WITH_* (no forward secrecy) on TLS 1.2; the
security suite (tests/security) found a lab broker accepting AES128-GCM-SHA256. The role now sets
forward-secret suites only, the TLS 1.3 ones included (the JVM enables only the suites listed).
"""

from __future__ import annotations

import re

import yaml

from ansible_runner import REPO_ROOT
from template_render import render

FORWARD_SECRET = re.compile(r'^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256|ECDHE_(RSA|ECDSA)_WITH_[A-Z0-9_]+)$')
DEFAULTS = yaml.safe_load((REPO_ROOT / 'roles' / 'broker' / 'defaults' / 'main.yml').read_text())
SPECS = yaml.safe_load((REPO_ROOT / 'roles' / 'broker' / 'meta' / 'argument_specs.yml').read_text())


def broker_vars(**overrides):
    values = {
        'kafkasec_broker__listeners': ['SSL://127.0.0.1:9093', 'CONTROLLER://127.0.0.1:9094'],
        'kafkasec_broker__advertised_listeners': ['SSL://kafka-1.example.com:9093'],
        'kafkasec_broker__protocol_map': ['CONTROLLER:SSL', 'SSL:SSL'],
        'kafkasec_broker__inter_broker_name': 'SSL',
        'kafkasec_broker__controller_names': ['CONTROLLER'],
        'kafkasec_broker__voters': '1@kafka-1.example.com:9094',
        'kafkasec_broker__bootstrap_servers': '',
        'kafkasec_broker__keystore_type': 'pkcs12',
        'kafkasec_broker__keystore_path': '/etc/kafka/pki/keystore.p12',
        'kafkasec_broker__keystore_password': 'k-secret',
        'kafkasec_broker__key_password': '',
        'kafkasec_broker__truststore_type': 'pkcs12',
        'kafkasec_broker__truststore_path': '/etc/kafka/pki/truststore.p12',
        'kafkasec_broker__truststore_password': 't-secret',
        'kafkasec_broker_ssl_client_auth': 'required',
        'kafkasec_broker_ssl_enabled_protocols': ['TLSv1.3', 'TLSv1.2'],
        'kafkasec_broker_ssl_protocol': 'TLSv1.3',
        'kafkasec_broker_ssl_cipher_suites': DEFAULTS['kafkasec_broker_ssl_cipher_suites'],
        'kafkasec_broker_extra_properties': {},
    }
    values.update(overrides)
    return values


def test_default_cipher_suites_are_forward_secret_and_cover_both_protocols():
    suites = DEFAULTS['kafkasec_broker_ssl_cipher_suites']
    assert [s for s in suites if not FORWARD_SECRET.match(s)] == []
    assert any(s.startswith('TLS_AES_') for s in suites), 'no TLS 1.3 suite: TLSv1.3 would be disabled'
    assert any(s.startswith('TLS_ECDHE_RSA_') for s in suites), 'no TLS 1.2 suite for RSA keys (the default key type)'
    assert not any('_RSA_WITH_' in s and not s.startswith('TLS_ECDHE_') for s in suites)
    # The documented default is the default.
    spec = SPECS['argument_specs']['main']['options']['kafkasec_broker_ssl_cipher_suites']
    assert spec['default'] == suites


def test_server_ssl_template_sets_the_cipher_suites():
    out = render({'ssl': ('broker/server-ssl.yml.j2', True)}, broker_vars())['ssl']
    assert out['ssl.cipher.suites'] == ','.join(DEFAULTS['kafkasec_broker_ssl_cipher_suites'])
    assert 'TLS_RSA_WITH' not in out['ssl.cipher.suites']
    # An empty list removes the key (the JVM's defaults), as every empty value of the block does.
    empty = render({'ssl': ('broker/server-ssl.yml.j2', True)}, broker_vars(kafkasec_broker_ssl_cipher_suites=[]))['ssl']
    assert empty['ssl.cipher.suites'] == ''
