#!/usr/bin/env bash
# The Molecule scenarios against the local Kafka lab: default, add_host, migrate, migrate_dynamic, failed_roll, connect,
# sasl, authz, jmx, zookeeper, renew, rotate_ca, one after the other (one lab per instance; tests/lab_suites.sh picks the instance). Prints the
# wall time of each scenario; exits non-zero if any scenario fails.
#
#   tests/molecule_test.sh                    every scenario
#   tests/molecule_test.sh add_host           only the ones named
#
# Needs root (the lab adds users, /etc/hosts entries, sshd) and `make deps` (.venv with molecule,
# pytest-testinfra, confluent-kafka; the collection link under .build/collections).
# Non-interactive: no stdin, no TTY, no colours (CI=true works). KAFKASEC_LAB_KEEP=1 keeps the last
# scenario's lab up for inspection (lab/labctl destroy removes it).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if [ "$(id -u)" != 0 ]; then
  echo "tests/molecule_test.sh must run as root: the lab adds users, /etc/hosts entries and sshd." >&2
  exit 1
fi
if [ ! -x .venv/bin/molecule ]; then
  echo "no .venv/bin/molecule: run make deps first" >&2
  exit 1
fi

# What `make link` does, so this also works without make.
mkdir -p .build/collections/ansible_collections/kafkasec
ln -sfn "$repo" .build/collections/ansible_collections/kafkasec/tls

export PATH="$repo/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$repo/.build/collections"
export MOLECULE_PROJECT_DIRECTORY="$repo"
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1 PY_COLORS=0
export CI="${CI:-true}"

# A second lab beside the first (labctl's KAFKASEC_LAB_INSTANCE=N): its inventory is lab/run-N/.
if [ -n "${KAFKASEC_LAB_INSTANCE:-}" ] && [ "$KAFKASEC_LAB_INSTANCE" != 1 ]; then
  export KAFKASEC_LAB_INVENTORY="${KAFKASEC_LAB_INVENTORY:-$repo/lab/run-$KAFKASEC_LAB_INSTANCE/inventory.yml}"
fi

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(default add_host migrate migrate_dynamic failed_roll connect sasl authz jmx zookeeper renew rotate_ca)

ns_now() { date +%s%N; }
secs() { local ns=$(( $(ns_now) - $1 )); printf '%d.%d' $((ns / 1000000000)) $((ns / 100000000 % 10)); }

results=()
failed=0
t_all=$(ns_now)
for s in "${scenarios[@]}"; do
  echo "==> molecule test -s $s"
  t0=$(ns_now)
  rc=0
  molecule test -s "$s" </dev/null || rc=$?
  dt=$(secs "$t0")
  if [ "$rc" = 0 ]; then
    results+=("$(printf '%-10s %-6s %8ss' "$s" passed "$dt")")
  else
    results+=("$(printf '%-10s %-6s %8ss (exit %d)' "$s" FAILED "$dt" "$rc")")
    failed=1
    # A failed scenario leaves its lab behind (Molecule stops at the failed step): remove it, so the
    # next scenario starts clean, unless it is kept for inspection.
    if [ "${KAFKASEC_LAB_KEEP:-}" != 1 ]; then lab/labctl destroy </dev/null || true; fi
  fi
done

echo
echo "Molecule scenarios (wall time):"
for r in "${results[@]}"; do echo "  $r"; done
echo "  total      $(secs "$t_all")s"
exit "$failed"
