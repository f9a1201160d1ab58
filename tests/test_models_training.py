"""Models stage: registry, losses, the training loop (exact resume), encode/decode API."""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO

from facebrain.datasets.prepared import write_prepared
from facebrain.errors import DataError
from facebrain.models.factorvae import FactorVAE, permute_dims
from facebrain.models.kinds import KINDS, latent_count, resolve_spec, train_settings
from facebrain.models.latents import decode_latents, encode_images, write_latents
from facebrain.models.registry import build_model, registered_kinds
from facebrain.models.training import CHECKPOINT_NAME, train_model
from facebrain.models.vae import gaussian_total_correlation, total_correlation
from facebrain.provenance import file_sha256
from conftest import SQUARE_FACTORS, make_square_dataset

TRAIN = {"steps": 12, "batch_size": 8, "lr": 1e-3, "checkpoint_every": 4, "log_every": 3, "eval_images": 40}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "dsprites.h5"
    images, factors = make_square_dataset(path)
    return path, images, factors


def train(dataset_path, out_dir, kind, spec=None, train=TRAIN, seed=0):
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = spec or {"kind": kind}
    train_model(dataset_path, out_dir / "model.pt", out_dir / "train_log.tsv", out_dir / "evaluation.json", kind, spec, train, seed, "cpu")
    return out_dir / "model.pt"


def state(path):
    return torch.load(path, weights_only=True)["state_dict"]


def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_run(dataset, tmp_path, monkeypatch):
    path, _, _ = dataset
    whole = state(train(path, tmp_path / "whole", "factorvae"))

    original = FactorVAE.training_step
    calls = {"n": 0}

    def killed_after_six(self, batch, optimizers):
        calls["n"] += 1
        if calls["n"] > 6:
            raise KeyboardInterrupt("simulated kill")
        return original(self, batch, optimizers)

    monkeypatch.setattr(FactorVAE, "training_step", killed_after_six)
    with pytest.raises(KeyboardInterrupt):
        train(path, tmp_path / "resumed", "factorvae")
    assert (tmp_path / "resumed" / CHECKPOINT_NAME).exists()
    assert not (tmp_path / "resumed" / "model.pt").exists()
    ckpt = torch.load(tmp_path / "resumed" / CHECKPOINT_NAME, weights_only=True)
    assert ckpt["step"] == 4

    monkeypatch.setattr(FactorVAE, "training_step", original)
    resumed = state(train(path, tmp_path / "resumed", "factorvae"))
    assert resumed.keys() == whole.keys()
    for key in whole:
        assert torch.equal(whole[key], resumed[key]), key
    assert not (tmp_path / "resumed" / CHECKPOINT_NAME).exists()
    log_whole = pd.read_csv(tmp_path / "whole" / "train_log.tsv", sep="\t")
    log_resumed = pd.read_csv(tmp_path / "resumed" / "train_log.tsv", sep="\t")
    assert log_resumed["step"].tolist() == [3, 6, 9, 12]
    pd.testing.assert_frame_equal(log_whole.drop(columns="images_per_s"), log_resumed.drop(columns="images_per_s"))


