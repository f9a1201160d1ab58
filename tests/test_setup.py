"""setup.sh is idempotent: with unchanged pins a second call installs nothing; `--slurm-profile` links the
SLURM profile into the user's snakemake config dir, never overwriting one."""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from conftest import REPO, SNAKEMAKE, copy_repo


def test_setup_is_a_no_op_when_pins_are_unchanged():
    stamp = REPO / ".venv" / ".facebrain-installed"
    expected = hashlib.sha256((REPO / "requirements.txt").read_bytes() + (REPO / "pyproject.toml").read_bytes()).hexdigest()
    assert stamp.read_text().strip() == expected, "the .venv was not installed by setup.sh from the current pins"
    proc = subprocess.run(["bash", str(REPO / "setup.sh")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout
    assert "pip" not in proc.stderr


def _link_profile(xdg, *args):
    env = dict(os.environ, XDG_CONFIG_HOME=str(xdg))
    return subprocess.run(["bash", str(REPO / "setup.sh"), "--slurm-profile", *args], capture_output=True, text=True, timeout=60, env=env)


def test_slurm_profile_is_linked_into_the_users_snakemake_config(tmp_path):
    proc = _link_profile(tmp_path / "xdg")
    assert proc.returncode == 0, proc.stderr
    link = tmp_path / "xdg" / "snakemake" / "slurm"
    assert link.is_symlink() and link.resolve() == (REPO / "profiles" / "slurm").resolve()
    again = _link_profile(tmp_path / "xdg")
    assert again.returncode == 0 and "already links" in again.stdout


def test_an_existing_slurm_profile_is_never_overwritten(tmp_path):
    own = tmp_path / "xdg" / "snakemake" / "slurm"
    own.mkdir(parents=True)
    (own / "config.v8+.yaml").write_text("executor: slurm\n")
    proc = _link_profile(tmp_path / "xdg")
    assert proc.returncode == 1 and "not overwriting" in proc.stderr
    assert not own.is_symlink() and (own / "config.v8+.yaml").read_text() == "executor: slurm\n"
    other = tmp_path / "xdg2" / "snakemake" / "slurm"
    other.parent.mkdir(parents=True)
    other.symlink_to(REPO / "profiles" / "slurm-test")
    assert _link_profile(tmp_path / "xdg2").returncode == 1 and other.resolve() == (REPO / "profiles" / "slurm-test").resolve()


@pytest.mark.workflow
def test_users_slurm_command_finds_the_linked_profile(tmp_path):
    """After the setup step, `snakemake --profile slurm results/table1.csv` resolves the profile (dry run)."""
    assert _link_profile(tmp_path / "xdg").returncode == 0
    repo = copy_repo(tmp_path / "repo")
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    proc = subprocess.run([SNAKEMAKE, "--profile", "slurm", "-n", "results/table1.csv"], cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "encoding_table1" in proc.stdout
