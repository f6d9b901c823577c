#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the report of playbooks/verify.yml from its ansible-playbook output (default callback).

    verify_table.py verify.log

The kafkasec.tls.verify role reports with debug tasks ("Report the listeners of this host", "Report the
round trip"); this prints their messages per host, without the callback's JSON quoting.
"""

from __future__ import annotations

import json
import re
import sys

REPORTS = ('Report the listeners of this host', 'Report the round trip')


def main(path: str) -> int:
    """Collect each report's lines per host, then print them sorted by host."""
    reports = {name: {} for name in REPORTS}
    task = None
    host = None
    for line in open(path, encoding='utf-8', errors='replace'):
        line = line.rstrip('\n')
        m = re.match(r'^TASK \[(?:[^:\]]+ : )?(.*?)\] \**$', line)
        if m:
            task = m.group(1) if m.group(1) in REPORTS else None
            host = None
            continue
        if task is None:
            continue
        m = re.match(r'^(?:ok|changed|failed|fatal): \[([^\]]+)\]', line)
        if m:
            host = m.group(1)
            reports[task].setdefault(host, [])
            continue
        m = re.match(r'^\s+(?:"msg": )?("(?:[^"\\]|\\.)*"),?$', line)
        if m and host:
            reports[task][host].append(json.loads(m.group(1)))
    if not any(reports.values()):
        print('no verify report in %s' % path)
        return 1
    for name, hosts in reports.items():
        for host in sorted(hosts):
            print('%s%s:' % ('' if name == REPORTS[0] else 'round trip, from ', host))
            for row in hosts[host]:
                print('  ' + row)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
