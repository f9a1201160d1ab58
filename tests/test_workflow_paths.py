"""Every file the rules declare comes from facebrain.paths, and every table names the function of its cells.

The rules, their declared outputs, logs and benchmarks, and the jobs of the
DAG of `all` are read with the snakemake API (in a subprocess: the API
changes the working directory) for the default, smoke and paper configs.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys

import pytest

from conftest import REPO
from facebrain import paths

pytestmark = pytest.mark.workflow

DUMP = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, Quietness, ResourceSettings, StorageSettings

repo, configfile = Path(sys.argv[1]), sys.argv[2]
with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
    wf = api.workflow(resource_settings=ResourceSettings(), config_settings=ConfigSettings(configfiles=[repo / configfile]),
                      storage_settings=StorageSettings(), snakefile=repo / "Snakefile", workdir=repo)
    wf.dag(DAGSettings(targets={"all"}))
    workflow = wf._workflow
    rules = {r.name: {"output": [str(f) for f in r.output], "log": [str(f) for f in r.log],
                      "benchmark": str(r.benchmark) if r.benchmark else None, "doc": r.docstring} for r in workflow.rules}
    workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True)
    workflow._build_dag()
    jobs = [{"rule": j.rule.name, "files": [str(f) for f in list(j.input) + list(j.output)]} for j in workflow.dag.jobs]
print(json.dumps({"rules": rules, "jobs": jobs}))
"""

INPUT_ONLY = {"fmri_downloaded"}
"""Templates no rule outputs: the downloaded BIDS tree (its job's output is the manifest)."""


@pytest.fixture(scope="module", params=["config.yaml", "presets/smoke.yaml", "presets/paper.yaml"])
def workflow(request):
    proc = subprocess.run([sys.executable, "-c", DUMP, str(REPO), request.param], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


def strip_constraints(pattern: str) -> str:
    """'sub-{subject,[A-Za-z0-9]+}' -> 'sub-{subject}' (snakemake writes the global constraints into the patterns)."""
    return re.sub(r"\{(\w+),[^{}]*\}", r"{\1}", pattern)


def template_regex(template: str) -> re.Pattern:
    """A template whose fields match a wildcard ('{model}') or a value allowed by the entity's constraint."""
    regex = ""
    for i, part in enumerate(re.split(r"\{(\w+)\}", template)):
        regex += re.escape(part) if i % 2 == 0 else f"(?P<{part}>\\{{{part}\\}}|{paths.ENTITIES[part].pattern})"
    return re.compile(regex)


REGEXES = {name: template_regex(template) for name, template in paths.FILES.items()}


def from_path_layer(pattern: str) -> str:
    """The name of the one template that builds ``pattern`` (with wildcards or values); fails otherwise."""
    matches = {name: regex.fullmatch(pattern) for name, regex in REGEXES.items() if regex.fullmatch(pattern)}
    assert len(matches) == 1, f"{pattern}: built by {sorted(matches) or 'no template'} of facebrain.paths"
    (name, match), = matches.items()
    fixed = {e: v for e, v in match.groupdict().items() if v != f"{{{e}}}"}
    assert paths.path(name, **fixed) == pattern
    return name


def wildcards_of(pattern: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", pattern)


def test_declared_outputs_logs_and_benchmarks_come_from_the_path_layer(workflow):
    used = set()
    for rule, declared in workflow["rules"].items():
        if rule == "all":
            continue
        outputs = [strip_constraints(p) for p in declared["output"]]
        used |= {from_path_layer(p) for p in outputs}
        entities = sorted({w for p in outputs for w in wildcards_of(p)})
        assert [strip_constraints(p) for p in declared["log"]] == [paths.log(rule, *entities)], rule
        assert strip_constraints(declared["benchmark"]) == paths.benchmark(rule, *entities), rule
    assert used == set(paths.FILES) - INPUT_ONLY, f"templates no rule outputs: {sorted(set(paths.FILES) - INPUT_ONLY - used)}"


def test_every_file_of_the_dag_comes_from_the_path_layer(workflow):
    files = {f for job in workflow["jobs"] for f in job["files"]}
    assert any(f.startswith("results/") for f in files) and any(f.startswith("resources/") for f in files)
    for f in sorted(files):
        from_path_layer(f)


def test_every_table_rule_names_the_function_of_its_cells(workflow):
    """results/table1.csv -> rule encoding_table1 -> facebrain.encoding.accuracy.evaluate_encoding (two hops)."""
    tables = {rule: d for rule, d in workflow["rules"].items() if any(re.search(r"\.(csv|md|tsv)$", p) for p in d["output"])}
    assert "encoding_table1" in tables and "disentanglement_table" in tables
    for rule, declared in tables.items():
        named = re.findall(r"Cells: ([^;]*(?:;[^;]*)*)", declared["doc"] or "")
        functions = re.findall(r"\bfacebrain(?:\.\w+)+", named[0]) if named else []
        assert functions, f"rule {rule} writes {declared['output']} but its docstring names no 'Cells: facebrain....' function"
        for dotted in functions:
            module, _, name = dotted.rpartition(".")
            assert callable(getattr(importlib.import_module(module), name, None)), f"rule {rule}: {dotted} is not a function"


def test_rules_and_scripts_spell_no_path():
    """Paths are built only by facebrain.paths: no rule, helper or script spells one (comments aside)."""
    sources = [REPO / "Snakefile", *(REPO / "workflow" / "rules").glob("*.smk"), *(REPO / "workflow" / "scripts").glob("*.py")]
    literal = re.compile(r"""["'][^"'\n]*\b(results|resources|logs|benchmarks)/[^"'\n]*["']""")
    found = [f"{src.name}:{n}: {line.strip()}" for src in sources for n, line in enumerate(src.read_text().splitlines(), 1)
             if literal.search(line.split("#", 1)[0])]
    assert not found, "\n".join(found)
