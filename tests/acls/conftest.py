# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ACL suite: kafkasec.tls.kafka_acls against a real KRaft node with StandardAuthorizer. Run as root, on a
lab instance of its own:

    KAFKASEC_TEST_LAB_INSTANCE=N tests/lab_suites.sh acls

One combined KRaft node and the CA host: ACLs live in the cluster's metadata, one node keeps them as three
would. The `cluster` fixture rolls TLS out with site.yml, authorisation included as the broker role lays it out
by default (StandardAuthorizer, the CN mapping rule, super.users = the node's own principal plus
kafkasec_super_users, deny when no ACL matches), with the admin principal kafka_acls connects as declared in
kafkasec_super_users.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'unit'))

from labkit import SSL_PORT, Site, lab_session, make_client_cert  # noqa: E402  pylint: disable=wrong-import-position

AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'
ADMIN_CN = 'kafkasec-acl-admin'
CLIENT_CN = 'kafkasec-acl-client'


@dataclass
class AclCluster:
    site: Site
    bootstrap: str
    ca: Path
    certs: Dict[str, tuple]  # 'admin' / 'client' -> (certificate, key)

    clients: Optional[Dict[str, Any]] = None

    def admin_client(self, who: str = 'admin'):
        """One AdminClient per certificate, kept for the session (a client dropped early fails its futures)."""
        from confluent_kafka.admin import AdminClient
        if self.clients is None:
            self.clients = {}
        if who not in self.clients:
            crt, key = self.certs[who]
            self.clients[who] = AdminClient({
                'bootstrap.servers': self.bootstrap, 'security.protocol': 'SSL', 'ssl.ca.location': str(self.ca),
                'ssl.certificate.location': str(crt), 'ssl.key.location': str(key),
                'ssl.endpoint.identification.algorithm': 'https'})
        return self.clients[who]

    def module_args(self, principals: List[dict], **extra) -> dict:
        crt, key = self.certs['admin']
        args = dict(bootstrap_servers=[self.bootstrap], ca_path=str(self.ca), cert_path=str(crt), key_path=str(key),
                    hostname=self.site.kafka_hosts()[0]['name'], variable='kafkasec_acls', principals=principals)
        args.update(extra)
        return args


@pytest.fixture(scope='session')
def lab():
    yield from lab_session(brokers=1)


@pytest.fixture(scope='session')
def cluster(lab, tmp_path_factory) -> AclCluster:
    work = tmp_path_factory.mktemp('acls')
    site = Site(lab, work)
    node = site.kafka_hosts()[0]['name']
    rollout = site.run('-e', json.dumps({'kafkasec_super_users': ['User:%s' % ADMIN_CN]}))
    assert rollout.rc == 0, rollout.describe()
    site.refresh()
    properties = (Path(site.kafka_hosts()[0]['root']) / 'etc' / 'server.properties').read_text()
    assert 'authorizer.class.name=%s' % AUTHORIZER in properties
    supers = [line.split('=', 1)[1] for line in properties.splitlines() if line.startswith('super.users=')]
    # The node's own principal: its certificate's CN (the nodes share kafkasec_cert_node_common_name).
    node_cert = x509.load_pem_x509_certificate((Path(site.kafka_hosts()[0]['root']) / 'pki' / ('%s.crt' % node))
                                               .read_bytes())
    node_cn = node_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert [set(value.split(';')) for value in supers] == [{'User:%s' % node_cn, 'User:%s' % ADMIN_CN}], supers
    ca = work / 'ca.crt'
    ca.write_bytes(site.ca_file('ca.crt').read_bytes())
    certs = {'admin': make_client_cert(site, work, 'admin', common_name=ADMIN_CN),
             'client': make_client_cert(site, work, 'client', common_name=CLIENT_CN)}
    return AclCluster(site, '%s:%d' % (node, SSL_PORT), ca, certs)
