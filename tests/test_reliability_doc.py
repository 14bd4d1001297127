"""docs/reliability.md's table of the adversarial matrix matches the cases in tests/adversarial."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_reliability_table_is_up_to_date():
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "adversarial" / "table.py"),
                           "--check"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
