"""After the smoke `all`: every HDF5/NIfTI output carries provenance,
results/provenance.json collects it, and `snakemake --report` lists every
final table and figure with a caption and a category."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import dry_run_jobs, run_snakemake
from facebrain.provenance import PROVENANCE_SUFFIXES, file_sha256, read_provenance

pytestmark = pytest.mark.workflow

REPORTED_SUFFIXES = (".csv", ".tsv", ".md", ".png", ".pdf", ".svg")


@pytest.fixture(scope="module")
def planned_jobs(smoke_run) -> list[dict[str, object]]:
    """Every job of `all` under the smoke preset, as the DAG declares it (`snakemake -n --forceall`)."""
    return dry_run_jobs(smoke_run, "--forceall", "all", "--configfile", "presets/smoke.yaml")


def final_targets(jobs: list[dict[str, object]]) -> list[str]:
    """The inputs of `rule all`."""
    (all_job,) = [job for job in jobs if job["rule"] == "all"]
    return list(all_job["input"])


@pytest.fixture(scope="module")
def removed_temp_files(smoke_run) -> set[str]:
    """Outputs declared temp() that snakemake removed once their consumers ran (status in `snakemake --summary`)."""
    proc = run_snakemake(smoke_run, "--summary", "all", "--configfile", "presets/smoke.yaml")
    return {line.split("\t")[0] for line in proc.stdout.splitlines() if "\tremoved temp file\t" in line}


def declared_provenance_files(jobs: list[dict[str, object]], removed: set[str]) -> set[str]:
    """The declared outputs under results/ that must carry provenance (HDF5, NIfTI, GIFTI), but the removed temporary ones."""
    return {out for job in jobs for out in job["output"] if out.startswith("results/") and out.endswith(PROVENANCE_SUFFIXES)} - removed


def test_every_h5_and_nifti_output_carries_provenance(smoke_run, planned_jobs, removed_temp_files):
    files = sorted(declared_provenance_files(planned_jobs, removed_temp_files))
    assert any(f.endswith(".h5") for f in files) and any(f.endswith(".nii.gz") for f in files), files
    for name in files:
        record = read_provenance(smoke_run / name)
        for key in ("rule", "config_hash", "inputs", "versions"):
            assert record.get(key) not in (None, ""), f"{name} lacks provenance '{key}'"
        for source_name, digest in record["inputs"].items():
            source = smoke_run / source_name if not Path(source_name).is_absolute() else Path(source_name)
            if source.is_file():
                assert file_sha256(source) == digest, f"{name}: input {source_name} changed after it was read"


def test_provenance_json_collects_every_output(smoke_run, planned_jobs, removed_temp_files):
    collected = json.loads((smoke_run / "results" / "provenance.json").read_text())
    declared = declared_provenance_files(planned_jobs, removed_temp_files)
    assert declared and set(collected["files"]) == declared
    assert collected["missing"] == {}
    assert sum(collected["rules"].values()) == len(declared)
    assert collected["collected_by"]["rule"] == "collect_provenance"


def read_report(path: Path) -> tuple[dict, dict]:
    """The `results` (path -> entry) and `categories` objects embedded in a snakemake HTML report."""
    html = path.read_text()
    parsed = []
    for name in ("results", "categories"):
        match = re.search(rf"var {name} = (\{{.*?\}});\n", html, flags=re.S)
        assert match, f"no '{name}' object in {path}"
        parsed.append(json.loads(match.group(1)))
    return parsed[0], parsed[1]


def test_report_lists_every_final_table_and_figure_with_caption_and_category(smoke_run, planned_jobs):
    report = smoke_run / "results" / "report.html"
    proc = run_snakemake(smoke_run, "--report", str(report.relative_to(smoke_run)), "--configfile", "presets/smoke.yaml")
    assert "(ERROR/" not in proc.stdout and "(WARNING/" not in proc.stdout, f"a caption is not valid reStructuredText:\n{proc.stdout}"
    results, categories = read_report(report)
    shown = [t for t in final_targets(planned_jobs) if t.endswith(REPORTED_SUFFIXES)]
    missing = [t for t in shown if t not in results]
    assert not missing, f"final targets not in the report: {missing}"
    for path, entry in results.items():
        caption = re.sub(r"<[^>]+>", "", entry["caption"] or "").strip()
        assert caption, f"{path} has no caption in the report"
    categorised = {path for subcats in categories.values() for paths in subcats.values() for path in paths}
    assert set(results) <= categorised
    assert "Other" not in categories, f"report entries without a category: {categories.get('Other')}"
    assert any("results/provenance.json" in paths for paths in categories["Provenance"].values())
