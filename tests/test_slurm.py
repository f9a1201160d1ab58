"""The pipeline runs through a real SLURM cluster (single node, on localhost).

The fixture installs Debian's slurm-wlm, slurm-client and munge with apt-get
when they are missing (as root; CI runs on a fresh machine), writes a minimal
slurm.conf to /etc/slurm/slurm.conf, starts munged, slurmctld and slurmd, and
stops them again by the pids in their pid files. The test runs smoke-preset
targets with `--profile profiles/slurm-test` and with the local executor in
two copies of the repository, checks that the jobs went through sbatch and
that the outputs are equal; a second test runs the user's command verbatim,
`snakemake --profile slurm results/table1.csv`, after the setup step that links
the profile into a temporary XDG_CONFIG_HOME, in a copy of the session's smoke
run less Table 1 and the encoding summaries it lays out (9 jobs, not the 36 of
the whole Table 1 DAG).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import SNAKEMAKE, copy_repo, run_snakemake
from facebrain import paths
from facebrain.provenance import decode_provenance

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

SLURM_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# facebrain single-node test cluster (tests/test_slurm.py)"
PID_FILES = {
    "munged": Path("/run/munge/munged.pid"),
    "slurmctld": Path("/run/slurm/slurmctld.pid"),
    "slurmd": Path("/run/slurm/slurmd.pid"),
}
CONF_TEXT = f"""{MARKER}
ClusterName=facebrain
SlurmctldHost=localhost
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MinJobAge=300
ReturnToService=2
SlurmctldPidFile={PID_FILES["slurmctld"]}
SlurmdPidFile={PID_FILES["slurmd"]}
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=8000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""
PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
PACKAGES = ("slurm-wlm", "slurm-client", "munge")
# Smoke-preset targets run through SLURM (5 jobs): the job environment
# record, and the dSprites stand-in, its prepared HDF5, a PCA model on it and
# the model's cached latents.
TARGETS = ("results/provenance/environment.json", "results/data/dsprites.h5", "results/latents/pca/dsprites.h5")
# Provenance values that legitimately differ between two runs of the same job
# (the input checksums too: a checkpoint's bytes include its own provenance;
# the inputs' names are compared).
VOLATILE = {"git_revision", "platform"}
# Table columns that are timings (throughput in a training log), not results.
TIMING_COLUMN = re.compile(r"(per_s|seconds|elapsed|wall)")


def _which(program: str) -> str | None:
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin:/sbin:/bin")


def install_slurm() -> None:
    """Install SLURM and munge with apt-get if a program is missing; skip where that is impossible."""
    if all(_which(p) for p in PROGRAMS):
        return
    if shutil.which("apt-get") is None:
        pytest.skip(f"SLURM is not installed ({', '.join(p for p in PROGRAMS if not _which(p))} missing) and apt-get is unavailable; install {' '.join(PACKAGES)} to run this test")
    if os.geteuid() != 0:
        pytest.skip(f"SLURM is not installed and installing {' '.join(PACKAGES)} with apt-get needs root")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *PACKAGES], check=True, env=env, capture_output=True)


