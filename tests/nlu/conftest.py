"""The understanding engine, trained once per test session on the project's content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.config import NluSettings
from flows.content import load_content
from nlu import build_builtin
from nlu.builtin import BuiltinEngine

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def content() -> Any:
    return load_content(ROOT / "content", strict=False)


@pytest.fixture(scope="session")
def engine(content: Any, trained_nlu_cache: Path) -> BuiltinEngine:
    return build_builtin(NluSettings(), content, trained_nlu_cache)
