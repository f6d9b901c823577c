#!/usr/bin/env bash
# Every test `make test` runs (and so CI: .ci/run), on three lanes at once. The checks that need no lab (unit
# tests, ansible-test sanity, ansible-lint, the ansible-core range's ends) and the lab suites and Molecule
# scenarios of tests/lab_suites.sh form one queue, longest first; each lane takes the next item when its last
# one is done. A lane owns one lab instance (KAFKASEC_TEST_LAB_INSTANCE, default 9, and the ones after it: 127.0.9.x,
# 127.0.10.x, 127.0.11.x), so no two share a lab. A lab test spends most of its time waiting (JVM starts, the roll's
# gates, loads that run for a set time), which the other lanes use: one Molecule scenario kept the 2 cores about
# half busy.
#
#   tests/ci.sh                  every item, KAFKASEC_TEST_LANES lanes (default 3; 1 runs them one after another)
#   tests/ci.sh unit lint molecule:sasl   only those items
#
# Each item's output goes to .build/ci/<item>.log and is printed whole when the item ends, so the log reads one
# item at a time. After the first failure no lane starts another item; the items running finish. Exits non-zero
# if any item failed, and when no item ran at all. pytest's own exit 5 (nothing collected) fails its item.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
py="$repo/.venv/bin/python"

lanes=${KAFKASEC_TEST_LANES:-3}
first=${KAFKASEC_TEST_LAB_INSTANCE:-9}
case "$lanes" in 1|2|3) ;; *) echo "KAFKASEC_TEST_LANES must be 1, 2 or 3 (2 cores: more lanes only wait on each other)" >&2; exit 2 ;; esac

# Longest first, from the CI runs' wall times (README), so the last item to end is a short one. The unit tests
# start at once: they fail fastest. `versions` (ansible-core 2.20 on a real lab) uses the venv ansible_versions
# builds, so it waits for that item. Molecule `default` is not an item of its own: `add_host` runs every step of it
# (create, converge, idempotence, the same verify directory molecule/shared/tests) and then grows the lab by a node;
# nor is `renew`: rotate_ca runs its prepare, converge and verify test first, then the CA rotation on the same lab.
all_items=(unit molecule:rotate_ca molecule:migrate_dynamic molecule:migrate molecule:zookeeper sanity lint
           ansible_versions integration molecule:jmx molecule:failed_roll molecule:add_host security molecule:authz
           molecule:connect versions molecule:sasl lab acls jmx_guard)
items=("$@")
[ ${#items[@]} -gt 0 ] || items=("${all_items[@]}")

state="$repo/.build/ci"
rm -rf "$state"
mkdir -p "$state/done"
printf '%s\n' "${items[@]}" > "$state/queue"
: > "$state/results"

run_item() {  # item lab-instance
  local item=$1 instance=$2
  case "$item" in
    unit) "$py" -m pytest tests/unit -q -n auto -p no:cacheprovider ;;
    sanity) ./tests/sanity.sh ;;
    lint) ./tests/lint.sh ;;
    ansible_versions) ./tests/ansible_versions.sh ;;
    *) KAFKASEC_TEST_LAB_INSTANCE=$instance ./tests/lab_suites.sh "$item" ;;
  esac
}

take() {  # prints the next item, or nothing when the queue is empty or a failure stops the run
  (
    flock 7
    [ -e "$state/failed" ] && exit 0
    local item
    item=$(head -n 1 "$state/queue")
    [ -n "$item" ] || exit 0
    sed -i 1d "$state/queue"
    echo "$item"
  ) 7>"$state/queue.lock"
}

lane() {  # lane-number lab-instance
  local n=$1 instance=$2 item t0 rc dt
  # Each lane's pytest runs (its lab suites, the Molecule verifiers) keep their temporary directories apart.
  export PYTEST_DEBUG_TEMPROOT="${TMPDIR:-/tmp}/kafkasec-ci-lane$n"
  mkdir -p "$PYTEST_DEBUG_TEMPROOT"
  while item=$(take) && [ -n "$item" ]; do
    if [ "$item" = versions ] && printf '%s\n' "${items[@]}" | grep -qx ansible_versions; then
      while [ ! -e "$state/done/ansible_versions" ] && [ ! -e "$state/failed" ]; do sleep 5; done
      [ -e "$state/failed" ] && break
    fi
    echo "==> lane $n (lab instance $instance): $item started at $(date -u +%H:%M:%S)"
    t0=$(date +%s)
    rc=0
    run_item "$item" "$instance" > "$state/$item.log" 2>&1 </dev/null || rc=$?
    dt=$(( $(date +%s) - t0 ))
    (
      flock 7
      echo "==> lane $n: $item $( [ "$rc" = 0 ] && echo passed || echo "FAILED (exit $rc)") in ${dt}s; its output:"
      cat "$state/$item.log"
      echo "==> end of $item"
      printf '%-22s %-6s %6ss  lane %s\n' "$item" "$( [ "$rc" = 0 ] && echo passed || echo FAILED)" "$dt" "$n" >> "$state/results"
    ) 7>"$state/print.lock"
    if [ "$rc" = 0 ]; then
      touch "$state/done/$item"
    else
      touch "$state/failed"
    fi
  done
}

# The labs of these tests carry little traffic: their brokers run with the JIT's first tier only and the serial
# collector (lab/labctl's KAFKASEC_LAB_JVM_OPTS), which on two cores halves what each broker start costs (seen:
# 2.8-3.0 CPU-seconds to ready instead of 6.1-7.9, a third less when idle). make demo and make bench keep
# Kafka's own JVM flags.
export KAFKASEC_LAB_JVM_OPTS=${KAFKASEC_LAB_JVM_OPTS:-"-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true"}

t_all=$(date +%s)
pids=()
for ((n = 1; n <= lanes; n++)); do
  lane "$n" $((first + n - 1)) &
  pids+=($!)
done
trap 'kill 0' INT TERM
for p in "${pids[@]}"; do wait "$p" || true; done

echo "==> results ($lanes lane(s), $(( $(date +%s) - t_all ))s in all):"
cat "$state/results"
ran=$(wc -l < "$state/results")
if [ -e "$state/failed" ]; then
  left=$(wc -l < "$state/queue")
  echo "==> a check failed; $left item(s) not started" >&2
  exit 1
fi
if [ "$ran" -lt ${#items[@]} ]; then
  echo "==> only $ran of ${#items[@]} items ran" >&2
  exit 1
fi
