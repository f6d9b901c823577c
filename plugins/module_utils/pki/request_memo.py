# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A converged host's request step, answered on the controller: the request memo.

On a converged host the certificates role's request call (host_pki step=request) changes nothing
and returns the same result run after run: the CA would keep the certificate, so the step installs
at once, and every file is already as it should be. That call is one of the two a rerun makes per
Kafka host. So after a request call that changed nothing, the host keeps a memo beside its PKI
files (``.kafkasec-request.memo``, 0600, bookkeeping like the stores' seals):

- ``inputs``: a digest, computed by the controller, of every option of the call (the CA chain and
  any password from the inventory included) and of the collection's code that runs it;
- ``files``: mode, owner, group and SHA-256 of every file and directory the step reads or settles;
- ``renew_from``: when the CA's rule stops keeping the certificate (its end minus the renewal days);
- ``result``: the call's result, store passwords included (they are in the 0600 password files
  beside it already).

The next run's read-only validation call (broker_config step=plan) compares ``files`` with the
files as they are now and, only when every one matches, returns the memo sealed (AES-GCM) under a
key derived from this run's random digest key, which only the controller holds: nothing readable
leaves the host. The controller's host_pki action plugin opens it and answers the request step with
``result`` when ``inputs`` is the digest of its own options and the time is before ``renew_from``.
Anything else (no memo, a file touched, another option, new code, a damaged or foreign memo, the
renewal window reached) asks the host as before, which is always right: the memo never decides
what is written, only whether the host must be asked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
from typing import Any, Dict, List, Mapping, Optional, Sequence

MEMO_NAME = ".kafkasec-request.memo"
MEMO_FORMAT = "kafkasec-request-memo-1"
_SEAL_CONTEXT = b"kafkasec request memo"
# Not part of what the host does, so not part of the digest: what the controller adds to ask for
# (or answer from) a memo.
CONTROL_OPTIONS = ("known_request", "memo_inputs")
VOLATILE_RESULT_FIELDS = ("csr",)


def memo_path(pki_dir: str) -> str:
    return os.path.join(pki_dir, MEMO_NAME)


def files_state(paths: Sequence[str]) -> Dict[str, Optional[List[Any]]]:
    """Mode, owner and group of each path, and a regular file's SHA-256; None for a missing path."""
    state: Dict[str, Optional[List[Any]]] = {}
    for path in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            state[path] = None
            continue
        entry: List[Any] = [stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid]
        if stat.S_ISREG(st.st_mode):
            with open(path, "rb") as handle:
                entry.append(hashlib.sha256(handle.read()).hexdigest())
        state[path] = entry
    return state


def inputs_digest(options: Mapping[str, Any], code: str) -> str:
    """The digest the memo is kept under: every option of the request call (as the controller
    templated them, the CA chain and inventory passwords included) and the code that runs it."""
    kept = {key: value for key, value in options.items() if key not in CONTROL_OPTIONS and not key.startswith("_")}
    canonical = json.dumps(dict(options=kept, code=code), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def code_digest(plugins_dir: str, parts: Sequence[str] = ("modules/host_pki.py", "module_utils/pki",
                                                          "module_utils/common")) -> str:
    """SHA-256 over the collection's code that the request step runs (file names and bytes, in
    order): a memo written by other code is never used."""
    digest = hashlib.sha256()
    for part in parts:
        root = os.path.join(plugins_dir, part)
        files = ([root] if os.path.isfile(root) else
                 sorted(os.path.join(root, name) for name in os.listdir(root) if name.endswith(".py")))
        for path in files:
            with open(path, "rb") as handle:
                digest.update(os.path.relpath(path, plugins_dir).encode("utf-8") + b"\0" + handle.read() + b"\0")
    return digest.hexdigest()


def memo_text(inputs: str, paths: Sequence[str], result: Mapping[str, Any], renew_from: float) -> bytes:
    """The memo to keep after a request call that changed nothing (the files as they are now). The
    result's CSR is left out: a call that installed at once sends nothing to the CA, and an EC key's CSR
    differs on every run (its signature is randomised), which would rewrite an unchanged memo."""
    kept = {key: value for key, value in result.items() if key not in VOLATILE_RESULT_FIELDS}
    return (json.dumps(dict(format=MEMO_FORMAT, inputs=inputs, files=files_state(paths), renew_from=renew_from,
                            result=kept), sort_keys=True) + "\n").encode("utf-8")


def _aead(run_key: str) -> Any:
    # Imported here: only a host with a memo, and the controller opening one, needs it.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    return AESGCM(hmac.new(run_key.encode("utf-8"), _SEAL_CONTEXT, hashlib.sha256).digest())


def sealed_memo(pki_dir: str, run_key: str) -> Optional[str]:
    """On the host, read only: the memo in ``pki_dir``, sealed under ``run_key``, when every file it
    names is as it was when it was written; None otherwise (no memo, a damaged one, a file changed)."""
    try:
        with open(memo_path(pki_dir), "rb") as handle:
            memo = json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(memo, dict) or memo.get("format") != MEMO_FORMAT or not isinstance(memo.get("files"), dict):
        return None
    if files_state(list(memo["files"])) != {path: (list(entry) if entry is not None else None)
                                            for path, entry in memo["files"].items()}:
        return None
    payload = json.dumps(dict(inputs=memo.get("inputs"), renew_from=memo.get("renew_from"), result=memo.get("result")),
                         sort_keys=True).encode("utf-8")
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _aead(run_key).encrypt(nonce, payload, _SEAL_CONTEXT)).decode("ascii")


def open_memo(sealed: Optional[str], run_key: Optional[str], inputs: str, now: float) -> Optional[Dict[str, Any]]:
    """On the controller: the request call's result from a sealed memo, when it opens under
    ``run_key``, was kept under ``inputs`` and ``now`` is before its ``renew_from``; else None."""
    if not sealed or not run_key:
        return None
    from cryptography.exceptions import InvalidTag
    try:
        raw = base64.b64decode(str(sealed).encode("ascii"), validate=True)
        memo = json.loads(_aead(run_key).decrypt(raw[:12], raw[12:], _SEAL_CONTEXT).decode("utf-8"))
    except (InvalidTag, ValueError, TypeError):  # damaged, or sealed under another run's key: ask the host
        return None
    if not isinstance(memo, dict) or not isinstance(memo.get("result"), dict):
        return None
    if not hmac.compare_digest(str(memo.get("inputs")), inputs):
        return None
    try:
        if not now < float(memo.get("renew_from")):
            return None
    except (TypeError, ValueError):
        return None
    return dict(memo["result"])
