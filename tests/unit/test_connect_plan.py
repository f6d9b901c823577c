# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The worker planner (plugins/module_utils/kafka/connect_plan.py), table by table.

The golden table (tests/unit/golden/connect/worker_golden.json) was recorded from the Jinja
implementation the planner replaced (roles/connect/vars/main.yml, tasks/validate.yml, tasks/config.yml,
tasks/jvm.yml and tasks/restart.yml before the planner) by tests/unit/golden/connect/make_connect_golden.py:
for each case, which of the old asserts failed, the values vars/main.yml computed and the restart
reasons the old tasks gave. The planner must refuse exactly the cases the asserts refused, for the
same variables, and compute the same values and reasons. Then one table per check: each problem
names its variable.
"""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from ansible_collections.kafkasec.tls.plugins.module_utils.common.problems import problems_message
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka import connect_plan as cp
from ansible_collections.kafkasec.tls.plugins.module_utils.kafka.endpoints import bootstrap_servers, broker_listeners

from ansible_runner import REPO_ROOT

GOLDEN_DIR = REPO_ROOT / "tests" / "unit" / "golden" / "connect"
GOLDEN = json.loads((GOLDEN_DIR / "worker_golden.json").read_text())
DEFAULTS = yaml.safe_load((REPO_ROOT / "roles" / "connect" / "defaults" / "main.yml").read_text())
sys.path.insert(0, str(GOLDEN_DIR))
from make_connect_golden import BROKERS  # noqa: E402  pylint: disable=wrong-import-position

BROKER_DATA = [dict(vars, name=name) for name, vars in BROKERS.items()]
# Each assert of the old tasks/validate.yml, and the variables its problems are about now.
ASSERTS = {
    "Check that the worker has bootstrap servers": {"kafkasec_connect_bootstrap_servers"},
    "Check that the bootstrap servers are TLS listeners": {"kafkasec_connect_bootstrap_servers"},
    "Check the TLS protocol settings": {"kafkasec_connect_ssl_enabled_protocols", "kafkasec_connect_ssl_protocol",
                                        "kafkasec_connect_rest_client_auth"},
    "Check that the REST API's advertised name is in the worker's certificate": {"kafkasec_connect_rest_advertised_host"},
    "Check that the JVM-wide stores are of a type the JDK reads": {"kafkasec_connect_jvm_stores"},
    "Check the restart settings": {"kafkasec_connect_restart_command", "kafkasec_connect_health_timeout"},
    "Check that the JVM files are absolute paths": {"kafkasec_connect_properties_path", "kafkasec_connect_env_file",
                                                    "kafkasec_connect_jvm_args_file"},
    "Check that the worker's properties file exists": {"kafkasec_connect_properties_path"},
}
FILE_KINDS = {"missing": "missing", "directory": "other"}


def role_vars(case):
    """The role's variables for a golden case, as the play saw them: the defaults, then the case's own."""
    host = case["hostname"]
    values = {k: v for k, v in DEFAULTS.items() if not (isinstance(v, str) and "{{" in v)}
    values.update(kafkasec_connect_bootstrap_servers=bootstrap_servers(
                      broker_listeners(name, hv) for name, hv in BROKERS.items()),
                  kafkasec_connect_rest_listen_host=host, kafkasec_connect_rest_advertised_host=host,
                  kafkasec_connect_env_file="/golden/%s/connect-tls.env" % host,
                  kafkasec_connect_jvm_args_file="/golden/%s/connect-jvm-ssl.args" % host)
    values.update(case["vars"])
    return values


def settings_for(case, **overrides):
    """vars/main.yml's kafkasec_connect__settings for a golden case."""
    v = role_vars(case)
    host = case["hostname"]
    pki = v.get("kafkasec_pki", {})
    params = dict(
        hostname=host, bootstrap_servers=v["kafkasec_connect_bootstrap_servers"],
        rest_listen_host=v["kafkasec_connect_rest_listen_host"],
        rest_advertised_host=v["kafkasec_connect_rest_advertised_host"], rest_port=v["kafkasec_connect_rest_port"],
        rest_client_auth=v["kafkasec_connect_rest_client_auth"],
        ssl_enabled_protocols=v["kafkasec_connect_ssl_enabled_protocols"],
        ssl_protocol=v["kafkasec_connect_ssl_protocol"], jvm_stores=v["kafkasec_connect_jvm_stores"],
        env_file=v["kafkasec_connect_env_file"], jvm_args_file=v["kafkasec_connect_jvm_args_file"],
        restart_command=v["kafkasec_connect_restart_command"], health_timeout=v["kafkasec_connect_health_timeout"],
        dns_names=v.get("kafkasec_cert_dns_names", [host] + list(v.get("kafkasec_cert_extra_dns_names", []))),
        ip_addresses=v.get("kafkasec_cert_ip_addresses", []),
        keystore_type=pki.get("keystore_type", v.get("kafkasec_keystore_type", "pkcs12")),
        truststore_type=pki.get("truststore_type", v.get("kafkasec_truststore_type", "pkcs12")))
    params.update(overrides)
    return cp.settings_from(params)


