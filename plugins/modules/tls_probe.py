#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: tls_probe
short_description: Probe a TLS listener from the outside - handshake, chain, host name, expiry, client auth, old protocols
version_added: 0.1.0
description:
  - Connects to O(host):O(port) from where it runs (normally the control node, C(delegate_to=localhost)) and
    makes a real TLS handshake with Python's C(ssl) module - the server certificate must chain to O(ca_path)
    (C(CERT_REQUIRED)) and cover O(server_name) - then sends one small request (a Kafka ApiVersions request,
    see O(payload)) and reads the answer. The answer matters - in TLS 1.3 a server refuses a client
    certificate only after the handshake, with an alert on the client's first read.
  - Reports what the server presents - negotiated protocol and cipher, the certificate's subject, DNS and IP
    SANs, issuer, end of validity, days left, SHA-256 fingerprint, and the chain it sends. When the verified
    handshake fails, the certificate is still read (unverified) and reported, and the chain and the host name
    are checked separately, so the result says which of the two is wrong.
  - Optional checks - that a client without a certificate is refused (O(expect_client_auth_required), tried
    in TLS 1.3 and TLS 1.2 where the server speaks them), that old protocol versions are refused
    (O(refused_protocols)), that the certificate has O(min_days_left) days left, and that it is a given
    certificate (O(expected_fingerprint_sha256)).
  - Every check is listed in RV(checks). The task fails, naming host, port and the failed checks, when any
    check fails, unless O(fail_on_error=false).
  - Changes nothing, so it runs in check mode too and always reports C(changed=false).
