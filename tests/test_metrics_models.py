"""The metrics stage's model kinds (SVAE, GVAE, ML-VAE, explicit, VAE-GAN) and the pair sampler."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math

import numpy as np
import pytest
import torch

from facebrain.datasets.prepared import PreparedData, write_prepared
from facebrain.io import write_json
from facebrain.models.batches import TrainPool
from facebrain.models.dimension_labels import abs_correlation
from facebrain.models.explicit import quantise_factors
from facebrain.models.grouped import GVAE, dimension_kl, mlvae_group_posterior, shared_dimensions
from facebrain.models.latents import encode_images
from facebrain.models.pairs import sample_pairs
from facebrain.models.registry import build_model
from facebrain.models.svae import PAIR_EPS, pair_loss, romeo_pair_loss
from facebrain.models.training import save_model
from facebrain.models.traversals import plot_forced_traversals
from conftest import image_grid, shown_image


@pytest.fixture(scope="module")
def grid_pool(tmp_path_factory):
    """A prepared data set of 3 x 4 x 2 factor levels (all combinations) rendered as bars."""
    path = tmp_path_factory.mktemp("pairs") / "grid.h5"
    classes = np.array(list(itertools.product(range(3), range(4), range(2))))
    images = np.zeros((len(classes), 64, 64, 1), np.uint8)
    for i, (a, b, c) in enumerate(classes):
        images[i, 8 * a : 8 * a + 8, 10 * b : 10 * b + 10 + 20 * c] = 255
    write_prepared(path, images, classes.astype(np.float32), ["a", "b", "c"], np.zeros(len(classes), np.int8), [str(i) for i in range(len(classes))])
    data = PreparedData(path)
    yield TrainPool(data, np.arange(len(classes)), torch.device("cpu"))
    data.close()


def test_pairs_from_a_grid_differ_in_the_changed_factor_only(grid_pool):
    batch = sample_pairs(grid_pool, 64, np.random.default_rng(0))
    assert batch.x1.shape == (64, 1, 64, 64) and batch.factor_names == ("a", "b", "c")
    differs = (batch.y1 != batch.y2).numpy()
    assert differs.sum(axis=1).tolist() == [1] * 64
    assert np.array_equal(differs.argmax(axis=1), batch.changed.numpy())
    assert not torch.equal(batch.x1, batch.x2)
    assert batch.y1.mean().abs() < 0.5  # standardised over the pool


def test_pairs_are_deterministic_given_the_generator(grid_pool):
    a = sample_pairs(grid_pool, 16, np.random.default_rng(3))
    b = sample_pairs(grid_pool, 16, np.random.default_rng(3))
    assert torch.equal(a.x1, b.x1) and torch.equal(a.changed, b.changed)


def test_pair_loss_rewards_change_in_the_forced_dimension_only():
    mu1 = torch.zeros(1, 4)
    forced = torch.tensor([[2.0, 0.0, 0.0, 0.0]])
    spread = torch.tensor([[0.0, 2.0, 0.0, 0.0]])
    changed = torch.tensor([0])
    assert pair_loss(mu1, forced, changed).item() == pytest.approx(-4.0 / (4.0 + PAIR_EPS))
    assert pair_loss(mu1, spread, changed).item() == pytest.approx((4.0 / 3.0) / (4.0 + PAIR_EPS))


def test_pair_loss_is_bounded_and_blind_to_the_size_of_the_change():
    mu1 = torch.zeros(1, 4)
    changed = torch.tensor([0])
    small, large = torch.tensor([[0.1, 0.02, 0.0, 0.0]]), torch.tensor([[100.0, 20.0, 0.0, 0.0]])
    assert pair_loss(mu1, large, changed).item() == pytest.approx(pair_loss(mu1, small * 1000, changed).item())
    assert pair_loss(mu1, large * 1e6, changed).item() >= -1.0  # spreading the means apart no longer pays
    assert pair_loss(mu1, mu1, changed).item() == 0.0


def test_adaptive_sharing_splits_at_the_middle_of_the_kl_range():
    delta = torch.tensor([[0.1, 5.0, 0.2, 4.0]])
    assert shared_dimensions(delta, adaptive=True, num_changed=1).tolist() == [[True, False, True, False]]
    assert shared_dimensions(delta, adaptive=False, num_changed=1).tolist() == [[True, False, True, True]]


def test_group_posteriors_average_or_multiply():
    mu1, mu2 = torch.tensor([[0.0]]), torch.tensor([[2.0]])
    lv1, lv2 = torch.log(torch.tensor([[1.0]])), torch.log(torch.tensor([[3.0]]))
    mu, lv = GVAE.aggregate(mu1, lv1, mu2, lv2)
    assert mu.item() == pytest.approx(1.0) and lv.exp().item() == pytest.approx(2.0)
    mu, lv = mlvae_group_posterior(mu1, lv1, mu2, lv2, "product")
    assert lv.exp().item() == pytest.approx(0.75) and mu.item() == pytest.approx(0.5)
    mu, lv = mlvae_group_posterior(mu1, lv1, mu2, lv2, "dlib")  # disentanglement_lib: 2 v1 v2 / (v1 + v2) = 6 / 4
    assert lv.exp().item() == pytest.approx(1.5) and mu.item() == pytest.approx(0.5)
    assert dimension_kl(mu1, lv1, mu1, lv1).item() == pytest.approx(0.0)


def test_mlvae_uses_disentanglement_libs_group_variance_by_default():
    mu1, mu2 = torch.tensor([[0.0, 1.0]]), torch.tensor([[2.0, 1.0]])
    lv1, lv2 = torch.log(torch.tensor([[1.0, 2.0]])), torch.log(torch.tensor([[3.0, 2.0]]))
    default = build_model({"kind": "mlvae", "latent_dim": 2}, in_channels=1)
    assert default.group_variance == "dlib"
    assert default.aggregate(mu1, lv1, mu2, lv2)[1].exp()[0].tolist() == pytest.approx([1.5, 2.0])
    exact = build_model({"kind": "mlvae", "latent_dim": 2, "group_variance": "product"}, in_channels=1)
    assert exact.aggregate(mu1, lv1, mu2, lv2)[1].exp()[0].tolist() == pytest.approx([0.75, 1.0])
    with pytest.raises(ValueError, match="group_variance"):
        build_model({"kind": "mlvae", "latent_dim": 2, "group_variance": "mean"}, in_channels=1)


SPECS = {
    "svae": {"kind": "svae", "latent_dim": 5, "architecture": "all_k4"},
    "gvae": {"kind": "gvae", "latent_dim": 5},
    "mlvae": {"kind": "mlvae", "latent_dim": 5, "adaptive": False},
    "explicit": {"kind": "explicit", "latent_dim": 4, "factors": "b", "similarity": 1.0, "cycle": 1.0, "adversary": 0.5},
}


@pytest.mark.parametrize("name", SPECS)
def test_pair_kinds_train_encode_and_reload(name, grid_pool, tmp_path):
    torch.manual_seed(0)
    model = build_model(SPECS[name], in_channels=1, name=name)
    assert model.batch_kind == "pairs"
    optimizers = model.configure_optimizers(1e-3)
    before = [p.detach().clone() for p in model.encoder.parameters()]
    for step in range(3):
        logs = model.training_step(sample_pairs(grid_pool, 8, np.random.default_rng(step)), optimizers)
    assert all(np.isfinite(v) for v in logs.values()), logs
    assert any(not torch.equal(a, b) for a, b in zip(before, model.encoder.parameters()))
    model.eval()
    save_model(model, tmp_path / "model.pt", name, SPECS[name])
    images = grid_pool.images[:6]
    mu, logvar = encode_images(tmp_path / "model.pt", images, [str(i) for i in range(6)], device="cpu")
    with torch.no_grad():
        expected, _ = model.encode(grid_pool.batch(np.arange(6)))
    assert mu.shape == (6, model.latent_dim)
    np.testing.assert_allclose(mu, expected.numpy(), rtol=1e-5, atol=1e-5)
    assert model.decode(torch.from_numpy(mu)).shape == (6, 1, 64, 64)


def test_forced_traversal_figure_has_one_row_per_factor(grid_pool, tmp_path):
    torch.manual_seed(0)
    model = build_model(SPECS["svae"], in_channels=1, name="svae").eval()
    save_model(model, tmp_path / "model.pt", "svae", SPECS["svae"])
    mutual_info = np.arange(15, dtype=float).reshape(5, 3) / 20  # (latent dims, factors)
    write_json(tmp_path / "details.json", {"factor_names": ["a", "b", "c"], "mig": {"mutual_info": mutual_info, "entropy": [1.0, 2.0, 4.0]}})
    fig = plot_forced_traversals(tmp_path / "model.pt", grid_pool.data.path, tmp_path / "details.json", tmp_path / "fig.png", model_name="svae",
                                 dataset="grid", steps=3)
    grid = image_grid(fig)
    assert [len(row) for row in grid] == [4, 4, 4]  # a row per factor: the input and 3 values
    assert [row[0].get_ylabel() for row in grid] == [f"z{d}: {name}\nMI/H={mutual_info[d, d] / h:.2f}" for d, name, h in zip(range(3), "abc", (1, 2, 4))]
    np.testing.assert_allclose(shown_image(grid[0][0]), grid_pool.images[0, ..., 0] / 255.0)  # no test split: the first image


def test_explicit_latents_put_the_factor_dims_last(grid_pool):
    model = build_model(SPECS["explicit"], in_channels=1)
    assert model.latent_dim == 5 and model.content_dim == 4
    _, logvar = model.encode(grid_pool.batch(np.arange(2)))
    assert torch.isinf(logvar[:, 4]).all() and torch.isfinite(logvar[:, :4]).all()


def _explicit_step(grid_pool, **weights):
    """One training step of an explicit model (factor 'b') with sharp posteriors (z = mu_z), the
    model as it was before the step, the pairs, the decoder's inputs and the step's logs."""
    torch.manual_seed(0)
    model = build_model({**SPECS["explicit"], "similarity": 0.0, "cycle": 0.0, "adversary": 0.0, **weights}, in_channels=1)
    model.encoder.register_forward_hook(lambda module, inputs, out: (out[0], torch.full_like(out[1], -30.0)))
    decoded = []
    model.decoder.register_forward_hook(lambda module, inputs, out: decoded.append(inputs[0].detach()))
    before = copy.deepcopy(model)
    pairs = sample_pairs(grid_pool, 8, np.random.default_rng(0))
    pairs = dataclasses.replace(pairs, x2=1.0 - pairs.x2)  # x' far from x in pixels: a wrong target shows
    logs = model.training_step(pairs, model.configure_optimizers(1e-3))
    return before, pairs, decoded, logs


def _bce(model, code, target):
    return (torch.nn.functional.binary_cross_entropy_with_logits(model.decoder(code), target, reduction="sum") / target.shape[0]).item()


def test_explicit_forward_cycle_is_the_swap_reconstruction_of_the_second_image(grid_pool):
    """Hejna's Eq. 2: decode x's content with the factor dims of x' and compare with x' (not a latent cycle)."""
    model, pairs, _, logs = _explicit_step(grid_pool, cycle=1.0)
    with torch.no_grad():
        content = model.encode(pairs.x1)[0][:, :model.content_dim]
        factor_dims2 = model.encode(pairs.x2)[0][:, model.content_dim:]
        swap = torch.cat([content, factor_dims2], dim=1)
        assert logs["cycle"] == pytest.approx(_bce(model, swap, pairs.x2), rel=1e-4)
        assert abs(logs["cycle"] - _bce(model, swap, pairs.x1)) > 100  # the target is x', not x
    assert "similarity" not in logs and "adversary_encoder" not in logs


def test_explicit_decoder_sees_the_encoders_factor_dims_never_the_true_factors(grid_pool):
    model, pairs, decoded, _ = _explicit_step(grid_pool, cycle=1.0)
    with torch.no_grad():
        y_hat1 = model.encode(pairs.x1)[0][:, model.content_dim:]
        y_hat2 = model.encode(pairs.x2)[0][:, model.content_dim:]
    column = pairs.factor_columns("b")
    assert len(decoded) == 2  # the reconstruction of x, the swap reconstruction of x'
    torch.testing.assert_close(decoded[0][:, model.content_dim:], y_hat1, atol=1e-5, rtol=0)
    torch.testing.assert_close(decoded[1][:, model.content_dim:], y_hat2, atol=1e-5, rtol=0)
    assert (decoded[0][:, model.content_dim:] - pairs.y1[:, column]).abs().max() > 1e-2


def test_quantise_factors_cuts_the_standardised_uniform_range_into_equal_classes():
    y = torch.tensor([[-5.0], [-1.0], [0.0], [0.5], [1.0], [5.0]])
    # 4 classes over [-sqrt 3, sqrt 3]: edges -0.866, 0, 0.866
    assert quantise_factors(y, 4).squeeze(1).tolist() == [0, 0, 1, 2, 3, 3]


def test_explicit_adversary_is_a_cross_entropy_over_quantised_factor_labels(grid_pool):
    model, pairs, _, logs = _explicit_step(grid_pool, adversary=1.0)
    bins = model.adversary_bins
    with torch.no_grad():
        content = model.encode(pairs.x1)[0][:, : model.content_dim]
        logits = model.predictor(content)  # (B, bins): one factor
        labels = quantise_factors(pairs.y1[:, pairs.factor_columns("b")], bins)[:, 0]
        predictor_ce = torch.nn.functional.cross_entropy(logits, labels).item()
        confusion = (-torch.log_softmax(logits, dim=1).mean(dim=1)).mean().item()
    assert logs["adversary"] == pytest.approx(predictor_ce, rel=1e-4)  # what g minimises
    assert logs["adversary_encoder"] == pytest.approx(confusion, rel=1e-4)  # the encoder's: g against uniform
    assert logs["adversary_encoder"] >= math.log(bins) - 1e-6  # bounded below, unlike a maximised error
    assert "cycle" not in logs and "similarity" not in logs


def test_explicit_names_an_unknown_factor(grid_pool):
    model = build_model({**SPECS["explicit"], "factors": "yaw"}, in_channels=1)
    with pytest.raises(ValueError, match="yaw"):
        model.training_step(sample_pairs(grid_pool, 4, np.random.default_rng(0)), model.configure_optimizers(1e-3))


def test_svae_takes_as_many_latents_as_factors_romeos_setting(grid_pool):
    """K = F (every dimension forced, no free one) trains; K < F leaves a factor without its dimension."""
    pairs = sample_pairs(grid_pool, 4, np.random.default_rng(0))
    assert len(pairs.factor_names) == 3
    model = build_model({"kind": "svae", "latent_dim": 3, "pair_form": "romeo", "pair_codes": "sample"}, in_channels=1)
    logs = model.training_step(pairs, model.configure_optimizers(1e-3))
    assert np.isfinite(logs["pair"]) and np.isfinite(logs["loss"])
    model = build_model({"kind": "svae", "latent_dim": 2}, in_channels=1)
    with pytest.raises(ValueError, match="latent_dim 2 is smaller than the 3"):
        model.training_step(pairs, model.configure_optimizers(1e-3))
    with pytest.raises(ValueError, match="pair_form"):
        build_model({"kind": "svae", "pair_form": "bounded"}, in_channels=1)


def test_romeo_pair_loss_is_the_formula_as_written():
    """-(dz_d)^2 + 1/(K-1) sum_{k != d} (dz_k)^2, by hand, averaged over two pairs (K = 3)."""
    z1 = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    z2 = torch.tensor([[2.0, 1.0, 0.0], [1.0, 4.0, 2.0]])
    changed = torch.tensor([0, 2])
    first = -4.0 + (1.0 + 0.0) / 2  # pair 1: changed dim 0
    second = -1.0 + (0.0 + 9.0) / 2  # pair 2: changed dim 2
    assert romeo_pair_loss(z1, z2, changed).item() == pytest.approx((first + second) / 2)
    divided = (first / (5.0 + PAIR_EPS) + second / (10.0 + PAIR_EPS)) / 2
    assert pair_loss(z1, z2, changed).item() == pytest.approx(divided)
    spread = torch.tensor([[20.0, 1.0, 0.0]])  # pair 1 with its forced change 10 times larger
    assert romeo_pair_loss(z1[:1], spread, changed[:1]).item() == pytest.approx(-400.0 + 0.5)  # unbounded below
    assert pair_loss(z1[:1], spread, changed[:1]).item() > -1.0


@pytest.mark.parametrize("form", ["divided", "romeo"])
@pytest.mark.parametrize("codes", ["mean", "sample"])
def test_svae_pair_loss_uses_the_form_and_codes_its_spec_names(grid_pool, monkeypatch, form, codes):
    torch.manual_seed(0)
    model = build_model({"kind": "svae", "latent_dim": 4, "pair_form": form, "pair_codes": codes}, in_channels=1)
    seen = {}
    forward_terms = model.forward_terms
    monkeypatch.setattr(model, "forward_terms", lambda x: seen.setdefault("terms", forward_terms(x)))
    pairs = sample_pairs(grid_pool, 6, np.random.default_rng(0))
    logs = model.training_step(pairs, model.configure_optimizers(1e-3))
    z1, z2 = seen["terms"]["z" if codes == "sample" else "mu"].detach().chunk(2)
    assert not torch.allclose(seen["terms"]["z"], seen["terms"]["mu"])  # the two forms see different codes
    diff2 = (z1 - z2) ** 2
    forced = diff2[torch.arange(6), pairs.changed]
    raw = (diff2.sum(dim=1) - forced) / 3 - forced
    expected = raw.mean() if form == "romeo" else (raw / (diff2.sum(dim=1) + PAIR_EPS)).mean()
    assert logs["pair"] == pytest.approx(expected.item(), rel=1e-5, abs=1e-7)


def test_vaegan_steps_all_three_networks(grid_pool):
    torch.manual_seed(0)
    model = build_model({"kind": "vaegan", "latent_dim": 8}, in_channels=1)
    optimizers = model.configure_optimizers(1e-3)
    assert set(optimizers) == {"encoder", "decoder", "discriminator"}
    nets = [model.encoder, model.decoder, model.discriminator]
    before = [[p.detach().clone() for p in net.parameters()] for net in nets]
    logs = model.training_step(grid_pool.batch(np.arange(8)), optimizers)
    assert all(np.isfinite(v) for v in logs.values())
    for net, old in zip(nets, before):
        assert any(not torch.equal(a, b) for a, b in zip(old, net.parameters()))
    features, logits = model.discriminate(grid_pool.batch(np.arange(4)))
    assert features.shape == (4, 1024) and logits.shape == (4,)
    assert set(model.evaluate(grid_pool.batch(np.arange(4)))) == {"reconstruction", "kl", "llike"}


def test_svae_forced_dimensions_recover_their_factors(grid_pool):
    """Trained on exact pairs, each forced dimension tracks its own factor best, and a pair's change
    lies in the forced dimension of the factor that changed.

    The pair loss constrains where a pair's change goes, not how much a free dimension varies, so
    a free dimension may still correlate with a factor through a small change (seeds 0-3 at 100
    steps: forced |r| 0.77-1.0, free up to 0.58); the share of the change is what the loss promises
    (median 0.96-0.99 per factor over the same seeds).
    """
    torch.manual_seed(0)
    model = build_model({"kind": "svae", "latent_dim": 5, "architecture": "all_k4"}, in_channels=1)
    optimizers = model.configure_optimizers(1e-3)
    rng = np.random.default_rng(0)
    for _ in range(100):
        model.training_step(sample_pairs(grid_pool, 16, rng), optimizers)
    model.eval()
    with torch.no_grad():
        mu, _ = model.encode(grid_pool.batch(np.arange(len(grid_pool.indices))))
        pairs = sample_pairs(grid_pool, 256, np.random.default_rng(1))
        change = (model.encode(pairs.x1)[0] - model.encode(pairs.x2)[0]) ** 2  # (pairs, latent dims)
    corr = abs_correlation(mu.numpy(), np.asarray(grid_pool.factors))  # (latent dims, factors)
    assert corr.argmax(axis=0).tolist() == [0, 1, 2], np.round(corr, 2)
    assert np.diag(corr).min() > 0.7, np.round(corr, 2)
    share = (change.gather(1, pairs.changed[:, None]).squeeze(1) / change.sum(dim=1)).numpy()
    median_share = [np.median(share[pairs.changed.numpy() == f]) for f in range(3)]
    assert min(median_share) > 0.9, np.round(median_share, 3)
