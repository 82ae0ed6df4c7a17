"""Layer 5, analysis: what a network that adds mod p has learned, read from its weights.

- `fourier`: the real Fourier basis of Z_p; an embedding's spectrum; 2-D spectra of neuron maps and
  each neuron's dominant frequency;
- `neurons`: a model's neurons, logits and readout over the whole (a, b) grid; its embedding;
- `frequencies`: the key frequencies, found from the model by the fair-share rule;
- `progress`: Nanda et al.'s restricted and excluded loss;
- `over_training`: the same measures at each checkpoint of a run, and the steps where they pass
  their landmarks (`milestones`, with Nanda et al.'s three phases);
- `analytic`: Gromov's written-down network, its accuracy against width, and the phase relation
  that a trained quadratic network's neurons should obey.

The chapters call these as ``mechanism.<name>`` (``from grok_lib.analysis import mechanism``).
"""

from .analytic import (
    PhaseRelation,
    accuracy_by_width,
    analytic_network,
    main_neurons,
    phase_relation,
    smallest_perfect_width,
    train_quadratic,
)
from .fourier import component_names, dominant_frequencies, fourier_basis, frequency_norms, frequency_power
from .frequencies import example_neurons, key_fraction, key_frequencies, neuron_frequency_counts
from .neurons import Grid, embedding, neuron_maps, run_grid
from .over_training import (
    Milestones,
    final_keys,
    key_fraction_over_training,
    logged_at,
    milestones,
    progress_curves,
    spectra_over_training,
    task_of,
)
from .progress import Progress, excluded_logits, grid_accuracy, progress_measures, restricted_logits, sum_share

__all__ = [
    "Grid", "Milestones", "PhaseRelation", "Progress", "accuracy_by_width", "analytic_network", "component_names",
    "dominant_frequencies", "embedding", "example_neurons", "excluded_logits", "final_keys", "fourier_basis",
    "frequency_norms", "frequency_power", "grid_accuracy", "key_fraction", "key_fraction_over_training",
    "key_frequencies", "logged_at", "main_neurons", "milestones", "neuron_frequency_counts", "neuron_maps",
    "phase_relation", "progress_curves", "progress_measures", "restricted_logits", "run_grid", "smallest_perfect_width",
    "spectra_over_training", "sum_share", "task_of", "train_quadratic",
]
