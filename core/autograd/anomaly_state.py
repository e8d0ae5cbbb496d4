"""Whether anomaly detection is on: the switches :mod:`ember.autograd.anomaly_mode` sets, kept
apart so that the autograd core reads them without importing the recording layer above it."""

from __future__ import annotations

__all__ = ["state", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]

state = {"enabled": False, "check_nan": True}


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on.

    Example::

        >>> ember.autograd.anomaly_mode.is_anomaly_enabled()
        False
    """
    return state["enabled"]


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks the backward results for NaN.

    Example::

        >>> ember.autograd.anomaly_mode.is_anomaly_check_nan_enabled()
        True
    """
    return state["check_nan"]
