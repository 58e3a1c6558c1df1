import sys
from pathlib import Path
from typing import Dict, Iterator, Tuple

import pytest

sys.path.insert(0, str(Path(__file__).parent / "clients"))
sys.path.insert(0, str(Path(__file__).parent))

from harness import Cast  # noqa: E402


@pytest.fixture(scope="session")
def cast() -> Iterator[Tuple[str, Dict[str, str]]]:
    """The authorization server and both sample servers: (issuer, {"python": url, "node": url})."""
    with Cast() as processes:
        issuer = processes.authorization_server()
        urls = {"python": processes.python_server(issuer), "node": processes.node_server(issuer)}
        yield issuer, urls
