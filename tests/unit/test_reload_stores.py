# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reload_stores module without a broker: what it would set, and bad input named before any
request. The live reload on a real broker is the Molecule scenario add_host (kafka-4's renewal)."""

from __future__ import annotations

from ansible_runner import run_module


def args(tmp_path, **extra):
    pem = tmp_path / 'x.pem'
    pem.write_text('x')
    return dict(bootstrap_servers=['kafka-4.example.com:9093'], ca_path=str(pem), cert_path=str(pem),
                key_path=str(pem), node_id=4, **extra)


def test_check_mode_names_the_dynamic_keys_and_sends_nothing(tmp_path):
    result = run_module('kafkasec.tls.reload_stores', args(tmp_path, keystore_path='/k.p12', truststore_path='/t.p12',
                                                            listener='INTERNAL'), check=True)
    assert result['changed'] and result['keys'] == ['listener.name.internal.ssl.keystore.location',
                                                   'listener.name.internal.ssl.truststore.location']


def test_a_store_is_required_and_bad_bootstrap_is_named(tmp_path):
    result = run_module('kafkasec.tls.reload_stores', args(tmp_path))
    assert result.get('failed') and 'keystore_path' in result['msg'] and 'truststore_path' in result['msg']
    bad = args(tmp_path, keystore_path='/k.p12')
    bad['bootstrap_servers'] = ['10.0.0.4:9093']
    result = run_module('kafkasec.tls.reload_stores', bad)
    assert result.get('failed') and 'IP address' in result['msg']
