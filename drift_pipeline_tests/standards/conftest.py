from __future__ import annotations

from pathlib import Path

import pytest

import drift_pipeline

REGISTRY = Path(drift_pipeline.__file__).parent / "sandbox" / "data" / "registry-community"


@pytest.fixture
def registry_dir() -> Path:
    return REGISTRY
