"""Jobs never run more threads at once than the machine has CPUs (workflow/rules/common.smk):
every rule that computes declares `cpu_threads`, limited to the CPUs snakemake may use."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from conftest import REPO, SNAKEMAKE, copy_repo

pytestmark = pytest.mark.workflow

EXEMPT = {"download_celeba", "download_fmri"}
"""Rules whose jobs wait on the network, not on a CPU."""


def rule_blocks() -> dict[str, str]:
    """Each rule of workflow/rules/*.smk and its text, by name: a rule built in a loop by its `name:`,
    a `use rule X as Y with:` by Y (text: its overrides; a `resources:` there replaces X's whole block)."""
    blocks = {}
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        for block in re.split(r"\n(?=[ \t]*(?:use )?rule\b)", path.read_text())[1:]:
            named = re.match(r"\s*(?:use rule \w+ as |rule )(\w+)", block) or re.search(r'name:\s*\n\s*f?"(\w+)', block)
            blocks[named.group(1)] = block
    return blocks


def test_every_rule_but_the_downloads_declares_its_threads_as_cpu_threads():
    blocks = rule_blocks()
    assert {"train_model", "train_ensemble_", "synthfaces", "encoding_glm_model", "encoding_glm_surface"} <= set(blocks)
    inherited = {name for name, block in blocks.items() if block.lstrip().startswith("use rule") and "resources:" not in block}
    missing = {name for name, block in blocks.items() if name not in EXEMPT | inherited and "cpu_threads=job_threads," not in block}
    assert not missing, f"rules that compute without declaring cpu_threads=job_threads: {sorted(missing)}"
    assert EXEMPT <= set(blocks)


def dry_run_synthfaces(workdir, cpus: set[int], *args: str) -> tuple[int, int]:
    """(threads, cpu_threads) of the synthfaces job (4 threads) in `snakemake -n --cores 8` run on ``cpus``."""
    proc = subprocess.run(
        [SNAKEMAKE, "resources/synthfaces", "-n", "-f", "--cores", "8", *args, "--set-threads", "synthfaces=4"],
        cwd=workdir, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300,
        preexec_fn=lambda: os.sched_setaffinity(0, cpus),
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    threads = re.search(r"^\s+threads: (\d+)$", proc.stdout, re.M)
    cpu_threads = re.search(r"^\s+resources: .*\bcpu_threads=(\d+)", proc.stdout, re.M)
    assert threads and cpu_threads, proc.stdout[-4000:]
    return int(threads.group(1)), int(cpu_threads.group(1))


def test_cpu_threads_are_limited_to_the_cpus_snakemake_may_use_unless_resources_says_otherwise(tmp_path):
    workdir = copy_repo(tmp_path / "repo")
    one_cpu = {min(os.sched_getaffinity(0))}
    # --cores 8 gives the job its 4 threads; the CPUs it may use: 1
    assert dry_run_synthfaces(workdir, one_cpu) == (4, 1)
    assert dry_run_synthfaces(workdir, one_cpu, "--resources", "cpu_threads=3") == (4, 3)
    all_cpus = os.sched_getaffinity(0)
    assert dry_run_synthfaces(workdir, all_cpus) == (4, min(4, len(all_cpus)))
