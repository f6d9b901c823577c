# -*- coding: utf-8 -*-
# Copyright: kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    # The kind of a key the module creates (ca, certificate_request).
    DOCUMENTATION = r'''
options:
  key_type:
    description: Type of a new key.
    type: str
    choices: [rsa, ec]
    default: rsa
  key_size:
    description: Size in bits of a new RSA key.
    type: int
    choices: [2048, 3072, 4096]
    default: 3072
  ec_curve:
    description: Curve of a new EC key.
    type: str
    choices: [P-256, P-384]
    default: P-256
'''
