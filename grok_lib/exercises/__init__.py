"""Checks for the exercises in ``exercises/``: each compares a learner's function with the
library and says in words what differs first.

- `tables`: exercise 1, the a² + b² table, the modular inverse, the division table;
- `splits`: exercise 2, the train/validation split and label noise;
- `answers`: what both share: reading a learner's result and phrasing a complaint about it.
"""
