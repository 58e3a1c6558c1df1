from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support import Issuer  # noqa: E402

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors"


@pytest.fixture(scope="session")
def issuer() -> Iterator[Issuer]:
    i = Issuer()
    yield i
    i.stop()


@pytest.fixture
def fresh_issuer() -> Iterator[Issuer]:
    i = Issuer()
    yield i
    i.stop()
