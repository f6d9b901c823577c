# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the Molecule verify step (testinfra): the lab, its CA, client certificates.

Molecule runs these with `--connection=ansible --ansible-inventory=../../lab/run/inventory.yml`
(see molecule/*/molecule.yml). Standalone, as root, after `lab/labctl up` and a converge:

    .venv/bin/python -m pytest -p no:cacheprovider molecule/shared/tests
"""

from __future__ import annotations

import pytest

import kafkalab


def pytest_configure(config):
    # Standalone runs: testinfra's ansible backend reads the lab's inventory too.
    if getattr(config.option, 'ansible_inventory', None) is None and kafkalab.INVENTORY.is_file():
        config.option.ansible_inventory = str(kafkalab.INVENTORY)


def pytest_generate_tests(metafunc):
    """One check per lab host: kafka_host (brokers and controllers), controller_host, broker_host."""
    wanted = {'kafka_host': 'kafka_hosts', 'controller_host': 'controllers', 'broker_host': 'brokers'}
    for fixture, attr in wanted.items():
        if fixture in metafunc.fixturenames:
            hosts = getattr(kafkalab.Lab(), attr)
            assert hosts, 'the lab inventory %s has no %s' % (kafkalab.INVENTORY, attr)
            metafunc.parametrize(fixture, hosts, scope='session')


@pytest.fixture(scope='session')
def lab() -> kafkalab.Lab:
    return kafkalab.Lab()


@pytest.fixture(scope='session')
def ca(lab) -> kafkalab.CA:
    """The lab CA: certificate and key as they sit on the CA host (read as root)."""
    return kafkalab.find_ca(lab)


@pytest.fixture(scope='session')
def client(ca, tmp_path_factory) -> kafkalab.ClientPKI:
    """A client certificate issued by the lab CA (the way an operator would issue one)."""
    pem = ca.certificate.public_bytes(kafkalab.serialization.Encoding.PEM)
    return kafkalab.issue_client(tmp_path_factory.mktemp('client'), ca.certificate, ca.privatekey, pem,
                                 'molecule-client')


@pytest.fixture(scope='session')
def node_client(lab, ca, tmp_path_factory) -> kafkalab.ClientPKI:
    """A certificate with the CN of a Kafka node's own certificate (as the collection's tools connect - health
    gates, scram_users, cluster_health use the node's certificate): a super user, so it needs no ACL."""
    host = lab.kafka_hosts[0]
    node_cert = kafkalab.x509.load_pem_x509_certificate((lab.pki_dir(host) / ('%s.crt' % host)).read_bytes())
    common_name = node_cert.subject.get_attributes_for_oid(kafkalab.NameOID.COMMON_NAME)[0].value
    super_users = lab.server_properties(host).get('super.users', '').split(';')
    assert 'User:%s' % common_name in super_users, (common_name, super_users)
    pem = ca.certificate.public_bytes(kafkalab.serialization.Encoding.PEM)
    return kafkalab.issue_client(tmp_path_factory.mktemp('node-client'), ca.certificate, ca.privatekey, pem,
                                 common_name)


@pytest.fixture(scope='session')
def foreign_client(ca, tmp_path_factory) -> kafkalab.ClientPKI:
    """A client certificate from another CA, one that even has the lab CA's subject name.

    The client still trusts the lab CA, so only the broker's check of the client can refuse it."""
    other_cert, other_key = kafkalab.make_ca(ca.certificate.subject)
    pem = ca.certificate.public_bytes(kafkalab.serialization.Encoding.PEM)
    return kafkalab.issue_client(tmp_path_factory.mktemp('foreign'), other_cert, other_key, pem,
                                 'molecule-foreign-client')
