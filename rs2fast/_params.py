"""Checks of arguments at the public Python boundary: each names the parameter it refuses."""
from __future__ import annotations

import math
import operator
from typing import Optional


def count_arg(value: object, name: str, minimum: int = 0) -> int:
    """`value` as an int (any `__index__` integer such as numpy's, never bool or float);
    TypeError naming `name` for other types, ValueError below `minimum`."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not bool")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}") from None
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number


def seconds_arg(value: object, name: str, maximum: Optional[float] = None) -> float:
    """`value` as a finite, non-negative float of seconds (at most `maximum`); TypeError naming
    `name` for non-numbers (bool and str included), ValueError for NaN, infinity or negatives."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = operator.index(value)    # numpy integers are numbers too
        except TypeError:
            raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}") from None
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{name} must be a finite, non-negative number of seconds, got {value!r}")
    if maximum is not None and seconds > maximum:
        raise ValueError(f"{name} must be at most {maximum:g} seconds, got {value!r}")
    return seconds


def flag_arg(value: object, name: str) -> bool:
    """`value` when it is a bool (so that "no" or 0 cannot pass for a switch); TypeError naming `name`."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {type(value).__name__}")
    return value
