"""Checks for the exercises in ``exercises/``: each compares a learner's function with the
library and says in words what differs first."""
