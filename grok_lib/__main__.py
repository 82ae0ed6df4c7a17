"""Command line: ``python -m grok_lib list`` and ``python -m grok_lib regenerate NAME... | --all``."""

from __future__ import annotations

import argparse
import sys
import time

from grok_lib.runs.experiments import EXPERIMENTS, get
from grok_lib.runs.runner import load_or_train
from grok_lib.runs.store import Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grok_lib", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    lst = sub.add_parser("list", help="list the named experiments and whether they are stored")
    lst.add_argument("--store", default=None, help="results folder (default: results/ of the checkout)")
    regen = sub.add_parser("regenerate", help="train named experiments again and store them")
    regen.add_argument("names", nargs="*", help="experiment names (see `list`)")
    regen.add_argument("--all", action="store_true", help="every registered experiment")
    regen.add_argument("--missing", action="store_true", help="only train runs not yet stored")
    regen.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    regen.add_argument("--store", default=None, help="results folder (default: results/ of the checkout)")
    args = parser.parse_args(argv)
    store = Store(args.store)
    if args.cmd == "list":
        for exp in EXPERIMENTS.values():
            cfgs = exp.configs()
            have = sum(store.has(c) for c in cfgs)
            print(f"{exp.name:28s} {exp.chapter:24s} {have:4d}/{len(cfgs):<4d} {exp.description}")
        return 0
    names = list(EXPERIMENTS) if args.all else args.names
    if not names:
        parser.error("name at least one experiment, or use --all")
    for name in names:
        cfgs = get(name)
        t0 = time.perf_counter()
        load_or_train(cfgs, store=store, device=args.device, retrain=not args.missing)
        print(f"{name}: {len(cfgs)} runs in {time.perf_counter() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
