# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for writing Kafka configuration: Java properties escaping, JAAS quoting, SAN lists,
SASL login entries, bootstrap checks, Java argument files and systemd environment files.

The documentation of each filter is in the ``<filter name>.yml`` file next to this one.
"""

from __future__ import annotations

import importlib
import ipaddress
import re

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# The module_utils each filter needs are imported when the filter first runs, not when this file loads:
# Ansible loads a collection's filter files in every worker process it forks (one per host and task) that
# looks a kafkasec.tls filter up, and importing them all there cost about 0.1 s of the control node's CPU
# per host and task (docs/benchmarks.md, "Where a rerun's time goes").
_UTILS = "ansible_collections.kafkasec.tls.plugins.module_utils."


def _utils(name):
    """module_utils/<name> (dotted, e.g. "kafka.roll"), imported on first use."""
    return importlib.import_module(_UTILS + name)


JAAS_FLAGS = ("required", "requisite", "sufficient", "optional")

# A token that java.io.StreamTokenizer, as set up by Kafka's JaasConfig and by
# the JDK's ConfigFile, reads as one word: it starts with a letter, "_" or "$"
# and goes on with letters, digits, ".", "_", "$" or "-". Anything else is quoted.
_JAAS_WORD = re.compile(r"\A[A-Za-z_$][A-Za-z0-9_$.\-]*\Z")
_CLASS_NAME = re.compile(r"\A[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*\Z")
_DNS_NAME = re.compile(r"\A(?:\*\.)?[A-Za-z0-9_](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_])?\.?\Z")


def _text(value, what):
    props = _utils("config.properties")
    try:
        return props.to_java_string(value)
    except props.PropertiesError as exc:
        raise AnsibleFilterError("%s: %s" % (what, exc))


def java_properties_escape(value, store_compatible=False):
    """Escape a value for the right-hand side of ``key=value`` in a .properties file."""
    props = _utils("config.properties")
    return props.escape_value(_text(value, "java_properties_escape"), store_compatible=bool(store_compatible))


def java_properties_key_escape(key):
    """Escape a key for the left-hand side of ``key=value`` in a .properties file."""
    return _utils("config.properties").escape_key(_text(key, "java_properties_key_escape"))


def jaas_quote(value, jaas_file=False):
    """Quote a JAAS option value as a StreamTokenizer double-quoted string.

    Inside quotes, java.io.StreamTokenizer reads ``\\`` as an escape (``\\"``,
    ``\\\\``, ``\\n``, ``\\r``, ``\\t``, octal ``\\ooo``) and ends the string
    at an unescaped ``"``, CR or LF. Everything else (``;``, ``=``, spaces,
    ``'``, ``/``, non-ASCII) is literal between quotes.
    """
    text = _text(value, "jaas_quote")
    if jaas_file and "${" in text:
        raise AnsibleFilterError(
            "jaas_quote: the value contains '${', which the JDK's JAAS file parser "
            "(sun.security.provider.ConfigFile) expands as a system property and "
            "which no quoting can prevent; choose another value")
    return _utils("kafka.client_bundle").jaas_quote(text)


def _jaas_key(key):
    text = _text(key, "jaas_config option name")
    if not text:
        raise AnsibleFilterError("jaas_config: an option name cannot be empty")
    return text if _JAAS_WORD.match(text) else jaas_quote(text)


def jaas_config(login_module, flag="required", options=None, jaas_file=False):
    """One JAAS login module entry: ``<class> <flag> key="value" ...;``."""
    module_name = _text(login_module, "jaas_config login module")
    if not _CLASS_NAME.match(module_name):
        raise AnsibleFilterError("jaas_config: %r is not a Java class name" % module_name)
    flag_text = _text(flag, "jaas_config flag").lower()
    if flag_text not in JAAS_FLAGS:
        raise AnsibleFilterError(
            "jaas_config: flag must be one of %s, not %r" % (", ".join(JAAS_FLAGS), flag_text))
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise AnsibleFilterError("jaas_config: options must be a mapping of option name to value")
    parts = [module_name, flag_text]
    for key, value in options.items():
        if value is None:
            raise AnsibleFilterError("jaas_config: option %r has no value" % (key,))
        parts.append("%s=%s" % (_jaas_key(key), jaas_quote(value, jaas_file=jaas_file)))
    return " ".join(parts) + ";"


def _san(item):
    text = _text(item, "san_list").strip()
    if not text:
        raise AnsibleFilterError("san_list: empty entry")
    prefix, sep, rest = text.partition(":")
    kind = prefix.upper() if sep else ""
    if kind in ("DNS", "IP"):
        text = rest.strip()
    else:
        kind = ""
    candidate = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if kind in ("", "IP"):
        try:
            return "IP:" + ipaddress.ip_address(candidate).compressed, None
        except ValueError:
            if kind == "IP":
                raise AnsibleFilterError("san_list: %r is not an IP address" % text)
    if not _DNS_NAME.match(text) or ".." in text:
        raise AnsibleFilterError("san_list: %r is neither an IP address nor a DNS name" % text)
    return "DNS:" + text, text.lower().rstrip(".")


def san_list(items, as_list=False):
    """DNS names and IP addresses as an X.509 subjectAltName list: ``DNS:a,IP:1.2.3.4``."""
    if isinstance(items, str):
        items = [part for part in items.split(",") if part.strip()]
    elif not isinstance(items, (list, tuple)):
        raise AnsibleFilterError("san_list: expected a list of names and addresses")
    result = []
    seen = set()
    for item in items:
        entry, dns_key = _san(item)
        key = ("DNS", dns_key) if dns_key is not None else ("IP", entry)
        if key not in seen:
            seen.add(key)
            result.append(entry)
    return result if as_list else ",".join(result)


def java_properties_parse(text):
    """A Java properties text -> {key: value}, as java.util.Properties reads it (last key wins)."""
    props = _utils("config.properties")
    try:
        return props.load(_text(text, "java_properties_parse input"))
    except props.PropertiesError as exc:
        raise AnsibleFilterError("java_properties_parse: %s" % exc)


def kafka_listeners(value):
    """Kafka's listeners value -> {NAME: {host, port}}."""
    roll = _utils("kafka.roll")
    try:
        return roll.parse_listeners(_text(value or "", "kafka_listeners input"))
    except roll.RollError as exc:
        raise AnsibleFilterError("kafka_listeners: %s" % exc)


