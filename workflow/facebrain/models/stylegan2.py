"""StyleGAN2 (Karras et al. 2020) with Zheng et al.'s (2021) decorrelation regulariser on W,
and an inversion encoder so the model encodes images like every other kind (kind ``stylegan2``).

Interface (what the analysis of Zheng et al. in :mod:`facebrain.probes` relies on)
----------------------------------------------------------------------------------
- Kind ``stylegan2`` (hyper-parameters declared once in
  :data:`facebrain.models.kinds.KINDS`), trained by the generic loop of
  :mod:`facebrain.models.training` through the rule ``train_model``
  (``results/models/{model}/{dataset}/model.pt``): checkpoints, exact resume on CPU,
  ``device: auto``, ``gpu`` resource and provenance as every kind.
  ``decorrelation: 0`` is plain StyleGAN2; ``decorrelation > 0`` adds Eq. 1 (below).
- ``load_generator(model_path, device="auto") -> Generator``: the EMA generator, eval mode
  (per-layer noise fixed, so the same ``w`` always gives the same image) with
  ``.mapping(z) -> w`` (N, w_dim), ``.synthesis(w) -> images`` float (N, C, R, R) in [0, 1]
  (R = ``resolution``; C = the training images' channels, 3 for faces),
  ``.z_dim``, ``.w_dim``, ``.resolution`` and ``.w_avg`` (running mean of w, for truncation).
  ``synthesis`` is differentiable in ``w`` (Jacobians, path lengths).
- Latents are ``w``: :func:`facebrain.models.latents.encode_images` gives the inversion
  encoder's ``w`` (and ``logvar = -inf``: deterministic), ``decode_latents`` the EMA
  synthesis of ``w`` at 64x64; so ``stylegan2`` can appear in ``encoding.models``.

Networks (written from the paper and NVlabs' stylegan2-ada-pytorch; simplified where said)
-----------------------------------------------------------------------------------------
- Mapping: pixel norm of z, ``mapping_layers`` equalised-lr fully connected layers
  (leaky ReLU 0.2, gain sqrt 2) with learning-rate multiplier ``mapping_lr_mult``.
- Synthesis: a learned constant 4x4 input; per resolution 4..R modulated/demodulated 3x3
  convolutions (two per resolution above 4; the first of them after a 2x bilinear upsampling,
  where StyleGAN2 uses a transposed convolution with a [1,3,3,1] blur: the same low-pass
  upsampling without its learned part), per-layer noise with learned strength (initially 0),
  bias and leaky ReLU; a toRGB (modulated 1x1, no demodulation) at every resolution whose
  outputs are upsampled and summed (skip architecture). One ``w`` for every layer (no style
  mixing: Zheng et al. analyse one w per image). Widths ``min(channel_max, channel_base / res)``.
- Discriminator: fromRGB, residual blocks (two 3x3 convolutions, 2x average-pool downsampling
  instead of blur + strided convolution; 1x1 skip; sum / sqrt 2), minibatch standard deviation
  (groups of up to 4), a 3x3 convolution, two fully connected layers.
- Losses: non-saturating logistic; lazy R1 on reals every ``r1_every`` steps (weight
  ``r1_gamma / 2``, scaled by the interval); optional lazy path-length regularisation
  (``pl_weight``, every ``pl_every`` steps, half batch); Adam with StyleGAN2's lazy-regularisation
  correction of lr and betas; the EMA generator has half-life ``ema_kimg`` thousand images
  with ramp-up ``ema_rampup`` (stylegan2-ada). The kind's own ``lr``, ``beta1``, ``beta2`` are
  used (GAN schedules differ from the VAEs'; ``train.lr`` is not used by this kind).
- Inversion encoder (the fMRI side, issue 18.7): a strided convolutional network
  images (R x R) -> w trained alongside, one Adam step per training step (lr ``encoder_lr``) on
  fresh pairs (G_ema.synthesis(w), w), w = G_ema.mapping(z), mean squared error in W. It is
  trained on the EMA generator as it is at each step, so its last steps see the final one.

Decorrelation regulariser (Zheng et al. 2021, Eq. 1)
----------------------------------------------------
:func:`decorrelation_penalty`: for a batch of w = F(z),
``-sum_{i != j} log(1 - |rho_ij|) + sum_i (Var[w_i] - mean_j Var[w_j])^2``, added with weight
``decorrelation`` to the generator loss; it depends on the mapping network only. rho and Var are
estimated from ``decorrelation_batch`` fresh w per step (not the image batch: from N samples the
|rho| of independent dimensions is about sqrt(2 / (pi N)), so a batch of 16 reads 0.2 everywhere).
The paper writes ``sum_j Var[w_j]`` inside the square. Read literally that term is
``sum_i (sum_{j != i} Var[w_j])^2``, which cannot vanish for K > 1 and is minimised by
shrinking every variance to 0 (collapsing W), not by equalising them; the stated aim (equal
variances) is the mean, which is zero exactly when all variances are equal. We use the mean.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from facebrain.device import resolve_device
from facebrain.errors import DataError
from facebrain.models.registry import DETERMINISTIC_LOGVAR, LatentModel, read_model_file, register_model

IMAGE_SIZE = 64
"""Side of the pipeline's images (prepared datasets, ``encode``/``decode``)."""
LRELU_GAIN = math.sqrt(2.0)
W_AVG_BETA = 0.995
"""Decay of the running mean of w (``Generator.w_avg``), as StyleGAN2."""
PL_DECAY = 0.01
"""Decay of the running mean path length (StyleGAN2)."""


