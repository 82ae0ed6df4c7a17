"""Which configs train together: runs that agree on everything a stacked model shares
(`TrainConfig.batch_signature`) and whose training splits are close enough in size to pad.
"""

from __future__ import annotations

from collections import defaultdict

from .config import TrainConfig


def stack_groups(configs: list[TrainConfig], max_stack: int = 64, max_padding: float = 0.1) -> list[list[int]]:
    """Indices of ``configs`` split into groups that can be trained as one stacked model.

    Every run in a stack is padded to the stack's largest training split, so runs are sorted
    by split size and a new stack starts once padding would exceed ``max_padding`` of a
    run's rows (e.g. 30% and 50% splits train as two stacks, not one padded by 67%).
    """
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, cfg in enumerate(configs):
        groups[cfg.batch_signature()].append(i)
    stacks: list[list[int]] = []
    for members in groups.values():
        members = sorted(members, key=lambda i: configs[i].train_frac)
        start = None
        for i in members:
            if start is None or len(stacks[-1]) >= max_stack or (
                    configs[i].train_frac > (1 + max_padding) * configs[start].train_frac):
                stacks.append([])
                start = i
            stacks[-1].append(i)
    return stacks
