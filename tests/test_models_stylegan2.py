"""Models stage: the StyleGAN2 kind (networks, lazy regularisation, EMA, exact resume, the
decorrelation regulariser of Zheng et al.'s Eq. 1, the inversion encoder). Tiny sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import make_square_dataset

from facebrain.errors import DataError
from facebrain.models.latents import decode_latents, encode_images
from facebrain.models.registry import build_model
from facebrain.models.stylegan2 import ModulatedConv2d, StyleGAN2, decorrelation_penalty, load_generator
from facebrain.models.kinds import train_settings
from facebrain.models.training import CHECKPOINT_NAME, train_model

TINY = {"kind": "stylegan2", "z_dim": 8, "w_dim": 6, "mapping_layers": 2, "resolution": 16, "channel_base": 64, "channel_max": 8}
"""A StyleGAN2 of a few thousand parameters at 16x16."""
TRAIN = {"steps": 4, "batch_size": 4, "lr": 1e-3, "checkpoint_every": 2, "log_every": 2, "eval_images": 8}


def tiny(**overrides) -> StyleGAN2:
    torch.manual_seed(0)
    return build_model({**TINY, **overrides}, in_channels=3)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "squares.h5"
    images, _ = make_square_dataset(path, n=40, channels=3)
    return path, images


def train(dataset_path, out_dir, spec=TINY, settings=TRAIN):
    out_dir.mkdir(parents=True, exist_ok=True)
    train_model(dataset_path, out_dir / "model.pt", out_dir / "train_log.tsv", out_dir / "evaluation.json", "gan", spec, settings, 0, "cpu")
    return out_dir / "model.pt"


def test_networks_map_latents_to_images_of_the_resolution_and_back():
    model = tiny()
    z = torch.randn(5, 8)
    w = model.generator.mapping(z)
    images = model.generator.synthesis(w)
    assert w.shape == (5, 6) and images.shape == (5, 3, 16, 16)
    assert images.min() >= 0 and images.max() <= 1
    assert model.discriminator(images * 2 - 1).shape == (5,)
    x = torch.rand(5, 3, 64, 64)  # the pipeline's images: resampled to the generator's resolution
    mu, logvar = model.encode(x)
    assert mu.shape == (5, 6) and torch.isneginf(logvar).all() and model.latent_dim == 6
    assert model.decode(mu).shape == (5, 3, 64, 64)


def test_demodulation_gives_unit_output_variance_for_unit_input_whatever_the_style():
    torch.manual_seed(0)
    conv = ModulatedConv2d(32, 16, 3, w_dim=4)
    x = torch.randn(3, 32, 24, 24)
    w = torch.randn(3, 4) * torch.tensor([[0.1], [1.0], [10.0]])  # styles of very different sizes
    with torch.no_grad():
        out = conv(x, w)[:, :, 1:-1, 1:-1]  # borders see the zero padding
    np.testing.assert_allclose(out.std(dim=(1, 2, 3)).numpy(), 1.0, atol=0.1)
    conv.demodulate = False
    with torch.no_grad():
        assert conv(x, w).std(dim=(1, 2, 3)).max() > 2.0  # without demodulation the style scales the output


def test_lazy_r1_and_path_length_run_every_their_interval(monkeypatch):
    model = tiny(r1_every=2, pl_weight=2.0, pl_every=3)
    calls = {"r1": [], "pl": []}
    r1, pl = StyleGAN2.r1_penalty, StyleGAN2.path_length_penalty
    monkeypatch.setattr(StyleGAN2, "r1_penalty", lambda self, real: calls["r1"].append(int(self.steps_done)) or r1(self, real))
    monkeypatch.setattr(StyleGAN2, "path_length_penalty", lambda self, n: calls["pl"].append(int(self.steps_done)) or pl(self, n))
    optimizers = model.configure_optimizers(1e-3)
    model.train()
    for _ in range(7):
        losses = model.training_step(torch.rand(4, 3, 64, 64), optimizers)
    assert calls == {"r1": [0, 2, 4, 6], "pl": [0, 3, 6]}
    assert losses["r1"] > 0 and losses["path_length"] >= 0 and model.mean_path_length > 0
    # StyleGAN2's lazy-regularisation correction: lr * c, beta ** c, c = interval / (interval + 1)
    group = optimizers["discriminator"].param_groups[0]
    assert group["lr"] == pytest.approx(0.0025 * 2 / 3) and group["betas"][1] == pytest.approx(0.99 ** (2 / 3))


def test_ema_moves_toward_the_generator_by_its_half_life():
    model = tiny(ema_kimg=0.004, ema_rampup=0.0)  # half-life 4 images: a batch of 4 moves it halfway
    with torch.no_grad():
        for p in model.generator.parameters():
            p.add_(1.0)
    before = [p.clone() for p in model.generator_ema.parameters()]
    model.update_ema(4)
    for old, new, target in zip(before, model.generator_ema.parameters(), model.generator.parameters()):
        torch.testing.assert_close(new, old + 0.5 * (target - old))
    ramped = tiny(ema_kimg=10.0, ema_rampup=0.5)  # first step: half-life 0.5 * 4 images, beta 0.5 ** 2
    with torch.no_grad():
        for p in ramped.generator.parameters():
            p.add_(1.0)
    old = next(ramped.generator_ema.parameters()).clone()
    ramped.update_ema(4)
    torch.testing.assert_close(next(ramped.generator_ema.parameters()), old + 0.75)


def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_run(dataset, tmp_path, monkeypatch):
    path, images = dataset
    spec = {**TINY, "r1_every": 3, "pl_weight": 1.0, "pl_every": 3}  # lazy steps on both sides of the checkpoint
    whole = torch.load(train(path, tmp_path / "whole", spec), weights_only=True)["state_dict"]
    original, calls = StyleGAN2.training_step, {"n": 0}

    def killed_after_two(self, batch, optimizers):
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyboardInterrupt("simulated kill")
        return original(self, batch, optimizers)

    monkeypatch.setattr(StyleGAN2, "training_step", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        train(path, tmp_path / "resumed", spec)
    assert (tmp_path / "resumed" / CHECKPOINT_NAME).exists()
    monkeypatch.setattr(StyleGAN2, "training_step", original)
    model_path = train(path, tmp_path / "resumed", spec)
    resumed = torch.load(model_path, weights_only=True)["state_dict"]
    assert resumed.keys() == whole.keys() and int(resumed["steps_done"]) == 4
    for key in whole:
        assert torch.equal(whole[key], resumed[key]), key

    # the pipeline's interface: latents are w, decoded by the EMA generator
    w, logvar = encode_images(model_path, images[:5], [str(i) for i in range(5)], device="cpu")
    assert w.shape == (5, 6) and np.isneginf(logvar).all()
    assert decode_latents(model_path, w, device="cpu").shape == (5, 64, 64, 3)
    generator = load_generator(model_path, device="cpu")
    assert (generator.z_dim, generator.w_dim) == (8, 6) and not generator.training
    z = torch.randn(3, 8)
    torch.testing.assert_close(generator.synthesis(generator.mapping(z)), generator(z))  # noise fixed in eval
    assert generator(z).shape == (3, 3, 16, 16)


def test_the_kind_can_override_steps_and_batch_size(dataset, tmp_path):
    path, _ = dataset
    spec = {**TINY, "steps": 3, "batch_size": 2}
    settings = train_settings(spec, TRAIN)  # the training rule's params: no lr, steps, batch_size
    assert not {"lr", "steps", "batch_size"} & set(settings)
    model_path = train(path, tmp_path / "own", spec=spec, settings=settings)
    assert int(torch.load(model_path, weights_only=True)["state_dict"]["steps_done"]) == 3


def test_load_generator_refuses_other_kinds(dataset, tmp_path):
    path, _ = dataset
    model_path = train(path, tmp_path / "pca", spec={"kind": "pca", "latent_dim": 3})
    with pytest.raises(DataError, match="not a stylegan2 model"):
        load_generator(model_path, device="cpu")


def test_decorrelation_term_alone_decorrelates_w_and_equalises_its_variances():
    torch.manual_seed(0)
    mapping = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.LeakyReLU(0.2), torch.nn.Linear(8, 6))
    with torch.no_grad():  # correlated outputs of unequal scales
        mapping[2].weight.copy_(mapping[2].weight[:1] * torch.linspace(0.5, 3.0, 6)[:, None] + 0.2 * mapping[2].weight)

    def stats():
        with torch.no_grad():
            w = mapping(torch.randn(4096, 8, generator=torch.Generator().manual_seed(1)))
        rho = torch.corrcoef(w.T)
        var = w.var(dim=0)
        return rho[~torch.eye(6, dtype=torch.bool)].abs().mean().item(), (var.std() / var.mean()).item()

    rho_before, spread_before = stats()
    optimizer = torch.optim.Adam(mapping.parameters(), lr=1e-2)
    for _ in range(300):
        loss = decorrelation_penalty(mapping(torch.randn(256, 8)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    rho_after, spread_after = stats()
    assert rho_before > 0.5 and rho_after < 0.25 * rho_before
    assert spread_after < 0.5 * spread_before


def test_decorrelation_term_is_zero_for_uncorrelated_equal_variances_and_grows_with_correlation():
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    z = torch.linalg.qr(x - x.mean(dim=0))[0] * 8.0  # centred orthogonal columns of equal norms
    assert decorrelation_penalty(z).item() == pytest.approx(0.0, abs=1e-3)
    mixed = z.clone()
    mixed[:, 1] = z[:, 0] + z[:, 1]
    assert decorrelation_penalty(mixed) > 0.5


def test_inversion_encoder_learns_to_recover_w_from_generated_images():
    model = tiny(encoder_lr=3e-3)
    model.train()
    with torch.no_grad():
        model.generator_ema.synthesis.const.mul_(3.0)  # images that vary more with w than at initialisation
    torch.manual_seed(1)
    before = model.evaluate(torch.rand(64, 3, 64, 64))["inversion_error"]
    optimizer = model.configure_optimizers(0.0)["encoder"]
    for _ in range(60):
        model.inversion_step(32, optimizer)
    torch.manual_seed(1)
    after = model.evaluate(torch.rand(64, 3, 64, 64))["inversion_error"]
    assert after < 0.7 * before


def test_decorrelation_loss_reaches_the_mapping_network_only():
    model = tiny(decorrelation=1.0, decorrelation_batch=32)
    model.decorrelation_loss().backward()
    touched = {name for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert touched and all(name.startswith("generator.mapping.") for name in touched)