def properties_path(case):
    return role_vars(case).get("kafkasec_connect_properties_path", "/golden/%s/connect-distributed.properties"
                               % case["hostname"])


def plan_for(case, **overrides):
    return cp.plan_worker(settings_for(case, **overrides), BROKER_DATA, properties_path(case),
                          FILE_KINDS.get(case.get("file"), "file"))


# ------------------------------------------------------------------------------------------ golden

@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_plan_refuses_what_the_asserts_refused(name):
    case = GOLDEN[name]
    plan = plan_for(case)
    failed = {check for check, outcome in case["checks"].items() if outcome != "pass"}
    variables = {variable for variable, _ in plan.problems}
    assert set(ASSERTS) == set(case["checks"])
    for check in failed:
        assert variables & ASSERTS[check], (check, plan.problems)
    assert variables <= set().union(*(ASSERTS[check] for check in failed)), plan.problems
    for variable, message in plan.problems:
        assert variable in problems_message(case["hostname"], [(variable, message)])


@pytest.mark.parametrize("name", sorted(n for n, c in GOLDEN.items() if "error" not in c["derived"]))
def test_plan_values_are_what_vars_main_computed(name):
    case = GOLDEN[name]
    derived = case["derived"]
    values = plan_for(case).values
    assert values["bootstrap_servers"] == derived["bootstrap_servers"]
    assert values["rest_listener"] == derived["rest_listener"]
    assert values["rest_url"] == derived["rest_url"]
    assert str(values["health_retries"]) == str(derived["health_retries"])
    wrong = [item for item in derived["bootstrap_problems"]]
    problems = dict(plan_for(case).problems)
    for item in wrong:
        assert item in problems["kafkasec_connect_bootstrap_servers"]


@pytest.mark.parametrize("name", sorted(n for n, c in GOLDEN.items() if c["render"]))
def test_restart_reasons_are_what_the_old_tasks_gave(name):
    """changed keys of each run's merge, the stores' and the JVM files' changes, a pending restart first."""
    case = GOLDEN[name]
    pki = case["vars"]["kafkasec_pki"]
    jvm = role_vars(case)["kafkasec_connect_jvm_stores"]
    pending = json.loads(case["marker"]) if case["marker"] else {}
    for run, first in (("first", True), ("second", False)):
        old = case["runs"][run]
        changes = dict(keystore_changed=pki["keystore_changed"], truststore_changed=pki["truststore_changed"],
                       args_file_changed=jvm and first, env_file_changed=jvm and first)
        keys = old["merge"]["changed_keys"]
        assert cp.restart_reasons(keys, None, **changes) == old["reasons"]
        assert cp.restart_reasons(keys, pending, **changes) == old["restart_reasons"]
        assert bool(old["restart_reasons"]) == old["restart_needed"]


# --------------------------------------------------------------------------------- one check each

