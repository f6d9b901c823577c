# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reload_stores module without a broker: what it would set, and bad input named before any
request. The live reload on a real broker is the Molecule scenario add_host (kafka-4's renewal)."""

from __future__ import annotations

import pytest
from ansible_runner import run_module

from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.cluster import HealthError, wait_until_served


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


class FakeListener:
    """A listener that presents `old` for the first `lag` handshakes, then `new`; a fake clock."""

    def __init__(self, lag, old=b'old', new=b'new'):
        self.lag, self.old, self.new, self.now, self.calls = lag, old, new, 0.0, 0

    def fetch(self, host, port):
        self.calls += 1
        return self.old if self.calls <= self.lag else self.new

    def sleep(self, seconds):
        self.now += seconds


@pytest.mark.parametrize("lag, timeout, waited, calls", [
    (0, 30, 0.0, 1),      # applied before the answer reached us
    (3, 30, 1.5, 4),      # applied a moment later (seen on a loaded lab)
    (100, 30, None, 61),  # never applied: fails after the timeout, naming the address
])
def test_wait_until_served(lag, timeout, waited, calls):
    listener = FakeListener(lag)
    if waited is None:
        with pytest.raises(HealthError, match=r'kafka-1:9094 did not present the reloaded certificate within 30s'):
            wait_until_served('kafka-1', 9094, b'new', timeout, listener.fetch, clock=lambda: listener.now,
                              sleep=listener.sleep)
    else:
        assert wait_until_served('kafka-1', 9094, b'new', timeout, listener.fetch, clock=lambda: listener.now,
                                 sleep=listener.sleep) == waited
    assert listener.calls == calls


def test_no_handshake_is_named():
    listener = FakeListener(10 ** 6, old=None)
    with pytest.raises(HealthError, match='no TLS handshake completed'):
        wait_until_served('kafka-1', 9093, b'new', 2, listener.fetch, clock=lambda: listener.now, sleep=listener.sleep)
