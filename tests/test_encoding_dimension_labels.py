"""Raters' labels (encoding.dimension_labels) replace a model's automatic dimension labels in the
beta-map figures and tables."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import copy_repo, run_snakemake
from facebrain.encoding.tables import labelled_dimensions
from facebrain.errors import DataError
from facebrain.models.dimension_labels import apply_rater_labels


@pytest.fixture
def auto(tmp_path):
    path = tmp_path / "auto.tsv"
    pd.DataFrame({"dim": [0, 1, 2, 3], "factor": ["yaw", "smile", "Male", ""], "abs_corr": [0.8, 0.6, 0.1, 0.0]}).to_csv(path, sep="\t", index=False)
    return path


def test_rater_labels_replace_the_automatic_ones(auto, tmp_path):
    raters = tmp_path / "raters.tsv"
    raters.write_text("dim\tlabel\n2\trotation\n0\tskin tone\n")
    apply_rater_labels(auto, tmp_path / "auto_out.tsv")
    assert labelled_dimensions(tmp_path / "auto_out.tsv", 0.5) == {"yaw": 0, "smile": 1}
    table = apply_rater_labels(auto, tmp_path / "out.tsv", raters)
    assert list(table.factor) == ["skin tone", "", "rotation", ""] and set(table.source) == {"raters"}
    # the raters' labels are used whatever the dimension's correlation with a known factor
    assert labelled_dimensions(tmp_path / "out.tsv", 0.5) == {"skin tone": 0, "rotation": 2}


@pytest.mark.parametrize("content, message", [
    ("dim\tlabel\n7\trotation\n", r"dim\(s\) \[7\] are not latent dimensions"),
    ("dim\tlabel\n1\trotation\n1\tsmile\n", "dim 1 is labelled twice"),
    ("dim\tname\n1\trotation\n", "missing rater labels column"),
    ("dim\tlabel\n1\t \n", "empty label for dim 1"),
])
def test_bad_rater_file_is_named(auto, tmp_path, content, message):
    raters = tmp_path / "raters.tsv"
    raters.write_text(content)
    with pytest.raises(DataError, match=message) as err:
        apply_rater_labels(auto, tmp_path / "out.tsv", raters)
    assert str(raters) in str(err.value)


@pytest.mark.workflow
def test_the_beta_maps_take_the_raters_file_of_the_model(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    (repo / "raters.tsv").write_text("dim\tlabel\n0\trotation\n")
    (repo / "labels.yaml").write_text("encoding:\n  dimension_labels:\n    oracle: raters.tsv\n")
    proc = run_snakemake(repo, "-n", "results/figures/sub-01/betas_oracle.png", "results/tables/beta_overlap.csv",
                         "--configfile", "presets/smoke.yaml", "labels.yaml")
    jobs = proc.stdout.split("rule ")
    (oracle,) = [j for j in jobs if j.startswith("encoding_dimension_labels:") and "oracle_dimension_labels.tsv" in j]
    assert "raters.tsv" in oracle
    (random,) = [j for j in jobs if j.startswith("encoding_dimension_labels:") and "random_dimension_labels.tsv" in j]
    assert "raters.tsv" not in random
    figure = [j for j in jobs if j.startswith("encoding_volume_figures:")]
    assert figure and "results/encoding/labels/oracle_dimension_labels.tsv" in figure[0]
