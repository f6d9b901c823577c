#!/usr/bin/env bash
# The test suites that start real Kafka (tests/lab, tests/integration, tests/security, tests/acls,
# tests/versions, the Molecule scenarios), one after another, on a lab instance of their own: KAFKASEC_TEST_LAB_INSTANCE (default 9, so
# 127.0.9.x and *.lab9.test), never the demo's lab (instance 1), whatever state that one is in.
#
#   tests/lab_suites.sh                 every suite
#   tests/lab_suites.sh lab integration only those named (lab, integration, security, acls, jmx_guard, versions,
#                                       molecule; molecule:<scenario> for one scenario)
#
# `make test` runs them through tests/ci.sh, on two lanes (two lab instances) at once.
#
# The instance belongs to the tests: a lab left on it by an interrupted run is destroyed before the
# suites start. A lock (flock) keeps two runs on one machine from sharing the instance; the second
# stops at once and says so. Stops at the first failing suite; exits with its status.
# The jmx_guard suite (tests/jmx_guard: the JMX guard in its own small JVMs, JDK 17 and 25) needs no lab.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if [ "$(id -u)" != 0 ]; then
  echo "tests/lab_suites.sh must run as root: the lab adds users, /etc/hosts entries and sshd." >&2
  exit 1
fi
instance=${KAFKASEC_TEST_LAB_INSTANCE:-9}
if [ "$instance" = 1 ]; then
  echo "KAFKASEC_TEST_LAB_INSTANCE=1 is the demo's lab; the tests destroy their lab, pick another (2-200)." >&2
  exit 2
fi
export KAFKASEC_LAB_INSTANCE=$instance
export KAFKASEC_LAB_INVENTORY="$repo/lab/run-$instance/inventory.yml"
py="$repo/.venv/bin/python"

lock="/run/lock/kafkasec-test-lab-$instance.lock"
mkdir -p "$(dirname "$lock")"
exec 8>"$lock"
if ! flock -n 8; then
  echo "another test run holds $lock (lab instance $instance); wait for it or set KAFKASEC_TEST_LAB_INSTANCE." >&2
  exit 1
fi

if "$py" lab/labctl status --json >/dev/null 2>&1; then
  echo "==> lab instance $instance was left by an interrupted run: destroying it"
  "$py" lab/labctl destroy </dev/null
fi

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(lab integration security acls jmx_guard versions molecule)
for s in "${suites[@]}"; do
  echo "==> $s suite on lab instance $instance"
  case "$s" in
    lab) "$py" -m pytest tests/lab -q -m lab ;;
    integration) "$py" -m pytest tests/integration -q ;;
    security) "$py" -m pytest tests/security -q ;;
    acls) "$py" -m pytest tests/acls -q ;;
    jmx_guard) "$py" -m pytest tests/jmx_guard -q ;;  # no lab: its own JVMs on 127.0.60.x
    versions) "$py" -m pytest tests/versions -q ;;  # ansible-core 2.20 on a real lab (venv of tests/ansible_versions.sh)
    molecule) ./tests/molecule_test.sh ;;
    molecule:*) ./tests/molecule_test.sh "${s#molecule:}" ;;  # one scenario
    *) echo "unknown suite: $s (lab, integration, security, acls, jmx_guard, versions, molecule, molecule:<scenario>)" >&2; exit 2 ;;
  esac
done
