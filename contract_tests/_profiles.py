"""Hypothesis settings profiles for the contract: ``ci`` (the default), ``dev`` (quicker) and ``thorough``.

A profile scales every property's own example count (properties that wait for real backoff run few examples). Pick
one with ``--hypothesis-profile NAME`` (pytest) or ``--profile NAME`` (``python -m contract_tests``), or the
``CONTRACT_PROFILE`` environment variable.
"""

from __future__ import annotations

import os
from types import MappingProxyType

from hypothesis import HealthCheck, Phase, settings

__all__ = ["DEFAULT_PROFILE", "PROFILES", "PROFILE_ENV", "choose_profile", "property_settings", "register_profiles"]

DEFAULT_PROFILE = "ci"
PROFILE_ENV = "CONTRACT_PROFILE"
#: profile -> factor on each property's example count
PROFILES = MappingProxyType({"ci": 1.0, "dev": 0.4, "thorough": 6.0})
_HEALTH = (HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large)


def register_profiles() -> None:
    """Make the profiles known to hypothesis (for ``--hypothesis-profile``); they load nothing by themselves."""
    for name in PROFILES:
        settings.register_profile(name, deadline=None, suppress_health_check=_HEALTH, print_blob=True)


def choose_profile(name: str | None = None) -> str:
    """``name`` if it is a contract profile, else ``$CONTRACT_PROFILE``, else ``ci``."""
    for candidate in (name, os.environ.get(PROFILE_ENV)):
        if candidate is not None and candidate in PROFILES:
            return candidate
    return DEFAULT_PROFILE


def property_settings(profile: str, examples: int, *, shrink: bool = True) -> settings:
    """The settings one property runs with: ``examples`` scaled by the profile (at least one)."""
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate)
    return settings(
        max_examples=max(1, round(examples * PROFILES[profile])),
        deadline=None,
        database=None,
        suppress_health_check=_HEALTH,
        phases=phases,
        print_blob=True,
        derandomize=profile == "ci",
    )
