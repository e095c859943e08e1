import os
from pathlib import Path

import pytest

GSET = Path(os.environ.get("VHLS_GSET") or Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gset")


@pytest.fixture
def gset_dir() -> Path:
    if not (GSET / "G1.txt").is_file():
        pytest.skip(f"G-set data not found at {GSET} (set VHLS_GSET, or put ../shared/data/gset beside the clone)")
    return GSET.resolve()
