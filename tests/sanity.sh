#!/usr/bin/env bash
# ansible-test sanity on a built copy of the collection, offline except for the
# sanity tests' own Python requirements (installed from PyPI into .venv).
# It needs the collection at ansible_collections/kafkasec/tls, so it runs on a copy
# of the tracked files (ansible-test also lists files through git).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/.venv/bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/kafkasec/tls"
mkdir -p "$dest"
# Tracked and new (not ignored) files only: what a clone would have.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
  (cd "$repo" && xargs -0 cp --parents -t "$dest" 2>/dev/null || true)
# ansible-test keeps its venvs and caches under $HOME/.ansible/test: keep them in .build.
export HOME="$repo/.build/ansible-test-home"
pip_version=$("$bin/python" -c 'from ansible_test._internal.python_requirements import PIP_VERSION; print(PIP_VERSION)' 2>/dev/null || echo 24.2)
mkdir -p "$HOME/.ansible/test/cache" "$HOME/.config/pip"
# ansible-test runs pip with a cleaned environment: carry this machine's PIP_* settings
# (index, certificate bundle, wheel links) over as a pip config file under the new HOME.
{ echo "[global]"; env | sed -n 's/^PIP_\([A-Z_]*\)=\(.*\)$/\1 = \2/p' | while read -r k eq v; do
    printf '%s = %s\n' "$(echo "$k" | tr 'A-Z_' 'a-z-')" "$v"; done; } > "$HOME/.config/pip/pip.conf"
cp "$repo/tests/get_pip_shim.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
cd "$dest"
git init -q && git add -A && git -c user.email=ci@invalid -c user.name=ci commit -qm sanity
tests=(validate-modules compile import ansible-doc pep8 pylint yamllint shebang no-smart-quotes no-assert use-argspec-type-path runtime-metadata line-endings empty-init)
args=()
for t in "${tests[@]}"; do args+=(--test "$t"); done
PATH="$bin:$PATH" "$bin/ansible-test" sanity --requirements --python "$("$bin/python" -c 'import sys;print("%d.%d"%sys.version_info[:2])')" "${args[@]}" plugins/
