"""The Snakefile parses, lints clean and validates its config."""

from __future__ import annotations

import pytest

from conftest import REPO, run_snakemake

pytestmark = pytest.mark.workflow


def test_lint_has_no_findings():
    proc = run_snakemake(REPO, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout
    assert "Lints for" not in proc.stdout, proc.stdout


@pytest.mark.parametrize("preset", ["config.yaml", "presets/smoke.yaml", "presets/paper.yaml"])
def test_presets_validate_and_build_a_dag(preset):
    proc = run_snakemake(REPO, "-n", "all", "--configfile", preset, "--quiet", "rules")
    assert "Error" not in proc.stdout


def test_train_ensemble_stacks_the_grid_by_network_shape():
    """The paper preset's FactorVAE grid (latent 24 and 32, 4 gammas, 2 seeds) becomes one stacked-ensemble
    job per latent size (the preset's own factorvae joins latent 24); without train.ensemble there is none."""
    proc = run_snakemake(REPO, "-n", "all", "--configfile", "presets/paper.yaml", "--config", "train={ensemble: true}", "--quiet", "rules")
    counts = {line.split()[0]: line.split()[1] for line in proc.stdout.splitlines() if line.startswith("train_")}
    assert counts.get("train_ensemble_1") == counts.get("train_ensemble_2") == "1", proc.stdout
    assert "train_ensemble_3" not in counts
    proc = run_snakemake(REPO, "-n", "all", "--configfile", "presets/paper.yaml", "--quiet", "rules")
    assert "train_ensemble" not in proc.stdout


def test_unknown_key_is_named_in_the_error():
    proc = run_snakemake(REPO, "-n", "--config", "no_such_key=1", check=False)
    assert proc.returncode != 0
    assert "no_such_key" in proc.stdout
    assert "Additional properties are not allowed" in proc.stdout


def test_wrong_type_is_named_in_the_error():
    proc = run_snakemake(REPO, "-n", "--config", "seed=notanumber", check=False)
    assert proc.returncode != 0
    assert "'notanumber' is not of type 'integer'" in proc.stdout
    assert "instance['seed']" in proc.stdout


def test_glm_noise_model_is_validated_and_defaults_to_ols():
    proc = run_snakemake(REPO, "-n", "--config", "encoding={glm: {noise_model: ar2}}", check=False)
    assert proc.returncode != 0
    assert "'ar2' is not one of ['ols', 'ar1']" in proc.stdout
    assert "instance['encoding']['glm']['noise_model']" in proc.stdout
    from snakemake.utils import validate

    section: dict = {}
    validate(section, str(REPO / "workflow" / "schemas" / "encoding.schema.yaml"))
    assert section["glm"]["noise_model"] == "ols"


SECTIONS = ("datasets", "models", "train", "fmri", "encoding", "metrics")


@pytest.mark.parametrize("section", SECTIONS)
def test_section_defaults_are_filled_from_the_schema(section):
    """An empty section gets every top-level default its schema declares."""
    import yaml

    from facebrain.config import validate_config

    schema_path = REPO / "workflow" / "schemas" / f"{section}.schema.yaml"
    schema = yaml.safe_load(schema_path.read_text())
    declared = {key for key, sub in schema.get("properties", {}).items() if "default" in sub}
    data: dict = {}
    validate_config(data, schema_path)
    assert declared <= set(data), f"{section}: defaults not filled for {sorted(declared - set(data))}"


@pytest.mark.parametrize("preset", ["config.yaml", "presets/paper.yaml"])
def test_validate_config_fills_what_snakemake_validate_fills(preset):
    """The Snakefile's validation (facebrain.config.validate_config: each schema file read once) gives the
    config that snakemake.utils.validate of the whole config, then of each section, gives: same keys,
    values and order."""
    import copy
    import json

    import yaml
    from snakemake.utils import validate

    from facebrain.config import validate_config

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config.update(yaml.safe_load((REPO / preset).read_text()) if preset != "config.yaml" else {})
    del config["encoding"]  # a whole section from its schema's defaults
    config["train"].pop("steps", None)
    schemas = REPO / "workflow" / "schemas"
    expected, got = copy.deepcopy(config), copy.deepcopy(config)
    validate(expected, str(schemas / "config.schema.yaml"))
    for section in SECTIONS:
        validate(expected[section], str(schemas / f"{section}.schema.yaml"))
    validate_config(got, schemas / "config.schema.yaml")
    assert json.dumps(got) == json.dumps(expected)
    assert "encoding" in got and "steps" in got["train"]


def test_nested_command_line_numbers_are_read_as_numbers():
    """--config 'train={steps: 400}' hands snakemake the string '400'; the schema wants an integer."""
    proc = run_snakemake(REPO, "-n", "all", "--config", "train={steps: 400, lr: 1e-3}", "--quiet", "rules", check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "config: train.steps = '400' (a string from the command line) read as 400" in proc.stdout
    assert "config: train.lr = '1e-3' (a string from the command line) read as 0.001" in proc.stdout


def test_command_line_strings_become_the_types_the_schema_wants(tmp_path, caplog):
    from facebrain.config import coerce_command_line_values

    config = {
        "train": {"steps": "400", "lr": "1e-4", "traversal_models": "null", "models": ["vae", "7"]},
        "models": {"small": {"kind": "vae", "latent_dim": "12", "gamma": "6.4"}},
        "gpu": "true",
        "face_dataset": "celeba",
    }
    with caplog.at_level("WARNING", logger="facebrain.config"):
        out = coerce_command_line_values(config, REPO / "workflow" / "schemas" / "config.schema.yaml")
    assert out["train"] == {"steps": 400, "lr": 1e-4, "traversal_models": None, "models": ["vae", "7"]}
    assert out["models"]["small"] == {"kind": "vae", "latent_dim": 12, "gamma": 6.4}
    assert out["gpu"] is True and out["face_dataset"] == "celeba"
    assert "train.steps = '400'" in caplog.text and "models.small.latent_dim = '12'" in caplog.text
    config = {"train": {"steps": "many"}}
    assert coerce_command_line_values(config, REPO / "workflow" / "schemas" / "config.schema.yaml") == {"train": {"steps": "many"}}