BASE = dict(hostname="connect-1.lab.test", bootstrap_servers=["kafka-1.lab.test:9093"],
            rest_listen_host="connect-1.lab.test", rest_advertised_host="connect-1.lab.test", rest_port=8443,
            env_file="/etc/kafka/connect-tls.env", jvm_args_file="/etc/kafka/connect-jvm-ssl.args",
            dns_names=["connect-1.lab.test"])
PATH = "/etc/kafka/connect-distributed.properties"


def problems(path=PATH, file_kind="file", **overrides):
    return cp.plan_worker(cp.settings_from(dict(BASE, **overrides)), BROKER_DATA, path, file_kind).problems


def test_the_base_case_has_no_problem():
    assert problems() == []


@pytest.mark.parametrize("overrides, variable, text", [
    # bootstrap servers
    (dict(bootstrap_servers=[]), "kafkasec_connect_bootstrap_servers", "is empty and inventory group kafka_broker"),
    (dict(bootstrap_servers=" , "), "kafkasec_connect_bootstrap_servers", "is empty"),
    (dict(bootstrap_servers=None), "kafkasec_connect_bootstrap_servers", "is empty"),
    (dict(bootstrap_servers="kafka-1.lab.test"), "kafkasec_connect_bootstrap_servers",
     "'kafka-1.lab.test' is not host:port; give the brokers' TLS listeners"),
    (dict(bootstrap_servers=["kafka-1.lab.test:99999"]), "kafkasec_connect_bootstrap_servers", "has no valid port"),
    (dict(bootstrap_servers=[9093]), "kafkasec_connect_bootstrap_servers", "expected host:port strings"),
    (dict(bootstrap_servers="kafka-1.lab.test:9092"), "kafkasec_connect_bootstrap_servers",
     "kafkasec_connect_bootstrap_servers: kafka-1.lab.test:9092 is broker kafka-1.lab.test's PLAINTEXT port "
     "(kafkasec_broker_plaintext_port), which the broker role closes; its TLS listener is port 9093"),
    (dict(bootstrap_servers="kafka-2.example.org:9092"), "kafkasec_connect_bootstrap_servers",
     "is broker kafka-2.lab.test's PLAINTEXT listener (kafkasec_broker_plaintext_port)"),
    (dict(bootstrap_servers="KAFKA-3.lab.test:9095"), "kafkasec_connect_bootstrap_servers",
     "is broker kafka-3.lab.test's controller listener"),
    (dict(bootstrap_servers="10.0.0.3:9092"), "kafkasec_connect_bootstrap_servers", "kafka-3.lab.test's PLAINTEXT"),
    (dict(bootstrap_servers="PLAINTEXT://elsewhere:9093"), "kafkasec_connect_bootstrap_servers",
     "names security protocol PLAINTEXT, which is not TLS"),
    # TLS
    (dict(ssl_enabled_protocols=[]), "kafkasec_connect_ssl_enabled_protocols", "(empty) may hold only TLSv1.3"),
    (dict(ssl_enabled_protocols=["TLSv1.3", "TLSv1.1"]), "kafkasec_connect_ssl_enabled_protocols",
     "(TLSv1.3,TLSv1.1) may hold only TLSv1.3 and TLSv1.2"),
    (dict(ssl_enabled_protocols=["TLSv1.3"], ssl_protocol="TLSv1.2"), "kafkasec_connect_ssl_protocol",
     "kafkasec_connect_ssl_protocol (TLSv1.2) must be one of kafkasec_connect_ssl_enabled_protocols (TLSv1.3)"),
    (dict(rest_client_auth="want"), "kafkasec_connect_rest_client_auth",
     "kafkasec_connect_rest_client_auth (want) must be one of required, requested, none"),
    # REST
    (dict(rest_port=0), "kafkasec_connect_rest_port", "must be a port between 1 and 65535"),
    (dict(rest_port="https"), "kafkasec_connect_rest_port", "'https'"),
    (dict(rest_advertised_host="other.example.com"), "kafkasec_connect_rest_advertised_host",
     "kafkasec_connect_rest_advertised_host other.example.com is not among the certificate's subject alternative "
     "names (kafkasec_cert_dns_names ['connect-1.lab.test'], kafkasec_cert_ip_addresses []). The other workers and "
     "REST clients verify it; add it to kafkasec_cert_extra_dns_names"),
    (dict(rest_advertised_host="10.0.0.6", ip_addresses=["10.0.0.5"]), "kafkasec_connect_rest_advertised_host",
     "add it to kafkasec_cert_ip_addresses"),
    (dict(rest_advertised_host="a.b.lab.test", dns_names=["*.lab.test"]), "kafkasec_connect_rest_advertised_host",
     "a.b.lab.test is not among"),
    (dict(rest_advertised_host=""), "kafkasec_connect_rest_advertised_host", "(empty) is not among"),
    # stores
    (dict(keystore_type="pem"), "kafkasec_connect_jvm_stores",
     "kafkasec_connect_jvm_stores is true, but kafkasec_keystore_type is pem"),
    (dict(keystore_type="pem", truststore_type="pem"), "kafkasec_connect_jvm_stores",
     "kafkasec_keystore_type and kafkasec_truststore_type is pem"),
    (dict(truststore_type="pkcs11", jvm_stores=False), "kafkasec_truststore_type",
     "kafkasec_truststore_type ('pkcs11') must be one of pkcs12, pem, jks"),
    # restart
    (dict(restart_command=["systemctl", "restart"]), "kafkasec_connect_restart_command", "must be a command string"),
    (dict(health_timeout=0), "kafkasec_connect_health_timeout", "(0) must be a number of seconds above 0"),
    (dict(health_timeout="5m"), "kafkasec_connect_health_timeout", "('5m')"),
    (dict(health_timeout=True), "kafkasec_connect_health_timeout", "(True)"),
    (dict(health_timeout=-3), "kafkasec_connect_health_timeout", "(-3)"),
    # paths
    (dict(env_file="connect-tls.env"), "kafkasec_connect_env_file",
     "kafkasec_connect_env_file (connect-tls.env) must be an absolute path"),
    (dict(jvm_args_file="etc/args"), "kafkasec_connect_jvm_args_file", "(etc/args) must be an absolute path"),
], ids=lambda value: value if isinstance(value, str) and value.startswith("kafkasec") else None)
def test_each_problem_names_its_variable(overrides, variable, text):
    found = problems(**overrides)
    assert [v for v, _ in found] == [variable], found
    message = found[0][1]
    assert text in message
    assert variable in message
    assert problems_message("connect-1.lab.test", found).startswith("connect-1.lab.test: %s" % variable)


