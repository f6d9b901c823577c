#!/usr/bin/env bash
# ansible-lint with the production profile over roles/, playbooks/ and the Molecule playbooks (.ansible-lint
# holds the profile, the scope and the one rule skipped for the whole tree, with its reason). Offline: the
# collection is linted from this tree through .build/collections, nothing is installed into ~/.ansible.
# Needs make deps (ansible-lint is pinned in requirements.txt). Extra arguments go to ansible-lint.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
if [ ! -x .venv/bin/ansible-lint ]; then
  echo "no .venv/bin/ansible-lint: run make deps first" >&2
  exit 1
fi
mkdir -p .build/collections/ansible_collections/kafkasec
ln -sfn "$repo" .build/collections/ansible_collections/kafkasec/tls
export ANSIBLE_COLLECTIONS_PATH="$repo/.build/collections"
case ":$PATH:" in *":$repo/.venv/bin:"*) ;; *) export PATH="$repo/.venv/bin:$PATH" ;; esac
exec .venv/bin/ansible-lint --nocolor "$@"
