#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: cert_expiry
short_description: Read certificates from files and from TLS listeners and report the days they have left
version_added: 0.1.0
description:
  - Read only - the module opens files and TLS connections and changes nothing, so it runs in check mode too and
    always reports C(changed=false). Only certificates are parsed and reported (the PEM blocks of a PEM keystore other than
    its certificates are skipped); a PKCS12 or JKS keystore is opened as a whole by its parser, its key in memory
    too. No key or password is returned.
  - On a host, O(files) are read there - the first certificate of a PEM certificate file, every certificate of a
    CA file, the leaf of a keystore (PKCS12, PEM or JKS, opened with its password or password file; JKS needs the
    JDK's keytool), every trusted certificate of a truststore - and the client bundles below O(bundle_dirs)
    (C(<dir>/<name>/<name>.crt), as the client_bundle role writes them).
  - From where it runs (normally the control node), O(endpoints) are probed with the handshake of
    M(kafkasec.tls.tls_probe) - the certificate is read even when it does not verify (expired, another CA) and
    the chain and host name checks are kept in the row. The probes run a few at a time.
  - Every row (also the O(rows) read by other calls) is judged - C(expired), C(warn) (fewer days left than
    O(warn_days), or O(ca_warn_days) for a CA certificate), C(mismatch) (a listener serving another certificate
    than the keystore it reads - renewed on disk, not loaded by the JVM - or a keystore that does not hold the
    host's certificate file), C(error) (a file that cannot be read, a listener without a certificate), else C(ok).
  - The module fails only on bad options. What it finds is in RV(rows) and RV(alerts); the playbook
    C(playbooks/expiry.yml) prints RV(table), writes the rows as JSON and then fails when there are alerts.
options:
  host:
    description: The inventory name the rows of O(files) and O(bundle_dirs) carry.
    type: str
    required: true
  files:
    description: Files to read on the host the module runs on.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      kind:
        description:
          - C(certificate) - the first certificate of a PEM file. C(ca) - every certificate of a PEM file (a CA and
            its issuers). C(keystore) - the certificate of the key entry. C(truststore) - every trusted certificate.
        type: str
        choices: [certificate, ca, keystore, truststore]
        default: certificate
      what:
        description: The row's label (C(certificate), C(keystore), C(ca), ...); defaults to O(files[].kind).
        type: str
      type:
        description: File format; C(pkcs12) and C(jks) only with kind C(keystore) or C(truststore).
        type: str
        choices: [pem, pkcs12, jks]
        default: pem
      password:
        description: The store's password (PKCS12, JKS).
        type: str
      password_file:
        description: A file holding the store's password (the certificates role keeps it on the host), read when
          O(files[].password) is not given.
        type: path
      required:
        description: A missing file is an C(error) row; with V(false) it gives no row.
        type: bool
        default: true
  bundle_dirs:
    description: Directories of client bundles on the host the module runs on; a directory that does not exist
      gives no row.
    type: list
    elements: path
    default: []
  endpoints:
    description: TLS listeners to probe from the host the module runs on.
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description: The inventory host whose listener it is.
        type: str
        required: true
      port:
        description: TCP port.
        type: int
        required: true
      what:
        description: The row's label, for example C(SSL listener), C(controller listener), C(Connect REST API).
        type: str
        default: listener
      server_name:
        description: The name the certificate must be valid for, sent as SNI; defaults to O(endpoints[].host).
        type: str
      connect:
        description: Address or name to connect to; defaults to O(endpoints[].server_name).
        type: str
      payload:
        description: C(kafka) (an ApiVersions request after the handshake) for Kafka listeners, C(none) otherwise.
        type: str
        choices: [kafka, none]
        default: kafka
      keystore_path:
        description: The keystore the listener reads (a O(files) or O(rows) entry of the same host with what
          C(keystore)); the served certificate is compared with it.
        type: path
  ca_certificates:
    description:
      - CA certificates (PEM text) the listeners' chains are checked against, besides the CA certificates read from
        O(files). Without any, the listeners' certificates are still read and judged, and their rows say that the
        chain was not checked.
    type: list
    elements: str
    default: []
  client_cert_path:
    description: A client certificate (PEM) for listeners that require one in TLS 1.2. Without it the certificate is
      still read in TLS 1.3, where the server checks the client only after the handshake.
    type: path
  client_key_path:
    description: Key of O(client_cert_path).
    type: path
  rows:
    description: Rows returned by other calls of this module (other hosts' files), judged together with this
      call's own, so listeners are compared with the keystores they read.
    type: list
    elements: dict
    default: []
  unread_hosts:
    description:
      - Hosts of the play whose files could not be read (unreachable, a failed read); each becomes a row with status
        C(error), so a host is never a silent gap in the report.
    type: list
    elements: str
    default: []
  warn_days:
    description: A certificate with fewer days left is C(warn).
    type: int
    default: 30
  ca_warn_days:
    description: The same for CA certificates (a CA rotation takes longer than a renewal); defaults to O(warn_days).
    type: int
  timeout:
    description: Seconds for each connection of a probe.
    type: float
    default: 10
notes:
  - The rows' O(endpoints[].keystore_path) comparison needs the keystore's row in the same call (O(files) or O(rows)).
seealso:
  - module: kafkasec.tls.tls_probe
author:
  - kafkasec.tls developers (@kafkasec)
'''

EXAMPLES = r'''
- name: Read the host's certificate, keystore and truststore
  kafkasec.tls.cert_expiry:
    host: "{{ inventory_hostname }}"
    files:
      - {path: /etc/kafka/pki/kafka-1.example.com.crt, what: certificate}
      - path: /etc/kafka/pki/keystore.p12
        kind: keystore
        type: pkcs12
        password_file: /etc/kafka/pki/keystore.password
  register: files_read

- name: Probe the listeners from the control node and judge every row
  kafkasec.tls.cert_expiry:
    host: "{{ inventory_hostname }}"
    endpoints:
      - {host: kafka-1.example.com, port: 9093, what: SSL listener, keystore_path: /etc/kafka/pki/keystore.p12}
    ca_certificates: "{{ files_read.ca_pems }}"
    rows: "{{ files_read.rows }}"
    warn_days: 30
  delegate_to: localhost
  run_once: true
  register: report
'''

RETURN = r'''
rows:
  description: Every certificate seen (this call's and O(rows)), judged, sorted by host, source, what and place.
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The inventory host.
      type: str
    source:
      description: C(file) or C(listener).
      type: str
    what:
      description: What it is - ca, certificate, keystore, truststore, client bundle <name>, SSL listener and so on.
      type: str
    path:
      description: The file (source file).
      type: str
    endpoint:
      description: C(name:port) (source listener).
      type: str
    subject:
      description: Subject DN (RFC 4514).
      type: str
    issuer:
      description: Issuer DN (RFC 4514).
      type: str
    serial:
      description: Serial number in upper-case hex, as C(openssl x509 -serial) prints it.
      type: str
    sans:
      description: Subject alternative names, C(DNS:name) and C(IP:address).
      type: list
      elements: str
    not_before:
      description: Start of validity (ISO 8601 UTC).
      type: str
    not_after:
      description: End of validity (ISO 8601 UTC).
      type: str
    days_left:
      description: Whole days until not_after, negative when expired, null on error.
      type: int
    fingerprint_sha256:
      description: SHA-256 fingerprint.
      type: str
    is_ca:
      description: Whether it is a CA certificate (the CA threshold applies).
      type: bool
    status:
      description: One of C(ok), C(warn), C(expired), C(mismatch), C(error).
      type: str
    detail:
      description: Why the status is not ok; for a listener also chain or host name problems.
      type: str
alerts:
  description: The rows whose status is not C(ok).
  returned: always
  type: list
  elements: dict
table:
  description: The rows as a fixed-width table for people, then one line per alert.
  returned: always
  type: list
  elements: str
summary:
  description: One line - how many certificates per status, the thresholds, the soonest expiry.
  returned: always
  type: str
ca_pems:
  description: The CA certificates read from O(files) (public PEM), for a later call's O(ca_certificates).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kafkasec.tls.plugins.module_utils.common.fileio import FileError
from ansible_collections.kafkasec.tls.plugins.module_utils.common.module_glue import require_cryptography
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.probe import ProbeError, ProbeRequest, probe
from ansible_collections.kafkasec.tls.plugins.module_utils.pki import expiry
from ansible_collections.kafkasec.tls.plugins.module_utils.pki.core import PkiError, utcnow


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type='str', required=True),
            files=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                kind=dict(type='str', choices=list(expiry.FILE_KINDS), default='certificate'),
                what=dict(type='str'),
                type=dict(type='str', choices=['pem', 'pkcs12', 'jks'], default='pem'),
                password=dict(type='str', no_log=True),
                password_file=dict(type='path', no_log=False),
                required=dict(type='bool', default=True),
            )),
            bundle_dirs=dict(type='list', elements='path', default=[]),
            endpoints=dict(type='list', elements='dict', default=[], options=dict(
                host=dict(type='str', required=True),
                port=dict(type='int', required=True),
                what=dict(type='str', default='listener'),
                server_name=dict(type='str'),
                connect=dict(type='str'),
                payload=dict(type='str', choices=['kafka', 'none'], default='kafka'),
                keystore_path=dict(type='path'),
            )),
            ca_certificates=dict(type='list', elements='str', default=[]),
            client_cert_path=dict(type='path'),
            client_key_path=dict(type='path'),
            rows=dict(type='list', elements='dict', default=[]),
            unread_hosts=dict(type='list', elements='str', default=[]),
            warn_days=dict(type='int', default=30),
            ca_warn_days=dict(type='int'),
            timeout=dict(type='float', default=10),
        ),
        required_together=[('client_cert_path', 'client_key_path')],
        supports_check_mode=True,
    )
    require_cryptography(module)
    params = module.params
    now = utcnow()
    thresholds = expiry.Thresholds(params['warn_days'], params['warn_days'] if params['ca_warn_days'] is None
                                   else params['ca_warn_days'])
    ca_pems = {}
    rows = list(params['rows']) + expiry.unread_host_rows(params['unread_hosts'])
    try:
        specs = [expiry.FileSpec.from_params(f) for f in params['files']]
        for directory in params['bundle_dirs']:
            specs += expiry.bundle_specs(directory)
        for spec in specs:
            rows += expiry.read_file_rows(spec, params['host'], now, ca_pems)
        endpoints = [expiry.EndpointSpec.from_params(e) for e in params['endpoints']]
        rows += expiry.probe_rows(
            endpoints, list(params['ca_certificates']) + list(ca_pems.values()),
            lambda request: probe(ProbeRequest.from_params(request), now).as_dict(),
            params['client_cert_path'], params['client_key_path'], params['timeout'])
        judged = expiry.judge(rows, thresholds)
    except (expiry.ExpiryError, ProbeError, PkiError, FileError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, rows=judged, alerts=expiry.alerts(judged), table=expiry.table(judged),
                     summary=expiry.summary(judged, thresholds), ca_pems=sorted(ca_pems.values()))


if __name__ == '__main__':
    main()
