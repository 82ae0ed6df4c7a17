"""Draw the README's grokking curve from the stored canonical run (chapter 2's `ch2_mlp`)."""

from pathlib import Path

from grok_lib import load_or_train
from grok_lib.presentation.run_plots import plot_run
from grok_lib.runs import experiments

OUT = Path(__file__).resolve().parent.parent / "book" / "images" / "grokking_curve.png"

if __name__ == "__main__":
    run = load_or_train(experiments.get("ch2_mlp")[0], progress=False)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    plot_run(run, title="MLP learning a + b mod 97 from 30% of the table").savefig(OUT, dpi=110)
    print(f"wrote {OUT}")