options:
  host:
    description: Address or name to connect to.
    type: str
    required: true
  port:
    description: TCP port of the TLS listener. One of O(port) and O(ports) is required.
    type: int
  ports:
    description:
      - Several TLS listeners of O(host) (a node's SSL and controller listeners), probed in one call with the same
        options. RV(ok) holds when every port passed; RV(ports) has each port's result; RV(summary) and
        RV(failed_checks) name the ports that failed; the other fields are the first failing port's, else the
        first port's.
    type: list
    elements: int
  server_name:
    description:
      - The name the certificate must be valid for, also sent as SNI. Defaults to O(host).
      - Give the advertised host name here when O(host) is an address. An IP address here is checked against
        the certificate's IP SANs.
    type: str
  ca_path:
    description: CA certificate(s) the server's chain must lead to (PEM file on the host the module runs on).
    type: path
    required: true
  client_cert_path:
    description:
      - Client certificate (PEM, the leaf first, then its chain) for servers that require one. Also used for the
        O(refused_protocols) handshakes, so a server that would accept an old version is not mistaken for one
        that refuses it for the missing certificate.
    type: path
  client_key_path:
    description: Private key of O(client_cert_path) (PEM).
    type: path
  client_key_passphrase:
    description: Passphrase of O(client_key_path).
    type: str
  payload:
    description:
      - What to send after the handshake. V(kafka) sends a Kafka ApiVersions request, which every Kafka broker and
        controller answers before any authentication, and expects the answer. V(none) sends nothing and waits
        briefly for an alert or data (for listeners that are not Kafka).
    type: str
    choices: [kafka, none]
    default: kafka
  expect_client_auth_required:
    description:
      - Check that the server refuses a client without a certificate (Kafka's C(ssl.client.auth=required)). Tried
        with TLS 1.3 (refused by an alert after the handshake) and TLS 1.2 (refused in the handshake), each where
        the server speaks it.
    type: bool
    default: false
  refused_protocols:
    description:
      - Protocol versions the server must refuse. A handshake limited to each version must fail. The client side
        allows them for this (OpenSSL security level 0, lowered minimum version), so the refusal is the server's;
        if the local OpenSSL cannot offer a version at all, the check fails as not testable.
    type: list
    elements: str
    choices: [TLSv1, TLSv1.1, TLSv1.2, TLSv1.3]
    default: []
  min_days_left:
    description: Fail the C(expiry) check when the certificate ends in fewer days than this. Unset, only an expired
      certificate fails it.
    type: int
  expected_fingerprint_sha256:
    description: SHA-256 fingerprint the server's certificate must have (hex, colons optional), e.g.
      RV(kafkasec.tls.sign#module:fingerprint_sha256) after a renewal.
    type: str
  expected_certificate_path:
    description:
      - PEM file on the host the module runs on whose first certificate the server must serve (its SHA-256
        fingerprint is compared), e.g. the node's own certificate after a restart. Excludes
        O(expected_fingerprint_sha256).
    type: path
  timeout:
    description: Seconds for each TCP connect, handshake and read.
    type: float
    default: 10
  fail_on_error:
    description: Fail the task when a check fails. With V(false) the result carries RV(ok) and RV(failed_checks)
      for the playbook to act on.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Probes change nothing; the module runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing to show; the module changes nothing.
  platform:
    support: full
    platforms: posix
    description: Runs where the network view is wanted, normally the control node.
requirements:
  - cryptography >= 45.0 on the host the module runs on
notes:
  - Hostname verification follows RFC 6125 as OpenSSL does - subject alternative names only, one left-most
    wildcard label. Kafka's Java clients do the same with C(ssl.endpoint.identification.algorithm=https).
seealso:
  - module: kafkasec.tls.kafka_roundtrip
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Probe a broker's SSL listener from the control node
  kafkasec.tls.tls_probe:
    host: kafka-1.example.com
    port: 9093
    ca_path: ~/.cache/kafkasec/verify/prod/ca.pem
    client_cert_path: ~/.cache/kafkasec/verify/prod/client.crt
    client_key_path: ~/.cache/kafkasec/verify/prod/client.key
    expect_client_auth_required: true
    refused_protocols: [TLSv1, TLSv1.1]
    min_days_left: 30
  delegate_to: localhost
  register: probe

- name: Connect by address, verify the advertised name, and only report
  kafkasec.tls.tls_probe:
    host: 10.10.1.11
    port: 9093
    server_name: kafka-1.example.com
    ca_path: /etc/kafkasec/verify/ca.pem
    client_cert_path: /etc/kafkasec/verify/client.crt
    client_key_path: /etc/kafkasec/verify/client.key
    fail_on_error: false
  delegate_to: localhost
  register: probe
'''

RETURN = r'''
ok:
  description: Whether every check passed.
  returned: always
  type: bool
host:
  description: O(host).
  returned: always
  type: str
port:
  description: O(port) (with O(ports), the port the other fields describe).
  returned: always
  type: int
ports:
  description: With O(ports), each port's result, with the fields of a single-port call.
  returned: when ports is given
  type: list
  elements: dict
server_name:
  description: The name the certificate was checked against.
  returned: always
  type: str
protocol:
  description: Negotiated protocol version, e.g. C(TLSv1.3). Null when no handshake succeeded.
  returned: always
  type: str
  sample: TLSv1.3
cipher:
  description: Negotiated cipher suite.
  returned: always
  type: str
  sample: TLS_AES_256_GCM_SHA384
subject:
  description: Subject of the server's certificate (RFC 4514).
  returned: always
  type: str
  sample: CN=kafka-1.example.com,OU=Streaming,O=Example Corp
issuer:
  description: Issuer of the server's certificate (RFC 4514).
  returned: always
  type: str
dns_names:
  description: DNS subject alternative names of the server's certificate.
  returned: always
  type: list
  elements: str
ip_addresses:
  description: IP subject alternative names of the server's certificate.
  returned: always
  type: list
  elements: str
not_before:
  description: Start of validity (ISO 8601, UTC).
  returned: always
  type: str
not_after:
  description: End of validity (ISO 8601, UTC).
  returned: always
  type: str
days_left:
  description: Whole days until RV(not_after); negative when expired.
  returned: always
  type: int
fingerprint_sha256:
  description: SHA-256 fingerprint of the server's certificate (colon-separated hex).
  returned: always
  type: str
serial:
  description: Serial number of the server's certificate.
  returned: always
  type: int
chain_length:
  description: Number of certificates the server sent (leaf included). Null where Python cannot tell (before 3.10).
  returned: always
  type: int
chain_subjects:
  description: Subjects of the certificates the server sent, leaf first.
  returned: always
  type: list
  elements: str
client_auth_required:
  description: Whether clients without a certificate are refused; null when not checked or not testable.
  returned: always
  type: bool
refused_protocols:
  description: For each version of O(refused_protocols), whether the server refused it (null when not testable).
  returned: always
  type: dict
  sample: {"TLSv1": true, "TLSv1.1": true}
checks:
  description: Every check made, in order.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: >-
        C(connect), C(handshake), C(certificate_chain), C(hostname), C(certificate), C(expiry), C(fingerprint),
        C(client_auth_required), or C(refuses_<version>).
      type: str
    ok:
      description: Whether it passed.
      type: bool
    detail:
      description: What was seen.
      type: str
failed_checks:
  description: Names of the checks that failed.
  returned: always
  type: list
  elements: str
summary:
  description: One line naming host, port and the failed checks (with their details), or that all passed.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.common.module_glue import require_cryptography
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import PkiError
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.probe import ProbeError, ProbeRequest, probe, probe_ports


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type='str', required=True),
            port=dict(type='int'),
            ports=dict(type='list', elements='int'),
            server_name=dict(type='str'),
            ca_path=dict(type='path', required=True),
            client_cert_path=dict(type='path'),
            client_key_path=dict(type='path'),
            client_key_passphrase=dict(type='str', no_log=True),
            payload=dict(type='str', choices=['kafka', 'none'], default='kafka'),
            expect_client_auth_required=dict(type='bool', default=False),
            refused_protocols=dict(type='list', elements='str', choices=['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'],
                                   default=[]),
            min_days_left=dict(type='int'),
            expected_fingerprint_sha256=dict(type='str'),
            expected_certificate_path=dict(type='path'),
            timeout=dict(type='float', default=10),
            fail_on_error=dict(type='bool', default=True),
        ),
        required_together=[('client_cert_path', 'client_key_path')],
        required_one_of=[('port', 'ports')],
        mutually_exclusive=[('expected_fingerprint_sha256', 'expected_certificate_path'), ('port', 'ports')],
        supports_check_mode=True,
    )
    require_cryptography(module)
    params = module.params
    ports = params['ports']
    try:
        request = ProbeRequest.from_params(dict(params, port=params['port'] if ports is None else (ports or [0])[0]))
        outcome = probe(request).as_dict() if ports is None else probe_ports(request, ports)
    except (ProbeError, PkiError) as exc:
        module.fail_json(msg=str(exc))
    if not outcome['ok'] and params['fail_on_error']:
        module.fail_json(msg=outcome['summary'], changed=False, **outcome)
    module.exit_json(changed=False, **outcome)


if __name__ == '__main__':
    main()