def kafka_node_facts(props):
    """A KRaft node's server.properties (as a dict) -> what a rolling restart needs (see roll.node_facts)."""
    if not isinstance(props, Mapping):
        raise AnsibleFilterError("kafka_node_facts: expected a dictionary of properties, got %s" % type(props).__name__)
    roll = _utils("kafka.roll")
    try:
        return roll.node_facts(props)
    except roll.RollError as exc:
        raise AnsibleFilterError("kafka_node_facts: %s" % exc)


def kafka_quorum_leader(states):
    """The active controller's node id from the controllers' quorum-state files (None when unknown)."""
    return _utils("kafka.roll").quorum_leader(list(states or []))


def kafka_restart_plan(hosts, queries, zookeeper_controller_id=None, force=False, check_mode=False):
    """Order, strategy (rolling or together) and the hosts to restart (module_utils/kafka/roll.py), with the
    message the order step prints."""
    roll = _utils("kafka.roll")
    plan = roll.restart_plan(list(hosts or []), dict(queries or {}), zookeeper_controller_id=zookeeper_controller_id,
                             force=bool(force))
    plan["message"] = roll.restart_plan_message(plan, bool(check_mode))
    return plan


def zookeeper_roll_plan(hosts, statuses, step=3, quorum_tls=True):
    """The ZooKeeper servers' roll: the leader last, the quorum TLS step's floor and targets, the problems
    (module_utils/kafka/zookeeper_plan.py roll_plan), from each server's status step."""
    return _utils("kafka.zookeeper_plan").roll_plan(list(hosts or []), dict(statuses or {}), step=int(step),
                                                    quorum_tls=bool(quorum_tls))


def kafka_roll_order(hosts, controllers=(), leader=None):
    """Broker-only nodes, then controllers, the active controller last."""
    return _utils("kafka.roll").roll_order(list(hosts or []), list(controllers or []), leader or None)


def sasl_login_module(mechanism, variable="mechanism"):
    """The JAAS login module class of a SASL mechanism; an unknown one is an error naming ``variable``."""
    sasl = _utils("kafka.sasl")
    try:
        return sasl.login_module(mechanism, variable)
    except sasl.SaslError as exc:
        raise AnsibleFilterError(str(exc))


