# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JMX planner's per-service decisions (plugins/module_utils/jmx/plan.py, SERVICES): the role's defaults for a
Kafka node, a Connect worker and a ZooKeeper server, the environment file each service's start script reads, and
the variables it must never set."""

from __future__ import annotations

import subprocess

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.jmx import plan as jmx

HOST = "node-1.example.com"


def settings(**over):
    base = dict(host=HOST, directory="/etc/kafka/jmx", bind_address="10.0.0.11", rmi_hostname=HOST,
                certificate_names=[HOST], keystore_path="/etc/kafka/pki/keystore.p12", keystore_password="ks-secret-12",
                truststore_path="/etc/kafka/pki/truststore.p12", truststore_password="ts-secret-12",
                users=[jmx.User("monitor", "monitor-password-1", roles=("viewer",))], groups={})
    base.update(over)
    return jmx.JmxSettings(**base)


DEFAULT_CASES = [
    # (service, host variables, expected subset of service_defaults)
    ("kafka", {"inventory_hostname": HOST},
     dict(dir="/etc/kafka/jmx", env_file="/etc/kafka/kafka-jmx.env", env_variable="KAFKA_JMX_OPTS",
          pending_restart_path="/etc/kafka/server.properties.kafkasec-restart-pending", rmi_hostname=HOST,
          restart="kafkasec.tls.rolling_restart")),
    ("kafka", {"inventory_hostname": HOST, "kafkasec_broker_properties_path": "/opt/kafka/config/server.properties",
               "kafkasec_broker_advertised_host": "kafka-a.example.com"},
     dict(dir="/opt/kafka/config/jmx", env_file="/etc/kafka/kafka-jmx.env",
          pending_restart_path="/opt/kafka/config/server.properties.kafkasec-restart-pending",
          rmi_hostname="kafka-a.example.com")),
    ("connect", {"inventory_hostname": HOST},
     dict(dir="/etc/kafka/jmx", env_file="/etc/kafka/connect-jmx.env", env_variable="KAFKA_JMX_OPTS",
          pending_restart_path="/etc/kafka/connect-distributed.properties.kafkasec-restart-pending",
          rmi_hostname=HOST, restart="kafkasec.tls.connect")),
    ("connect", {"inventory_hostname": HOST, "kafkasec_connect_properties_path": "/srv/c/etc/worker.properties",
                 "kafkasec_connect_rest_advertised_host": "connect-a.example.com",
                 "kafkasec_broker_properties_path": "/ignored/server.properties"},
     dict(dir="/srv/c/etc/jmx", env_file="/srv/c/etc/connect-jmx.env",
          pending_restart_path="/srv/c/etc/worker.properties.kafkasec-restart-pending",
          rmi_hostname="connect-a.example.com")),
    ("zookeeper", {"inventory_hostname": HOST},
     dict(dir="/etc/zookeeper/jmx", env_file="/etc/zookeeper/zookeeper-jmx.env", env_variable="SERVER_JVMFLAGS",
          pending_restart_path="/etc/zookeeper/zoo.cfg.kafkasec-restart-pending", rmi_hostname=HOST,
          restart="kafkasec.tls.zookeeper")),
    ("zookeeper", {"inventory_hostname": HOST, "kafkasec_zookeeper_config_path": "/srv/zk/etc/zoo.cfg",
                   "kafkasec_zookeeper_advertised_host": None},
     dict(dir="/srv/zk/etc/jmx", env_file="/srv/zk/etc/zookeeper-jmx.env",
          pending_restart_path="/srv/zk/etc/zoo.cfg.kafkasec-restart-pending", rmi_hostname=HOST)),
]


@pytest.mark.parametrize("service,host_vars,expected", DEFAULT_CASES)
def test_service_defaults(service, host_vars, expected):
    got = jmx.service_defaults(service, host_vars)
    assert {k: got[k] for k in expected} == expected
    # the pending-restart record is the one the service's restart engine reads: <its config>.kafkasec-restart-pending
    assert got["pending_restart_path"].endswith(jmx.RESTART_SUFFIX)


def test_unknown_service_is_named():
    with pytest.raises(jmx.UnknownService, match=r"kafkasec_jmx_service \('kafka_connect'\) must be one of kafka, "
                                                  r"connect, zookeeper"):
        jmx.service_defaults("kafka_connect", {})


OPTS = "-Dcom.sun.management.config.file=/etc/kafka/jmx/management.properties -Djava.rmi.server.hostname=" + HOST
ENV_CASES = [
    # (service, lines the environment file must hold, text it must not hold)
    ("kafka", ['KAFKA_JMX_OPTS="%s"' % OPTS], ["JMXDISABLE", "SERVER_JVMFLAGS", "JMX_PORT"]),
    ("connect", ['KAFKA_JMX_OPTS="%s"' % OPTS], ["JMXDISABLE", "SERVER_JVMFLAGS", "JMX_PORT"]),
    ("zookeeper", ["JMXDISABLE=true", 'SERVER_JVMFLAGS="${SERVER_JVMFLAGS:+$SERVER_JVMFLAGS }%s"' % OPTS],
     ["KAFKA_JMX_OPTS", "JMXPORT"]),
]


@pytest.mark.parametrize("service,lines,absent", ENV_CASES)
def test_env_file_per_service(service, lines, absent):
    text = jmx.env_file(settings(service=service, env_variable=jmx.SERVICES[service].env_variable))
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body == lines
    for word in absent:
        assert word not in "\n".join(body)


SHELL_CASES = [
    # (what the environment had before the file is sourced, SERVER_JVMFLAGS after)
    ("", OPTS),
    ('SERVER_JVMFLAGS="-Djava.security.auth.login.config=/etc/zookeeper/zookeeper-server.jaas"',
     "-Djava.security.auth.login.config=/etc/zookeeper/zookeeper-server.jaas " + OPTS),
]


@pytest.mark.parametrize("before,expected", SHELL_CASES)
def test_zookeeper_env_file_appends_to_server_jvmflags_in_sh(tmp_path, before, expected):
    """What zkEnv.sh does with it: sourced by sh after the JAAS file, JMXDISABLE set, the JAAS option kept."""
    env = tmp_path / "zookeeper-jmx.env"
    env.write_text(jmx.env_file(settings(service="zookeeper", env_variable="SERVER_JVMFLAGS")))
    out = subprocess.run(["sh", "-c", '%s\n. "%s"\nprintf "%%s|%%s" "$JMXDISABLE" "$SERVER_JVMFLAGS"' % (before, env)],
                         capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    assert out.stdout == "true|" + expected


ENV_VARIABLE_CASES = [
    ("kafka", "JMX_PORT"), ("connect", "JMX_PORT"), ("zookeeper", "JMXPORT"), ("zookeeper", "JMXDISABLE"),
]


@pytest.mark.parametrize("service,variable", ENV_VARIABLE_CASES)
def test_env_variable_that_opens_unauthenticated_jmx_is_refused(service, variable):
    found = jmx.problems(settings(service=service, env_variable=variable))
    assert [v for v, _ in found] == ["kafkasec_jmx_env_variable"], found
    assert "(%r)" % variable in found[0][1] and "no authentication" in found[0][1]


def test_unknown_service_is_a_problem():
    found = jmx.problems(settings(service="kafka_connect"))
    assert [v for v, _ in found] == ["kafkasec_jmx_service"] and "'kafka_connect'" in found[0][1]


@pytest.mark.parametrize("service", sorted(jmx.SERVICES))
def test_every_service_is_planned_without_problem(service):
    assert jmx.problems(settings(service=service, env_variable=jmx.SERVICES[service].env_variable)) == []


SERVICE_OF_GROUPS_CASES = [
    # (the host's groups, the service verify.yml checks its JMX port as)
    (["kafka_broker"], "kafka"),
    (["kafka_controller"], "kafka"),
    (["kafka_broker", "kafka_controller"], "kafka"),
    (["kafka_connect", "kafka_client"], "connect"),
    (["zookeeper"], "zookeeper"),
    (["zookeeper", "kafka_broker"], "kafka"),        # jmx.yml's first play is the Kafka nodes'
    (["kafka_connect", "zookeeper"], "connect"),
    (["kafka_ca"], None),
    ([], None),
    (None, None),
]


@pytest.mark.parametrize("groups,expected", SERVICE_OF_GROUPS_CASES)
def test_service_of_groups(groups, expected):
    assert jmx.service_of_groups(groups) == expected


VERIFY_WANTED_CASES = [
    # (kafkasec_jmx_verify, the host has the role's environment file, check its JMX port?)
    ("auto", True, True),
    ("auto", False, False),
    (" AUTO ", False, False),
    (None, True, True),
    (True, False, True),
    ("true", False, True),
    ("yes", False, True),
    (False, True, False),
    ("false", True, False),
    ("no", True, False),
    ("0", True, False),
]


@pytest.mark.parametrize("setting,env_exists,expected", VERIFY_WANTED_CASES)
def test_verify_wanted(setting, env_exists, expected):
    assert jmx.verify_wanted(setting, env_exists) is expected


@pytest.mark.parametrize("setting", ["sometimes", "", "2"])
def test_verify_wanted_refuses_another_value_naming_the_variable(setting):
    with pytest.raises(ValueError, match=r"kafkasec_jmx_verify \('%s'\) must be auto, true or false" % setting):
        jmx.verify_wanted(setting, True)


def test_the_filters_answer_as_the_planner():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.kafkasec.tls.plugins.filter import kafkasec as filters
    assert filters.jmx_service_of_groups(["kafka_connect"]) == "connect"
    assert filters.jmx_service_of_groups(["kafka_ca"]) == ""
    assert filters.jmx_verify_wanted("auto", False) is False
    with pytest.raises(AnsibleFilterError, match="kafkasec_jmx_verify"):
        filters.jmx_verify_wanted("maybe", True)
