# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text of a role's template, for a module that merges it into a file (the properties and JAAS blocks)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: layout
author:
  - kafkasec.tls developers (@kafkasec)
short_description: Render a template of the role into text, without copying the host's variables
description:
  - Renders each named template file (found in the role's C(templates) folder, as C(ansible.builtin.template)
    finds it) with the task's variables and returns its text, trailing newlines kept.
  - What C(ansible.builtin.template) as a lookup returns for the same file, without its deep copy of every
    variable of the host for each template, which cost more than the rendering itself on every node and task
    (the registered results of earlier calls included). The template sees the variables as they are; it must
    only lay them out, not change them (the collection's templates have no decisions beyond loops and the
    escaping filters).
  - Adds C(template_path), C(template_fullpath), C(template_basename) and the other variables the builtin
    lookup adds. No conversion of the result to data (the builtin's C(convert_data=false)).
  - From ansible-core 2.19 on (another template engine), the builtin lookup renders the file.
options:
  _terms:
    description: The template file names, relative to the role's C(templates) folder.
    required: true
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Merge the TLS block into server.properties
  kafkasec.tls.broker_config:
    path: /etc/kafka/server.properties
    step: apply
    content: "{{ lookup('kafkasec.tls.layout', 'server-tls.properties.j2') }}"
"""

RETURN = r"""
_raw:
  description: The rendered text of each template, in the order named.
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.loader import lookup_loader
from ansible.plugins.lookup import LookupBase

try:  # ansible-core up to 2.18
    from ansible.template import AnsibleEnvironment, generate_ansible_template_vars
    from ansible.utils.native_jinja import NativeJinjaText
except ImportError:  # 2.19 and later template with another engine: the builtin lookup renders there
    AnsibleEnvironment = generate_ansible_template_vars = NativeJinjaText = None


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        if AnsibleEnvironment is None:
            builtin = lookup_loader.get("ansible.builtin.template", loader=self._loader, templar=self._templar)
            return builtin.run(terms, variables, **kwargs)
        variables = variables or {}
        # Text, not data, as the builtin lookup renders it when jinja2_native is off (its default).
        templar = self._templar.copy_with_new_env(environment_class=AnsibleEnvironment)
        rendered = []
        for term in terms:
            path = self.find_file_in_search_path(variables, "templates", term)
            if not path:
                raise AnsibleError("the template file %s could not be found for the lookup" % term)
            data = self._loader._get_file_contents(path)[0]  # pylint: disable=protected-access
            # Includes resolve next to the template first, then in each role path's templates folder.
            searchpath = [os.path.dirname(path)]
            for base in variables.get("ansible_search_path", []):
                searchpath.extend((os.path.join(base, "templates"), base))
            # A shallow copy: the template variables below must not leak into the task's.
            template_vars = dict(variables)
            template_vars.update(generate_ansible_template_vars(term, path))
            with templar.set_temporary_context(available_variables=template_vars, searchpath=searchpath):
                text = templar.template(to_text(data, errors="surrogate_or_strict"), preserve_trailing_newlines=True,
                                        convert_data=False, escape_backslashes=False)
            rendered.append(NativeJinjaText(text))
        return rendered
