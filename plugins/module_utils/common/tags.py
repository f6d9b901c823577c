# -*- coding: utf-8 -*-
# Copyright (c) kafkasec.tls contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a task with given tags runs under ``--tags`` / ``--skip-tags``: Ansible's own rule
(Taggable.evaluate_tags), for a play that must know whether a later task of the run will do its work.

Plain, typed Python with no Ansible imports."""

from __future__ import annotations

from typing import Iterable


def tags_selected(task_tags: Iterable[str], run_tags: Iterable[str], skip_tags: Iterable[str]) -> bool:
    """Whether a task tagged ``task_tags`` (its own and inherited tags) runs when the run was started with
    ``--tags run_tags`` (Ansible's ansible_run_tags; ``["all"]`` without --tags) and ``--skip-tags skip_tags``."""
    tags = {str(tag) for tag in task_tags} or {"untagged"}
    only = {str(tag) for tag in run_tags} or {"all"}
    skip = {str(tag) for tag in skip_tags}
    untagged = tags == {"untagged"}
    selected = ("always" in tags or ("all" in only and "never" not in tags) or not tags.isdisjoint(only)
                or ("tagged" in only and not untagged and "never" not in tags))
    if not selected or not skip:
        return selected
    if "all" in skip:
        return "always" in tags and "always" not in skip
    if not tags.isdisjoint(skip):
        return False
    return not ("tagged" in skip and not untagged)
