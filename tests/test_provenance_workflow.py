"""After the smoke `all`: every HDF5/NIfTI output carries provenance,
results/provenance.json collects it, and `snakemake --report` lists every
final table and figure with a caption and a category."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import run_snakemake
from facebrain.provenance import file_sha256, find_provenance_files, read_provenance

pytestmark = pytest.mark.workflow

REPORTED_SUFFIXES = (".csv", ".tsv", ".md", ".png", ".pdf", ".svg")


def dry_run_jobs(workdir: Path, *args: str) -> list[dict[str, object]]:
    """Parse `snakemake -n ARGS` into jobs: {'rule', 'input': [...], 'output': [...], 'reason'}."""
    proc = run_snakemake(workdir, "-n", *args)
    jobs: list[dict[str, object]] = []
    for line in proc.stdout.splitlines():
        head = re.match(r"^(?:local)?rule (\S+):$", line)
        if head:
            jobs.append({"rule": head.group(1), "input": [], "output": [], "reason": ""})
            continue
        field = re.match(r"^\s+(input|output|reason): (.*)$", line)
        if field and jobs:
            key, value = field.groups()
            jobs[-1][key] = value if key == "reason" else [v.strip() for v in value.split(",") if v.strip()]
    return jobs


def final_targets(workdir: Path) -> list[str]:
    """The inputs of `rule all` under the smoke preset."""
    jobs = dry_run_jobs(workdir, "--forceall", "all", "--configfile", "presets/smoke.yaml")
    (all_job,) = [job for job in jobs if job["rule"] == "all"]
    return list(all_job["input"])


def test_every_h5_and_nifti_output_carries_provenance(smoke_run):
    files = find_provenance_files(smoke_run / "results")
    for path in files:
        record = read_provenance(path)
        for key in ("rule", "config_hash", "inputs", "versions"):
            assert record.get(key) not in (None, ""), f"{path.relative_to(smoke_run)} lacks provenance '{key}'"
        for name, digest in record["inputs"].items():
            source = smoke_run / name if not Path(name).is_absolute() else Path(name)
            if source.is_file():
                assert file_sha256(source) == digest, f"{path.relative_to(smoke_run)}: input {name} changed after it was read"


def test_provenance_json_collects_every_output(smoke_run):
    collected = json.loads((smoke_run / "results" / "provenance.json").read_text())
    on_disk = {str(p.relative_to(smoke_run)) for p in find_provenance_files(smoke_run / "results")}
    assert set(collected["files"]) == on_disk
    assert collected["missing"] == {}
    assert sum(collected["rules"].values()) == len(on_disk)
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


def test_report_lists_every_final_table_and_figure_with_caption_and_category(smoke_run):
    report = smoke_run / "results" / "report.html"
    proc = run_snakemake(smoke_run, "--report", str(report.relative_to(smoke_run)), "--configfile", "presets/smoke.yaml")
    assert "(ERROR/" not in proc.stdout and "(WARNING/" not in proc.stdout, f"a caption is not valid reStructuredText:\n{proc.stdout}"
    results, categories = read_report(report)
    shown = [t for t in final_targets(smoke_run) if t.endswith(REPORTED_SUFFIXES)]
    missing = [t for t in shown if t not in results]
    assert not missing, f"final targets not in the report: {missing}"
    for path, entry in results.items():
        caption = re.sub(r"<[^>]+>", "", entry["caption"] or "").strip()
        assert caption, f"{path} has no caption in the report"
    categorised = {path for subcats in categories.values() for paths in subcats.values() for path in paths}
    assert set(results) <= categorised
    assert "Other" not in categories, f"report entries without a category: {categories.get('Other')}"
    assert any("results/provenance.json" in paths for paths in categories["Provenance"].values())
