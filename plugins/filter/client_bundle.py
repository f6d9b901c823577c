# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the client bundles (roles/client_bundle) and of the Connect role's cipher suites: thin
wrappers over plugins/module_utils/kafka/client_bundle.py, where the decisions and escaping live."""

from __future__ import annotations

import importlib

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _bundle():
    """module_utils/kafka/client_bundle.py, imported on first use (see kafkasec.py: Ansible loads every filter file
    of the collection in each worker process that looks up a kafkasec.tls filter)."""
    return importlib.import_module("ansible_collections.kafkasec.tls.plugins.module_utils.kafka.client_bundle")


def _brokers(brokers, what):
    if not isinstance(brokers, (list, tuple)) or [b for b in brokers if not isinstance(b, Mapping)]:
        raise AnsibleFilterError("%s: expected the brokers as a list of mappings (the host_fields filter's output)" % what)
    return list(brokers)


def kafka_broker_settings(hosts, hostvars):
    """The broker role's variables the brokers' clients must match, per broker host (None where unset)."""
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("kafka_broker_settings: expected a list of broker host names")
    try:
        return _bundle().broker_settings([str(h) for h in hosts], hostvars)
    except KeyError as exc:
        raise AnsibleFilterError("kafka_broker_settings: %s is not a host of the inventory" % exc)


def kafka_broker_tls(brokers):
    """The brokers' TLS protocols, cipher suites and SASL mechanisms (their role's defaults where unset)."""
    return _bundle().broker_tls(_brokers(brokers, "kafka_broker_tls"))


def sasl_bootstrap_servers(brokers):
    """<advertised host>:<SASL_SSL port> of each broker whose SASL_SSL listener is on."""
    return _bundle().sasl_bootstrap_servers(_brokers(brokers, "sasl_bootstrap_servers"))


def client_bundle_files(inputs):
    """One client bundle's files: {java: {key: value}, librdkafka: text, problems: [message]}."""
    if not isinstance(inputs, Mapping):
        raise AnsibleFilterError("client_bundle_files: expected a mapping of inputs")
    bundle = _bundle()
    try:
        return bundle.bundle_files(inputs)
    except bundle.ClientBundleError as exc:
        raise AnsibleFilterError("client_bundle_files: %s" % exc)


def client_bundle_plan(client):
    """What one client entry gets: {sasl, mechanism, scram, certificate, sasl_username, generate_password}."""
    if not isinstance(client, Mapping):
        raise AnsibleFilterError("client_bundle_plan: expected one entry of kafkasec_client_bundle_clients (a mapping)")
    return _bundle().client_plan(client)


def client_bundle_file_problems(clients, common):
    """Why the clients' files cannot be written (SASL settings, values librdkafka cannot carry, cipher suites)."""
    if not isinstance(common, Mapping):
        raise AnsibleFilterError("client_bundle_file_problems: expected the common settings as a mapping")
    return _bundle().clients_problems(clients, common)


class FilterModule(object):
    def filters(self):
        return {
            "kafka_broker_settings": kafka_broker_settings,
            "kafka_broker_tls": kafka_broker_tls,
            "sasl_bootstrap_servers": sasl_bootstrap_servers,
            "client_bundle_files": client_bundle_files,
            "client_bundle_file_problems": client_bundle_file_problems,
            "client_bundle_plan": client_bundle_plan,
        }
