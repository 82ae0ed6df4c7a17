"""What every exercise-check test asserts about a typical mistake: the check refuses it, says what is wrong in
words the test expects, and prints no ✓ (a learner must never be told a wrong answer is done)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def assert_names_the_slip(check: Callable[..., Any], answer: Any, message: str, capsys: Any) -> None:
    """``check(answer)`` fails with ``message`` in its complaint, and prints no ✓."""
    with pytest.raises(AssertionError) as err:
        check(answer)
    assert message in str(err.value), str(err.value)
    assert "✓" not in capsys.readouterr().out