def _running_pid(name: str) -> int | None:
    """The pid in ``name``'s pid file if that process is alive, else None."""
    try:
        pid = int(PID_FILES[name].read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return pid


def _start(name: str, command: list[str], timeout: float = 20) -> int:
    """Start a daemon (it forks and writes its pid file); return its pid."""
    subprocess.run(command, check=True, capture_output=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = _running_pid(name)
        if pid:
            return pid
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not write {PID_FILES[name]} within {timeout} s; see /var/log/slurm and /var/log/munge")


def _stop(pid: int, timeout: float = 20) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


def _node_state() -> str:
    proc = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True)
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def slurm_cluster():
    """A running single-node SLURM cluster on localhost; stops what it started afterwards."""
    install_slurm()
    if os.geteuid() != 0:
        pytest.skip("starting munged, slurmctld and slurmd needs root")
    if SLURM_CONF.exists() and MARKER not in SLURM_CONF.read_text():
        pytest.skip(f"{SLURM_CONF} belongs to another SLURM installation; not overwriting it")
    SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    SLURM_CONF.write_text(CONF_TEXT)
    for folder in ("/run/munge", "/run/slurm", "/var/spool/slurmctld", "/var/spool/slurmd", "/var/log/slurm", "/var/log/munge", "/var/lib/munge"):
        Path(folder).mkdir(parents=True, exist_ok=True)
    for folder in ("/run/munge", "/var/log/munge", "/var/lib/munge"):
        shutil.chown(folder, "munge", "munge")
    key = Path("/etc/munge/munge.key")
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        shutil.chown(key, "munge", "munge")
    commands = {
        "munged": ["runuser", "-u", "munge", "--", _which("munged")],
        "slurmctld": [_which("slurmctld")],
        "slurmd": [_which("slurmd"), "-N", "localhost"],
    }
    started = {}
    try:
        for name, command in commands.items():
            if _running_pid(name) is None:
                started[name] = _start(name, command)
        deadline = time.monotonic() + 60
        while _node_state() != "idle":
            if time.monotonic() > deadline:
                raise RuntimeError(f"the SLURM node is '{_node_state()}', not idle, after 60 s; see /var/log/slurm/")
            time.sleep(1)
        yield
    finally:
        for pid in reversed(started.values()):
            _stop(pid)
        if "slurmctld" in started:
            # With a slurm.conf but no controller, every `scontrol` (which the
            # SLURM executor plugin calls when snakemake starts) waits ~10 s.
            SLURM_CONF.unlink(missing_ok=True)


def _same_h5(a: Path, b: Path) -> None:
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        assert sorted(fa) == sorted(fb), a
        for name in fa:
            np.testing.assert_array_equal(fa[name][()], fb[name][()], err_msg=f"{a}:{name}")
        attrs_a = _drop_volatile(decode_provenance(fa.attrs))
        attrs_b = _drop_volatile(decode_provenance(fb.attrs))
        assert attrs_a.keys() == attrs_b.keys(), a
        for k in attrs_a:
            np.testing.assert_array_equal(attrs_a[k], attrs_b[k], err_msg=f"{a}: attribute {k}")


def _drop_volatile(obj):
    """``obj`` without VOLATILE keys, and with provenance ``inputs`` (dict or JSON text) reduced to their names."""
    if not isinstance(obj, dict):
        return obj
    kept = {}
    for key, value in obj.items():
        if key in VOLATILE:
            continue
        if key == "inputs":
            value = json.loads(value) if isinstance(value, str) else value
            kept[key] = sorted(value) if isinstance(value, dict) else value
        else:
            kept[key] = _drop_volatile(value)
    return kept


def _assert_same_object(a, b, where: str) -> None:
    """Recursive equality of torch checkpoints: tensors/arrays exactly, containers item by item."""
    import torch

    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        a, b = _drop_volatile(a), _drop_volatile(b)
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_same_object(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_object(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def assert_same_output(a: Path, b: Path) -> None:
    """Outputs are equal in content (HDF5 datasets and attributes, JSON, torch checkpoints, tables); provenance may differ in git revision."""
    if a.suffix == ".h5":
        _same_h5(a, b)
    elif a.suffix == ".json":
        assert _drop_volatile(json.loads(a.read_text())) == _drop_volatile(json.loads(b.read_text())), a
    elif a.suffix == ".pt":
        import torch

        _assert_same_object(torch.load(a, weights_only=False), torch.load(b, weights_only=False), str(a))
    elif a.suffix in (".csv", ".tsv"):
        sep = "\t" if a.suffix == ".tsv" else ","
        frames = [pd.read_csv(path, sep=sep) for path in (a, b)]
        frames = [frame[[c for c in frame.columns if not TIMING_COLUMN.search(c)]] for frame in frames]
        pd.testing.assert_frame_equal(*frames, obj=str(a))
    else:
        assert a.read_bytes() == b.read_bytes(), a


def test_smoke_targets_run_through_slurm_like_locally(slurm_cluster, tmp_path):
    local = copy_repo(tmp_path / "local")
    cluster = copy_repo(tmp_path / "cluster")
    targets = list(TARGETS)
    run_snakemake(local, "--cores", "2", *targets, "--configfile", "presets/smoke.yaml", timeout=600)
    proc = run_snakemake(cluster, "--profile", "profiles/slurm-test", *targets, "--configfile", "presets/smoke.yaml", timeout=900)

    n_jobs = int(re.search(r"^total\s+(\d+)$", proc.stdout, flags=re.M).group(1))
    submitted = [line for line in proc.stdout.splitlines() if "has been submitted with SLURM jobid" in line]
    logs = sorted((cluster / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert n_jobs >= len(TARGETS) and len(submitted) == n_jobs, proc.stdout[-4000:]
    assert len(logs) == n_jobs, (logs, submitted)
    for log in logs:
        assert "SNAKEMAKE" in log.read_text(), f"{log} is not a snakemake job step log"
    produced = [p.relative_to(local) for p in sorted((local / "results").rglob("*")) if p.is_file()]
    assert {str(t) for t in targets} <= {str(p) for p in produced}
    for rel in produced:
        assert (cluster / rel).is_file(), f"{rel} was made locally but not on SLURM"
        assert_same_output(local / rel, cluster / rel)


def test_users_command_verbatim_after_the_setup_step(slurm_cluster, smoke_run, tmp_path):
    """README's one setup step, then exactly `snakemake --profile slurm results/table1.csv`.

    The setup step links the test cluster's profile (profiles/slurm-test: no account,
    squeue status, the smoke preset) as the user's `slurm` profile in a temporary
    XDG_CONFIG_HOME; snakemake finds it there as it would in ~/.config/snakemake/.
    The repository is a copy of the session's smoke run (the same preset; copies keep
    their mtimes, and snakemake's metadata comes along) less Table 1 and the encoding
    summaries whose cells it lays out: the command must submit exactly those jobs to
    SLURM, rerun nothing upstream, and rebuild the smoke run's table.
    """
    repo = tmp_path / "repo"
    shutil.copytree(smoke_run, repo, ignore=shutil.ignore_patterns(".snakemake"))
    shutil.copytree(smoke_run / ".snakemake" / "metadata", repo / ".snakemake" / "metadata")
    summaries = sorted(p.relative_to(repo) for p in repo.glob(re.sub(r"\{\w+\}", "*", paths.path("encoding_summary"))))
    assert len(summaries) == 2 * 2 * 2, summaries  # 2 subjects x 2 spaces x 2 models
    tables = [Path(paths.path("table1")), Path(paths.path("table1_md"))]
    for rel in [*summaries, *tables]:
        (repo / rel).unlink()
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "xdg"), PYTHONUNBUFFERED="1")
    subprocess.run(["bash", "setup.sh", "--slurm-profile", "profiles/slurm-test"], cwd=repo, env=env, check=True, capture_output=True)
    proc = subprocess.run([SNAKEMAKE, "--profile", "slurm", "results/table1.csv"], cwd=repo, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:]
    n_jobs = int(re.search(r"^total\s+(\d+)$", proc.stdout, flags=re.M).group(1))
    submitted = [line for line in proc.stdout.splitlines() if "has been submitted with SLURM jobid" in line]
    assert n_jobs == len(summaries) + 1, f"snakemake planned {n_jobs} jobs, not the {len(summaries) + 1} that remake the removed files:\n{proc.stdout[:4000]}"
    assert len(submitted) == n_jobs, proc.stdout[-4000:]
    table = pd.read_csv(repo / tables[0])
    models = table[table.kind == "model"]
    assert set(models.model) == {"oracle", "random"} and len(models) == 2 * 2 * 2  # 2 subjects x 2 spaces
    assert set(table[table.kind == "comparison"].model) == {"oracle - random"}
    for rel in [*summaries, *tables]:
        assert_same_output(smoke_run / rel, repo / rel)
