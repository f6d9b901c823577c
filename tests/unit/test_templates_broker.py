# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/broker/templates/*.properties.j2, rendered by ansible-playbook as the role renders them.

The templates only lay out what the node planner and the store settings give them; rendered for
golden cases (tests/unit/golden/broker_plans.json) and read back as Java reads a .properties file,
they must give every key and value the Jinja implementation they replaced gave (an empty value
removes the key, as it did then). Also: the cipher suites a broker offers.
"""

from __future__ import annotations

import re

import pytest
import yaml

from ansible_collections.kafkasec.tls.plugins.module_utils.config.properties import load

from ansible_runner import REPO_ROOT
from template_render import render
from test_broker_plan import GOLDEN, plan_for, role_vars, stores_for

FORWARD_SECRET = re.compile(r'^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256|ECDHE_(RSA|ECDSA)_WITH_[A-Z0-9_]+)$')
DEFAULTS = yaml.safe_load((REPO_ROOT / 'roles' / 'broker' / 'defaults' / 'main.yml').read_text())
SPECS = yaml.safe_load((REPO_ROOT / 'roles' / 'broker' / 'meta' / 'argument_specs.yml').read_text())
TEMPLATES = REPO_ROOT / 'roles' / 'broker' / 'templates'


def rendered_block(case, **var_overrides):
    """The block the role's config task hands to kafkasec.tls.broker_config, parsed as Java would."""
    plan = plan_for(case)
    variables = dict(role_vars(case), kafkasec_broker__plan=plan.values, kafkasec_broker__stores=stores_for(case))
    variables.setdefault('kafkasec_broker_sasl_plain_users', {})
    variables.update(var_overrides)
    names = {'tls': (str(TEMPLATES / 'server-tls.properties.j2'), False)}
    if variables.get('kafkasec_broker_sasl_enabled'):
        names['sasl'] = (str(TEMPLATES / 'server-sasl.properties.j2'), False)
    if variables.get('kafkasec_broker_metadata_mode') == 'zookeeper':
        names['zk'] = (str(TEMPLATES / 'server-zookeeper.properties.j2'), False)
    out = render(names, variables)
    assert not out.get('failed'), out
    values = {}
    for name in names:
        values.update(load(out[name]))
    for key in plan.remove:
        values[key] = ''
    return values


@pytest.mark.parametrize('name', [
    'combined-plain__defaults', 'combined-converged__pem', 'combined-converged__jks',
    'combined-converged__extra_properties', 'combined-plain__sasl_plain_users', 'combined-converged-sasl__defaults',
    'combined-stage1__move_internal', 'zk-plain__zk_chroot', 'zk-plain__zk_sasl', 'controller-plain__keep_plaintext',
])
def test_rendered_block_gives_what_the_jinja_it_replaced_gave(name):
    case = GOLDEN[name]
    old = {key: str(value) for key, value in case['settings'].items()}
    assert rendered_block(case) == old


def test_default_cipher_suites_are_forward_secret_and_cover_both_protocols():
    suites = DEFAULTS['kafkasec_broker_ssl_cipher_suites']
    assert [s for s in suites if not FORWARD_SECRET.match(s)] == []
    assert any(s.startswith('TLS_AES_') for s in suites), 'no TLS 1.3 suite: TLSv1.3 would be disabled'
    assert any(s.startswith('TLS_ECDHE_RSA_') for s in suites), 'no TLS 1.2 suite for RSA keys (the default key type)'
    assert not any('_RSA_WITH_' in s and not s.startswith('TLS_ECDHE_') for s in suites)
    # The documented default is the default.
    spec = SPECS['argument_specs']['main']['options']['kafkasec_broker_ssl_cipher_suites']
    assert spec['default'] == suites


def test_the_block_sets_the_cipher_suites_and_an_empty_list_removes_them():
    case = GOLDEN['combined-converged__defaults']
    out = rendered_block(case)
    assert out['ssl.cipher.suites'] == ','.join(DEFAULTS['kafkasec_broker_ssl_cipher_suites'])
    assert 'TLS_RSA_WITH' not in out['ssl.cipher.suites']
    assert rendered_block(case, kafkasec_broker_ssl_cipher_suites=[])['ssl.cipher.suites'] == ''
