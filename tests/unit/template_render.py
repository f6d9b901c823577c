# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the collection's shared templates (templates/) with ansible-playbook itself.

    from template_render import render
    out = render({"worker": ("roles/connect/templates/worker-tls.properties.j2", True)}, {"kafkasec_connect_...": ...})
    out["worker"]     # the YAML template parsed (from_yaml), as the roles read it

One ansible-playbook run renders several templates (one debug task whose msg is a dict of
``lookup('ansible.builtin.template', ...)`` results, each checked equal to ``kafkasec.tls.layout``'s), with the variables as the play's vars,
every string marked ``!unsafe`` so that passwords reach the template verbatim. A rendering
error is returned as ``{"failed": True, "msg": ...}``.
"""

from __future__ import annotations

import json

from typing import Any, Dict, Mapping, Tuple

from ansible_runner import REPO_ROOT, run_module

TEMPLATES = REPO_ROOT / "templates"
LAYOUT = "layout:"


def render(templates: Mapping[str, Tuple[str, bool]], play_vars: Mapping[str, Any]) -> Dict[str, Any]:
    """{name: (path below templates/, parse as YAML)} -> {name: rendered} (or the failed result)."""
    parts = []
    for name, (path, as_yaml) in templates.items():
        # The roles render their blocks with kafkasec.tls.layout (plugins/lookup/layout.py): it must give what the
        # builtin template lookup gives for the same file and variables.
        for lookup, key in (("ansible.builtin.template", name), ("kafkasec.tls.layout", LAYOUT + name)):
            expr = "lookup(%s, %s)" % (json.dumps(lookup), json.dumps(str(TEMPLATES / path)))
            if as_yaml:
                expr += " | from_yaml"
            parts.append("%s: %s" % (json.dumps(key), expr))
    msg = "{{ {%s} }}" % ", ".join(parts)
    result = run_module("ansible.builtin.debug", {"msg": msg}, templated=True, play_vars=play_vars)
    if result.get("failed"):
        return {"failed": True, "msg": result.get("msg", "")}
    out = result["msg"]
    for name in templates:
        assert out.pop(LAYOUT + name) == out[name], name
    return out
