#!/usr/bin/env bash
# The ends of the ansible-core range the collection supports (2.16 to 2.20, meta/runtime.yml; README "Supported
# versions"), each in a venv of its own (the lab suite `versions` runs site.yml on real Kafka with the 2.20 one):
# ansible-core 2.16 on Python 3.11 and 2.20 on Python 3.12 or 3.13 (2.20 needs 3.12+ on the control node). In each:
#   - the unit tests that go through Ansible itself: action plugins, filters, the module runner
#     (real ansible-playbook runs of the modules, argument specs, check mode, diff, no_log) and the
#     templates rendered by Ansible's templar;
#   - `ansible-playbook --syntax-check` on every playbook under playbooks/;
#   - no deprecation warning in any of it (they are to be fixed, not silenced).
#
#   tests/ansible_versions.sh             both ends
#   tests/ansible_versions.sh 2.20        only the versions named (2.16, 2.20)
#
# The venvs live in .build/ansible-<version>/ and are rebuilt only when the requirements change.
# Python comes from PATH (python3.11, python3.12, python3.13) or pyenv; a missing one is an error, not a skip.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# version -> the Pythons it may run on, first found wins
declare -A python_of=([2.16]=3.11 [2.20]="3.12 3.13")
# version -> the release installed, where the newest of the series cannot be: ansible-core 2.16.20 deprecates
# `action` given as a mapping and then builds its own role argument-spec task that way, so every playbook with a
# role warns (ansible/playbook/role/__init__.py); 2.16.19 is the newest 2.16 release without that.
declare -A release_of=([2.16]=2.16.19)
# The unit tests that run Ansible's own code paths (see the header); the rest test plain module_utils.
unit_tests=(
  tests/unit/test_action_plugins.py
  tests/unit/test_filters.py
  tests/unit/test_properties_module.py
  tests/unit/test_templates_jaas.py
  tests/unit/test_templates_zookeeper.py::test_rendered_block_gives_what_the_jinja_it_replaced_gave
)

find_python() {
  local want p
  for want in "$@"; do
    for p in "python$want" "$(pyenv root 2>/dev/null)/versions/$want"*/bin/"python$want" \
             "$HOME/.pyenv/versions/$want"*/bin/"python$want"; do
      if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import ensurepip, venv' 2>/dev/null; then
        command -v "$p"; return 0
      fi
    done
  done
  return 1
}

# What Ansible finds the collection through (make link).
mkdir -p .build/collections/ansible_collections/kafkasec
ln -sfn "$repo" .build/collections/ansible_collections/kafkasec/tls
export ANSIBLE_COLLECTIONS_PATH="$repo/.build/collections"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(2.16 2.20)

ns_now() { date +%s%N; }
secs() { local ns=$(( $(ns_now) - $1 )); printf '%d.%d' $((ns / 1000000000)) $((ns / 100000000 % 10)); }

summary=()
failed=0
for v in "${versions[@]}"; do
  wanted=${python_of[$v]:-}
  if [ -z "$wanted" ]; then
    echo "unknown ansible-core version $v (known: ${!python_of[*]})" >&2; exit 2
  fi
  # shellcheck disable=SC2086 # a list of versions
  if ! py=$(find_python $wanted); then
    echo "ansible-core $v needs Python ${wanted// / or } (python${wanted%% *} on PATH or in pyenv): not found" >&2; exit 1
  fi
  pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  t0=$(ns_now)
  venv="$repo/.build/ansible-$v"
  # The collection's own Python needs (the file the execution environment uses), pytest, this ansible-core.
  release=${release_of[$v]:-$v.*}
  reqs="ansible-core==$release pytest>=8 $(sha256sum meta/ee-requirements.txt | cut -c1-16) $py"
  if [ "$(cat "$venv/.kafkasec-reqs" 2>/dev/null)" != "$reqs" ]; then
    echo "==> ansible-core $v: venv on $("$py" -V 2>&1) in ${venv#"$repo"/}"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "ansible-core==$release" "pytest>=8" -r meta/ee-requirements.txt
    echo "$reqs" > "$venv/.kafkasec-reqs"
  fi
  log="$repo/.build/ansible-$v.log"
  : > "$log"
  # The module runs of the unit tests note their deprecation warnings here (tests/unit/ansible_runner.py).
  export KAFKASEC_DEPRECATION_LOG="$log.deprecations"
  : > "$KAFKASEC_DEPRECATION_LOG"
  rc=0
  # Each step exits the subshell itself on failure: bash ignores `set -e` inside a subshell whose status an `||`
  # tests, so without the explicit exits a failing pytest run was reported as passed.
  (
    export PATH="$venv/bin:$PATH"
    ansible --version | head -1
    echo "--- unit tests: ${unit_tests[*]}"
    python -m pytest -q -p no:cacheprovider --durations=8 "${unit_tests[@]}" 2>&1 || exit $?
    echo "--- ansible-playbook --syntax-check"
    for pb in playbooks/*.yml; do
      case "$pb" in playbooks/inventory.*) continue ;; esac
      ansible-playbook --syntax-check -i playbooks/inventory.example.yml "$pb" 2>&1 || exit $?
    done
  ) > >(tee -a "$log") 2>&1 || rc=$?
  # Deprecation warnings from Ansible: fixed in the collection, never silenced.
  if grep -q "DEPRECATION WARNING" "$log" "$KAFKASEC_DEPRECATION_LOG"; then
    echo "ansible-core $v: deprecation warnings (see ${log#"$repo"/}, ${KAFKASEC_DEPRECATION_LOG#"$repo"/}):" >&2
    grep -h -A3 "DEPRECATION WARNING" "$log" "$KAFKASEC_DEPRECATION_LOG" | head -40 >&2
    [ "$rc" != 0 ] || rc=3
  fi
  if [ "$rc" = 0 ]; then
    summary+=("$(printf 'ansible-core %-5s Python %-5s passed %8ss' "$v" "$pyver" "$(secs "$t0")")")
  else
    summary+=("$(printf 'ansible-core %-5s Python %-5s FAILED %8ss (exit %d)' "$v" "$pyver" "$(secs "$t0")" "$rc")")
    failed=1
  fi
done

echo
echo "ansible-core versions (wall time, venv set-up included):"
for s in "${summary[@]}"; do echo "  $s"; done
exit "$failed"
