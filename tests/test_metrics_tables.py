"""Tables built from per-model metric records: mean +- sd over seeds, SVAE forced dimensions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from facebrain.errors import DataError
from facebrain.metrics.evaluate import TABLE_COLUMNS, disentanglement_table, forced_dimension_table


def write_record(path, value):
    path.write_text(json.dumps({key: value for key in TABLE_COLUMNS.values()}))
    return path


def test_disentanglement_table_reports_mean_and_sd_over_seeds(tmp_path):
    a = [write_record(tmp_path / f"a{s}.json", v) for s, v in enumerate([0.5, 0.7])]
    b = [write_record(tmp_path / "b0.json", 0.9)]
    disentanglement_table({"VAE": a, "SVAE": b}, tmp_path / "t.csv")
    table = pd.read_csv(tmp_path / "t.csv")
    assert table["model"].tolist() == ["VAE", "SVAE"]
    assert table["seeds"].tolist() == [2, 1]
    assert table.loc[0, "MIG"] == f"0.600 ± {np.std([0.5, 0.7], ddof=1):.3f}"
    assert table.loc[0, "z-diff mean"] == pytest.approx(0.6)
    assert table.loc[1, "DCI"] == "0.900" and np.isnan(table.loc[1, "DCI sd"])


def test_missing_metric_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"z_diff": 1.0}))
    with pytest.raises(DataError, match="bad.json"):
        disentanglement_table({"VAE": [bad]}, tmp_path / "t.csv")
    assert not (tmp_path / "t.csv").exists()


def details(path, mi, names):
    mi = np.asarray(mi, dtype=float)
    entropy = np.full(len(names), 1.0)
    path.write_text(json.dumps({"factor_names": names, "mig": {"mutual_info": mi.tolist(), "entropy": entropy.tolist(),
                                                                "per_factor_mig": {n: 0.5 for n in names}}}))
    return path


def test_forced_dimension_mig_is_negative_when_another_dimension_wins(tmp_path):
    # dim 0 holds factor a (forced), dim 2 (free) holds factor b better than its forced dim 1
    mi = [[0.9, 0.0], [0.1, 0.3], [0.0, 0.6]]
    forced_dimension_table([details(tmp_path / "s0.json", mi, ["a", "b"])], tmp_path / "f.csv")
    table = pd.read_csv(tmp_path / "f.csv").set_index("factor")
    assert table.loc["a", "forced_mig"] == pytest.approx(0.8)
    assert table.loc["b", "forced_mig"] == pytest.approx(-0.3)
    assert table["forced_is_best"].tolist() == [1.0, 0.0]
    assert table.loc["a", "forced_dim"] == 0 and table.loc["b", "forced_dim"] == 1


def test_forced_dimensions_need_a_free_dimension(tmp_path):
    with pytest.raises(DataError, match="free one"):
        forced_dimension_table([details(tmp_path / "s.json", [[1.0, 0.0], [0.0, 1.0]], ["a", "b"])], tmp_path / "f.csv")
