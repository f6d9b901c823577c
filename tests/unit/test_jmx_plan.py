# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JMX planner (plugins/module_utils/jmx/): options, files and checks, table by table; the password file
against the JDK's own HashedPasswordManager (a JVM logs in against what Python wrote, and Python verifies what
the JVM wrote)."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import textwrap

import pytest

from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load
from ansible_collections.kafkasec.tls.plugins.module_utils.jmx import passwords as pw
from ansible_collections.kafkasec.tls.plugins.module_utils.jmx import plan as jmx

HOST = "kafka-1.lab.test"
SECRET = 'ks-"pw"\\x=y:z#!'


def settings(**over):
    base = dict(host=HOST, directory="/etc/kafka/jmx", bind_address="10.0.0.11", rmi_hostname=HOST,
                certificate_names=[HOST, "10.0.0.11"], keystore_path="/etc/kafka/pki/keystore.p12",
                keystore_password=SECRET, truststore_path="/etc/kafka/pki/truststore.p12",
                truststore_password="ts-secret-1",
                users=[jmx.User("monitor", "monitor-password-1", roles=("viewer",)),
                       jmx.User("ops", "ops-password-123", groups=("admins",))],
                groups={"admins": ["admin"], "viewers": ["viewer"]})
    base.update(over)
    return jmx.JmxSettings(**base)


