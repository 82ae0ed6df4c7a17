"""Checks for the exercises in ``exercises/``: each compares a learner's function with the
library and says in words what differs first.

- `tables`: exercise 1, the a² + b² table, the modular inverse, the division table;
- `splits`: exercise 2, the train/validation split and label noise;
- `models`, `training_loop`: exercise 3, the MLP's forward pass and a full-batch AdamW loop;
- `detector`, `effective`: exercise 4, the grokking detector, the phase rule, effective learning rate and gradient;
- `symmetry`: exercise 5, the symmetric ceiling and the transpose freebie;
- `random_features`: exercise 6, the minimum-norm readout and the test-error curve against width;
- `fourier`, `mechanism`: exercise 7, the Fourier basis, key frequencies, the restricted loss, Gromov's network;
- `numerics`: exercise 8, StableMax, the ⊥Grad projection and Grokfast's EMA filter;
- `representation`, `weight_norm`: exercise 9, the RQI of an embedding; the norm held fixed, the scaled
  initialisation, the losses at c·θ;
- `answers`: what the checks share: reading a learner's result and phrasing a complaint about it.
"""