def decorrelation_penalty(w: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Zheng et al.'s Eq. 1 on a batch of w (see the module docstring for the mean).

    Parameters
    ----------
    w : float (N, K), N > 1: mapped latents w = F(z) of one batch.
    eps : keeps the standard deviations and ``1 - |rho|`` away from 0.

    Returns
    -------
    scalar tensor: ``-sum_{i != j} log(1 - |rho_ij|) + sum_i (Var[w_i] - mean_j Var[w_j])^2``,
    rho the batch correlation matrix, Var the batch variances (divided by N).
    """
    centred = w - w.mean(dim=0, keepdim=True)
    var = centred.pow(2).mean(dim=0)
    std = (var + eps).sqrt()
    rho = (centred.T @ centred) / w.shape[0] / (std[:, None] * std[None, :])
    off_diagonal = ~torch.eye(w.shape[1], dtype=torch.bool, device=w.device)
    correlation = -torch.log((1.0 - rho[off_diagonal].abs()).clamp_min(eps)).sum()
    spread = (var - var.mean()).pow(2).sum()
    return correlation + spread


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2) * LRELU_GAIN


class EqualLinear(nn.Module):
    """Fully connected layer with equalised learning rate (weights N(0, 1/lr_mul^2), scaled at run time)."""

    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0, lr_mul: float = 1.0, activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul))
        self.scale, self.lr_mul, self.activate = lr_mul / math.sqrt(in_features), lr_mul, activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return _lrelu(out) if self.activate else out


class EqualConv2d(nn.Module):
    """Convolution (stride 1, same padding) with equalised learning rate."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, bias: bool = True, activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale, self.padding, self.activate = 1.0 / math.sqrt(in_channels * kernel * kernel), kernel // 2, activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)
        return _lrelu(out) if self.activate else out


class MappingNetwork(nn.Module):
    """z (N, z_dim) -> w (N, w_dim): pixel norm, then ``layers`` equalised-lr FC layers with lr multiplier."""

    def __init__(self, z_dim: int, w_dim: int, layers: int, lr_mul: float):
        super().__init__()
        widths = [z_dim] + [w_dim] * layers
        self.net = nn.Sequential(*(EqualLinear(a, b, lr_mul=lr_mul, activate=True) for a, b in zip(widths[:-1], widths[1:])))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z * torch.rsqrt(z.pow(2).mean(dim=1, keepdim=True) + 1e-8)
        return self.net(z)


class ModulatedConv2d(nn.Module):
    """StyleGAN2's modulated convolution: input channels scaled by the style ``A(w)``, outputs
    demodulated (each output map divided by the norm of its style-scaled weights), so that unit
    variance inputs give unit variance outputs whatever the style."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, w_dim: int, demodulate: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.scale, self.padding, self.demodulate = 1.0 / math.sqrt(in_channels * kernel * kernel), kernel // 2, demodulate

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # (N, in)
        weight = self.weight * self.scale
        out = F.conv2d(x * styles[:, :, None, None], weight, padding=self.padding)
        if self.demodulate:
            norms = (weight[None] * styles[:, None, :, None, None]).pow(2).sum(dim=(2, 3, 4))  # (N, out)
            out = out * torch.rsqrt(norms + 1e-8)[:, :, None, None]
        return out


class StyledConv(nn.Module):
    """Modulated 3x3 convolution (after a 2x upsampling when ``upsample``), noise, bias, leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, upsample: bool = False):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("noise_const", torch.randn(1, 1, resolution, resolution))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.upsample = upsample

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        out = self.conv(x, w)
        noise = torch.randn(out.shape[0], 1, *out.shape[2:], device=out.device) if self.training else self.noise_const
        return _lrelu(out + self.noise_strength * noise + self.bias[None, :, None, None])