# ---- JVM options and the management file ------------------------------------------------------------
OPTION_CASES = [
    # (overrides, key -> expected value in the management file; None: key absent)
    ({}, {"com.sun.management.jmxremote.port": "9999", "com.sun.management.jmxremote.rmi.port": "9999",
          "com.sun.management.jmxremote.host": "10.0.0.11", "com.sun.management.jmxremote.authenticate": "true",
          "com.sun.management.jmxremote.ssl": "true", "com.sun.management.jmxremote.registry.ssl": "true",
          "com.sun.management.jmxremote.ssl.need.client.auth": "false",
          "com.sun.management.jmxremote.ssl.enabled.protocols": "TLSv1.3,TLSv1.2",
          "com.sun.management.jmxremote.password.file": "/etc/kafka/jmx/jmxremote.password",
          "com.sun.management.jmxremote.access.file": "/etc/kafka/jmx/jmxremote.access",
          "com.sun.management.jmxremote.ssl.config.file": "/etc/kafka/jmx/jmxremote-ssl.properties",
          "com.sun.management.jmxremote.serial.filter.pattern": jmx.DEFAULT_SERIAL_FILTER,
          "com.sun.management.jmxremote.ssl.enabled.cipher.suites": None}),
    ({"port": 19999}, {"com.sun.management.jmxremote.port": "19999", "com.sun.management.jmxremote.rmi.port": "19999"}),
    ({"port": 19999, "rmi_port": 19998}, {"com.sun.management.jmxremote.rmi.port": "19998"}),
    ({"need_client_auth": True}, {"com.sun.management.jmxremote.ssl.need.client.auth": "true"}),
    ({"protocols": ["TLSv1.3"]}, {"com.sun.management.jmxremote.ssl.enabled.protocols": "TLSv1.3"}),
    ({"cipher_suites": ["TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]},
     {"com.sun.management.jmxremote.ssl.enabled.cipher.suites":
      "TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}),
    ({"directory": "/srv/jmx/"}, {"com.sun.management.jmxremote.password.file": "/srv/jmx/jmxremote.password"}),
]


@pytest.mark.parametrize("over,expected", OPTION_CASES)
def test_management_file(over, expected):
    s = settings(**over)
    assert jmx.problems(s) == []
    written = load(jmx.files(s)[0]["management"])
    for key, value in expected.items():
        assert written.get(key) == value, key


def test_jvm_options_and_env_file_carry_no_secret():
    s = settings()
    assert jmx.jvm_options(s) == ["-Dcom.sun.management.config.file=/etc/kafka/jmx/management.properties",
                                  "-Djava.rmi.server.hostname=kafka-1.lab.test"]
    env = jmx.env_file(s)
    assert 'KAFKA_JMX_OPTS="-Dcom.sun.management.config.file=/etc/kafka/jmx/management.properties ' \
           '-Djava.rmi.server.hostname=kafka-1.lab.test"' in env
    assert "JMX_PORT" not in env.replace("KAFKA_JMX_OPTS", "")
    assert jmx.env_file(settings(env_variable="SERVER_JVMFLAGS")).count("SERVER_JVMFLAGS=") == 1
    for content in [env, *jmx.files(s)[0].values()]:
        assert "monitor-password-1" not in content and "ops-password-123" not in content
    assert SECRET not in env


def test_ssl_config_file_is_java_properties_with_the_store_passwords():
    ssl = load(jmx.files(settings())[0]["ssl"])
    assert ssl == {"javax.net.ssl.keyStore": "/etc/kafka/pki/keystore.p12", "javax.net.ssl.keyStorePassword": SECRET,
                   "javax.net.ssl.trustStore": "/etc/kafka/pki/truststore.p12",
                   "javax.net.ssl.trustStorePassword": "ts-secret-1"}


ACCESS_CASES = [
    # (user, groups, admin role, level)
    (jmx.User("a", None, roles=("viewer",)), {}, "admin", "readonly"),
    (jmx.User("a", None, roles=("admin",)), {}, "admin", "readwrite"),
    (jmx.User("a", None, groups=("admins",)), {"admins": ["admin"]}, "admin", "readwrite"),
    (jmx.User("a", None, groups=("ops",)), {"ops": ["manager", "viewer"]}, "admin", "readonly"),
    (jmx.User("a", None, roles=("manager",)), {}, "manager", "readwrite"),
]


@pytest.mark.parametrize("user,groups,admin,level", ACCESS_CASES)
def test_access_levels(user, groups, admin, level):
    assert jmx.access_level(user, groups, admin) == level


def test_access_file_never_grants_create_or_unregister():
    access = jmx.files(settings())[0]["access"]
    assert "monitor readonly\n" in access and "ops readwrite\n" in access
    assert "create" not in access.split("\n", 1)[1] and "unregister" not in access


def test_effective_roles_once_in_order():
    user = jmx.User("u", None, roles=("viewer", "admin"), groups=("g1", "g2"))
    assert jmx.effective_roles(user, {"g1": ["admin", "manager"], "g2": ["viewer", "x"]}) == \
        ["viewer", "admin", "manager", "x"]


# ---- checks: each names its variable and its value, never a password ---------------------------------
PROBLEM_CASES = [
    ({"port": 0}, "kafkasec_jmx_port", "(0)"),
    ({"port": 70000}, "kafkasec_jmx_port", "70000"),
    ({"rmi_port": 65536}, "kafkasec_jmx_rmi_port", "65536"),
    ({"rmi_hostname": "other.lab.test"}, "kafkasec_jmx_rmi_hostname", "'other.lab.test'"),
    ({"bind_address": ""}, "kafkasec_jmx_bind_address", "''"),
    ({"bind_address": "a b"}, "kafkasec_jmx_bind_address", "'a b'"),
    ({"directory": "/etc/$(id)"}, "kafkasec_jmx_dir", "$(id)"),
    ({"protocols": ["TLSv1.1", "TLSv1.2"]}, "kafkasec_jmx_ssl_enabled_protocols", "TLSv1.1"),
    ({"protocols": []}, "kafkasec_jmx_ssl_enabled_protocols", "[]"),
    ({"cipher_suites": ["TLS_RSA_WITH_AES_128_GCM_SHA256"]}, "kafkasec_jmx_ssl_cipher_suites",
     "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    ({"keystore_type": "pem"}, "kafkasec_pki", "keystore_type ('pem')"),
    ({"truststore_password": None}, "kafkasec_pki", "truststore_password is empty"),
    ({"keystore_path": "/a b/ks.p12"}, "kafkasec_pki", "'/a b/ks.p12'"),
    ({"serial_filter": "java.lang.*"}, "kafkasec_jmx_serial_filter", "'java.lang.*'"),
    ({"env_variable": "KAFKA-JMX"}, "kafkasec_jmx_env_variable", "'KAFKA-JMX'"),
    ({"users": []}, "kafkasec_jmx_users", "is empty"),
    ({"users": [jmx.User("bad name", None, roles=("viewer",))]}, "kafkasec_jmx_users", "'bad name'"),
    ({"users": [jmx.User("u", None, roles=("viewer",)), jmx.User("u", None, roles=("viewer",))]},
     "kafkasec_jmx_users", "'u' is listed twice"),
    ({"users": [jmx.User("u", None)]}, "kafkasec_jmx_users", "'u' has no role"),
    ({"users": [jmx.User("u", None, groups=("nope",))]}, "kafkasec_jmx_users", "'nope'"),
    ({"users": [jmx.User("u", "short-1", roles=("viewer",))]}, "kafkasec_jmx_users", "shorter than 12"),
    ({"users": [jmx.User("u", "has a space in it", roles=("viewer",))]}, "kafkasec_jmx_users", "whitespace"),
    ({"groups": {"admins": ["bad role"]}}, "kafkasec_jmx_groups", "'bad role'"),
    ({"admin_role": ""}, "kafkasec_jmx_admin_role", "''"),
]


@pytest.mark.parametrize("over,variable,text", PROBLEM_CASES)
def test_problems_name_variable_and_value(over, variable, text):
    found = jmx.problems(settings(**over))
    assert found and {v for v, _ in found} <= {variable, "kafkasec_jmx_rmi_port"}, found
    assert found[0][0] == variable and text in found[0][1], found
    for _, message in found:
        assert SECRET not in message and "has a space in it" not in message and "short-1" not in message


def test_a_user_without_password_is_planned_the_role_generates_it():
    assert jmx.problems(settings(users=[jmx.User("monitor", None, roles=("viewer",))])) == []


# ---- the password file in the JDK's hashed form ------------------------------------------------------
def test_hashed_line_is_the_jdk_form():
    salt = bytes(range(64))
    line = pw.hashed_line("monitor", "pässword-1234", salt)
    user, b64salt, b64hash, algorithm = line.split(" ")
    assert (user, algorithm) == ("monitor", "SHA3-512")
    assert base64.b64decode(b64salt) == salt
    assert base64.b64decode(b64hash) == hashlib.sha3_512(salt + "pässword-1234".encode("utf-8")).digest()


RENDER_CASES = [
    # (existing users -> password, wanted users -> password, users renewed)
    ({}, {"a": "password-a-123"}, ["a"]),
    ({"a": "password-a-123"}, {"a": "password-a-123"}, []),
    ({"a": "password-a-123"}, {"a": "password-a-456"}, ["a"]),
    ({"a": "password-a-123"}, {"a": "password-a-123", "b": "password-b-123"}, ["b"]),
    ({"a": "password-a-123", "b": "password-b-123"}, {"b": "password-b-123"}, []),
]


@pytest.mark.parametrize("existing,wanted,renewed", RENDER_CASES)
def test_render_keeps_matching_entries(existing, wanted, renewed):
    old = pw.render(list(existing.items()), None)[0] if existing else None
    text, got = pw.render(list(wanted.items()), old)
    assert got == renewed
    assert pw.users_of(text) == sorted(wanted)
    assert pw.verify_all(text, wanted) == []
    for password in wanted.values():
        assert password not in text
    if not renewed and old is not None and list(wanted) == list(existing):
        assert text == old


def test_clear_entry_is_replaced_by_its_hash():
    text, renewed = pw.render([("a", "password-a-123")], "a password-a-123\n")
    assert renewed == ["a"] and "password-a-123" not in text and pw.verify_all(text, {"a": "password-a-123"}) == []


def test_parse_reads_what_the_jdk_reads():
    entries = pw.parse("# comment\nx clearpass\ny c2FsdA== aGFzaA==\nz c2FsdA== aGFzaA== SHA-256\nbad\n")
    assert sorted(entries) == ["x", "y", "z"]
    assert entries["x"].matches("clearpass") and not entries["x"].matches("other")
    assert entries["y"].algorithm == "SHA3-512" and entries["z"].algorithm == "SHA-256"
    assert pw.verify_all("", {"a": "p"}) == ["a"]


JAVA_LOGIN = textwrap.dedent("""\
    import com.sun.jmx.remote.security.HashedPasswordManager;
    public class JdkLogin {
        public static void main(String[] a) throws Exception {
            HashedPasswordManager m = new HashedPasswordManager(a[0], true);
            m.loadPasswords();
            System.out.println(m.authenticate(a[1], a[2].toCharArray()) + " " + m.authenticate(a[1], "wrong".toCharArray()));
        }
    }
    """)


@pytest.fixture(scope="module")
def jdk_login(tmp_path_factory):
    d = tmp_path_factory.mktemp("jdklogin")
    (d / "JdkLogin.java").write_text(JAVA_LOGIN)
    flags = ["--add-exports", "java.management/com.sun.jmx.remote.security=ALL-UNNAMED"]
    subprocess.run(["javac", *flags, "-d", str(d), str(d / "JdkLogin.java")], check=True, capture_output=True,
                   timeout=300)
    return lambda *args: subprocess.run(["java", *flags, "-cp", str(d), "JdkLogin", *args], check=True,
                                        capture_output=True, text=True, timeout=120).stdout.split()


def test_the_jdk_accepts_what_python_wrote_and_leaves_it_alone(tmp_path, jdk_login):
    f = tmp_path / "jmxremote.password"
    text, _ = pw.render([("monitor", "pässwörd-1234;=x"), ("ops", "ops-password-123")], None)
    f.write_text(text)
    os.chmod(f, 0o600)
    assert jdk_login(str(f), "monitor", "pässwörd-1234;=x") == ["true", "false"]
    assert f.read_text() == text  # nothing in clear: the JVM does not rewrite the file


def test_python_verifies_what_the_jdk_hashed(tmp_path, jdk_login):
    f = tmp_path / "jmxremote.password"
    f.write_text("monitor clear-password-123\n")
    os.chmod(f, 0o600)
    assert jdk_login(str(f), "monitor", "clear-password-123") == ["true", "false"]
    rewritten = f.read_text()
    assert "clear-password-123" not in rewritten
    assert pw.verify_all(rewritten, {"monitor": "clear-password-123"}) == []
    assert pw.verify_all(rewritten, {"monitor": "other-password-1"}) == ["monitor"]


# ------------------------------------------------------------------ users with their passwords (the role's set_fact)


@pytest.mark.parametrize('users, generated, expected', [
    ([], [], []),
    ([{'name': 'monitor', 'roles': ['viewer']}],
     [{'item': {'name': 'monitor'}, 'password': 'g-1', 'changed': True}],
     [{'name': 'monitor', 'roles': ['viewer'], 'password': 'g-1'}]),
    ([{'name': 'ops', 'password': 'own-password-1'}, {'name': 'monitor'}],          # own kept, other generated
     [{'item': {'name': 'monitor'}, 'password': 'g-2'}, {'item': {'name': 'x'}, 'skipped': True}],
     [{'name': 'ops', 'password': 'own-password-1'}, {'name': 'monitor', 'password': 'g-2'}]),
])
def test_users_with_generated_passwords(users, generated, expected):
    assert pw.with_generated(users, generated) == expected


def test_a_user_with_no_password_and_none_generated_is_named():
    with pytest.raises(pw.MissingPassword, match="kafkasec_jmx_users: user 'monitor'"):
        pw.with_generated([{'name': 'monitor'}], [{'item': {'name': 'monitor'}, 'skipped': True}])


def test_bundle_files_escape_the_credentials_and_set_modes():
    from ansible_collections.kafkasec.tls.plugins.module_utils.jmx.bundle import bundle_files
    files = bundle_files([{'name': 'monitor', 'password': 'p=w:#1 x'}], ['service:jmx:rmi:///jndi/rmi://h:9999/jmxrmi'],
                         {'jmx-client.args': '-D...\n', 'jmxtool.sh': '#!/bin/sh\n'})
    assert [(f['name'], f['mode']) for f in files] == [('monitor.properties', '0600'), ('service-urls.txt', '0644'),
                                                       ('jmx-client.args', '0600'), ('jmxtool.sh', '0755')]
    props = load(files[0]['content'])
    assert props == {'username': 'monitor', 'password': 'p=w:#1 x'}
    assert files[1]['content'] == 'service:jmx:rmi:///jndi/rmi://h:9999/jmxrmi\n'
