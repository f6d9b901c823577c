# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The worker's REST listener offers the brokers' cipher suites and no other (kafkasec_connect_ssl_cipher_suites
defaults to kafkasec_broker_ssl_cipher_suites): each TLS 1.2 suite OpenSSL knows is tried with openssl s_client
(with the bundle's client certificate, since the REST API requires one) against the REST listener and against
the broker's TLS listener; both accept the same ones, all of them the brokers' suites."""

from __future__ import annotations

import subprocess
import sys

import kafkalab

sys.path.insert(0, str(kafkalab.REPO / '.build' / 'collections'))
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import client_bundle  # noqa: E402  pylint: disable=wrong-import-position


def _tls12_suites():
    out = subprocess.run(['openssl', 'ciphers', '-tls1_2', 'ALL'], capture_output=True, text=True, check=True,
                         timeout=30).stdout.strip()
    return [name for name in out.split(':') if name and not name.startswith('TLS_')]


def _accepted(address, port, name, bundle, suites):
    accepted = []
    for suite in suites:
        run = kafkalab.s_client(address, port, name, bundle.pki.ca_file, bundle.pki, '-tls1_2', '-cipher', suite)
        if run.returncode == 0 and ('Cipher is %s' % suite) in run.stdout:
            accepted.append(suite)
    return accepted


def test_rest_listener_offers_the_brokers_suites_only(lab, worker, bundle):
    broker = lab.brokers[0]
    wanted = client_bundle.BROKER_TLS_DEFAULTS['cipher_suites']
    props = worker.properties
    for prefix in ('', 'producer.', 'consumer.', 'admin.', 'listeners.https.'):
        assert props[prefix + 'ssl.cipher.suites'] == ','.join(wanted), prefix
    allowed = set(client_bundle.openssl_cipher_list(wanted).split(':'))
    suites = _tls12_suites()
    rest = _accepted(worker.address, worker.rest_port, worker.host, bundle, suites)
    kafka = _accepted(lab.address(broker), lab.ssl_port(broker), broker, bundle, suites)
    assert rest and set(rest) <= allowed, (rest, allowed)
    assert rest == kafka, (rest, kafka)
    # A suite the JVM enables by default on TLS 1.2 (ECDHE with CBC) but the brokers' list leaves out.
    assert 'ECDHE-ECDSA-AES256-SHA384' not in rest and 'ECDHE-RSA-AES256-SHA384' not in rest
    # TLS 1.3 still answers with one of the listed TLS 1.3 suites.
    run = kafkalab.s_client(worker.address, worker.rest_port, worker.host, bundle.pki.ca_file, bundle.pki, '-tls1_3')
    assert run.returncode == 0 and 'TLSv1.3' in run.stdout, run.stdout[-1500:]
    assert any('Cipher is %s' % s in run.stdout for s in wanted if s in client_bundle.TLS13_SUITES), run.stdout[-1500:]