def jaas_users(users, variable="users"):
    """``{name: password}`` as ``{"user_<name>": password}`` login module options."""
    sasl = _utils("kafka.sasl")
    try:
        return sasl.user_options(users, variable)
    except sasl.SaslError as exc:
        raise AnsibleFilterError(str(exc))


def jaas_sasl(mechanism, username, password, users=None, jaas_file=False, variable="mechanism",
              users_variable="users", login=True):
    """The JAAS entry of a SASL mechanism's login module: ``<class> required username=... password=...;``.

    ``login=False``: a listener's server side without a login of its own (see sasl.sasl_options).
    """
    sasl = _utils("kafka.sasl")
    try:
        module_name = sasl.login_module(mechanism, variable)
        options = sasl.sasl_options(mechanism, username, password, users, variable, users_variable, login=bool(login))
    except sasl.SaslError as exc:
        raise AnsibleFilterError(str(exc))
    return jaas_config(module_name, "required", options, jaas_file=jaas_file)


def bootstrap_tls_problems(servers, broker_hosts, hostvars, variable="bootstrap_servers"):
    """Bootstrap endpoints that name an inventory broker on a port other than its TLS listener."""
    endpoints_utils = _utils("kafka.endpoints")
    try:
        endpoints = endpoints_utils.parse_bootstrap_servers(servers, variable)
    except endpoints_utils.EndpointError as exc:
        raise AnsibleFilterError(str(exc))
    brokers = [endpoints_utils.broker_listeners(str(host), hostvars[host]) for host in (broker_hosts or [])]
    return ["%s: %s" % (variable, problem) for problem in endpoints_utils.non_tls_endpoints(endpoints, brokers)]


def inventory_bootstrap_servers(broker_hosts, hostvars):
    """``<advertised name>:<TLS port>`` of each inventory broker, as the kafkasec.tls.broker role sets them up."""
    endpoints_utils = _utils("kafka.endpoints")
    return endpoints_utils.bootstrap_servers(endpoints_utils.broker_listeners(str(host), hostvars[host])
                                             for host in (broker_hosts or []))


def kafka_node_identities(hosts, hostvars):
    """The Kafka nodes' certificate subjects ({host, common_name, subject}) from the inventory, for super.users."""
    return _utils("kafka.principals").inventory_identities([str(h) for h in (hosts or [])], hostvars)


def kafka_principal_refusals(hosts, hostvars, own_host=None, shared=None, rules=None, super_users=None):
    """What signing a certificate for ``own_host`` must refuse: {rules, refused: {principal: whose}, problems}."""
    principals = _utils("kafka.principals")
    return principals.refusal_list(hosts or [], hostvars, own_host=own_host or None,
                                   shared=[] if shared is None else shared, rules=rules,
                                   declared=[] if super_users is None else super_users)


def host_fields(hosts, hostvars, fields, rename=None):
    """[{name, <field>: value}] for each host: each of ``fields`` ({variable: default}) from the host's variables,
    the default when the host does not set it; ``rename`` ({variable: key}) names a field differently. Data, not
    text a template renders and parses back (ansible-core 2.19 no longer turns such text into data)."""
    if not isinstance(fields, Mapping):
        raise AnsibleFilterError("host_fields: fields must be a mapping of variable name to default")
    rename = rename if isinstance(rename, Mapping) else {}
    out = []
    for host in hosts or []:
        host_vars = hostvars[host]
        item = {"name": host}
        for variable, default in fields.items():
            item[rename.get(variable, variable)] = host_vars[variable] if variable in host_vars else default
        out.append(item)
    return out


def jmx_users_with_passwords(users, generated_results):
    """The JMX users, each with its password: its own or the one generated on the credentials host."""
    passwords = _utils("jmx.passwords")
    try:
        return passwords.with_generated([u for u in users or [] if isinstance(u, Mapping)],
                                        [r for r in generated_results or [] if isinstance(r, Mapping)])
    except passwords.MissingPassword as exc:
        raise AnsibleFilterError(str(exc))


def jmx_bundle_files(users, service_urls, rendered):
    """The JMX bundle's text files ([{name, mode, content}]) from the users, the service URLs and rendered files."""
    return _utils("jmx.bundle").bundle_files([u for u in users or [] if isinstance(u, Mapping)],
                                             [str(u) for u in service_urls or []], dict(rendered or {}))