@pytest.mark.parametrize("path, file_kind, text", [
    ("connect-distributed.properties", "file", "(connect-distributed.properties) must be an absolute path"),
    (PATH, "missing", "is /etc/kafka/connect-distributed.properties, which is not a file on the host (it does not exist)"),
    (PATH, "other", "which is not a file on the host (not a regular file)"),
])
def test_the_properties_file(path, file_kind, text):
    found = problems(path=path, file_kind=file_kind)
    assert [v for v, _ in found] == ["kafkasec_connect_properties_path"]
    assert text in found[0][1]


@pytest.mark.parametrize("overrides", [
    dict(bootstrap_servers="elsewhere:9092"),                     # not a broker of the inventory: not judged
    dict(bootstrap_servers="SASL_SSL://kafka-1.lab.test:9093,SSL://kafka-2.lab.test:19093"),
    dict(bootstrap_servers=" kafka-1.lab.test:9093 , ,kafka-3.lab.test:9093 "),
    dict(ssl_enabled_protocols=["TLSv1.2"], ssl_protocol="TLSv1.2"),
    dict(rest_client_auth="none"),
    dict(rest_advertised_host="CONNECT-1.lab.test."),              # case and trailing dot
    dict(rest_advertised_host="w1.lab.test", dns_names=["*.lab.test"]),
    dict(rest_advertised_host="0:0::5", ip_addresses=["::5"]),    # addresses compared as addresses
    dict(keystore_type="pem", truststore_type="pem", jvm_stores=False),
    dict(keystore_type="jks", truststore_type="pkcs12"),
    dict(health_timeout="30", restart_command="systemctl restart kafka-connect"),
    dict(rest_port="9443"),
])
def test_accepted(overrides):
    assert problems(**overrides) == []


