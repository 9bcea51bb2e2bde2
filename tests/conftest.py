"""Shared pytest configuration."""

from __future__ import annotations


def _register_hypothesis_profiles() -> None:
    """Hypothesis profiles "dev" (default, ~100 examples) and "ci" (more), chosen by the
    HYPOTHESIS_PROFILE environment variable. A profile someone else registered is kept."""
    import os

    from hypothesis import HealthCheck, settings
    from hypothesis.errors import InvalidArgument

    common = {
        "deadline": None,  # first compilations warm caches; timing is not what is tested
        "print_blob": True,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    }
    try:
        settings.get_profile("dev")
    except InvalidArgument:
        settings.register_profile("dev", max_examples=100, **common)
    # Newer Hypothesis ships a built-in "ci" profile (derandomized, no database) with the
    # default 100 examples; raise its budget unless the project already registered a bigger
    # one. Older releases (6.100, the lowest this project supports) have none.
    try:
        ci = settings.get_profile("ci")
    except InvalidArgument:
        settings.register_profile("ci", derandomize=True, database=None, max_examples=1000,
                                  **common)
    else:
        if ci.max_examples <= 100:
            settings.register_profile("ci", ci, max_examples=1000, **common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


_register_hypothesis_profiles()
