# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-core 2.20, the newest of the range meta/runtime.yml declares, rolls TLS out on real Kafka of the other
tested KRaft release (labkit.OTHER_KAFKA, 4.3.1; lab/pom.xml pins 4.4.0): site.yml on a PLAINTEXT one-node lab, a rerun that changes
nothing,
verify.yml (handshakes, a round trip as the verify principal), then jmx.yml (the JMX guard, a client bundle) and
its rerun that changes nothing, and the expiry report, with no deprecation warning. The rest of the lab suites run
on the project's ansible-core (2.18) and lab/pom.xml's Kafka; tests/ansible_versions.sh runs the unit-level checks
on both ends (2.16, 2.20) and builds the 2.20 venv used here.
"""

from __future__ import annotations

import subprocess

from labkit import OTHER_KAFKA, REPO, Site, parse_recap  # pylint: disable=wrong-import-order

VERSION = '2.20'
VENV = REPO / '.build' / ('ansible-%s' % VERSION)


def _ansible_playbook():
    if not (VENV / 'bin' / 'ansible-playbook').exists():
        # The venv is tests/ansible_versions.sh's (make test runs it before the lab suites); alone, build it.
        subprocess.run([str(REPO / 'tests' / 'ansible_versions.sh'), VERSION], check=True, timeout=1800)
    return VENV / 'bin' / 'ansible-playbook'


def _run(site, ansible_playbook, playbook, step, *extra):
    """ansible-playbook of the given venv, as Site.command sets it up (inventory, collection path, settings)."""
    argv, env = site.command(*extra, playbook=REPO / 'playbooks' / playbook)
    proc = subprocess.run([str(ansible_playbook), *argv[1:]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env, timeout=900, check=False)
    (site.workdir / ('%s-%s.log' % (step, playbook))).write_text(proc.stdout)
    return proc


def test_site_rerun_and_verify_on_the_newest_ansible_core(lab, tmp_path):
    assert lab['kafka_version'] == OTHER_KAFKA, lab  # the other tested Kafka release, not lab/pom.xml's
    ansible_playbook = _ansible_playbook()
    version = subprocess.run([str(ansible_playbook), '--version'], capture_output=True, text=True, check=True).stdout
    assert version.startswith('ansible-playbook [core %s.' % VERSION), version
    site = Site(lab, tmp_path)
    first = _run(site, ansible_playbook, 'site.yml', 'first')
    assert first.returncode == 0, first.stdout[-6000:]
    assert any(counts['changed'] for counts in parse_recap(first.stdout).values()), first.stdout[-3000:]
    rerun = _run(site, ansible_playbook, 'site.yml', 'rerun')
    assert rerun.returncode == 0, rerun.stdout[-6000:]
    recap = parse_recap(rerun.stdout)
    assert recap and all(counts['changed'] == 0 for counts in recap.values()), rerun.stdout[-3000:]
    verify = _run(site, ansible_playbook, 'verify.yml', 'verify')
    assert verify.returncode == 0, verify.stdout[-6000:]
    assert 'round trip ok' in verify.stdout, verify.stdout[-3000:]
    bundle = ['-e', 'kafkasec_jmx_bundle_dir=%s' % (tmp_path / 'jmx-bundle')]
    jmx = _run(site, ansible_playbook, 'jmx.yml', 'jmx', *bundle)
    assert jmx.returncode == 0, jmx.stdout[-6000:]
    assert (tmp_path / 'jmx-bundle' / 'service-urls.txt').is_file()
    jmx_rerun = _run(site, ansible_playbook, 'jmx.yml', 'jmx-rerun', *bundle)
    assert jmx_rerun.returncode == 0, jmx_rerun.stdout[-6000:]
    assert all(counts['changed'] == 0 for counts in parse_recap(jmx_rerun.stdout).values()), jmx_rerun.stdout[-3000:]
    report = tmp_path / 'expiry.json'
    expiry = _run(site, ansible_playbook, 'expiry.yml', 'expiry', '-e', 'kafkasec_expiry_warn_days=1',
                  '-e', 'kafkasec_expiry_json=%s' % report)
    assert expiry.returncode == 0, expiry.stdout[-6000:]
    assert report.is_file() and '"listener"' in report.read_text()
    for proc in (first, rerun, verify, jmx, jmx_rerun, expiry):
        assert '[DEPRECATION WARNING]' not in proc.stdout, proc.stdout[-6000:]
