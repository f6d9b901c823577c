# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secure remote JMX on a real Kafka node (the jmx scenario's converge), from outside with real JMX clients (see
conftest.py). The tests run in this order; the rule-change test puts the rules back, the password test leaves the
viewer a new password (the bundle follows), the last test turns need.client.auth on."""

from __future__ import annotations

import re
import stat
import time
from pathlib import Path

from conftest import GUARD, GUARD_REFUSAL, USERS, kafkalab, labkit

METRIC = 'kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec'
MEMORY = 'java.lang:type=Memory'
DCMD = 'com.sun.management:type=DiagnosticCommand'
THREADING = 'java.lang:type=Threading'
LOG4J = 'kafka:type=kafka.Log4jController'
S2 = 'java.lang.String|java.lang.String'
ROLLED = 'restarted and passed'


def _secrets(jmx):
    pki = Path(jmx.node['root']) / 'pki'
    out = [(pki / name).read_text().strip() for name in ('keystore.password', 'truststore.password')]
    return out + [jmx.credentials(u)['password'] for u in ('viewer', 'admin')]


def test_command_line_and_environment_carry_no_secret_and_no_jmx_port(jmx):
    pid = jmx.pid()
    cmdline = Path('/proc/%d/cmdline' % pid).read_bytes().replace(b'\0', b' ').decode()
    assert '-Dcom.sun.management.config.file=%s/management.properties' % jmx.jmx_dir in cmdline
    assert '-Djava.rmi.server.hostname=%s' % jmx.node['name'] in cmdline
    assert '-Xbootclasspath/a:%s/kafkasec-jmx-guard.jar' % jmx.jmx_dir in cmdline
    assert '-Dkafkasec.jmx.guard.config=%s/guard' % jmx.jmx_dir in cmdline
    assert re.search(r'-Dkafkasec\.jmx\.guard\.jar\.sha256=[0-9a-f]{64}\b', cmdline), cmdline
    environ = Path('/proc/%d/environ' % pid).read_bytes().split(b'\0')
    assert not [e for e in environ if e.startswith(b'JMX_PORT=')]
    for secret in _secrets(jmx):
        assert secret and secret not in cmdline


def test_viewer_reads_a_broker_metric_with_kafkas_jmxtool(jmx):
    p = jmx.jmxtool('viewer', '--object-name', METRIC, '--attributes', 'Count', '--one-time', 'true')
    assert p.returncode == 0, p.stdout + p.stderr
    header, value = p.stdout.strip().splitlines()[-2:]
    assert header == '"time","%s:Count"' % METRIC
    assert re.fullmatch(r'\d+,\d+', value), value


def test_jmxtool_with_a_wrong_password_is_refused(jmx, tmp_path):
    (tmp_path / 'intruder.properties').write_text('username=viewer\npassword=not-the-password-1\n')
    for name in ('jmx-client.args', 'jmxtool.sh', 'service-urls.txt'):
        (tmp_path / name).symlink_to(jmx.bundle / name)
    p = jmx.jmxtool('intruder', '--object-name', METRIC, '--one-time', 'true', bundle=tmp_path)
    assert p.returncode != 0
    assert 'Invalid username or password' in p.stdout + p.stderr


def test_viewer_reads_but_is_refused_an_operation_admin_may_invoke(jmx):
    read = jmx.check('read', METRIC, 'Count', credentials='viewer')
    assert read.returncode == 0 and 'Count = ' in read.stdout, read.stdout + read.stderr
    refused = jmx.check('refused-invoke', 'java.lang:type=Memory', 'gc', credentials='viewer')
    assert refused.returncode == 0, refused.stdout + refused.stderr
    assert GUARD_REFUSAL in refused.stdout  # the access file says readwrite: the guard refuses
    admin = jmx.check('invoke', 'java.lang:type=Memory', 'gc', credentials='admin')
    assert admin.returncode == 0 and 'invoked' in admin.stdout, admin.stdout + admin.stderr


def test_wrong_password_anonymous_no_tls_and_plain_registry_are_refused(jmx):
    for check, expected in (('wrong-password', 'Invalid username or password'),
                            ('anonymous', 'Credentials required'),
                            ('no-tls', 'non-JRMP server'),
                            ('plain-registry', 'non-JRMP server')):
        args = [jmx.node['name'], '9999'] if check == 'plain-registry' else []
        p = jmx.check(check, *args, credentials='viewer')
        assert p.returncode == 0, '%s: %s' % (check, p.stdout + p.stderr)
        assert 'refused' in p.stdout and expected in p.stdout, p.stdout
    control = jmx.check('registry-tls', jmx.node['name'], '9999')
    assert control.returncode == 0 and 'jmxrmi' in control.stdout


def test_files_are_owner_only_for_the_service_user(jmx):
    uid = Path(jmx.node['root']).stat().st_uid
    d = jmx.jmx_dir.stat()
    assert stat.S_IMODE(d.st_mode) == 0o700 and d.st_uid == uid
    names = ['management.properties', 'jmxremote.password', 'jmxremote.access', 'jmxremote-ssl.properties',
             'viewer.generated-password', 'admin.generated-password', 'kafkasec-jmx-guard.jar',
             'guard/jmx.users.cfg', 'guard/jmx.acl.java.lang.Threading.cfg',
             'guard/jmx.acl.kafka.kafka.Log4jController.cfg']
    for name in names:
        st = (jmx.jmx_dir / name).stat()
        assert (name, stat.S_IMODE(st.st_mode), st.st_uid) == (name, 0o600, uid)
    g = (jmx.jmx_dir / 'guard').stat()
    assert stat.S_IMODE(g.st_mode) == 0o700 and g.st_uid == uid
    password_file = (jmx.jmx_dir / 'jmxremote.password').read_text()
    for secret in _secrets(jmx)[2:]:
        assert secret not in password_file  # hashes only
    # the guard decides: the JDK's level is readwrite for everyone, never create or unregister
    access = (jmx.jmx_dir / 'jmxremote.access').read_text()
    assert 'viewer readwrite\n' in access and 'create' not in access and 'unregister' not in access
    for name in ('viewer.properties', 'admin.properties', 'truststore.password', 'jmx-client.args'):
        assert stat.S_IMODE((jmx.bundle / name).stat().st_mode) == 0o600, name
    urls = (jmx.bundle / 'service-urls.txt').read_text().splitlines()
    assert urls == [jmx.url]


def test_check_mode_reports_a_bundle_directory_not_there_yet(jmx, tmp_path):
    bundle = tmp_path / 'not-there-yet'
    run = jmx.run('-e', '{"kafkasec_jmx_bundle_dir": "%s"}' % bundle, '--check')
    assert run.rc == 0, run.describe()
    assert 'would create %s (0700) with truststore.p12' % bundle in run.output, run.describe()
    assert not bundle.exists()
    assert {h: r['changed'] for h, r in run.recap.items() if r['changed']} == {jmx.node['name']: 1}, run.describe()


def ok(answer):
    status, text = answer
    assert status == 'OK', answer
    return text


def denied(answer, user):
    status, text = answer
    assert status == 'DENIED' and GUARD_REFUSAL in text and user in text, answer
    return text


def test_guard_viewer_reads_and_is_refused_gc_every_diagnostic_command_and_setloglevel(jmx):
    (ops,) = jmx.session('admin', ('ops', DCMD))
    dcmd_ops = [re.fullmatch(r'(\w+)\((.*)\)', op).groups() for op in ok(ops).split()]
    assert {'vmVersion', 'gcClassHistogram', 'jvmtiAgentLoad'} <= {op for op, _ in dcmd_ops}, dcmd_ops
    calls = [('get', METRIC, 'Count'), ('invoke', MEMORY, 'gc'),
             ('invoke', LOG4J, 'setLogLevel', S2, 'kafka.log.LogManager|INFO'),
             ('invoke', THREADING, 'resetPeakThreadCount')]
    calls += [('invoke', DCMD, op, sig.replace(',', '|'), '') for op, sig in dcmd_ops]  # every one, refused
    calls += [('can', DCMD, op, sig.replace(',', '|')) for op, sig in dcmd_ops] + [('can', DCMD)]
    calls += [('can', METRIC, 'getCount'), ('can', MEMORY, 'gc'), ('can', LOG4J, 'setLogLevel', S2)]
    a = jmx.session('viewer', *calls)
    n = len(dcmd_ops)
    assert int(ok(a[0])) >= 0
    for answer in a[1:4 + n]:
        denied(answer, 'viewer')
    # canInvoke: no DiagnosticCommand operation, none of the MBean at all, and the rest agrees with the calls above
    assert [ok(x) for x in a[4 + n:5 + 2 * n]] == ['false'] * (n + 1)
    assert [ok(x) for x in a[5 + 2 * n:]] == ['true', 'false', 'false']


def test_guard_manager_gets_exactly_the_wildcard_and_the_argument_rule(jmx):
    a = jmx.session('manager',
                    ('invoke', THREADING, 'resetPeakThreadCount'),                       # wildcard reset*
                    ('invoke', LOG4J, 'setLogLevel', S2, 'kafka.log.LogManager|INFO'),   # argument rule
                    ('invoke', LOG4J, 'setLogLevel', S2, 'kafka.log.LogManager|TRACE'),  # level not allowed
                    ('invoke', LOG4J, 'setLogLevel', S2, 'root|INFO'),                   # logger not allowed
                    ('invoke', MEMORY, 'gc'), ('invoke', DCMD, 'vmVersion'),
                    ('invoke', THREADING, 'findDeadlockedThreads'),                      # not reset*
                    ('get', METRIC, 'Count'),
                    ('can', THREADING, 'resetPeakThreadCount'), ('can', MEMORY, 'gc'))
    ok(a[0])
    ok(a[1])
    for answer in a[2:7]:
        denied(answer, 'manager')
    ok(a[7])
    assert [ok(a[8]), ok(a[9])] == ['true', 'false']


def test_guard_admin_may_gc_and_run_diagnostic_commands(jmx):
    a = jmx.session('admin', ('invoke', MEMORY, 'gc'), ('invoke', DCMD, 'vmVersion'),
                    ('invoke', LOG4J, 'setLogLevel', S2, 'kafka.log.LogManager|INFO'), ('can', MEMORY, 'gc'),
                    ('can', DCMD, 'jvmtiAgentLoad', '[Ljava.lang.String;'), ('can', DCMD))
    ok(a[0])
    assert 'JDK' in ok(a[1]) or 'VM' in ok(a[1])
    ok(a[2])
    assert [ok(x) for x in a[3:]] == ['true', 'true', 'true']


def test_guard_rule_changed_by_the_role_takes_effect_without_a_restart(jmx):
    pid = jmx.pid()
    changed = {'rules': [{'mbean': MEMORY, 'operations': {'gc': ['manager']}}, GUARD['rules'][1]]}
    run = jmx.run_jmx(kafkasec_jmx_guard=changed)
    assert run.rc == 0, run.describe()
    pending = Path(jmx.node['root']) / 'etc' / 'server.properties.kafkasec-restart-pending'
    assert ROLLED not in run.output and not pending.exists(), run.output[-3000:]
    assert run.recap[jmx.node['name']]['changed'] > 0 and jmx.pid() == pid
    assert not (jmx.jmx_dir / 'guard' / 'jmx.acl.java.lang.Threading.cfg').exists()  # the stale rule removed
    deadline = time.monotonic() + 30
    while True:  # the guard polls its directory (1 s by default)
        a = jmx.session('manager', ('invoke', MEMORY, 'gc'), ('invoke', THREADING, 'resetPeakThreadCount'),
                        ('can', MEMORY, 'gc'))
        if a[0][0] == 'OK' or time.monotonic() > deadline:
            break
        time.sleep(1)
    ok(a[0])
    denied(a[1], 'manager')
    assert ok(a[2]) == 'true'
    assert jmx.pid() == pid
    back = jmx.run_jmx()
    assert back.rc == 0, back.describe()
    assert ROLLED not in back.output and jmx.pid() == pid


def test_verify_playbook_checks_the_jmx_port(jmx):
    run = jmx.run('--tags', 'jmx', playbook=labkit.REPO / 'playbooks' / 'verify.yml')
    assert run.rc == 0, run.describe()
    assert 'all 6 checks passed; registry on TLS: lists [jmxrmi]' in run.output
    assert 'wrong password: refused' in run.output and 'anonymous login: refused' in run.output


def test_a_new_password_works_at_once_without_a_restart(jmx):
    pid = jmx.pid()
    old = jmx.credentials('viewer')['password']
    users = [dict(u, password='a-new-viewer-password-42') if u['name'] == 'viewer' else u for u in USERS]
    run = jmx.run_jmx(kafkasec_jmx_users=users)
    assert run.rc == 0, run.describe()
    assert 'a-new-viewer-password-42' not in run.output
    assert jmx.pid() == pid
    assert jmx.credentials('viewer')['password'] == 'a-new-viewer-password-42'
    assert jmx.check('read', METRIC, 'Count', credentials='viewer').returncode == 0
    (jmx.bundle / 'old.properties').write_text('username=viewer\npassword=%s\n' % old)
    refused = jmx.check('read', METRIC, 'Count', credentials='old')
    assert refused.returncode != 0 and 'Invalid username or password' in refused.stdout + refused.stderr


def test_bad_input_fails_naming_host_variable_value_before_any_change(jmx):
    before = labkit.tree_digest(jmx.site.refresh())
    run = jmx.run_jmx(kafkasec_jmx_rmi_hostname='other.lab.test',
                      kafkasec_jmx_users=[{'name': 'viewer', 'roles': ['viewer'], 'password': 'short-pw'}],
                      kafkasec_jmx_guard={'rules': [{'mbean': 'kafka.log', 'operations': {'flush': ['manager']}}]})
    assert run.rc != 0
    assert "kafkasec_jmx_guard.rules[0].mbean: 'kafka.log' is not an ObjectName" in run.output
    assert "%s: kafkasec_jmx_rmi_hostname ('other.lab.test') is not a name of the host's certificate" % \
        jmx.node['name'] in run.output
    assert "the password of user 'viewer' is shorter than 12 characters" in run.output
    assert 'short-pw' not in run.output
    assert labkit.tree_digest(jmx.site.refresh()) == before


def _pkcs12(directory: Path, pki: kafkalab.ClientPKI) -> tuple:
    """The client's PEM key and certificate as a PKCS12 file and its password file (JmxCheck's --keystore)."""
    import secrets
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    password = secrets.token_urlsafe(18)
    key = kafkalab.serialization.load_pem_private_key(pki.key_file.read_bytes(), password=None)
    cert = kafkalab.x509.load_pem_x509_certificate(pki.cert_file.read_bytes())
    p12 = directory / 'client.p12'
    p12.write_bytes(pkcs12.serialize_key_and_certificates(b'client', key, cert, None,
                                                          BestAvailableEncryption(password.encode())))
    (directory / 'client.p12.password').write_text(password + '\n')
    return p12, directory / 'client.p12.password'


def test_need_client_auth_refuses_a_client_without_a_lab_ca_certificate(jmx, ca, tmp_path):
    """Last: kafkasec_jmx_need_client_auth on (the JVM reads it at start-up: the node restarts once, through the
    roll). The password alone no longer gets in, nor a certificate of another CA; a lab CA certificate does."""
    pid = jmx.pid()
    run = jmx.run_jmx(kafkasec_jmx_need_client_auth=True)
    assert run.rc == 0, run.describe()
    assert ROLLED in run.output and jmx.pid() != pid, run.output[-3000:]
    props = (jmx.jmx_dir / 'management.properties').read_text()
    assert 'com.sun.management.jmxremote.ssl.need.client.auth=true' in props
    pem = ca.certificate.public_bytes(kafkalab.serialization.Encoding.PEM)
    lab_ca = _pkcs12(tmp_path, kafkalab.issue_client(tmp_path / 'lab-ca', ca.certificate, ca.privatekey, pem,
                                                     'jmx-monitoring-client'))
    other = tmp_path / 'other-ca'
    other.mkdir()
    other_ca = _pkcs12(other, kafkalab.issue_client(other, *kafkalab.make_ca(ca.certificate.subject), pem,
                                                    'jmx-monitoring-client'))
    accepted = jmx.check('read', METRIC, 'Count', credentials='viewer', keystore=lab_ca)
    assert accepted.returncode == 0 and 'Count = ' in accepted.stdout, accepted.stdout + accepted.stderr
    for keystore in (None, other_ca):
        refused = jmx.check('read', METRIC, 'Count', credentials='viewer', keystore=keystore)
        assert refused.returncode != 0 and 'Count = ' not in refused.stdout, refused.stdout
        assert re.search(r'SSLHandshakeException|bad_certificate|certificate_required|SocketException|'
                         r'Connection reset|Broken pipe', refused.stdout + refused.stderr), refused.stderr[-2000:]
    # Kafka's JmxTool with the bundle alone (truststore and password, no certificate) is refused too.
    p = jmx.jmxtool('viewer', '--object-name', METRIC, '--attributes', 'Count', '--one-time', 'true')
    assert p.returncode != 0, p.stdout
