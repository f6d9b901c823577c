# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Promise: every listener refuses TLSv1.0/1.1 and cipher suites without forward secrecy, and where
client authentication is required (every listener, by default) refuses a client certificate from
another CA, an expired client certificate and no certificate.

openssl s_client against each node's SSL listener (9093) and controller listener (9094), verifying
the chain and the host name, sending a Kafka ApiVersions request: a refused client gets no answer.
Each refusal has its control: the same connection with the good certificate gets one.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from labkit import SSL_PORT, s_client  # pylint: disable=wrong-import-order

pytestmark = pytest.mark.lab

CONTROLLER_PORT = 9094


def listeners(site):
    out = []
    for h in site.kafka_hosts():
        props = (Path(h['root']) / 'etc' / 'server.properties').read_text()
        assert 'SSL://%s:%d' % (h['address'], SSL_PORT) in props and 'CONTROLLER://%s:%d' % (h['address'], CONTROLLER_PORT) in props
        out += [(h, SSL_PORT), (h, CONTROLLER_PORT)]
    return out


def answered(data: bytes) -> bool:
    return len(data) >= 8 and struct.unpack('>i', data[4:8])[0] == 4242


def ids(params):
    return ['%s:%d' % (h['name'], port) for h, port in params]


def test_good_client_is_answered_on_every_listener(tls):
    for h, port in listeners(tls):
        for version in ('-tls1_3', '-tls1_2'):
            _rc, data, err = s_client(tls, h, version, cert=tls.client_cert, port=port)
            assert answered(data), '%s:%d %s with a good client certificate got no answer:\n%s' % (h['name'], port, version, err)


@pytest.mark.parametrize('version', ['-tls1', '-tls1_1'])
def test_old_protocols_are_refused(tls, version):
    for h, port in listeners(tls):
        # SECLEVEL=0 lets this OpenSSL offer TLSv1.0/1.1 at all: the refusal must come from the broker.
        rc, data, err = s_client(tls, h, version, '-cipher', 'DEFAULT@SECLEVEL=0', cert=tls.client_cert, port=port)
        assert rc not in (None, 0) and not answered(data), '%s:%d accepted %s:\n%s' % (h['name'], port, version, err)
        assert 'alert protocol version' in err, err


@pytest.mark.parametrize('cipher', ['AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA256'])
def test_ciphers_without_forward_secrecy_are_refused(tls, cipher):
    for h, port in listeners(tls):
        # TLS 1.2 with RSA key exchange only (TLS_RSA_WITH_...): no ECDHE, no forward secrecy.
        rc, data, err = s_client(tls, h, '-tls1_2', '-cipher', cipher, cert=tls.client_cert, port=port)
        assert rc not in (None, 0) and not answered(data), '%s:%d accepted %s:\n%s' % (h['name'], port, cipher, err)
        assert 'handshake failure' in err or 'no shared cipher' in err, err
    # The control: the same listener with a forward-secret TLS 1.2 suite.
    h, port = listeners(tls)[0]
    _rc, data, err = s_client(tls, h, '-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256', cert=tls.client_cert, port=port)
    assert answered(data), err


@pytest.mark.parametrize('which', ['foreign', 'expired', 'none'])
def test_bad_client_certificates_are_refused(tls, which):
    cert = {'foreign': tls.foreign_cert, 'expired': tls.expired_cert, 'none': None}[which]
    props = (Path(tls.kafka_hosts()[0]['root']) / 'etc' / 'server.properties').read_text()
    assert 'ssl.client.auth=required\n' in props
    for h, port in listeners(tls):
        for version in ('-tls1_3', '-tls1_2'):
            rc, data, err = s_client(tls, h, version, cert=cert, port=port)
            assert not answered(data) and rc not in (None, 0), (
                '%s:%d %s answered a client with %s certificate:\n%s' % (h['name'], port, version, which, err))
            assert 'alert' in err, err
