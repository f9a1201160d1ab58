"""Digits for the linear probe: rendering, colour bias, pairs and the probe itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facebrain.probes.digits import DigitsTask, probe_scores, render_digits


def test_zero_rotation_is_the_upsampled_digit_and_quarter_turn_rotates():
    base = torch.zeros(1, 1, 8, 8)
    base[0, 0, 1, 2:6] = 1.0  # a bar near the top
    up = torch.nn.functional.interpolate(base, size=(64, 64), mode="bilinear", align_corners=False)
    flat = render_digits(base, torch.zeros(1), "rotated")
    turned = render_digits(base, torch.ones(1), "rotated")
    assert flat.shape == (1, 1, 64, 64)
    assert torch.allclose(flat, up, atol=1e-5)
    error = min((turned[0, 0] - torch.rot90(up[0, 0], k, dims=(0, 1))).abs().sum() for k in (1, -1))
    assert error < 0.05 * up.sum()


def test_colour_extremes_are_red_and_magenta_like():
    base = torch.ones(2, 1, 8, 8)
    img = render_digits(base, torch.tensor([-1.0, 0.0]), "colour")
    assert img.shape == (2, 3, 64, 64)
    red = img[0, :, 32, 32]
    assert red[0] == pytest.approx(1.0) and red[1] == pytest.approx(0.0, abs=1e-6) and red[2] == pytest.approx(0.0, abs=1e-6)
    assert img[1, :, 32, 32].max() == pytest.approx(1.0)


def test_colour_bias_only_in_the_training_split():
    task = DigitsTask("colour", np.random.default_rng(0), bias=0.9)
    r_train = np.corrcoef(task.labels[task.train], task.style[task.train])[0, 1]
    r_test = np.corrcoef(task.labels[task.test], task.style[task.test])[0, 1]
    assert r_train > 0.8 and abs(r_test) < 0.15
    assert set(task.train).isdisjoint(task.test)


def test_pairs_show_the_same_digit_at_two_styles():
    task = DigitsTask("rotated", np.random.default_rng(1))
    batch = task.pairs(6, np.random.default_rng(2))
    assert batch.x1.shape == batch.x2.shape == (6, 1, 64, 64)
    assert batch.factor_names == ("style",) and (batch.changed == 0).all()
    assert not torch.allclose(batch.y1, batch.y2)
    # same digit: equal ink (rotation preserves it up to interpolation and cropping)
    ink1, ink2 = batch.x1.sum((1, 2, 3)), batch.x2.sum((1, 2, 3))
    assert torch.allclose(ink1, ink2, rtol=0.35)


def test_probe_reads_class_from_informative_codes_and_not_from_noise():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 600)
    informative = np.eye(10)[labels] + 0.1 * rng.standard_normal((600, 10))
    noise = rng.standard_normal((600, 10))
    style = rng.uniform(-1, 1, 300)
    good = probe_scores(informative[:300], labels[:300], informative[300:], labels[300:], style)
    bad = probe_scores(noise[:300], labels[:300], noise[300:], labels[300:], style)
    assert good["accuracy"] > 0.95 and bad["accuracy"] < 0.25
    assert good["style_r2"] < 0.1


def test_each_linear_probe_row_switches_on_exactly_the_terms_its_name_says():
    """Hejna et al.'s Table 1 rows: the schema's default specs, and the terms a training step logs."""
    import yaml
    from conftest import REPO

    from facebrain.models.registry import build_model

    schema = yaml.safe_load((REPO / "workflow/schemas/metrics.schema.yaml").read_text())
    specs = schema["properties"]["linear_probe"]["properties"]["specs"]["default"]
    named = {"VAE": ("vae", set()), "beta-VAE": ("betavae", set()), "predictor VAE": ("explicit", {"adversary"}),
             "similarity": ("explicit", {"similarity"}), "forward cycle": ("explicit", {"cycle"})}
    assert set(specs) == set(named)
    task = DigitsTask("rotated", np.random.default_rng(0))
    for label, (kind, terms) in named.items():
        assert specs[label]["kind"] == kind, label
        if kind != "explicit":
            continue
        assert {t for t in ("similarity", "cycle", "adversary") if specs[label].get(t, 0)} == terms, label
        torch.manual_seed(0)
        model = build_model(specs[label], in_channels=1, name=label)
        logs = model.training_step(task.pairs(4, np.random.default_rng(0)), model.configure_optimizers(1e-3))
        logged = {t for t, key in (("similarity", "similarity"), ("cycle", "cycle"), ("adversary", "adversary_encoder")) if key in logs}
        assert logged == terms, label


def test_factorvae_as_kim_and_mnih_trains_on_two_independent_digit_batches():
    from facebrain.models.registry import build_model
    from facebrain.probes.digits import train_on_digits

    task = DigitsTask("rotated", np.random.default_rng(0))
    torch.manual_seed(0)
    model = build_model({"kind": "factorvae", "latent_dim": 4, "discriminator_batch": "independent"}, in_channels=1)
    first, second = task.two_batches(4, np.random.default_rng(0))
    assert first.shape == second.shape == (4, 1, 64, 64) and not torch.equal(first, second)
    logs = train_on_digits(model, task, steps=2, batch_size=4, lr=1e-3, random_state=np.random.default_rng(0))
    assert len(logs) == 2 and all(np.isfinite(row["discriminator"]) for row in logs)
