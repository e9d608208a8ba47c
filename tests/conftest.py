"""Shared fixtures; renderer-dependent tests skip with a reason until smpvision.synth.render_sample exists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def get_renderer() -> Callable[..., Any] | None:
    try:
        from smpvision import synth
    except ImportError:
        return None
    return getattr(synth, "render_sample", None)


@pytest.fixture(scope="session")
def render_sample() -> Callable[..., Any]:
    fn = get_renderer()
    if fn is None:
        pytest.skip("smpvision.synth.render_sample is not implemented yet")
    return fn