def jmx_service_defaults(service, host_vars):
    """The jmx role's per-service defaults of one host (jmx/plan.py service_defaults)."""
    jmx_plan = _utils("jmx.plan")
    try:
        return jmx_plan.service_defaults(str(service), dict(host_vars or {}))
    except jmx_plan.UnknownService as exc:
        raise AnsibleFilterError(str(exc))


def jmx_service_of_groups(group_names):
    """The service whose JMX port a host of these groups has: kafka, connect, zookeeper or '' (jmx/plan.py)."""
    return _utils("jmx.plan").service_of_groups([str(g) for g in group_names or []]) or ''


def jmx_verify_wanted(setting, env_file_exists):
    """Whether verify.yml checks this host's JMX port (kafkasec_jmx_verify, jmx/plan.py verify_wanted)."""
    try:
        return _utils("jmx.plan").verify_wanted(setting, bool(env_file_exists))
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


def kafka_nodes(groups):
    """The Kafka nodes: hosts of groups kafka_broker and kafka_controller, each once, in inventory order."""
    return _utils("kafka.principals").kafka_node_hosts(groups if isinstance(groups, Mapping) else {})


def backup_call_needed(plan_backup, run_results, closing=False):
    """Whether the broker role's backup task must call the host (common/backups.py backup_call_needed)."""
    return _utils("common.backups").backup_call_needed(
        plan_backup if isinstance(plan_backup, Mapping) else None,
        [r if isinstance(r, Mapping) else None for r in (run_results or [])], bool(closing))


# What the broker role's backup task reads to decide (roles/broker/vars/main.yml
# kafkasec_broker__backup_call_needed): the plan call's answer, and the results this run registered
# for the calls that write the set's files. tests/unit/test_backups.py keeps the two lists in step.
BACKUP_PLAN_VARIABLE = "kafkasec_broker__node"
BACKUP_RESULT_VARIABLES = ("kafkasec_certificates__request", "kafkasec_pki", "kafkasec_broker__config")


def backup_hosts(hosts, hostvars, closing=False):
    """The hosts among ``hosts`` whose backup task may call the host (backup_call_needed, on each host's
    registered results in ``hostvars``), in their order: a backup play over them evaluates nothing on a
    host that needs no set. The task's own condition stays the authority."""
    chosen = []
    for host in hosts or []:
        try:
            variables = hostvars[host]
        except (KeyError, TypeError):
            variables = None
        if not isinstance(variables, Mapping):
            variables = {}  # an unknown host: nothing registered, so the rule keeps it
        node = variables.get(BACKUP_PLAN_VARIABLE)
        # backup_call_needed (the filter above) turns anything that is not a mapping into "not registered".
        if backup_call_needed(node.get("backup") if isinstance(node, Mapping) else None,
                              [variables.get(name) for name in BACKUP_RESULT_VARIABLES], closing):
            chosen.append(host)
    return chosen


def backup_before_option(plan, stamp):
    """host_pki's backup option for the request call: the set before the run, or {} (common/backups.py)."""
    plan = plan if isinstance(plan, Mapping) else {}
    return _utils("common.backups").before_set_option(plan.get("backup"), stamp)


def backup_closing_option(plan, stamp, earlier_results=()):
    """broker_config's closing_backup option for the merge: the closing set, or {} (common/backups.py)."""
    plan = plan if isinstance(plan, Mapping) else {}
    return _utils("common.backups").closing_set_option(plan.get("backup"), stamp, list(earlier_results or []))


def tags_selected(task_tags, run_tags, skip_tags=()):
    """Whether a task with these tags runs under --tags / --skip-tags (common/tags.py, Ansible's rule)."""
    return _utils("common.tags").tags_selected(task_tags or [], run_tags or [], skip_tags or [])


def backup_run_stamps(now):
    """{before, after}: the stamps of a run's first and closing backup sets, from its start time (common/backups.py)."""
    backups = _utils("common.backups")
    try:
        return backups.run_stamps(now)
    except backups.BackupError as exc:
        raise AnsibleFilterError(str(exc))


def kafka_cert_principal(certificate_pem, rules=None):
    """The principal a listener with these ssl.principal.mapping.rules gives a client presenting the certificate."""
    return _utils("kafka.principals").certificate_principal(certificate_pem, rules)


def kafka_listener_principals(listeners, labels, certificate_pems, rules=None):
    """Per listener and certificate: which principal the certificate maps to there (lines for verify.yml)."""
    principals = _utils("kafka.principals")
    try:
        return principals.listener_principal_lines(listeners or [], list(labels or []), list(certificate_pems or []),
                                                   rules)
    except principals.PrincipalError as exc:
        raise AnsibleFilterError("kafka_listener_principals: %s" % exc)


