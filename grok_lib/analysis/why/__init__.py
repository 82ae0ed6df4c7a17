"""Layer 5, analysis: the measures behind "why does generalisation take so long?".

- `representation`: Liu et al.'s (2022) representation quality index (RQI) of an embedding, with
  its parallelograms (wrapping around mod p for our tasks), and the 2-D PCA of an embedding;
- `toy`: Liu et al.'s toy model (a + b for a, b < 10, a small decoder on E_a + E_b) trained in
  seconds, with its RQI and accuracies over training;
- `spectra`: singular values of a model's weight matrices, their effective ranks (entropy and
  stable rank), and the spectra over a stored run's checkpoints;
- `landscape`: Omnigrok's "LU" picture as a slice: losses and accuracies of a trained model with all
  its weights scaled by c, against the weight norm;
- `over_training`: the RQI and the effective ranks at each checkpoint of a stored run;
- `sv_grid`: a stored run's checkpoints reduced to its spectra, kept beside it (`Store.save_derived`);
- `clocks`: a random walk's spread of hitting times against the spread over seeds, and power-law fits of
  the time to generalise against lr x weight decay;
- `settling`: when a run's test accuracy settles (for the digits, which never reach 99%).

The chapters call these as ``why.<name>`` (``from grok_lib.analysis import why``).
"""

from .landscape import losses_and_accuracies, run_landscape, scaled, weight_norm, weight_scale_landscape
from .over_training import ranks_over_training, rqi_over_training
from .representation import (
    PCA,
    TOLERANCE,
    closing_errors,
    embedding_pca,
    parallelograms,
    plane_frequency,
    rqi,
    standardise,
)
from .spectra import (
    entropy_rank,
    normalised_spectrum,
    singular_values,
    singular_values_over_training,
    stable_rank,
    weight_matrices,
)
from .toy import ToyRun, train_toy

__all__ = [
    "PCA", "TOLERANCE", "ToyRun", "closing_errors", "embedding_pca", "entropy_rank",
    "losses_and_accuracies", "normalised_spectrum", "parallelograms", "plane_frequency", "ranks_over_training", "rqi",
    "rqi_over_training", "run_landscape", "scaled", "singular_values", "singular_values_over_training",
    "stable_rank", "standardise", "train_toy", "weight_matrices", "weight_norm", "weight_scale_landscape",
]
