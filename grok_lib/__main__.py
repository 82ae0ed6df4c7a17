"""Command line: ``python -m grok_lib list`` and ``python -m grok_lib regenerate NAME... | --all``
(``--backend ray`` trains on a Ray cluster, ``--address`` names one already running)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import NoReturn

from grok_lib.runs.experiments import EXPERIMENTS
from grok_lib.runs.runner import BACKENDS, SweepError, load_or_train
from grok_lib.runs.store import Store


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are one line (no usage block, no traceback) that says what is valid."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")

    def options(self) -> str:
        return ", ".join(sorted({s for a in self._actions for s in a.option_strings if s.startswith("--")}))


def _parser() -> tuple[_Parser, dict[str, _Parser]]:
    parser = _Parser(prog="python -m grok_lib", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True, parser_class=_Parser, metavar="{list,regenerate}")
    lst = sub.add_parser("list", help="list the named experiments and whether they are stored")
    lst.add_argument("--store", default=None, help="results folder (default: results/ of the checkout)")
    regen = sub.add_parser("regenerate", help="train named experiments again and store them")
    regen.add_argument("names", nargs="*", help="experiment names (see `list`)")
    regen.add_argument("--all", action="store_true", help="every registered experiment")
    regen.add_argument("--missing", action="store_true",
                       help="only train runs not yet stored, or whose files are damaged")
    regen.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    regen.add_argument("--store", default=None, help="results folder (default: results/ of the checkout)")
    regen.add_argument("--backend", default="local", choices=sorted(BACKENDS),
                       help="where runs train: local (this process), processes (worker processes side by side, "
                            "$GROK_WORKERS of them: keeps one GPU busy) or ray (a Ray cluster)")
    regen.add_argument("--address", default=None,
                       help="with --backend ray: the head node (host:port) of a running cluster "
                            "(default: $RAY_ADDRESS, else a local cluster)")
    return parser, {"list": lst, "regenerate": regen}


def main(argv: list[str] | None = None) -> int:
    parser, commands = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported by the command's own parser, which knows its options
        command = commands[args.cmd]
        command.error(f"unrecognized arguments: {' '.join(unknown)}; valid options: {command.options()}")
    store = Store(args.store)
    if args.cmd == "list":
        for exp in EXPERIMENTS.values():
            cfgs = exp.configs()
            have = sum(store.has(c) for c in cfgs)
            took = "; ".join(f"{duration(s)} on {device}" for device, s in store.training_time(cfgs).items())
            print(f"{exp.name:28s} {exp.chapter:24s} {have:4d}/{len(cfgs):<4d} {exp.description}"
                  + (f" Stored runs trained in {took}." if took else ""))
        return 0
    regen = commands["regenerate"]
    names = list(EXPERIMENTS) if args.all else args.names
    if not names:
        regen.error("name at least one experiment, or use --all")
    unknown_names = [n for n in names if n not in EXPERIMENTS]
    if unknown_names:  # before any training, so a typo in the last name wastes nothing
        regen.error(f"unknown experiment {', '.join(map(repr, unknown_names))}; "
                    f"known: {', '.join(sorted(EXPERIMENTS))}")
    if args.backend == "ray":
        _connect(regen, args.address)
    elif args.address:
        regen.error("--address names a Ray cluster: use it with --backend ray")
    status = 0
    for name in names:
        cfgs = EXPERIMENTS[name].configs()
        todo = [c for c in cfgs if not store.readable(c)] if args.missing else cfgs
        t0 = time.perf_counter()
        try:
            load_or_train(todo, store=store, device=args.device, retrain=True, backend=args.backend)
        except SweepError as e:  # the rest of the experiment is stored; go on with the next one
            print(f"{name}: {e}", file=sys.stderr, flush=True)
            status = 1
            continue
        print(f"{name}: {len(cfgs)} runs in {time.perf_counter() - t0:.1f} s", flush=True)
    return status


def duration(seconds: float) -> str:
    """A wall time as a reader would say it: '7 s', '14 min', '1.2 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _connect(regen: _Parser, address: str | None) -> None:
    """Attach to the Ray cluster before any training, so a missing Ray or a wrong address costs nothing."""
    from grok_lib.runs.ray_backend import connect

    try:
        connect(address)
    except ImportError as e:
        regen.error(str(e))
    except Exception as e:  # Ray raises several kinds for an address it cannot reach
        regen.error(f"cannot reach a Ray cluster at {address or 'the default address'} ({type(e).__name__}: "
                    f"{str(e).strip().splitlines()[0] if str(e).strip() else 'no message'})")


if __name__ == "__main__":
    sys.exit(main())
