# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # Shared by every module that uses cryptography.
    DOCUMENTATION = r'''
requirements:
  - cryptography >= 45.0 on the host the module runs on
attributes:
  check_mode:
    support: full
    description: Computes what would change and changes no file.
  diff_mode:
    support: full
    description: Shows fingerprints and names before and after; never key material or passwords.
  platform:
    support: full
    platforms: posix
    description: Runs on POSIX hosts.
notes:
  - Files are written atomically; a temporary file is created with mode C(0600) in the target
    directory, flushed to disk, then renamed over the target.
'''
