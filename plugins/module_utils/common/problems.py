# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A problem with a host's input: the variable it is about and what is wrong, as one message."""

from __future__ import annotations

from typing import Sequence, Tuple

# (variable, message): the variable an operator fixes, and the sentence that says why.
Problem = Tuple[str, str]


def problems_message(host: str, problems: Sequence[Problem]) -> str:
    """One failure message for a host: each problem as it reads, prefixed by its variable when the
    message does not name it already (``kafka-1: kafkasec_broker_ssl_port (9093), ... must be ...``)."""
    return "%s: %s" % (host, "; ".join(message if variable in message else "%s: %s" % (variable, message)
                                       for variable, message in problems))
