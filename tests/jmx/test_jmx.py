# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secure remote JMX on a real Kafka node, from outside with real JMX clients (see conftest.py)."""

from __future__ import annotations

import re
import stat
import time
from pathlib import Path

from conftest import GUARD, JMX_PLAYBOOK, LOG4J, THREADING, USERS
from labkit import tree_digest

METRIC = 'kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec'
MEMORY = 'java.lang:type=Memory'
DCMD = 'com.sun.management:type=DiagnosticCommand'
S2 = 'java.lang.String|java.lang.String'
GUARD_REFUSAL = 'kafkasec JMX guard'


def _secrets(jmx):
    pki = Path(jmx.node['root']) / 'pki'
    out = [(pki / name).read_text().strip() for name in ('keystore.password', 'truststore.password')]
    return out + [jmx.credentials(u)['password'] for u in ('viewer', 'admin')]


def test_first_run_restarts_the_node_through_the_roll(jmx):
    out = jmx.first.output
    assert 'JMX: management.properties changed' in out
    assert re.search(r'restarted and passed process, tls, registered, isr', out), out[-3000:]
    assert jmx.pid() != jmx.pid_before


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
    bundle = jmx.bundle
    try:
        jmx.bundle = tmp_path
        for name in ('jmx-client.args', 'jmxtool.sh', 'service-urls.txt'):
            (tmp_path / name).symlink_to(bundle / name)
        p = jmx.jmxtool('intruder', '--object-name', METRIC, '--one-time', 'true')
    finally:
        jmx.bundle = bundle
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


def test_rerun_changes_nothing_and_restarts_nothing(jmx):
    pid = jmx.pid()
    rerun = jmx.run_jmx()
    assert rerun.rc == 0, rerun.describe()
    assert all(r['changed'] == 0 for r in rerun.recap.values()), rerun.describe()
    assert jmx.pid() == pid
    assert jmx.check('read', METRIC, 'Count', credentials='viewer').returncode == 0


def test_check_mode_reports_a_bundle_directory_not_there_yet(jmx, tmp_path):
    bundle = tmp_path / 'not-there-yet'
    run = jmx.site.run(*jmx.args(kafkasec_jmx_bundle_dir=str(bundle)), '--check', playbook=JMX_PLAYBOOK)
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


def test_guard_viewer_reads_and_is_refused_gc_diagnostic_commands_and_setloglevel(jmx):
    dcmd_ops = [('vmVersion', ''), ('gcClassHistogram', '[Ljava.lang.String;'),
                ('jvmtiAgentLoad', '[Ljava.lang.String;')]
    calls = [('get', METRIC, 'Count'), ('invoke', MEMORY, 'gc'),
             ('invoke', LOG4J, 'setLogLevel', S2, 'kafka.log.LogManager|INFO'),
             ('invoke', THREADING, 'resetPeakThreadCount')]
    calls += [('invoke', DCMD, op, sig, '') for op, sig in dcmd_ops if not sig] + \
        [('can', DCMD, op, sig) for op, sig in dcmd_ops]
    calls += [('can', METRIC, 'getCount'), ('can', MEMORY, 'gc'), ('can', LOG4J, 'setLogLevel', S2)]
    a = jmx.session('viewer', *calls)
    assert int(ok(a[0])) >= 0
    for answer in a[1:5]:
        denied(answer, 'viewer')
    assert [ok(x) for x in a[5:8]] == ['false'] * 3            # canInvoke: no DiagnosticCommand operation
    assert [ok(x) for x in a[8:]] == ['true', 'false', 'false']  # agrees with the calls above


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
                    ('invoke', LOG4J, 'setLogLevel', S2, 'kafka.log.LogManager|INFO'), ('can', MEMORY, 'gc'))
    ok(a[0])
    assert 'JDK' in ok(a[1]) or 'VM' in ok(a[1])
    ok(a[2])
    assert ok(a[3]) == 'true'


def test_guard_rule_changed_by_the_role_takes_effect_without_a_restart(jmx):
    pid = jmx.pid()
    changed = {'rules': [{'mbean': MEMORY, 'operations': {'gc': ['manager']}}, GUARD['rules'][1]]}
    run = jmx.run_jmx(kafkasec_jmx_guard=changed)
    assert run.rc == 0, run.describe()
    pending = Path(jmx.node['root']) / 'etc' / 'server.properties.kafkasec-restart-pending'
    assert 'restarted and passed' not in run.output and not pending.exists(), run.output[-3000:]
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
    assert 'restarted and passed' not in back.output and jmx.pid() == pid


def test_verify_playbook_checks_the_jmx_port(jmx):
    from labkit import REPO
    run = jmx.site.run('--tags', 'jmx', '-e', '{"kafkasec_jmx_users": [{"name": "viewer", "roles": ["viewer"]}]}',
                       playbook=REPO / 'playbooks' / 'verify.yml')
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
    before = tree_digest(jmx.site.refresh())
    run = jmx.run_jmx(kafkasec_jmx_rmi_hostname='other.lab.test',
                      kafkasec_jmx_users=[{'name': 'viewer', 'roles': ['viewer'], 'password': 'short-pw'}],
                      kafkasec_jmx_guard={'rules': [{'mbean': 'kafka.log', 'operations': {'flush': ['manager']}}]})
    assert run.rc != 0
    assert "kafkasec_jmx_guard.rules[0].mbean: 'kafka.log' is not an ObjectName" in run.output
    assert "%s: kafkasec_jmx_rmi_hostname ('other.lab.test') is not a name of the host's certificate" % \
        jmx.node['name'] in run.output
    assert "the password of user 'viewer' is shorter than 12 characters" in run.output
    assert 'short-pw' not in run.output
    assert tree_digest(jmx.site.refresh()) == before
