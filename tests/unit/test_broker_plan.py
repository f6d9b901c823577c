# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node planner (plugins/module_utils/kafka/broker_plan.py), table by table.

The golden table (tests/unit/golden/broker_plans.json) was recorded from the Jinja implementation the
planner replaced (roles/broker/vars/main.yml and templates/broker/*.yml.j2 before 0.2.0) by
tests/unit/golden/make_broker_golden.py: 94 cases of current file x settings. The planner must give
the same keys, the same values and the same decisions for every one of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import broker_plan as bp
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import principals
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.store_settings import store_settings
from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load

from ansible_runner import COLLECTIONS_PATH, REPO_ROOT, ensure_collection_link

GOLDEN = json.loads((REPO_ROOT / "tests" / "unit" / "golden" / "broker_plans.json").read_text())
DEFAULTS = yaml.safe_load((REPO_ROOT / "roles" / "broker" / "defaults" / "main.yml").read_text())
PLANNED_KEYS = {
    "listeners": lambda v: ",".join(v["listeners"]),
    "advertised.listeners": lambda v: ",".join(v["advertised_listeners"]),
    "listener.security.protocol.map": lambda v: ",".join(v["protocol_map"]),
    "inter.broker.listener.name": lambda v: v["inter_broker_listener_name"],
    "controller.listener.names": lambda v: ",".join(v["controller_listener_names"]),
    "controller.quorum.voters": lambda v: v["quorum_voters"],
    "controller.quorum.bootstrap.servers": lambda v: v["quorum_bootstrap_servers"],
}


def role_vars(case):
    """The role's variables for a golden case: the defaults, then the case's own."""
    values = {k: v for k, v in DEFAULTS.items() if not (isinstance(v, str) and "{{" in v)}
    values.update(case["vars"])
    return values


def kafka_nodes_of(case):
    """The case's Kafka nodes (groups kafka_broker and kafka_controller) as the role hands them over."""
    hosts = list(dict.fromkeys(case["groups"].get("kafka_broker", []) + case["groups"].get("kafka_controller", [])))
    return [dict(host=h, common_name=case["hostvars"].get(h, {}).get("kafkasec_cert_common_name", h),
                 subject=case["hostvars"].get(h, {}).get("kafkasec_cert_subject", {})) for h in hosts]


def settings_params(case, **overrides):
    """The case's settings as the role hands them to kafkasec.tls.broker_config (option settings)."""
    v = role_vars(case)
    host = case["hostname"]
    dns = v.get("kafkasec_cert_dns_names", [host] + list(v.get("kafkasec_cert_extra_dns_names", [])))
    ensemble = [dict(name=h, advertised=case["hostvars"].get(h, {}).get("kafkasec_zookeeper_advertised_host", ""),
                     port=case["hostvars"].get(h, {}).get("kafkasec_zookeeper_secure_client_port", ""))
                for h in case["groups"].get("zookeeper", [])]
    params = dict(
        hostname=host, advertised_host=v.get("kafkasec_broker_advertised_host", host),
        metadata_mode=v["kafkasec_broker_metadata_mode"], listen_address=v.get("kafkasec_broker_listen_address"),
        ssl_listener_name=v["kafkasec_broker_ssl_listener_name"], ssl_port=v["kafkasec_broker_ssl_port"],
        controller_listener_name=v["kafkasec_broker_controller_listener_name"],
        controller_port=v["kafkasec_broker_controller_port"], keep_plaintext=v["kafkasec_broker_keep_plaintext"],
        plaintext_port=v["kafkasec_broker_plaintext_port"], ssl_client_auth=v["kafkasec_broker_ssl_client_auth"],
        ssl_enabled_protocols=v["kafkasec_broker_ssl_enabled_protocols"], ssl_protocol=v["kafkasec_broker_ssl_protocol"],
        ssl_cipher_suites=v["kafkasec_broker_ssl_cipher_suites"], sasl_enabled=v["kafkasec_broker_sasl_enabled"],
        sasl_listener_name=v["kafkasec_broker_sasl_listener_name"], sasl_port=v["kafkasec_broker_sasl_port"],
        sasl_mechanisms=v["kafkasec_broker_sasl_mechanisms"], migration_phase=v["kafkasec_broker_migration_phase"],
        zookeeper_connect=v.get("kafkasec_broker_zookeeper_connect"), zookeeper_ensemble=ensemble,
        zookeeper_chroot=v["kafkasec_broker_zookeeper_chroot"],
        zookeeper_sasl_username=v["kafkasec_broker_zookeeper_sasl_username"],
        zookeeper_sasl_password_set="kafkasec_broker_zookeeper_sasl_password" in v,
        dns_names=dns, ip_addresses=v.get("kafkasec_cert_ip_addresses", []),
        keystore_type=v.get("kafkasec_keystore_type", "pkcs12"), truststore_type=v.get("kafkasec_truststore_type", "pkcs12"),
        authorizer_enabled=v["kafkasec_authorizer_enabled"], principal_mapping_rules=v["kafkasec_ssl_principal_mapping_rules"],
        super_users=v["kafkasec_super_users"], allow_everyone_if_no_acl_found=v["kafkasec_allow_everyone_if_no_acl_found"],
        kafka_nodes=kafka_nodes_of(case))
    params.update(overrides)
    return params


def settings_for(case, **overrides):
    return bp.settings_from(settings_params(case, **overrides))


def plan_for(case, **overrides):
    return bp.plan_node(load(case["current"]), settings_for(case, **overrides))


def stores_for(case):
    v = role_vars(case)
    pki_dir = v.get("kafkasec_pki_dir", "/etc/kafka/pki")
    ext = {"pkcs12": "p12", "pem": "pem", "jks": "jks"}
    ks_type, ts_type = v.get("kafkasec_keystore_type", "pkcs12"), v.get("kafkasec_truststore_type", "pkcs12")
    return store_settings(dict(
        keystore_type=ks_type, keystore_path=v.get("kafkasec_keystore_path", "%s/keystore.%s" % (pki_dir, ext[ks_type])),
        keystore_password="kpass", truststore_type=ts_type,
        truststore_path=v.get("kafkasec_truststore_path", "%s/truststore.%s" % (pki_dir, ext[ts_type])),
        truststore_password="tpass"))


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_plan_matches_the_jinja_it_replaced(name):
    case = GOLDEN[name]
    plan = plan_for(case)
    old = case["settings"]
    derived = case["derived"]
    for key, of in PLANNED_KEYS.items():
        assert of(plan.values) == old[key], key
    if "zookeeper.connect" in old:
        assert plan.values["zookeeper_connect"] == old["zookeeper.connect"]
    # Keys the old block emptied (removed) that the planner owns: the SASL listener's when it is off.
    old_removed = sorted(k for k, v in old.items() if v == "" and k.startswith(("listener.name.", "sasl.")))
    assert sorted(plan.remove) == old_removed
    assert str(plan.stage) == str(derived["stage"])
    assert plan.phase == derived["phase"]
    assert plan.migrating == derived["migrating"]
    assert plan.is_controller == derived["is_controller"]
    assert plan.dynamic_quorum == derived["dynamic_quorum"]
    assert plan.switch_expected == derived["switch_expected"]
    assert plan.old_controller_name == derived["old_controller_name"]
    assert plan.old_controller_endpoint == derived["old_controller_endpoint"]
    problems = dict(plan.problems)
    if derived["advertised_in_sans"]:
        assert "is not among the certificate's subject alternative names" not in problems.get(
            "kafkasec_broker_advertised_host", "")
    else:
        assert "is not among the certificate's subject alternative names" in problems["kafkasec_broker_advertised_host"]
    if case["vars"].get("kafkasec_broker_metadata_mode", "kraft") == "kraft" and not derived["controller_names_accepted"]:
        assert "kafkasec_broker_properties_path" in problems


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_store_settings_match_the_jinja_they_replaced(name):
    case = GOLDEN[name]
    stores = stores_for(case)
    old = case["settings"]
    for key in ("type", "location", "password"):
        assert stores["keystore_" + key] == old["ssl.keystore." + key]
        assert stores["truststore_" + key] == old["ssl.truststore." + key]
    assert stores["key_password"] == old["ssl.key.password"]


# ------------------------------------------------------------------------------- restart decisions

CONVERGED = GOLDEN["combined-converged__defaults"]
BROKER_ONLY = GOLDEN["broker-stage2__migrated"]


@pytest.mark.parametrize("changed, stores, pending, controller, running, live, other, reasons, switch, reload_", [
    # nothing changed, nothing pending: no restart
    ([], [], {}, True, True, True, [], [], False, False),
    # a key changed on a converged controller: restart, no switch (its protocol is SSL already)
    (["ssl.cipher.suites"], [], {}, True, True, True, [], ["server.properties: ssl.cipher.suites"], False, False),
    # renewed stores on a broker-only node with a running SSL listener: reload live
    ([], ["keystore changed"], {}, False, True, True, [], [], False, True),
    # ... unless live reload is off
    ([], ["keystore changed"], {}, False, True, False, [], ["keystore changed"], False, False),
    # ... or its SSL listener does not run yet
    ([], ["keystore changed"], {}, False, False, True, [], ["keystore changed"], False, False),
    # ... or another file of the JVM changed (it restarts anyway)
    ([], ["keystore changed"], {}, False, True, True, ["ZooKeeper JAAS file changed"],
     ["ZooKeeper JAAS file changed", "keystore changed"], False, False),
    # a controller restarts for its stores (KAFKA-20583)
    ([], ["truststore changed"], {}, True, True, True, [],
     ["truststore changed (the controller listener reads it at start-up)"], False, False),
    # a pending restart is kept, reasons once each, and its switch flag with it
    (["listeners"], [], {"reasons": ["server.properties: listeners"], "controller_switch": True}, True, True, True, [],
     ["server.properties: listeners"], True, False),
])
def test_restart_decisions(changed, stores, pending, controller, running, live, other, reasons, switch, reload_):
    plan = plan_for(CONVERGED if controller else BROKER_ONLY,
                    **({} if controller else dict(controller_listener_name="CONTROLLER_SSL", controller_port=9095)))
    assert plan.is_controller == controller
    decision = bp.decide_restart(changed, stores, pending, plan, running, live, other)
    assert decision.reasons == reasons
    assert decision.controller_switch == switch
    assert decision.live_reload == reload_


@pytest.mark.parametrize("changed, stores, pending, live, other, reasons, reload_", [
    # renewed stores on a combined node whose controller listener is on TLS: both listeners reload live
    ([], ["keystore changed"], {}, True, [], [], ["SSL", "CONTROLLER"]),
    ([], ["keystore changed", "truststore changed"], {}, True, [], [], ["SSL", "CONTROLLER"]),
    # ... not with live reload off, and the reason says why
    ([], ["keystore changed"], {}, False, [], ["keystore changed (no live reload: live reload is off)"], []),
    # ... nor when the node restarts anyway
    (["ssl.cipher.suites"], ["keystore changed"], {}, True, [],
     ["server.properties: ssl.cipher.suites", "keystore changed (no live reload: the node restarts anyway)"], []),
    ([], ["keystore changed"], {"reasons": ["server.properties: listeners"]}, True, [],
     ["server.properties: listeners", "keystore changed (no live reload: the node restarts anyway)"], []),
])
def test_combined_node_reloads_its_controller_listener(changed, stores, pending, live, other, reasons, reload_):
    """Seen on the lab (Kafka 4.3.1): a combined node's controller listener reloads renewed stores live."""
    plan = plan_for(CONVERGED)
    assert plan.is_controller
    decision = bp.decide_restart(changed, stores, pending, plan, True, live, other, ssl_listener="SSL",
                                 controller_listener="CONTROLLER")
    assert decision.reasons == reasons
    assert decision.live_reload == bool(reload_)
    assert decision.reload_listeners == reload_


def test_broker_only_node_reloads_its_ssl_listener_only():
    plan = plan_for(BROKER_ONLY, controller_listener_name="CONTROLLER_SSL", controller_port=9095)
    decision = bp.decide_restart([], ["keystore changed"], {}, plan, True, True, ssl_listener="SSL",
                                 controller_listener=None)
    assert decision.reload_listeners == ["SSL"] and decision.reasons == []


COMBINED_TLS = {"process.roles": "broker,controller", "controller.listener.names": "CONTROLLER",
                "listeners": "SSL://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094",
                "listener.security.protocol.map": "CONTROLLER:SSL,SSL:SSL"}


@pytest.mark.parametrize("overrides, expected", [
    ({}, "CONTROLLER"),                                                           # combined, controller on TLS
    ({"process.roles": "controller"}, None),                                      # controller-only: not reachable
    ({"process.roles": "broker"}, None),                                          # broker-only: no controller listener
    ({"listener.security.protocol.map": "CONTROLLER:PLAINTEXT,SSL:SSL"}, None),  # controller listener not on TLS
    ({"controller.listener.names": "CONTROLLER_SSL,CONTROLLER"}, None),          # mid-migration: two listeners
    ({"listeners": "SSL://127.0.0.1:9093"}, None),                                # does not listen
])
def test_live_controller_listener(overrides, expected):
    assert bp.live_controller_listener(dict(COMBINED_TLS, **overrides)) == expected


@pytest.mark.parametrize("listeners, expected", [
    ("SSL://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094", {"SSL": 9093, "CONTROLLER": 9094}),
    ("SSL://[::1]:9093", {"SSL": 9093}),                  # IPv6 bind address
    ("SSL://:9093", {"SSL": 9093}),                       # every interface
    ("SSL://host", {}),                                   # no port: nothing to wait on
    ("", {}),
])
def test_listener_ports(listeners, expected):
    assert bp.listener_ports({"listeners": listeners}) == expected


@pytest.mark.parametrize("listeners, expected", [
    # bound to the host's address: only that address's connections (a lab or broker beside it shares the port)
    ("PLAINTEXT://127.0.4.1:9092,SSL://127.0.4.1:9093", "( sport = :9092 and src 127.0.4.1 )"),
    ("SSL://[2001:db8::1]:9093,PLAINTEXT://[2001:db8::1]:9092", "( sport = :9092 and src [2001:db8::1] )"),
    # every interface, a host name (ss takes addresses only), or no PLAINTEXT listener in the file: the port alone
    ("PLAINTEXT://kafka-1.example.com:9092", "( sport = :9092 )"),
    ("PLAINTEXT://:9092", "( sport = :9092 )"),
    ("PLAINTEXT://0.0.0.0:9092", "( sport = :9092 )"),
    ("PLAINTEXT://[::]:9092", "( sport = :9092 )"),
    ("SSL://127.0.4.1:9093", "( sport = :9092 )"),
])
def test_plaintext_connections_filter(listeners, expected):
    assert bp.plaintext_connections_filter({"listeners": listeners}, 9092) == expected


@pytest.mark.parametrize("name, changed, switch", [
    ("combined-plain__defaults", ["listeners", "listener.security.protocol.map"], True),   # first move to TLS
    ("combined-plain__defaults", ["ssl.keystore.location"], False),                       # not a quorum key
    ("broker-plain__defaults", ["listeners"], False),                                     # broker-only node rolls
    ("combined-converged__defaults", ["listeners"], False),                               # already on TLS
    ("zk-plain__zk", ["inter.broker.listener.name", "listeners"], True),                  # ZooKeeper mode, first move
    ("combined-plain__add_tls", ["listeners"], False),                                    # a migration phase rolls
])
def test_whole_quorum_switch(name, changed, switch):
    plan = plan_for(GOLDEN[name])
    assert bp.decide_restart(changed, [], {}, plan, False, True).controller_switch == switch


# ------------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("overrides, variable, words", [
    (dict(ssl_port=9094), "kafkasec_broker_ssl_port", "distinct ports"),
    (dict(ssl_port=70000), "kafkasec_broker_ssl_port", "between 1 and 65535"),
    (dict(ssl_listener_name="CONTROLLER"), "kafkasec_broker_ssl_listener_name", "distinct listener names"),
    (dict(ssl_listener_name="1SSL"), "kafkasec_broker_ssl_listener_name", "distinct listener names"),
    (dict(ssl_enabled_protocols=["TLSv1.1", "TLSv1.2"]), "kafkasec_broker_ssl_enabled_protocols", "TLSv1.1"),
    (dict(ssl_protocol="TLSv1.3", ssl_enabled_protocols=["TLSv1.2"]), "kafkasec_broker_ssl_enabled_protocols",
     "must be one of them"),
    (dict(ssl_client_auth="maybe"), "kafkasec_broker_ssl_client_auth", "maybe"),
    (dict(ssl_cipher_suites=["TLS_RSA_WITH_AES_128_GCM_SHA256"]), "kafkasec_broker_ssl_cipher_suites",
     "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    (dict(ssl_cipher_suites=["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]), "kafkasec_broker_ssl_cipher_suites",
     "TLS 1.3 suites"),
    (dict(advertised_host="kafka 1"), "kafkasec_broker_advertised_host", "must be a host name"),
    (dict(advertised_host="other.lab.test"), "kafkasec_broker_advertised_host", "other.lab.test"),
    (dict(sasl_enabled=True, sasl_mechanisms=["GSSAPI"]), "kafkasec_broker_sasl_mechanisms", "GSSAPI"),
    (dict(sasl_enabled=True, sasl_port=9093), "kafkasec_broker_ssl_port", "distinct ports"),
    (dict(sasl_enabled=True, sasl_listener_name="SASL_PLAINTEXT"), "kafkasec_broker_sasl_listener_name",
     "SASL over TLS"),
    (dict(sasl_enabled=True, sasl_mechanisms=["PLAIN"]), "kafkasec_broker_sasl_plain_users", "non-empty password"),
    (dict(metadata_mode="zookeeper"), "kafkasec_broker_metadata_mode", "ZooKeeper-mode broker"),
    (dict(keystore_type="bks"), "kafkasec_keystore_type", "'bks'"),
    (dict(truststore_type="p12"), "kafkasec_truststore_type", "'p12'"),
])
def test_bad_settings_name_the_variable_and_the_value(overrides, variable, words):
    problems = dict(plan_for(CONVERGED, **overrides).problems)
    assert variable in problems, problems
    assert words in problems[variable]


def test_a_good_converged_node_has_no_problem_and_changes_nothing():
    plan = plan_for(CONVERGED)
    assert plan.problems == []
    current = load(CONVERGED["current"])
    for key, of in PLANNED_KEYS.items():
        assert of(plan.values) == current.get(key, ""), key


def test_zookeeper_mode_needs_a_login_and_a_zookeeper_file():
    case = GOLDEN["zk-plain__zk"]
    assert plan_for(case).problems == []
    problems = dict(plan_for(case, zookeeper_sasl_password_set=False).problems)
    assert "no default password" in problems["kafkasec_broker_zookeeper_sasl_password"]
    problems = dict(plan_for(case, zookeeper_connect="zk 1:2182").problems)
    assert "zk 1:2182" in problems["kafkasec_broker_zookeeper_connect"]
    problems = dict(plan_for(case, zookeeper_chroot="kafka").problems)
    assert "kafka" in problems["kafkasec_broker_zookeeper_chroot"]


def test_a_dynamic_quorum_keeps_its_port():
    case = GOLDEN["dynamic-converged__defaults"]
    assert plan_for(case).problems == []
    problems = dict(plan_for(case, controller_port=9095).problems)
    assert "keeps its controller port" in problems["kafkasec_broker_controller_port"]


def test_unknown_settings_are_refused():
    with pytest.raises(ValueError, match="unknown keys ssl_prot"):
        bp.settings_from(dict(hostname="h", ssl_prot="TLSv1.3"))
    with pytest.raises(ValueError, match="must be a list"):
        bp.settings_from(dict(hostname="h", dns_names="h"))


# ------------------------------------------------------------------------------------- migration

@pytest.mark.parametrize("name, phase, pending, ready", [
    ("combined-plain__add_tls", "add_tls", [], True),
    ("combined-plain__add_tls", "move_internal", [], False),          # phase 1 not done
    ("combined-stage1__add_tls", "move_internal", [], True),
    ("combined-stage1__add_tls", "move_internal", ["server.properties: listeners"], False),  # not rolled yet
    ("combined-stage1__add_tls", "add_tls", ["server.properties: listeners"], True),        # rerun of phase 1
    ("combined-stage2__add_tls", "drop_plaintext", [], True),
    ("combined-plain__add_tls", "drop_plaintext", [], False),
    ("dynamic-plain__add_tls", "add_tls", [], True),                  # dynamic quorum (tests/unit/test_quorum.py)
])
def test_migration_phase_readiness(name, phase, pending, ready):
    case = GOLDEN[name]
    settings = settings_for(case, migration_phase=phase, controller_listener_name="CONTROLLER_SSL",
                            controller_port=9095)
    plan = bp.plan_node(load(case["current"]), settings)
    assert (bp.migration_problems(plan, settings, pending) == []) == ready


def test_host_problems_name_the_variable():
    plan = plan_for(GOLDEN["combined-plain__defaults"])
    settings = settings_for(GOLDEN["combined-plain__defaults"])
    problems = dict(bp.host_problems(
        plan, settings, ca_hosts=[], quorum_hosts=["a", "b"], run_hosts=["a"],
        store_paths={"kafkasec_keystore_path": "/nowhere/keystore.p12",
                     "kafkasec_truststore_path": "/etc/kafka/pki/truststore.p12"},
        pki_dir="/etc/kafka/pki", commands={"kafkasec_broker_stop_command": " "},
        is_dir=lambda path: path in ("/etc/kafka",)))
    assert "exactly one host" in problems["kafka_ca"]
    assert "/nowhere" in problems["kafkasec_keystore_path"]
    assert "kafkasec_truststore_path" not in problems   # the PKI directory below an existing one
    assert "kafkasec_broker_stop_command" in problems
    assert "b are not in this run" in problems["--limit"]


# ------------------------------------------------- the role's settings, as Ansible templates them

SETTINGS_CASES = ["combined-converged__defaults", "combined-plain__listen_any", "zk-plain__zk_connect_list",
                  "zk-plain__zk", "combined-plain__sasl_plain_users", "combined-plain__advertised_ip_in_sans"]


def test_the_role_hands_the_planner_what_the_golden_cases_assume(tmp_path):
    """roles/broker/vars/main.yml's kafkasec_broker__settings, templated by ansible-playbook with the role's
    defaults and each case's inventory, is what the golden cases were planned with (an unset
    kafkasec_broker_listen_address must stay unset, not become '' = every interface)."""
    ensure_collection_link()
    role = REPO_ROOT / "roles" / "broker"
    # tasks/validate.yml's first task reads the other hosts' identities once per run; the settings templated after
    # it must be the same as without it.
    once = yaml.safe_load((role / "tasks" / "validate.yml").read_text())[0]
    assert "kafkasec_broker__kafka_node_identities" in once["ansible.builtin.set_fact"], once
    once = dict(once, no_log=False)
    plays = []
    inventory = {"all": {"hosts": {}, "children": {}}}
    for index, name in enumerate(SETTINGS_CASES):
        case = GOLDEN[name]
        case_vars = tmp_path / ("case%d.json" % index)
        case_vars.write_text(json.dumps(case["vars"]))
        host = "case%d" % index
        inventory["all"]["hosts"][host] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        plays.append({
            "hosts": host, "gather_facts": False,
            "vars_files": [str(role / "defaults" / "main.yml"), str(role / "vars" / "main.yml")],
            "tasks": [
                {"ansible.builtin.include_vars": {"file": str(case_vars)}},
                {"ansible.builtin.copy": {"content": "{{ kafkasec_broker__settings | to_json }}",
                                          "dest": str(tmp_path / ("out%d.json" % index))}},
                once,
                {"ansible.builtin.copy": {"content": "{{ kafkasec_broker__settings | to_json }}",
                                          "dest": str(tmp_path / ("once%d.json" % index))}},
            ]})
    # Every test host is a Kafka node too; one has a CN and subject of its own (kafka_nodes, for super.users).
    inventory["all"]["children"]["kafka_broker"] = {"hosts": {"case%d" % i: {} for i in range(len(SETTINGS_CASES))}}
    inventory["all"]["hosts"]["case1"].update(kafkasec_cert_common_name="broker-one", kafkasec_cert_subject={"O": "Ex"})
    zk_case = GOLDEN["zk-plain__zk"]
    inventory["all"]["children"]["zookeeper"] = {"hosts": {
        member: dict(zk_case["hostvars"].get(member, {}), ansible_connection="local")
        for member in zk_case["groups"]["zookeeper"]}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    (tmp_path / "play.json").write_text(json.dumps(plays))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH))
    run = subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(tmp_path / "inventory.json"),
                          str(tmp_path / "play.json")], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    for index, name in enumerate(SETTINGS_CASES):
        case = GOLDEN[name]
        templated = json.loads((tmp_path / ("out%d.json" % index)).read_text())
        assert json.loads((tmp_path / ("once%d.json" % index)).read_text()) == templated, name
        # The inventory name of the test host differs from the case's; everything else must agree.
        # broker_config adds whether the ZooKeeper password is set from its own (no_log) option.
        assert templated["kafka_nodes"] == [
            # the certificates role's default for a Kafka node: the CN all nodes share (kafkasec_cert_node_common_name)
            dict(host="case%d" % i, common_name="broker-one" if i == 1 else "kafka-node", subject={"O": "Ex"} if i == 1 else {})
            for i in range(len(SETTINGS_CASES))], templated["kafka_nodes"]
        templated.update(hostname=case["hostname"], kafka_nodes=kafka_nodes_of(case),
                         zookeeper_sasl_password_set="kafkasec_broker_zookeeper_sasl_password" in case["vars"])
        if "kafkasec_broker_advertised_host" not in case["vars"]:
            templated["advertised_host"] = case["hostname"]
        if "kafkasec_cert_dns_names" not in case["vars"]:
            templated["dns_names"] = [case["hostname"]] + list(case["vars"].get("kafkasec_cert_extra_dns_names", []))
        assert bp.plan_node(load(case["current"]), bp.settings_from(templated)).as_dict() == plan_for(case).as_dict(), name


def test_an_unset_listen_address_is_not_every_interface():
    case = GOLDEN["combined-converged__defaults"]
    base = dict(hostname=case["hostname"], dns_names=[case["hostname"]])
    current = load(case["current"])
    unset = bp.plan_node(current, bp.settings_from(dict(base, listen_address="", listen_address_set=False)))
    every = bp.plan_node(current, bp.settings_from(dict(base, listen_address="", listen_address_set=True)))
    assert unset.values["listeners"] == ["SSL://127.0.1.1:9093", "CONTROLLER://127.0.1.1:9094"]
    assert every.values["listeners"] == ["SSL://:9093", "CONTROLLER://:9094"]


def test_the_failure_message_names_host_variable_and_value_once():
    case = GOLDEN["combined-converged__defaults"]
    plan = plan_for(case, advertised_host="kafka-1-alias.lab.test")
    message = problems_message("kafka-1.lab.test", plan.problems)
    assert message.startswith("kafka-1.lab.test: kafkasec_broker_advertised_host kafka-1-alias.lab.test is not among")
    assert message.count("kafkasec_broker_advertised_host") == 1
    # A message that does not name its variable gets it in front.
    assert problems_message("h", [("kafka_ca", "no CA host")]) == "h: kafka_ca: no CA host"


# --------------------------------------------------------------------------------- authorisation

STANDARD = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
ACL_AUTHORIZER = "kafka.security.authorizer.AclAuthorizer"
NODES_123 = "User:kafka-1.lab.test;User:kafka-2.lab.test;User:kafka-3.lab.test"


@pytest.mark.parametrize("name, overrides, expected", [
    # combined nodes, broker-only, controller-only: every node's principal, the controllers' included
    ("combined-converged__defaults", {}, (STANDARD, NODES_123, "false")),
    ("broker-plain__defaults", {}, (STANDARD, NODES_123, "false")),
    ("controller-plain__defaults", {}, (STANDARD, NODES_123, "false")),
    ("dynamic-converged__defaults", {}, (STANDARD, NODES_123, "false")),
    # ZooKeeper mode (Kafka 3.x): AclAuthorizer, the brokers are the nodes
    ("zk-plain__zk", {}, (ACL_AUTHORIZER, NODES_123, "false")),
    ("zk-converged__zk", {}, (ACL_AUTHORIZER, NODES_123, "false")),
    # declared admin principals join, sorted; allow-everyone for a staged roll-out
    ("combined-converged__defaults", dict(super_users=["User:zed", "User:admin"], allow_everyone_if_no_acl_found=True),
     (STANDARD, "User:admin;" + NODES_123 + ";User:zed", "true")),
    # the mapping rules decide the principals
    ("combined-converged__defaults", dict(principal_mapping_rules="RULE:^CN=([^.]+)\\..*$/$1/U,DEFAULT"),
     (STANDARD, "User:KAFKA-1;User:KAFKA-2;User:KAFKA-3", "false")),
    ("combined-converged__defaults", dict(principal_mapping_rules="DEFAULT"),
     (STANDARD, "User:CN=kafka-1.lab.test;User:CN=kafka-2.lab.test;User:CN=kafka-3.lab.test", "false")),
    # authorizer off: the keys go (an empty value removes the key); the rules stay
    ("combined-converged__defaults", dict(authorizer_enabled=False), ("", "", "")),
    ("zk-plain__zk", dict(authorizer_enabled=False), ("", "", "")),
    ("broker-plain__defaults", dict(authorizer_enabled=False, allow_everyone_if_no_acl_found=True), ("", "", "")),
])
def test_authorisation_keys_for_every_kind_of_node(name, overrides, expected):
    case = GOLDEN[name]
    plan = plan_for(case, **overrides)
    assert plan.problems == []
    values = plan.values
    got = (values["authorizer_class_name"], values["super_users"], values["allow_everyone_if_no_acl_found"])
    assert got == expected
    assert values["principal_mapping_rules"] == overrides.get("principal_mapping_rules",
                                                              DEFAULTS["kafkasec_ssl_principal_mapping_rules"])


def test_node_subjects_from_the_inventory_give_the_super_users():
    case = GOLDEN["combined-converged__defaults"]
    nodes = [dict(host="kafka-1.lab.test", common_name="broker-1", subject={"OU": "kafka", "O": "Example"}),
             dict(host="kafka-2.lab.test", common_name="broker-2", subject={"emailAddress": "ops@example.org"})]
    plan = plan_for(case, kafka_nodes=nodes)
    # broker-2's DN starts with the e-mail attribute, so the default rule falls through to DEFAULT
    assert plan.values["super_users"] == ("User:1.2.840.113549.1.9.1=#160f6f7073406578616d706c652e6f7267,CN=broker-2;"
                                          "User:broker-1")


@pytest.mark.parametrize("name", ["combined-plain__add_tls", "combined-stage1__move_internal", "broker-plain__add_tls"])
def test_a_live_migration_keeps_the_authorisation_keys_the_file_has(name):
    """add_tls and move_internal still carry PLAINTEXT peers and clients (User:ANONYMOUS): no authorizer yet."""
    case = GOLDEN[name]
    plan = plan_for(case)
    assert plan.migrating
    current = load(case["current"] + "\nauthorizer.class.name=my.Authorizer\nsuper.users=User:ops\n")
    plan = bp.plan_node(current, settings_for(case))
    assert (plan.values["authorizer_class_name"], plan.values["super_users"]) == ("my.Authorizer", "User:ops")
    assert plan.values["allow_everyone_if_no_acl_found"] == ""
    assert bp.authorization_warnings(settings_for(case), plan) == []


def test_drop_plaintext_turns_the_authorizer_on():
    plan = plan_for(GOLDEN["combined-stage2__drop_plaintext"])
    assert not plan.migrating and plan.values["authorizer_class_name"] == STANDARD


@pytest.mark.parametrize("overrides, variable, words", [
    (dict(principal_mapping_rules="RULE:^CN=(.*)$/$1"), "kafkasec_ssl_principal_mapping_rules", "unmatched substring"),
    (dict(principal_mapping_rules=""), "kafkasec_ssl_principal_mapping_rules", "must be Kafka's"),
    (dict(principal_mapping_rules="RULE:^CN=x$/x/"), "kafkasec_ssl_principal_mapping_rules",
     "maps no principal for the certificate of kafka-1.lab.test"),
    (dict(principal_mapping_rules="RULE:^CN=x$/x/", authorizer_enabled=False), "kafkasec_ssl_principal_mapping_rules",
     None),  # the rules parse; with the authorizer off no super.users needs them
    (dict(principal_mapping_rules="RULE:^CN=(.*$/$1/", authorizer_enabled=False),
     "kafkasec_ssl_principal_mapping_rules", "not a valid regular expression"),
    (dict(super_users=["admin"]), "kafkasec_super_users", "User:<name>"),
    (dict(super_users="User:admin"), "kafkasec_super_users", "must be a list"),
    (dict(kafka_nodes=[dict(host="kafka-2.lab.test")]), "kafka_broker", "kafka-1.lab.test is not among the Kafka nodes"),
])
def test_bad_authorisation_settings_name_the_variable(overrides, variable, words):
    problems = plan_for(CONVERGED, **overrides).problems
    matching = [message for name, message in problems if name == variable]
    if words is None:
        assert matching == [], problems
    else:
        assert [m for m in matching if words in m and (variable in m or variable == "kafka_broker")], problems


@pytest.mark.parametrize("key", sorted(bp.AUTHORIZATION_KEYS))
def test_a_change_of_an_authorisation_key_rolls(key):
    """Kafka reads them at start-up: a changed key is a restart reason, never a live reload."""
    plan = plan_for(BROKER_ONLY, controller_listener_name="CONTROLLER_SSL", controller_port=9095)
    decision = bp.decide_restart([key], ["keystore changed"], {}, plan, True, True)
    assert decision.reasons == ["server.properties: " + key, "keystore changed"]
    assert not decision.live_reload and not decision.controller_switch


@pytest.mark.parametrize("overrides, fragment", [
    ({}, None),
    (dict(allow_everyone_if_no_acl_found=True), "kafkasec_allow_everyone_if_no_acl_found is true"),
    (dict(authorizer_enabled=False), "kafkasec_authorizer_enabled is false"),
])
def test_weaker_authorisation_warns(overrides, fragment):
    settings = settings_for(CONVERGED, **overrides)
    warnings = bp.authorization_warnings(settings, bp.plan_node(load(CONVERGED["current"]), settings))
    if fragment is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and warnings[0].startswith("kafka-1.lab.test: " + fragment)


def test_the_role_defaults_are_the_planners_and_documented():
    specs = yaml.safe_load((REPO_ROOT / "roles" / "broker" / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    for variable, default in (("kafkasec_authorizer_enabled", True),
                              ("kafkasec_ssl_principal_mapping_rules", principals.DEFAULT_RULES),
                              ("kafkasec_super_users", []), ("kafkasec_allow_everyone_if_no_acl_found", False)):
        assert DEFAULTS[variable] == default == options[variable]["default"], variable
    assert bp.BrokerSettings("h", "h").principal_mapping_rules == principals.DEFAULT_RULES


def test_the_tools_connect_as_a_node_whose_principal_is_a_super_user():
    """The rolling restart's health gates, scram_users and cluster_health use the node's own certificate (the
    certificates role's kafkasec_cert_certificate_path, CN kafkasec_cert_common_name, on a Kafka node by default
    kafkasec_cert_node_common_name): that principal is in super.users, so they keep working with the authorizer
    on and no ACL."""
    cert_defaults = yaml.safe_load((REPO_ROOT / "roles" / "certificates" / "defaults" / "main.yml").read_text())
    assert cert_defaults["kafkasec_cert_node_common_name"] == "kafka-node"
    assert cert_defaults["kafkasec_cert_common_name"].split() == [
        "{{", "kafkasec_cert_node_common_name", "if", "inventory_hostname", "in", "groups", "|",
        "kafkasec.tls.kafka_nodes", "else", "inventory_hostname", "}}"]
    rolling = yaml.safe_load((REPO_ROOT / "roles" / "rolling_restart" / "vars" / "main.yml").read_text())
    assert "kafkasec_pki.certificate_path | default(kafkasec_cert_certificate_path)" in \
        rolling["kafkasec_rolling_restart__cert_path"]
    broker_vars = yaml.safe_load((REPO_ROOT / "roles" / "broker" / "vars" / "main.yml").read_text())
    assert "kafkasec_pki.certificate_path | default(kafkasec_cert_certificate_path)" in \
        broker_vars["kafkasec_broker__cert_path"]
    scram = (REPO_ROOT / "roles" / "broker" / "tasks" / "scram_users_keep.yml").read_text()
    assert "kafkasec_broker__cert_path" in scram
    for name in ("combined-converged__defaults", "broker-plain__defaults", "zk-plain__zk"):
        case = GOLDEN[name]
        supers = plan_for(case).values["super_users"].split(";")
        assert "User:" + case["hostname"] in supers
