# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module of this collection the way Ansible runs it, and get its result.

    from ansible_runner import run_module
    result = run_module("kafkasec.tls.properties", {"path": p, "set": {"a": "1"}}, check=False, diff=True)
    assert result["changed"]

Each call runs ``ansible-playbook`` (the one next to the running Python) on a
generated one-task playbook against ``localhost`` with the local connection,
so argument validation, check mode, diff, ``no_log`` censoring and the module
wrapper are all the real thing. Every string in ``args`` reaches the module
verbatim (``!unsafe`` where it could be a template, no Jinja templating); the
arguments travel in a temporary 0600 playbook file, never on a command line.

The result is the task result as a callback plugin sees it (internal
``_ansible_*`` keys removed), including ``diff``, ``invocation``,
``failed``/``msg`` and ``exception``. A module failure is a result with
``failed: true``; only a run that produced no task result raises
:class:`AnsibleRunError`.

The collection is found through ``.build/collections`` (``make link``), which
this helper creates when it is missing.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import yaml

__all__ = ["AnsibleRunError", "REPO_ROOT", "COLLECTIONS_PATH", "ensure_collection_link", "note_deprecations", "run_module"]

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = REPO_ROOT / ".build" / "collections"
_MARK = "KAFKASEC-TEST-RESULT "

_CALLBACK_SOURCE = '''
from __future__ import annotations

import json

from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase
from ansible.vars.clean import module_response_deepcopy, strip_internal_keys

DOCUMENTATION = """
name: kafkasec_test_result
type: stdout
short_description: one JSON line per task result (kafkasec.tls tests)
description: [Prints every task result as one JSON line after a marker.]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "kafkasec_test_result"

    def _emit(self, result, **extra):
        data = strip_internal_keys(module_response_deepcopy(result._result))
        data.update(extra)
        self._display.display(%r + json.dumps(data, cls=AnsibleJSONEncoder, sort_keys=True))

    def v2_runner_on_ok(self, result):
        self._emit(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._emit(result, failed=True)

    def v2_runner_on_unreachable(self, result):
        self._emit(result, unreachable=True)

    def v2_runner_on_skipped(self, result):
        self._emit(result, skipped=True)
''' % _MARK


class AnsibleRunError(RuntimeError):
    """ansible-playbook ran but produced no task result (syntax error, missing collection...)."""


class _Unsafe(str):
    """A string that must reach Ansible verbatim, never templated."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_unsafe(dumper: yaml.SafeDumper, data: _Unsafe) -> yaml.ScalarNode:
    """A string with ``{`` (where every Jinja delimiter starts) gets the ``!unsafe`` tag; any other string is a
    plain quoted string, which no ansible-core templates. ansible-core 2.19+ resolves an ``!unsafe`` scalar's
    type as if it were unquoted ("2182" an int, "" None, "true" a bool), so tagging every string would hand
    the modules and templates other types there than on 2.16-2.18."""
    text = str(data)
    if "{" in text:
        return dumper.represent_scalar("!unsafe", text, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')


_Dumper.add_representer(_Unsafe, _represent_unsafe)


def _mark_unsafe(value: Any) -> Any:
    if isinstance(value, str):
        return _Unsafe(value)
    if isinstance(value, Mapping):
        return {str(key): _mark_unsafe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mark_unsafe(item) for item in value]
    return value


def ensure_collection_link() -> Path:
    """Make ``.build/collections/ansible_collections/kafkasec/tls`` point at the repo (``make link``)."""
    link = COLLECTIONS_PATH / "ansible_collections" / "kafkasec" / "tls"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    return COLLECTIONS_PATH


_WORKDIR: Optional[Path] = None


def _workdir() -> Path:
    """A per-process directory holding the callback plugin and the inventory."""
    global _WORKDIR
    if _WORKDIR is None:
        _WORKDIR = Path(tempfile.mkdtemp(prefix="kafkasec-ansible-"))
        atexit.register(shutil.rmtree, str(_WORKDIR), True)
        (_WORKDIR / "callback_plugins").mkdir()
        (_WORKDIR / "callback_plugins" / "kafkasec_test_result.py").write_text(_CALLBACK_SOURCE)
        (_WORKDIR / "inventory.ini").write_text(
            "localhost ansible_connection=local ansible_python_interpreter=%s\n" % json.dumps(sys.executable))
    return _WORKDIR


def note_deprecations(proc: "subprocess.CompletedProcess[str]") -> None:
    """Append the deprecation warnings of an ansible-playbook run to $KAFKASEC_DEPRECATION_LOG, when set:
    tests/ansible_versions.sh fails on any (the output of the runs is otherwise captured)."""
    log = os.environ.get("KAFKASEC_DEPRECATION_LOG")
    if not log:
        return
    lines = (proc.stdout or "").splitlines() + (proc.stderr or "").splitlines()
    found = [" ".join(lines[i:i + 4]) for i, line in enumerate(lines) if "DEPRECATION WARNING" in line]
    if found:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write("".join("%s: %s\n" % (" ".join(map(str, proc.args[-2:])), text) for text in found))


def _ansible_playbook() -> str:
    candidate = Path(sys.executable).parent / "ansible-playbook"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ansible-playbook")
    if not found:
        raise AnsibleRunError("ansible-playbook not found next to %s nor on PATH" % sys.executable)
    return found


def run_module(module_name: str, args: Mapping[str, Any], check: bool = False, diff: bool = False,
               *, templated: bool = False, env: Optional[Mapping[str, str]] = None,
               timeout: float = 300, play_vars: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """Run ``module_name`` with ``args`` on localhost; return the task result dict.

    With ``templated=True`` the strings in ``args`` are templated by Ansible
    (to test filters and lookups: ``{"msg": "{{ 'x' | kafkasec.tls.jaas_quote }}"}``
    with ``ansible.builtin.debug``); by default they reach the module verbatim.
    ``play_vars`` become the play's ``vars``, every string marked ``!unsafe`` (what a template
    rendered by the task sees, verbatim).
    """
    workdir = _workdir()
    ensure_collection_link()
    play = [{
        "name": "run %s" % module_name,
        "hosts": "localhost",
        "gather_facts": False,
        "vars": _mark_unsafe(dict(play_vars or {})),
        "tasks": [{"name": module_name, module_name: dict(args) if templated else _mark_unsafe(dict(args))}],
    }]
    fd, playbook = tempfile.mkstemp(prefix="play-", suffix=".yml", dir=str(workdir))
    with os.fdopen(fd, "w") as handle:
        yaml.dump(play, handle, Dumper=_Dumper, allow_unicode=False, sort_keys=False)
    command = [_ansible_playbook(), "-i", str(workdir / "inventory.ini"), playbook]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    run_env = dict(os.environ)
    run_env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
        "ANSIBLE_CALLBACK_PLUGINS": str(workdir / "callback_plugins"),
        "ANSIBLE_STDOUT_CALLBACK": "kafkasec_test_result",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
    })
    run_env.update(env or {})
    try:
        proc = subprocess.run(command, cwd=str(workdir), env=run_env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    finally:
        os.unlink(playbook)
    note_deprecations(proc)
    results = [json.loads(line[len(_MARK):]) for line in proc.stdout.splitlines() if line.startswith(_MARK)]
    if len(results) != 1:
        raise AnsibleRunError("expected one task result from ansible-playbook (rc=%s)\nstdout:\n%s\nstderr:\n%s"
                              % (proc.returncode, proc.stdout, proc.stderr))
    return results[0]
