"""Layer 3, training: the config of a run, and the trainer that turns configs into `Run` records.

- `config`: `TrainConfig`, the plain description of one run (the store hashes it);
- `build`: config -> model, at its initial scale;
- `optimizers`: AdamW, Adam, SGD and TrueGrad-style AdamW with settings per stacked run;
- `losses`: softmax or StableMax, the output the loss is taken from;
- `gradient_filters`: Grokfast's filters and ⊥Grad, between backward and the step;
- `weight_changes`: Gaussian noise on the weights a training pass sees, and the weight norm held fixed;
- `per_example`: per-example squared gradients, summed (TrueGrad's second input);
- `trainer`: `train` and `train_many` (stacks of runs, one loop);
- `grouping`: which configs train together as one stack;
- `evaluation`: what a stack is graded on at each logged step;
- `batches`: a stack's training data, minibatches and the per-example loss;
- `bookkeeping`: per-run logging, early stop and status;
- `record`: `Run`, what a run produced;
- `device`, `cpu`: which device, and the CPU settings that make training fast.
"""

from .build import build_model
from .config import THRESHOLD, TrainConfig
from .device import resolve_device
from .record import METRICS, Run
from .trainer import train, train_many

__all__ = ["METRICS", "THRESHOLD", "Run", "TrainConfig", "build_model", "resolve_device", "train", "train_many"]
