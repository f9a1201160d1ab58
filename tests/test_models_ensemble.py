"""Stacked ensembles (facebrain.models.ensemble): each member trains as its own run would."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from conftest import make_square_dataset

from facebrain.errors import DataError
from facebrain.models.ensemble import StackedEnsemble, train_ensemble
from facebrain.models.kinds import stack_key
from facebrain.models.training import CHECKPOINT_NAME, train_model

TRAIN = {"steps": 20, "batch_size": 2, "lr": 1e-3, "checkpoint_every": 8, "log_every": 10, "eval_images": 20}
TOLERANCE = 2e-4
"""Largest difference of a weight from its own run's (a fifth of one Adam step of lr 1e-3)."""
MEMBERS = {  # kind -> (steps, member specs)
    "betavae": (20, [{"kind": "betavae", "latent_dim": 4, "beta": 4.0, "seed": 0}, {"kind": "betavae", "latent_dim": 4, "beta": 4.0, "seed": 1},
                {"kind": "betavae", "latent_dim": 4, "beta": 8.0, "seed": 0}]),
    # FactorVAE's discriminator (6 x 1000 units) makes a step ~10x dearer: 2 members, 6 steps
    "factorvae": (6, [{"kind": "factorvae", "latent_dim": 4, "gamma": 6.4, "seed": 0}, {"kind": "factorvae", "latent_dim": 4, "gamma": 20.0, "seed": 1}]),
}


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: at these sizes a second thread costs more CPU time than it saves."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "dsprites.h5"
    make_square_dataset(path)
    return path


def files(root, names):
    return [[root / name / f for name in names] for f in ("model.pt", "train_log.tsv", "evaluation.json")]


@pytest.mark.parametrize("kind", sorted(MEMBERS))
def test_an_ensemble_of_3_ends_with_the_weights_of_the_3_separate_runs(dataset, tmp_path, kind):
    """Seeds and grid points (beta/gamma differ) of one kind: after 20 steps (FactorVAE: 6) each member's weights, log and
    test losses equal its own run's to float rounding, and no checkpoint is left behind."""
    steps, specs = MEMBERS[kind]
    names, settings = [f"m{i}" for i in range(len(specs))], {**TRAIN, "steps": steps, "checkpoint_every": steps // 2 + 1, "log_every": steps // 2}
    for name, spec in zip(names, specs):
        (tmp_path / "single" / name).mkdir(parents=True)
        (tmp_path / "stacked" / name).mkdir(parents=True)
        train_model(dataset, *(f[0] for f in files(tmp_path / "single", [name])), name, spec, settings, 0, "cpu")
    train_ensemble(dataset, *files(tmp_path / "stacked", names), names, specs, settings, 0, "cpu")
    for name in names:
        single, stacked = (torch.load(tmp_path / run / name / "model.pt", weights_only=True) for run in ("single", "stacked"))
        assert {k: v for k, v in single.items() if k != "state_dict"} == {k: v for k, v in stacked.items() if k != "state_dict"}
        assert single["state_dict"].keys() == stacked["state_dict"].keys()
        for key, value in single["state_dict"].items():
            # vmapped convolutions round differently, and Adam's normalised update can turn the rounding
            # of a near-zero gradient into a fraction of a step (lr 1e-3): a few elements differ by ~1e-4
            torch.testing.assert_close(stacked["state_dict"][key], value, rtol=0, atol=TOLERANCE, msg=f"{name} {key}")
        logs = [pd.read_csv(tmp_path / run / name / "train_log.tsv", sep="\t").drop(columns="images_per_s") for run in ("single", "stacked")]
        pd.testing.assert_frame_equal(logs[1], logs[0], check_like=True, rtol=1e-4)
        evaluations = [json.loads((tmp_path / run / name / "evaluation.json").read_text()) for run in ("single", "stacked")]
        assert evaluations[1].keys() == evaluations[0].keys()
        for key, value in evaluations[0].items():
            assert evaluations[1][key] == (pytest.approx(value, rel=1e-4, abs=1e-4) if isinstance(value, float) else value), key
        assert not (tmp_path / "stacked" / name / CHECKPOINT_NAME).exists()
    # the members differ from one another (their own seeds and weights), so equality is not trivial
    first, second = (torch.load(tmp_path / "stacked" / name / "model.pt", weights_only=True)["state_dict"] for name in names[:2])
    assert not torch.allclose(first["encoder.mu.weight"], second["encoder.mu.weight"])


def test_members_of_another_kind_or_shape_are_refused(dataset, tmp_path):
    assert stack_key({"kind": "vae", "seed": 1}) == stack_key({"kind": "vae", "seed": 2})
    assert stack_key({"kind": "betavae", "beta": 1.0}) == stack_key({"kind": "betavae", "beta": 8.0})
    assert stack_key({"kind": "vae", "latent_dim": 4}) != stack_key({"kind": "vae", "latent_dim": 5})
    specs = [{"kind": "vae", "latent_dim": 4}, {"kind": "vae", "latent_dim": 5}]
    with pytest.raises(DataError, match="differ in kind or shape"):
        train_ensemble(dataset, *files(tmp_path, ["a", "b"]), ["a", "b"], specs, TRAIN, 0, "cpu")
    with pytest.raises(ValueError, match="cannot train as a stacked ensemble"):
        train_ensemble(dataset, *files(tmp_path, ["a", "b"]), ["a", "b"], [{"kind": "svae", "latent_dim": 4}] * 2, TRAIN, 0, "cpu")


def test_a_killed_ensemble_resumes_from_its_members_checkpoints_to_the_same_weights(dataset, tmp_path, monkeypatch):
    specs, names = [{"kind": "vae", "latent_dim": 4, "seed": 0}, {"kind": "vae", "latent_dim": 4, "seed": 1}], ["a", "b"]
    settings = {**TRAIN, "steps": 8, "checkpoint_every": 3, "log_every": 2}

    def run(root):
        for name in names:
            (root / name).mkdir(parents=True, exist_ok=True)
        train_ensemble(dataset, *files(root, names), names, specs, settings, 0, "cpu")

    run(tmp_path / "whole")
    original, calls = StackedEnsemble.step, {"n": 0}

    def killed_after_seven(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 7:
            raise KeyboardInterrupt("simulated kill")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StackedEnsemble, "step", killed_after_seven)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "resumed")
    assert all(torch.load(tmp_path / "resumed" / n / CHECKPOINT_NAME, weights_only=True)["step"] == 6 for n in names)
    monkeypatch.setattr(StackedEnsemble, "step", original)
    run(tmp_path / "resumed")
    for name in names:
        whole, resumed = (torch.load(tmp_path / run / name / "model.pt", weights_only=True)["state_dict"] for run in ("whole", "resumed"))
        assert all(torch.equal(whole[k], resumed[k]) for k in whole), name
        logs = [pd.read_csv(tmp_path / run / name / "train_log.tsv", sep="\t").drop(columns="images_per_s") for run in ("whole", "resumed")]
        pd.testing.assert_frame_equal(*logs)