def client_bundle_problems(clients, refusal, variable="kafkasec_client_bundle_clients"):
    """Why the client bundles cannot be issued (names, uniqueness, impersonation): a list of messages."""
    return _utils("kafka.principals").client_problems(clients, refusal if isinstance(refusal, Mapping) else {}, variable)


def client_dns_names(client):
    """A client bundle item's DNS SANs: its dns_names, else its name when that is a DNS name, else none."""
    if not isinstance(client, Mapping):
        raise AnsibleFilterError("client_dns_names: expected a client (a mapping with name), not %r" % (client,))
    return _utils("common.names").client_dns_names(str(client.get("name", "")), client.get("dns_names") or None)


def java_argfile_quote(value, what="value"):
    """One token of a ``java @argfile``, read back by the launcher exactly."""
    jvm_args = _utils("kafka.jvm_args")
    try:
        return jvm_args.argfile_quote(_text(value, "java_argfile_quote"), what)
    except jvm_args.JvmArgsError as exc:
        raise AnsibleFilterError("java_argfile_quote: %s" % exc)


def env_file_quote(value, what="value"):
    """A double-quoted value for a systemd ``EnvironmentFile`` line; unsafe characters are an error."""
    jvm_args = _utils("kafka.jvm_args")
    try:
        return jvm_args.env_quote(_text(value, "env_file_quote"), what)
    except jvm_args.JvmArgsError as exc:
        raise AnsibleFilterError("env_file_quote: %s" % exc)


def scram_user_problems(*args, **kwargs):
    """Why the SCRAM users cannot be kept (kafka/scram_input.py scram_user_problems): a list of messages."""
    return _utils("kafka.scram_input").scram_user_problems(*args, **kwargs)


def store_settings(pki):
    """A host's PKI facts -> the stores as Kafka spells them (types upper-case, passwords per type)."""
    if not isinstance(pki, Mapping):
        raise AnsibleFilterError("store_settings: expected the PKI facts as a mapping")
    try:
        return _utils("kafka.store_settings").store_settings(pki)
    except ValueError as exc:
        raise AnsibleFilterError("store_settings: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {
            "java_properties_escape": java_properties_escape,
            "java_properties_key_escape": java_properties_key_escape,
            "jaas_quote": jaas_quote,
            "jaas_config": jaas_config,
            "san_list": san_list,
            "java_properties_parse": java_properties_parse,
            "kafka_listeners": kafka_listeners,
            "kafka_node_facts": kafka_node_facts,
            "kafka_quorum_leader": kafka_quorum_leader,
            "kafka_roll_order": kafka_roll_order,
            "kafka_restart_plan": kafka_restart_plan,
            "zookeeper_roll_plan": zookeeper_roll_plan,
            "sasl_login_module": sasl_login_module,
            "jaas_users": jaas_users,
            "jaas_sasl": jaas_sasl,
            "scram_user_problems": scram_user_problems,
            "bootstrap_tls_problems": bootstrap_tls_problems,
            "inventory_bootstrap_servers": inventory_bootstrap_servers,
            "java_argfile_quote": java_argfile_quote,
            "env_file_quote": env_file_quote,
            "store_settings": store_settings,
            "kafka_node_identities": kafka_node_identities,
            "kafka_principal_refusals": kafka_principal_refusals,
            "client_bundle_problems": client_bundle_problems,
            "kafka_cert_principal": kafka_cert_principal,
            "kafka_nodes": kafka_nodes,
            "host_fields": host_fields,
            "jmx_users_with_passwords": jmx_users_with_passwords,
            "jmx_bundle_files": jmx_bundle_files,
            "jmx_service_defaults": jmx_service_defaults,
            "jmx_service_of_groups": jmx_service_of_groups,
            "jmx_verify_wanted": jmx_verify_wanted,
            "backup_before_option": backup_before_option,
            "backup_call_needed": backup_call_needed,
            "backup_closing_option": backup_closing_option,
            "backup_hosts": backup_hosts,
            "backup_run_stamps": backup_run_stamps,
            "tags_selected": tags_selected,
            "kafka_listener_principals": kafka_listener_principals,
            "client_dns_names": client_dns_names,
        }
