"""setup.sh is idempotent: with unchanged pins a second call installs nothing."""

from __future__ import annotations

import hashlib
import subprocess

from conftest import REPO


def test_setup_is_a_no_op_when_pins_are_unchanged():
    stamp = REPO / ".venv" / ".facebrain-installed"
    expected = hashlib.sha256((REPO / "requirements.txt").read_bytes() + (REPO / "pyproject.toml").read_bytes()).hexdigest()
    assert stamp.read_text().strip() == expected, "the .venv was not installed by setup.sh from the current pins"
    proc = subprocess.run(["bash", str(REPO / "setup.sh")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout
    assert "pip" not in proc.stderr
