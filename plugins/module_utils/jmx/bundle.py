# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text files of the JMX monitoring bundle (roles/jmx/tasks/bundle.yml), as data.

Per user ``<name>.properties`` (``username=``/``password=``, Java properties escaping; 0600), ``service-urls.txt``
(one JMX service URL per host; 0644), and the rendered client files the role passes in (``*.args`` 0600, with
the truststore password; the scripts 0755). Plain Python, no Ansible.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Sequence

from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import escape_value


def bundle_files(users: Sequence[Mapping[str, object]], service_urls: Sequence[str],
                 rendered: Mapping[str, str]) -> List[Dict[str, str]]:
    """[{name, mode, content}] in the order the bundle lists them."""
    files = [dict(name="%s.properties" % user["name"], mode="0600",
                  content="username=%s\npassword=%s\n" % (escape_value(str(user["name"])),
                                                          escape_value(str(user["password"]))))
             for user in users]
    files.append(dict(name="service-urls.txt", mode="0644", content="".join("%s\n" % url for url in service_urls)))
    for name, content in rendered.items():
        files.append(dict(name=name, mode="0600" if name.endswith(".args") else "0755", content=content))
    return files