def test_every_problem_at_once_in_one_message():
    found = problems(path="rel", file_kind="missing", bootstrap_servers="kafka-1.lab.test:9092",
                     ssl_protocol="TLSv1", rest_client_auth="x", rest_advertised_host="x.example.com",
                     keystore_type="pem", health_timeout=0, env_file="e", jvm_args_file="a")
    variables = [v for v, _ in found]
    assert variables == ["kafkasec_connect_bootstrap_servers", "kafkasec_connect_ssl_protocol",
                         "kafkasec_connect_rest_client_auth", "kafkasec_connect_rest_advertised_host",
                         "kafkasec_connect_jvm_stores", "kafkasec_connect_health_timeout",
                         "kafkasec_connect_properties_path", "kafkasec_connect_env_file",
                         "kafkasec_connect_jvm_args_file", "kafkasec_connect_properties_path"]
    message = problems_message("connect-1.lab.test", found)
    assert message.startswith("connect-1.lab.test: kafkasec_connect_bootstrap_servers: kafka-1.lab.test:9092 is broker")
    assert message.count("; kafkasec_connect_") >= len(found) - 1


# ---------------------------------------------------------------------------------- values, settings

@pytest.mark.parametrize("value, expected", [
    ("a:1, b:2,,", ["a:1", "b:2"]),
    (["a:1", " b:2"], ["a:1", " b:2"]),     # a list is taken as it is, as the old template joined it
    ((), []),
    (None, []),
])
def test_bootstrap_list(value, expected):
    assert cp.bootstrap_list(value) == expected


@pytest.mark.parametrize("listen, advertised, port, listener, url", [
    ("connect-1", "connect-1", 8443, "https://connect-1:8443", "https://connect-1:8443"),
    ("", "connect-1", "9443", "https://:9443", "https://connect-1:9443"),
    ("::1", "fd00::5", 8443, "https://[::1]:8443", "https://[fd00::5]:8443"),
])
def test_rest_listener_and_url(listen, advertised, port, listener, url):
    values = cp.plan_values(cp.settings_from(dict(BASE, rest_listen_host=listen, rest_advertised_host=advertised,
                                                  rest_port=port)))
    assert (values["rest_listener"], values["rest_url"]) == (listener, url)


@pytest.mark.parametrize("timeout, retries", [(300, 150), (301, 151), ("1", 1), ("5m", 0)])
def test_health_retries(timeout, retries):
    assert cp.health_retries(timeout) == retries


def test_settings_from_refuses_unknown_keys_and_strings_for_lists():
    with pytest.raises(ValueError, match="unknown keys rest_prot"):
        cp.settings_from(dict(BASE, rest_prot=1))
    with pytest.raises(ValueError, match="settings.ssl_enabled_protocols must be a list"):
        cp.settings_from(dict(BASE, ssl_enabled_protocols="TLSv1.3"))
    s = cp.settings_from(dict(hostname="w", jvm_stores="false", rest_port=None))
    assert s.jvm_stores is False and s.rest_advertised_host == "w" and s.rest_port == 8443


def test_restart_reasons():
    keys = ["k%d" % i for i in range(7)]
    assert cp.restart_reasons([]) == []
    assert cp.restart_reasons(keys[:2], keystore_changed=True) == ["properties: 2 keys changed (k0, k1)", "keystore changed"]
    assert cp.restart_reasons(keys, {"reasons": ["truststore changed"]}, truststore_changed=True,
                              args_file_changed=True, env_file_changed=True) == [
        "truststore changed", "properties: 7 keys changed (k0, k1, k2, k3, k4, ...)",
        "JVM argument file changed", "KAFKA_OPTS environment file changed"]