def test_identical_runs_write_identical_bytes(dataset, tmp_path):
    """Same data, spec and seed: model.pt and evaluation.json are byte-identical (their sha256 goes into
    every downstream provenance record); the log differs only in images_per_s, a throughput by design."""
    path, _, _ = dataset
    smoke = yaml.safe_load((REPO / "presets" / "smoke.yaml").read_text())["train"]
    settings = {**TRAIN, "checkpoint_every": smoke["checkpoint_every"] // 2, "log_every": smoke["log_every"] // 2}
    kind = next(m for m in smoke["models"] if m not in ("oracle", "random"))  # the smoke preset's neural model
    runs = [train(path, tmp_path / name, kind, train=settings) for name in ("first", "second")]
    for name in ("model.pt", "evaluation.json"):
        first, second = (file_sha256(run.with_name(name)) for run in runs)
        assert first == second, name
    logs = [pd.read_csv(run.with_name("train_log.tsv"), sep="\t").drop(columns="images_per_s") for run in runs]
    pd.testing.assert_frame_equal(*logs)


def test_checkpoint_of_other_settings_is_ignored(dataset, tmp_path, monkeypatch):
    path, _, _ = dataset
    fresh = state(train(path, tmp_path / "fresh", "vae"))
    out = tmp_path / "stale"
    train(path, out, "vae", spec={"kind": "vae", "latent_dim": 4})
    # a leftover checkpoint from another spec must not be resumed from
    ckpt = torch.load(out / "model.pt", weights_only=True)
    torch.save({"fingerprint": "other", "step": 8, "model": ckpt["state_dict"]}, out / CHECKPOINT_NAME)
    again = state(train(path, out, "vae"))
    for key in fresh:
        assert torch.equal(fresh[key], again[key]), key


def test_training_log_and_evaluation(dataset, tmp_path):
    path, _, _ = dataset
    model = train(path, tmp_path / "fvae", "factorvae")
    log = pd.read_csv(tmp_path / "fvae" / "train_log.tsv", sep="\t")
    assert {"step", "reconstruction", "kl", "tc", "discriminator", "loss", "images_per_s"} <= set(log.columns)
    assert (log["images_per_s"] > 0).all()
    evaluation = json.loads((tmp_path / "fvae" / "evaluation.json").read_text())
    assert evaluation["n_images"] == 20  # the test split
    assert np.isfinite(evaluation["tc_gaussian"]) and evaluation["tc_gaussian"] >= 0
    # 4096 pixels: the Bernoulli NLL per image is positive and below 4096 * log(2) * a few
    assert 0 < evaluation["reconstruction"] < 4096 * 2
    payload = torch.load(model, weights_only=True)
    assert payload["kind"] == "factorvae"
    assert payload["spec"] == {"kind": "factorvae", "seed": 0, "latent_dim": 10, "architecture": "a1", "gamma": 6.4,
                               "discriminator_batch": "same"}


def test_a_spec_with_an_unknown_hyperparameter_names_it(dataset, tmp_path):
    path, _, _ = dataset
    with pytest.raises(DataError, match="gama"):
        train(path, tmp_path / "bad", "factorvae", spec={"kind": "factorvae", "gama": 3})
    assert not (tmp_path / "bad" / "model.pt").exists()
    with pytest.raises(ValueError, match="unknown model kind 'nope'"):
        resolve_spec({"kind": "nope"})
    with pytest.raises(ValueError, match="must be an integer"):
        resolve_spec({"kind": "vae", "latent_dim": 2.5})


@pytest.mark.parametrize("kind", ["vae", "betavae", "factorvae", "btcvae", "dipvae_i", "dipvae_ii", "pca", "random"])
def test_every_kind_trains_encodes_and_reloads(dataset, tmp_path, kind):
    path, images, _ = dataset
    model = train(path, tmp_path / kind, kind, spec={"kind": kind, "latent_dim": 6})
    ids = [str(i) for i in range(10)]
    mu, logvar = encode_images(model, images[:10], ids, device="cpu")
    assert mu.shape == logvar.shape == (10, 6) and mu.dtype == np.float32
    again, _ = encode_images(model, images[:10], ids, device="cpu", batch_size=3)
    np.testing.assert_allclose(mu, again, rtol=1e-5, atol=1e-5)
    if KINDS[kind].decodable:
        recon = decode_latents(model, mu, device="cpu")
        assert recon.shape == (10, 64, 64, 1) and recon.min() >= 0 and recon.max() <= 1
    else:
        with pytest.raises(DataError, match="no decoder"):
            decode_latents(model, mu, device="cpu")


@pytest.mark.parametrize("channels", [1, 3])
def test_pca_with_all_components_reconstructs_the_training_images(tmp_path, channels):
    path = tmp_path / "data.h5"
    images, factors = make_square_dataset(path, channels=channels)
    images[..., -1] //= 2  # colour images: channels differ, so the pixel layout matters
    split = np.r_[np.zeros(60), np.ones(10), 2 * np.ones(20)].astype(np.int8)
    write_prepared(path, images, factors, SQUARE_FACTORS, split, [str(i) for i in range(90)])
    model = train(path, tmp_path / "pca", "pca", spec={"kind": "pca", "latent_dim": 1024})
    assert torch.load(model, weights_only=True)["init_config"]["latent_dim"] == 60  # 60 training images
    mu, logvar = encode_images(model, images[:5], [str(i) for i in range(5)], device="cpu")
    assert np.isneginf(logvar).all()
    np.testing.assert_allclose(decode_latents(model, mu, device="cpu"), images[:5] / 255.0, atol=1e-3)


def test_oracle_returns_the_z_scored_factors_by_id(dataset, tmp_path):
    path, images, factors = dataset
    model = train(path, tmp_path / "oracle", "oracle")
    ids = ["5", "70", "3"]
    mu, _ = encode_images(model, images[[5, 70, 3]], ids, device="cpu")
    train_f = factors[:60]
    expected = (factors[[5, 70, 3]] - train_f.mean(0)) / train_f.std(0)
    np.testing.assert_allclose(mu, expected, rtol=1e-4)
    with pytest.raises(DataError, match="not in the oracle"):
        encode_images(model, images[:1], ["no-such-id"], device="cpu")


def test_latents_are_removed_when_the_labels_fail(tmp_path):
    images, factors = make_square_dataset(tmp_path / "notest.h5", n=40)
    write_prepared(tmp_path / "notest.h5", images, factors, SQUARE_FACTORS, np.zeros(40, np.int8), [str(i) for i in range(40)])
    model = train(tmp_path / "notest.h5", tmp_path / "random", "random")
    with pytest.raises(DataError, match="held-out"):
        write_latents(model, tmp_path / "notest.h5", tmp_path / "latents.h5", labels_out=tmp_path / "labels.tsv", device="cpu")
    assert not (tmp_path / "latents.h5").exists() and not (tmp_path / "labels.tsv").exists()


def test_encode_images_rejects_bad_input(dataset, tmp_path):
    path, images, _ = dataset
    model = train(path, tmp_path / "random", "random")
    with pytest.raises(DataError, match=r"uint8 \(N, 64, 64, 1\)"):
        encode_images(model, images[:2].astype(np.float32), ["0", "1"], device="cpu")
    with pytest.raises(DataError, match="3 ids for 2 images"):
        encode_images(model, images[:2], ["0", "1", "2"], device="cpu")
    with pytest.raises(DataError, match="model file not found"):
        encode_images(tmp_path / "missing.pt", images[:2], ["0", "1"])
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(DataError, match="not a readable model file"):
        encode_images(bad, images[:2], ["0", "1"])


def test_latents_file_follows_the_dataset_order(dataset, tmp_path):
    import h5py

    path, images, _ = dataset
    model = train(path, tmp_path / "vae", "vae")
    write_latents(model, path, tmp_path / "latents.h5", labels_out=tmp_path / "labels.tsv", device="cpu", provenance={"rule": "test"})
    assert len(pd.read_csv(tmp_path / "labels.tsv", sep="\t")) == 10  # one row per latent dimension
    with h5py.File(tmp_path / "latents.h5", "r") as f:
        mu, ids = f["mu"][:], [s.decode() for s in f["ids"][:]]
        assert f.attrs["kind"] == "vae" and f.attrs["rule"] == "test"
    assert ids == [str(i) for i in range(90)]
    np.testing.assert_allclose(mu[:7], encode_images(model, images[:7], ids[:7], device="cpu")[0], atol=1e-5)


@pytest.mark.parametrize("architecture", ["a1", "a1_mirrored", "all_k4"])
@pytest.mark.parametrize("channels", [1, 3])
def test_architectures_map_64px_images_to_latents_and_back(architecture, channels):
    model = build_model({"kind": "vae", "latent_dim": 7, "architecture": architecture}, in_channels=channels)
    mu, logvar = model.encode(torch.rand(2, channels, 64, 64))
    assert mu.shape == logvar.shape == (2, 7)
    assert model.decode(mu).shape == (2, channels, 64, 64)
    encoder = [m.kernel_size[0] for m in model.encoder.features if isinstance(m, torch.nn.Conv2d)]
    decoder = [m.kernel_size[0] for m in model.decoder.deconv if isinstance(m, torch.nn.ConvTranspose2d)]
    assert (encoder, decoder) == {"a1": ([4, 4, 2, 2], [4, 4, 4, 4]), "a1_mirrored": ([4, 4, 2, 2], [2, 2, 4, 4]),
                                  "all_k4": ([4, 4, 4, 4], [4, 4, 4, 4])}[architecture]


@pytest.mark.parametrize(("architecture", "counts"), [("a1", (317_424, 385_923)), ("a1_mirrored", (317_424, 312_195)), ("all_k4", (391_152, 385_923))])
def test_default_network_is_disentanglement_libs_conv_encoder_and_deconv_decoder(architecture, counts):
    """disentanglement_lib's conv_encoder + deconv_decoder at latent 24, 3 channels: 317,424 + 385,923 parameters."""
    n_params = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    model = build_model({"kind": "vae", "latent_dim": 24, "architecture": architecture}, in_channels=3)
    assert (n_params(model.encoder), n_params(model.decoder)) == counts
    default = build_model({"kind": "factorvae", "latent_dim": 24}, in_channels=3)
    assert (n_params(default.encoder), n_params(default.decoder)) == (317_424, 385_923)


def test_vae_reconstruction_is_the_bernoulli_nll_summed_over_pixels():
    torch.manual_seed(0)
    model = build_model({"kind": "vae", "latent_dim": 3}, in_channels=1)
    x = (torch.rand(4, 1, 64, 64) > 0.5).float()
    terms = model.forward_terms(x)
    p = torch.sigmoid(terms["logits"])
    manual = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum() / 4
    assert math.isclose(terms["reconstruction"].item(), manual.item(), rel_tol=1e-4)


def test_total_correlation_separates_independent_from_dependent_codes():
    torch.manual_seed(0)
    mu = torch.randn(256, 4)
    logvar = torch.full_like(mu, math.log(0.25))
    independent = total_correlation(mu, mu, logvar).item()
    dependent_mu = mu[:, :1].repeat(1, 4)
    dependent = total_correlation(dependent_mu, dependent_mu, logvar).item()
    assert abs(independent) < 1.0
    assert dependent > independent + 2.0


def test_gaussian_tc_of_means_is_zero_for_independent_codes_whatever_the_posterior_width():
    """The minibatch estimate reads posterior sharpness as dependence; the Gaussian TC of the means does not."""
    torch.manual_seed(0)
    mu = torch.randn(64, 10)
    minibatch = [total_correlation(mu + sd * torch.randn_like(mu), mu, torch.full_like(mu, 2 * math.log(sd))).item() for sd in (1.0, 0.1, 0.01)]
    assert minibatch[2] > minibatch[0] + 10  # independent codes, yet the estimate grows
    codes = np.random.default_rng(0).standard_normal((20_000, 10))
    assert abs(gaussian_total_correlation(codes)) < 0.01
    assert abs(gaussian_total_correlation(0.01 * codes)) < 0.01


@pytest.mark.parametrize("rho", [0.3, 0.8])
def test_gaussian_tc_of_means_matches_correlated_gaussians(rho):
    """Equicorrelated Gaussians in 3 dimensions: TC = -1/2 log((1 - rho)^2 (1 + 2 rho))."""
    cov = np.full((3, 3), rho) + (1 - rho) * np.eye(3)
    codes = np.random.default_rng(1).multivariate_normal(np.zeros(3), cov, size=50_000)
    expected = -0.5 * math.log((1 - rho) ** 2 * (1 + 2 * rho))
    assert gaussian_total_correlation(codes) == pytest.approx(expected, rel=0.03)
    assert gaussian_total_correlation(np.column_stack([codes, np.ones(len(codes))])) == pytest.approx(gaussian_total_correlation(codes))


def test_permute_dims_keeps_each_marginal_and_breaks_the_joint():
    torch.manual_seed(0)
    z = torch.arange(64.0)[:, None].repeat(1, 3)
    permuted = permute_dims(z)
    for k in range(3):
        assert sorted(permuted[:, k].tolist()) == z[:, k].tolist()
    assert not torch.equal(permuted[:, 0], permuted[:, 1])


def test_every_declared_kind_has_a_class_that_restates_none_of_its_facts():
    classes = registered_kinds()
    assert set(classes) == set(KINDS)
    for kind, cls in classes.items():
        declared = KINDS[kind]
        assert (cls.hyperparameters, cls.trained_by, cls.decodable, cls.batch_kind) == (
            declared.hyperparameters, declared.trained_by, declared.decodable, declared.batch_kind)
        source = inspect.getsource(cls)
        for fact in ("hyperparameters =", "trained_by =", "decodable =", "batch_kind ="):
            assert fact not in source, f"{cls.__name__} restates '{fact}' (declared once in facebrain.models.kinds)"


@pytest.mark.parametrize("form", ["same", "independent"])
def test_factorvae_discriminator_permutes_the_codes_of_the_batch_its_form_names(monkeypatch, form):
    """disentanglement_lib ("same"): the VAE step's codes are permuted; Kim & Mnih's Algorithm 2
    ("independent"): the codes of a second batch, encoded after the VAE step."""
    torch.manual_seed(0)
    model = build_model({"kind": "factorvae", "latent_dim": 4, "discriminator_batch": form}, in_channels=1)
    encoded = []  # (input, mu) of every encoder call; posterior sd ~3e-7, so a sampled z is its mu

    def sharp_posterior(module, inputs, output):
        encoded.append((inputs[0], output[0].detach()))
        return output[0], torch.full_like(output[1], -30.0)

    model.encoder.register_forward_hook(sharp_posterior)
    permuted = []
    monkeypatch.setattr("facebrain.models.factorvae.permute_dims", lambda z, *drawn: permuted.append(z) or permute_dims(z, *drawn))
    x_vae, x_other = torch.zeros(8, 1, 64, 64), torch.ones(8, 1, 64, 64)
    model.training_step((x_vae, x_other) if form == "independent" else x_vae, model.configure_optimizers(1e-3))
    assert len(permuted) == 1
    source = {id(x): mu for x, mu in encoded}
    assert set(source) == ({id(x_vae), id(x_other)} if form == "independent" else {id(x_vae)})
    expected, other = (source[id(x_other)], source[id(x_vae)]) if form == "independent" else (source[id(x_vae)], None)
    torch.testing.assert_close(permuted[0], expected, atol=1e-5, rtol=0)
    if other is not None:
        assert (permuted[0] - other).abs().max() > 1e-2


@pytest.mark.parametrize("form", ["same", "independent"])
def test_factorvae_trains_in_both_forms_and_algorithm_2_draws_two_batches(dataset, tmp_path, monkeypatch, form):
    path, _, _ = dataset
    batches = []
    original = FactorVAE.training_step

    def spy(self, batch, optimizers):
        batches.append(batch)
        return original(self, batch, optimizers)

    monkeypatch.setattr(FactorVAE, "training_step", spy)
    settings = {**TRAIN, "steps": 30, "log_every": 10}
    train(path, tmp_path / form, "factorvae", spec={"kind": "factorvae", "latent_dim": 4, "discriminator_batch": form}, train=settings)
    if form == "independent":
        assert all(isinstance(b, tuple) and len(b) == 2 and b[0].shape == b[1].shape == (8, 1, 64, 64) for b in batches)
        assert all(not torch.equal(*b) for b in batches)  # two draws from the batch stream
    else:
        assert all(isinstance(b, torch.Tensor) and b.shape == (8, 1, 64, 64) for b in batches)
    log = pd.read_csv(tmp_path / form / "train_log.tsv", sep="\t")
    assert log["loss"].iloc[-1] < log["loss"].iloc[0]
    assert torch.load(tmp_path / form / "model.pt", weights_only=True)["spec"]["discriminator_batch"] == form



@pytest.mark.parametrize("kind", sorted(set(KINDS) - {"oracle"}))
def test_a_model_rebuilt_from_its_init_config_has_the_same_hyperparameters(kind):
    spec = {"kind": kind, "latent_dim": 4, "w_dim": 4, "factors": "a,b", "num_changed": 2}
    spec = {k: v for k, v in spec.items() if k == "kind" or k in KINDS[kind].hyperparameters}
    model = build_model(spec, in_channels=1)
    config = model.init_config()
    rebuilt = type(model)(**config)
    assert rebuilt.init_config() == config
    assert set(config) == {"in_channels", *KINDS[kind].hyperparameters}
    assert config.get("latent_dim", config.get("w_dim")) == 4  # the spec's value, not the default (stylegan2: latents are w)
    assert sum(p.numel() for p in rebuilt.parameters()) == sum(p.numel() for p in model.parameters())


def test_training_params_of_a_stylegan2_do_not_change_with_train_lr_while_a_vaes_do():
    """The training rule's params (facebrain.models.kinds.train_settings): a change to a `train:` entry the
    kind does not read (StyleGAN2: lr; steps and batch_size where its spec sets them) must not retrain it."""
    config, other_lr = {**TRAIN, "compile": False}, {**TRAIN, "lr": 5e-4}
    gan, vae = {"kind": "stylegan2"}, {"kind": "vae", "latent_dim": 6}
    assert train_settings(gan, config) == train_settings(gan, other_lr) and "lr" not in train_settings(gan, config)
    assert train_settings(vae, config) != train_settings(vae, other_lr)
    assert train_settings(vae, config) == {k: TRAIN[k] for k in ("steps", "batch_size", "lr", "checkpoint_every", "log_every", "eval_images")}
    longer = {**TRAIN, "steps": 99, "batch_size": 3}
    assert train_settings(gan, longer) != train_settings(gan, TRAIN)  # its steps: 0 takes the config's
    own = {"kind": "stylegan2", "steps": 300, "batch_size": 16}
    assert train_settings(own, longer) == train_settings(own, TRAIN)
    assert train_settings({"kind": "pca"}, longer) == {"eval_images": TRAIN["eval_images"]}


def test_latent_count_is_the_size_of_the_code_each_kind_encodes_to(dataset, tmp_path):
    """What the GLM jobs' memory is sized from (rules encoding_glm_model*): the latents a trained model gives."""
    assert latent_count({"kind": "stylegan2", "w_dim": 32}) == 32 and latent_count({"kind": "oracle"}) is None
    for spec in ({"kind": "vae", "latent_dim": 6}, {"kind": "pca", "latent_dim": 5}):
        mu, _ = encode_images(train(dataset[0], tmp_path / spec["kind"], spec["kind"], spec=spec), dataset[1][:4], [str(i) for i in range(4)], device="cpu")
        assert mu.shape[1] == latent_count(spec)


def test_the_kind_declarations_import_no_torch():
    code = "import sys, facebrain.models.kinds; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_compiled_phases_train_to_the_eager_weights(dataset, tmp_path, monkeypatch):
    """`train.compile: true` really compiles: dynamo captures each phase of FactorVAE's step (the
    two-optimiser kind) and 3 steps give the eager steps' weights. The backend is aot_eager
    (dynamo's graph capture and AOT autograd, as on a GPU, without inductor's C++ build, which
    takes 40-45 s per kind on CPU; bench/compile_check.py runs inductor against eager)."""
    import torch._dynamo

    real_compile = torch.compile
    monkeypatch.setattr(torch, "compile", lambda fn: real_compile(fn, backend="aot_eager"))
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    spec, settings = {"kind": "factorvae", "latent_dim": 4}, {**TRAIN, "steps": 3, "log_every": 3}
    eager = state(train(dataset[0], tmp_path / "eager", "factorvae", spec=spec, train={**settings, "compile": False}))
    compiled = state(train(dataset[0], tmp_path / "compiled", "factorvae", spec=spec, train={**settings, "compile": True}))
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] >= 2, dict(torch._dynamo.utils.counters["stats"])
    torch._dynamo.reset()
    for name, tensor in eager.items():
        torch.testing.assert_close(compiled[name], tensor, rtol=0, atol=1e-5, msg=lambda m: f"{name}: {m}")


def test_train_compile_is_validated_and_compiles_the_phases_of_stackable_kinds(dataset, tmp_path, monkeypatch):
    """`train.compile` defaults to false, must be a boolean, compiles each phase of a stackable kind
    (torch.compile replaced by a recorder, which sees every compiled method; the test above compiles
    for real) and stops other kinds by name."""
    from snakemake.utils import validate

    schema = str(REPO / "workflow" / "schemas" / "train.schema.yaml")
    section: dict = {}
    validate(section, schema)
    assert section["compile"] is False
    with pytest.raises(Exception, match="boolean"):
        validate({"compile": "yes"}, schema)
    compiled = []
    monkeypatch.setattr(torch, "compile", lambda fn: compiled.append(fn.__name__) or fn)
    path, _, _ = dataset
    train(path, tmp_path / "fvae", "factorvae", spec={"kind": "factorvae", "latent_dim": 4}, train={**TRAIN, "steps": 2, "compile": True})
    assert compiled == ["vae_losses", "discriminator_losses"]
    with pytest.raises(ValueError, match="model kind 'svae' cannot be compiled"):
        train(path, tmp_path / "svae", "svae", spec={"kind": "svae", "latent_dim": 4}, train={**TRAIN, "compile": True})