class ToRGB(nn.Module):
    """Modulated 1x1 convolution to image channels (no demodulation) plus bias."""

    def __init__(self, in_channels: int, img_channels: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, img_channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(img_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


def _resolutions(resolution: int) -> list[int]:
    """4, 8, ..., resolution (a power of two >= 4; ValueError otherwise)."""
    if resolution < 4 or resolution & (resolution - 1):
        raise ValueError(f"resolution must be a power of two >= 4, got {resolution}")
    return [2**k for k in range(2, int(math.log2(resolution)) + 1)]


def channels_at(resolution: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at one resolution: ``min(channel_max, channel_base // resolution)`` (at least 1)."""
    return max(1, min(channel_max, channel_base // resolution))


class SynthesisNetwork(nn.Module):
    """w (N, w_dim) -> images (N, C, R, R): constant input, styled convolutions, skip toRGBs."""

    def __init__(self, w_dim: int, resolution: int, img_channels: int, channel_base: int, channel_max: int):
        super().__init__()
        res = _resolutions(resolution)
        ch = {r: channels_at(r, channel_base, channel_max) for r in res}
        self.const = nn.Parameter(torch.randn(1, ch[4], 4, 4))
        self.convs = nn.ModuleList([StyledConv(ch[4], ch[4], w_dim, 4)])
        self.to_rgbs = nn.ModuleList([ToRGB(ch[4], img_channels, w_dim)])
        for prev, r in zip(res[:-1], res[1:]):
            self.convs.extend([StyledConv(ch[prev], ch[r], w_dim, r, upsample=True), StyledConv(ch[r], ch[r], w_dim, r)])
            self.to_rgbs.append(ToRGB(ch[r], img_channels, w_dim))

    def rgb(self, w: torch.Tensor) -> torch.Tensor:
        """The raw generator output (N, C, R, R), about [-1, 1]: what the discriminator sees."""
        x = self.const.expand(w.shape[0], -1, -1, -1)
        x = self.convs[0](x, w)
        image = self.to_rgbs[0](x, w)
        for i, to_rgb in enumerate(self.to_rgbs[1:]):
            x = self.convs[2 * i + 2](self.convs[2 * i + 1](x, w), w)
            image = F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False) + to_rgb(x, w)
        return image

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        """Images (N, C, R, R) in [0, 1]: ``(rgb + 1) / 2`` clipped."""
        return ((self.rgb(w) + 1.0) / 2.0).clamp(0.0, 1.0)


class Generator(nn.Module):
    """Mapping and synthesis networks (see the module docstring); ``w_avg`` tracks the mean w."""

    def __init__(self, z_dim: int, w_dim: int, mapping_layers: int, mapping_lr_mult: float, resolution: int, img_channels: int,
                 channel_base: int, channel_max: int):
        super().__init__()
        self.z_dim, self.w_dim, self.resolution = z_dim, w_dim, resolution
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, mapping_lr_mult)
        self.synthesis = SynthesisNetwork(w_dim, resolution, img_channels, channel_base, channel_max)
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, C, R, R) in [0, 1] of latents z (N, z_dim)."""
        return self.synthesis(self.mapping(z))


def minibatch_stddev(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    """Append one feature map: the standard deviation over groups of images, averaged over features and pixels."""
    n, c, h, w = x.shape
    g = max(d for d in range(1, min(group, n) + 1) if n % d == 0)
    y = x.reshape(g, n // g, c, h, w)
    y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (n // g,)
    y = y.repeat(g)[:, None, None, None].expand(n, 1, h, w)
    return torch.cat([x, y], dim=1)


class DiscriminatorBlock(nn.Module):
    """Residual block: two 3x3 convolutions and a 2x average-pool down; 1x1 skip; sum / sqrt 2."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv1 = EqualConv2d(in_channels, in_channels, 3, activate=True)
        self.conv2 = EqualConv2d(in_channels, out_channels, 3, activate=True)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = F.avg_pool2d(self.conv2(self.conv1(x)), 2)
        return (main + self.skip(F.avg_pool2d(x, 2))) / math.sqrt(2.0)


class Discriminator(nn.Module):
    """Images (N, C, R, R), about [-1, 1] -> real/fake logits (N,)."""

    def __init__(self, resolution: int, img_channels: int, channel_base: int, channel_max: int):
        super().__init__()
        res = _resolutions(resolution)[::-1]
        ch = {r: channels_at(r, channel_base, channel_max) for r in res}
        self.from_rgb = EqualConv2d(img_channels, ch[resolution], 1, activate=True)
        self.blocks = nn.Sequential(*(DiscriminatorBlock(ch[r], ch[r // 2]) for r in res[:-1]))
        self.conv = EqualConv2d(ch[4] + 1, ch[4], 3, activate=True)
        self.fc = EqualLinear(ch[4] * 16, ch[4], activate=True)
        self.out = EqualLinear(ch[4], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(minibatch_stddev(self.blocks(self.from_rgb(x))))
        return self.out(self.fc(h.flatten(1))).squeeze(1)


class InversionEncoder(nn.Module):
    """Images (N, C, R, R) in [0, 1] -> w (N, w_dim): 4x4 stride-2 convolutions down to 4x4, fc 256, linear."""

    def __init__(self, img_channels: int, w_dim: int, resolution: int):
        super().__init__()
        layers: list[nn.Module] = []
        width = img_channels
        for i in range(len(_resolutions(resolution)) - 1):
            out = min(128, 32 * 2**i)
            layers += [nn.Conv2d(width, out, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            width = out
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(width * 16, 256), nn.LeakyReLU(0.2), nn.Linear(256, w_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2.0 - 1.0)


@register_model("stylegan2")
class StyleGAN2(LatentModel):
    """StyleGAN2 with optional decorrelation of W and an inversion encoder (see the module docstring).

    Modules: ``generator``, ``generator_ema`` (the one that generates, encodes' target and
    decodes), ``discriminator``, ``encoder``. Buffers ``steps_done`` (drives the lazy
    regularisation and the EMA ramp-up, checkpointed with the weights), ``mean_path_length``.
    """

    def __init__(self, in_channels: int, **hyperparameters):
        super().__init__(in_channels, **hyperparameters)
        _resolutions(self.resolution)
        generator = dict(z_dim=self.z_dim, w_dim=self.w_dim, mapping_layers=self.mapping_layers, mapping_lr_mult=self.mapping_lr_mult,
                         resolution=self.resolution, img_channels=in_channels, channel_base=self.channel_base, channel_max=self.channel_max)
        self.generator = Generator(**generator)
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False).eval()
        self.discriminator = Discriminator(self.resolution, in_channels, self.channel_base, self.channel_max)
        self.encoder = InversionEncoder(in_channels, self.w_dim, self.resolution)
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
        self.register_buffer("mean_path_length", torch.zeros(()))
        self.register_buffer("last_r1", torch.zeros(()))
        self.register_buffer("last_path_length", torch.zeros(()))
        self._steps: int | None = None  # host copy of steps_done (no device read per step); None: read it
        self.register_load_state_dict_post_hook(lambda module, keys: setattr(module, "_steps", None))

    @property
    def latent_dim(self) -> int:
        """Latents are w: ``w_dim`` dimensions."""
        return self.w_dim

    def train(self, mode: bool = True):
        """Train mode for every module but the EMA generator (its noise stays fixed)."""
        super().train(mode)
        self.generator_ema.eval()
        return self

    def to_resolution(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) resampled to the generator's R x R (area when shrinking, bilinear when growing)."""
        if x.shape[-1] == self.resolution:
            return x
        mode = "area" if x.shape[-1] > self.resolution else "bilinear"
        return F.interpolate(x, size=(self.resolution, self.resolution), mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))

    # --- the pipeline's interface --------------------------------------------------------
    def encode(self, x: torch.Tensor, ids=None) -> tuple[torch.Tensor, torch.Tensor]:
        """w (N, w_dim) of images (N, C, 64, 64) by the inversion encoder; logvar -inf (deterministic)."""
        w = self.encoder(self.to_resolution(x))
        return w, torch.full_like(w, DETERMINISTIC_LOGVAR)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, C, 64, 64) in [0, 1] of w (N, w_dim) by the EMA synthesis network."""
        images = self.generator_ema.synthesis(z)
        if images.shape[-1] != IMAGE_SIZE:
            images = F.interpolate(images, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", align_corners=False).clamp(0.0, 1.0)
        return images

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, ids=None) -> dict[str, float]:
        """Test losses: ``reconstruction`` (Bernoulli NLL in nats summed over pixels of decode(encode(x)),
        comparable to the VAEs'), ``inversion_error`` (mean squared error of the encoder's w on as many
        generated images, divided by the variance of w: 0 is perfect, 1 is as good as the mean w)."""
        recon = self.decode(self.encode(x)[0]).clamp(1e-6, 1.0 - 1e-6)
        w = self.generator_ema.mapping(torch.randn(x.shape[0], self.z_dim, device=x.device))
        w_hat = self.encoder(self.generator_ema.synthesis(w))
        return {
            "reconstruction": F.binary_cross_entropy(recon, x, reduction="sum").item() / x.shape[0],
            "inversion_error": ((w_hat - w).pow(2).mean() / w.var(dim=0).mean().clamp_min(1e-12)).item(),
        }

    # --- training -----------------------------------------------------------------------
    def configure_optimizers(self, lr: float | None) -> dict[str, torch.optim.Optimizer]:
        """Adam for ``generator``, ``discriminator`` (the kind's ``lr``, ``beta1``, ``beta2``, corrected for
        lazy regularisation as StyleGAN2: lr * c, betas ** c, c = interval / (interval + 1)) and ``encoder``.
        The loop's ``lr`` (``train.lr``) is not used."""

        def adam(params, every: int) -> torch.optim.Adam:
            c = every / (every + 1) if every > 0 else 1.0
            return torch.optim.Adam(params, lr=self.lr * c, betas=(self.beta1**c, self.beta2**c))

        return {
            "generator": adam(self.generator.parameters(), self.pl_every if self.pl_weight > 0 else 0),
            "discriminator": adam(self.discriminator.parameters(), self.r1_every if self.r1_gamma > 0 else 0),
            "encoder": torch.optim.Adam(self.encoder.parameters(), lr=self.encoder_lr),
        }

    def decorrelation_loss(self) -> torch.Tensor:
        """Eq. 1 on w = F(z) of ``decorrelation_batch`` fresh z (the mapping is cheap; a batch of
        the image batch's size would give biased correlations when it is not much larger than w_dim)."""
        return decorrelation_penalty(self.generator.mapping(torch.randn(self.decorrelation_batch, self.z_dim, device=self.steps_done.device)))

    def step_count(self) -> int:
        """Training steps taken so far (``steps_done``, read from the device once after building or loading)."""
        if self._steps is None:
            self._steps = int(self.steps_done)
        return self._steps

    def r1_due(self) -> bool:
        """Whether this step runs the lazy R1 step (every ``r1_every`` steps, from the first)."""
        return self.r1_gamma > 0 and self.step_count() % self.r1_every == 0

    def path_length_due(self) -> bool:
        """Whether this step runs the lazy path-length step (every ``pl_every`` steps, from the first)."""
        return self.pl_weight > 0 and self.step_count() % self.pl_every == 0

    def r1_penalty(self, real: torch.Tensor) -> torch.Tensor:
        """Mean over images of ||grad_x D(x)||^2 on reals (N, C, R, R)."""
        real = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(self.discriminator(real).sum(), real, create_graph=True)
        return grad.pow(2).sum(dim=(1, 2, 3)).mean()

    def path_length_penalty(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(penalty, new running mean): (||J_w^T y|| - a)^2 with y ~ N(0, I) / sqrt(pixels), a the running mean."""
        z = torch.randn(batch, self.z_dim, device=self.steps_done.device)
        w = self.generator.mapping(z)
        images = self.generator.synthesis.rgb(w)
        noise = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
        (grad,) = torch.autograd.grad((images * noise).sum(), w, create_graph=True)
        lengths = grad.pow(2).sum(dim=1).sqrt()
        mean = self.mean_path_length.lerp(lengths.mean().detach(), PL_DECAY)
        return (lengths - mean).pow(2).mean(), mean

    @torch.no_grad()
    def update_ema(self, batch: int) -> None:
        """G_ema <- beta G_ema + (1 - beta) G, beta = 0.5 ** (batch / half-life images) (half-life ramped up)."""
        half_life = self.ema_kimg * 1000.0
        if self.ema_rampup > 0:
            half_life = min(half_life, (self.step_count() + 1) * batch * self.ema_rampup)
        beta = 0.5 ** (batch / max(half_life, 1e-8))
        for p_ema, p in zip(self.generator_ema.parameters(), self.generator.parameters()):
            p_ema.lerp_(p.detach(), 1.0 - beta)
        for b_ema, b in zip(self.generator_ema.buffers(), self.generator.buffers()):
            b_ema.copy_(b)

    def training_step(self, batch: torch.Tensor, optimizers) -> dict[str, float]:
        """Discriminator step (+ lazy R1), generator step (+ decorrelation, + lazy path length),
        EMA update, inversion-encoder step. ``batch``: real images (B, C, 64, 64) in [0, 1]."""
        real = self.to_resolution(batch) * 2.0 - 1.0
        n, dev = real.shape[0], real.device
        gen, disc = self.generator, self.discriminator

        with torch.no_grad():
            fake = gen.synthesis.rgb(gen.mapping(torch.randn(n, self.z_dim, device=dev)))
        d_loss = F.softplus(disc(fake)).mean() + F.softplus(-disc(real)).mean()
        optimizers["discriminator"].zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers["discriminator"].step()
        if self.r1_due():
            r1 = self.r1_penalty(real)
            optimizers["discriminator"].zero_grad(set_to_none=True)
            (self.r1_gamma / 2.0 * r1 * self.r1_every).backward()
            optimizers["discriminator"].step()
            self.last_r1.copy_(r1.detach())

        disc.requires_grad_(False)
        w = gen.mapping(torch.randn(n, self.z_dim, device=dev))
        g_loss = F.softplus(-disc(gen.synthesis.rgb(w))).mean()
        decorrelation = self.decorrelation_loss() if self.decorrelation > 0 else torch.zeros((), device=dev)
        optimizers["generator"].zero_grad(set_to_none=True)
        (g_loss + self.decorrelation * decorrelation).backward()
        optimizers["generator"].step()
        with torch.no_grad():
            gen.w_avg.lerp_(w.detach().mean(dim=0), 1.0 - W_AVG_BETA)
        if self.path_length_due():
            penalty, mean = self.path_length_penalty(max(1, n // 2))
            optimizers["generator"].zero_grad(set_to_none=True)
            (self.pl_weight * self.pl_every * penalty).backward()
            optimizers["generator"].step()
            self.mean_path_length.copy_(mean)
            self.last_path_length.copy_(penalty.detach())
        disc.requires_grad_(True)

        self.update_ema(n)
        inversion = self.inversion_step(n, optimizers["encoder"])
        self._steps = self.step_count() + 1
        self.steps_done += 1
        return {  # 0-d tensors: the loop reads them once per log row
            "discriminator": d_loss.detach(),
            "generator": g_loss.detach(),
            "r1": self.last_r1.clone(),
            "path_length": self.last_path_length.clone(),
            "decorrelation": decorrelation.detach(),
            "inversion": inversion,
        }

    def inversion_step(self, batch: int, optimizer: torch.optim.Optimizer) -> torch.Tensor:
        """One step of the inversion encoder on fresh pairs (G_ema.synthesis(w), w); returns its MSE in W."""
        with torch.no_grad():
            w = self.generator_ema.mapping(torch.randn(batch, self.z_dim, device=self.steps_done.device))
            images = self.generator_ema.synthesis(w)
        loss = F.mse_loss(self.encoder(images), w)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()


def load_generator(model_path: str | Path, device: str = "auto") -> Generator:
    """The EMA generator of a trained ``stylegan2`` model, eval mode, on ``device`` (see the module docstring).

    Raises
    ------
    DataError
        If the file is missing, unreadable, or holds another kind.
    """
    model = read_model_file(model_path)
    if not isinstance(model, StyleGAN2):
        raise DataError(model_path, f"not a stylegan2 model (kind '{model.kind}')")
    return model.generator_ema.to(resolve_device(device)).eval()
