"""Subject-level GLM of the task-faces runs: latent weights W, face bias and test-face betas.

The fit is ordinary least squares over all runs at once with run-specific
nuisance regressors (drifts, constant, confounds). Because the nuisance
blocks are block-diagonal across runs, the Frisch-Waugh-Lovell theorem gives
the task betas exactly from running sums,

    beta = (sum_r X~_r' X~_r)^+ sum_r X~_r' Y_r,   X~_r = X_r - Q_r Q_r' X_r,

with ``Q_r`` an orthonormal basis of run r's nuisance block. Split-half
reliability uses the same sums accumulated separately for two halves of the runs. Only one run's
BOLD is in memory at a time and the product is taken over voxel chunks, so
memory is one run plus ``(n_task_regressors x n_voxels)`` sums, whatever the
number of runs (see bench/glm.py). BOLD is scaled to percent signal change
per run and voxel, here or once per subject and space for every model
(:mod:`facebrain.encoding.scaled_bold`).

Noise models (``noise_model``): ``ols`` takes the scans as independent. ``ar1`` is nilearn's
AR(1) prewhitening (:func:`nilearn.glm.first_level.run_glm`): the lag-1 autocorrelation of each
voxel's OLS residuals (within runs, Yule-Walker as nilearn estimates it) is truncated to two
decimals (nilearn's 100 bins), and each bin of voxels is refitted with every run's design and data
whitened by ``e_t - rho e_{t-1}`` (nilearn's :class:`nilearn.glm.ARModel`; the first scan of a
run is kept). The residual autocorrelation comes from running lag-1 sums of the OLS pass, so
``ar1`` reads the BOLD twice (OLS, then the whitened refit) where ``ols`` reads it once. The
refit does not whiten the data: the whitened sums of every model and bin are small per-bin
matrices applied to one product of each run's data with its design, nuisance basis and their
lag-shifted sums (:func:`add_whitened`), so the refit of several models is one pass for all.
nilearn fits each run alone; here the runs share the task betas and one coefficient per voxel
(estimated over all runs), which is nilearn's estimator when there is one run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from facebrain.encoding.design import FACE, latent_column, run_designs, task_columns, test_column, zscore_latents
from facebrain.encoding.scaled_bold import ScaledBold, percent_signal_change
from facebrain.errors import DataError
from facebrain.fmri.spaces import VOLUME, SpaceMask, load_masked_bold  # noqa: F401  (load_masked_bold: re-exported volume reader)

log = logging.getLogger(__name__)

NOISE_MODELS = ("ols", "ar1")
AR1_BINS = 100  # nilearn's run_glm: AR(1) coefficients truncated to 1 / 100
MAX_STACKED_COLUMNS = 512  # task regressors of several models stacked in one pass (sums of 2 x 512 x 200k voxels: 1.6 GB)


@dataclass
class GlmFit:
    """Result of :func:`fit_encoding_glm`; V = voxels of the analysis mask, K = latent dims.

    Attributes
    ----------
    columns : names of the task regressors (rows of ``betas``).
    betas : (P, V) float32, every task beta (percent signal change per unit regressor).
    W : (K, V) float32, latent weights (rows ``lat00..``).
    bias : (V,) float32, the face-presence beta.
    test_faces : the test faces' stimulus names (rows of ``test_betas``).
    test_betas : (n_test, V) float32.
    z_test : (n_test, K) float64, the test faces' latents z-scored with the training mean and sd.
    latent_mean, latent_sd : (K,) float64, the training-trial statistics used for z-scoring.
    split_half_r : (V,) float32, Pearson r across test faces between the test betas of the two halves of the runs (:func:`split_halves`).
    z_latents : (K, V) float32, z map of each latent dimension (t of its beta with the residual variance, as z).
    residual_var : (V,) float32, residual variance of the fit (percent signal change squared; of the whitened
        residuals with ``ar1``).
    noise_model : 'ols' or 'ar1' (module docstring).
    ar1 : (V,) float32, the binned AR(1) coefficient each voxel was whitened with (0 with ``ols``).
    dof : residual degrees of freedom.
    W_halves : (2, K, V) float32, the latent weights fitted on each half of the runs alone (cross-validation of the decoder's ridge).
    n_runs : number of runs fitted.
    """

    columns: list[str]
    betas: np.ndarray
    W: np.ndarray
    bias: np.ndarray
    test_faces: list[str]
    test_betas: np.ndarray
    z_test: np.ndarray
    latent_mean: np.ndarray
    latent_sd: np.ndarray
    split_half_r: np.ndarray
    z_latents: np.ndarray
    residual_var: np.ndarray
    noise_model: str
    ar1: np.ndarray
    dof: int
    W_halves: np.ndarray
    n_runs: int


def brain_mask(mask_paths: Sequence[str | Path]):
    """Intersection of the runs' brain masks as a nibabel image (uint8, 1 inside).

    Raises DataError when a mask cannot be read, its grid differs from the first one's or the
    intersection is empty.
    """
    import nibabel as nib

    from facebrain.nifti import load_nifti

    if not mask_paths:
        raise DataError("<brain masks>", "no runs, so no brain mask")
    first = load_nifti(mask_paths[0], "brain mask")
    inside = np.asarray(first.dataobj) > 0
    for path in mask_paths[1:]:
        img = load_nifti(path, "brain mask")
        if img.shape[:3] != first.shape[:3] or not np.allclose(img.affine, first.affine, atol=1e-3):
            raise DataError(path, f"brain mask grid {img.shape[:3]} differs from {mask_paths[0]} {first.shape[:3]}")
        inside &= np.asarray(img.dataobj) > 0
    if not inside.any():
        raise DataError(mask_paths[0], "the intersection of the runs' brain masks is empty")
    return nib.Nifti1Image(inside.astype(np.uint8), first.affine)


def nuisance_basis(nuisance: np.ndarray) -> np.ndarray:
    """Orthonormal basis (n, rank) of the column space of ``nuisance`` (n, Q)."""
    u, s, _ = np.linalg.svd(nuisance, full_matrices=False)
    return u[:, s > s.max() * 1e-10] if s.size else u[:, :0]


def residualize(x: np.ndarray, nuisance: np.ndarray) -> np.ndarray:
    """Project the columns of ``x`` (n, P) off the column space of ``nuisance`` (n, Q)."""
    q = nuisance_basis(nuisance)
    return x - q @ (q.T @ x)


def t_to_z(t: np.ndarray, dof: float) -> np.ndarray:
    """z scores with the same tail probability as Student t values with ``dof`` degrees of freedom (|z| capped near 37)."""
    from scipy import stats

    t = np.asarray(t, dtype=np.float64)
    p = np.clip(stats.t.sf(np.abs(t), dof), 1e-300, 0.5)
    return np.sign(t) * stats.norm.isf(p)


def ar1_whiten(x: np.ndarray, rho: float) -> np.ndarray:
    """AR(1) prewhitening of one run's (n_scans, ...) columns: ``x_t - rho x_{t-1}``, the first scan kept (nilearn's ARModel.whiten)."""
    out = x.copy()
    out[1:] -= rho * x[:-1]
    return out


def lag_design(x: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A run's ``M = [X, Q]`` (n, P + Q) and the rows ``[M, SM]'`` (2 (P + Q), n), ``S = L + L'`` (lag plus lead, zero-padded).

    The product of ``[M, SM]'`` with the run's data gives every sum of the AR(1) fit: the lag-1
    sums of the OLS residuals (:meth:`NormalEquations.add`) and the whitened sums of any
    coefficient (:func:`add_whitened`).
    """
    m = np.hstack([x, q])
    sm = np.zeros_like(m)
    sm[1:] += m[:-1]
    sm[:-1] += m[1:]
    return m, np.hstack([m, sm]).T


def bin_ar1(rho: np.ndarray, bins: int = AR1_BINS) -> np.ndarray:
    """AR(1) coefficients truncated towards 0 to multiples of ``1 / bins``, as nilearn's run_glm bins them."""
    return (np.asarray(rho, dtype=np.float64) * bins).astype(int) * 1.0 / bins


class NormalEquations:
    """Running sums ``X~'X~``, ``X~'Y`` and ``Y~'Y~`` (per voxel) of an OLS or AR(1) fit, one set per group (e.g. even/odd runs).

    ``X~``, ``Y~`` are a run's task block and data with its nuisance block projected out; ``n_obs``
    counts the scans left after that projection (scans minus the nuisance rank), so the residual
    degrees of freedom are ``n_obs - rank(X~'X~)``.

    Parameters
    ----------
    n_regressors, n_voxels : P task regressors, V voxels.
    groups : number of groups of runs.
    rho : (V,) AR(1) coefficient of each voxel (binned, :func:`bin_ar1`), or None for OLS. With it,
        the sums are those of each run's design, nuisance and data whitened (:func:`ar1_whiten`)
        with the voxel's coefficient, one ``X~'X~`` per distinct coefficient (:func:`add_whitened`).
    lag_sums : also keep the lag-1 sums that give the residual autocorrelation of the fit
        (:meth:`residual_ar1`).
    """

    def __init__(self, n_regressors: int, n_voxels: int, groups: int = 2, rho: np.ndarray | None = None, lag_sums: bool = False):
        if rho is not None and lag_sums:
            raise ValueError("lag-1 sums are kept for the OLS pass only (rho=None)")
        if rho is None:
            self.rhos, self.bins, self.label = np.zeros(1), [slice(0, n_voxels)], None
        else:
            self.rhos, label = np.unique(np.asarray(rho, dtype=np.float64), return_inverse=True)
            if label.size != n_voxels:
                raise ValueError(f"{label.size} AR(1) coefficients for {n_voxels} voxels")
            self.bins = [np.flatnonzero(label == b) for b in range(len(self.rhos))]
            self.label, self._order = label, {}
        self.xtx = np.zeros((groups, len(self.rhos), n_regressors, n_regressors))
        self.xty = np.zeros((groups, n_regressors, n_voxels))
        self.yty = np.zeros((groups, n_voxels))
        self.n_obs = np.zeros(groups, dtype=np.int64)
        self.lag = None
        if lag_sums:  # the residuals' lag-1 sums, and per group the data's sums that every whitened refit starts from (:meth:`whitened`)
            self.lag = {"yy": np.zeros(n_voxels), "xy": np.zeros((n_regressors, n_voxels)), "xx": np.zeros((n_regressors, n_regressors)), "pairs": 0, "scans": 0}
            self.lag |= {k: np.zeros((groups, n_regressors, n_voxels)) for k in ("x'y", "(SX)'y")} | {k: np.zeros((groups, n_voxels)) for k in ("y'y", "y'Sy")}
            self.lag["last"] = []  # (group, the design's last scan (P,), the data's (V,)) per run: L'L drops the last scan

    def add(self, x_task: np.ndarray, nuisance: np.ndarray, y: np.ndarray, group: int, voxel_chunk: int = 50_000) -> None:
        """Add one run: task block (n, P), nuisance block (n, Q), data (n, V) (whitened sums: :func:`add_whitened` of these alone)."""
        if self.label is not None:
            add_whitened([(self, range(self.xtx.shape[-1]))], x_task, nuisance, y, group, voxel_chunk)
            return
        x = np.asarray(x_task, dtype=np.float64)
        q = nuisance_basis(np.asarray(nuisance, dtype=np.float64))
        xr = x - q @ (q.T @ x)
        self.xtx[group, 0] += xr.T @ xr
        if self.lag is not None:
            # lag-1 sums of the residuals y~ = y - QQ'y, with S = L + L': X~'Sy~ = (M'Sy)_X - (Q'X)'(M'Sy)_Q - X~'SQ Q'y and
            # y~'Ly~ = (y'Sy - 2 (Q'y).(Q'Sy) + (Q'y)'Q'SQ(Q'y)) / 2, from one product of the data with [X, Q, SX, SQ]
            m, both = lag_design(x, q)
            n_task, qx, sq = x.shape[1], q.T @ x, both[m.shape[1] + x.shape[1] :].T
            lag_q, qsq = np.hstack([qx.T, xr.T @ sq]), q.T @ sq  # X~'Sy~ = (SX)'y - [Q'X, X~'SQ]' [Q'Sy, Q'y]
        for start in range(0, y.shape[1], voxel_chunk):
            idx = slice(start, min(start + voxel_chunk, y.shape[1]))
            chunk = y[:, idx].astype(np.float64)
            if self.lag is None:
                self.xty[group][:, idx] += xr.T @ chunk
                self.yty[group][idx] += (chunk**2).sum(axis=0) - ((q.T @ chunk) ** 2).sum(axis=0)
            else:
                products = both @ chunk
                my, msy = products[: m.shape[1]], products[m.shape[1] :]
                qy, qsy = my[n_task:], msy[n_task:]
                yy, ylag = (chunk**2).sum(axis=0), (chunk[1:] * chunk[:-1]).sum(axis=0)
                self.xty[group][:, idx] += my[:n_task]
                self.xty[group][:, idx] -= qx.T @ qy
                self.yty[group][idx] += yy - (qy**2).sum(axis=0)
                self.lag["yy"][idx] += ylag - (qy * qsy).sum(axis=0) + (qy * (qsq @ qy)).sum(axis=0) / 2
                self.lag["xy"][:, idx] += msy[:n_task]
                self.lag["xy"][:, idx] -= lag_q @ np.vstack([qsy, qy])
                self.lag["x'y"][group][:, idx] += my[:n_task]
                self.lag["(SX)'y"][group][:, idx] += msy[:n_task]
                self.lag["y'y"][group][idx] += yy
                self.lag["y'Sy"][group][idx] += 2 * ylag
        self.n_obs[group] += len(y) - q.shape[1]
        if self.lag is not None:
            self.lag["last"].append((group, x[-1], np.asarray(y[-1], dtype=np.float64)))
            self.lag["xx"] += xr[1:].T @ xr[:-1]
            self.lag["pairs"] += len(y) - 1
            self.lag["scans"] += len(y)

    def bin_order(self, voxels: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The voxels of the slice ``voxels`` sorted by bin: (their offsets in that order, its inverse, the bins' edges in it); cached."""
        key = (voxels.start, voxels.stop)
        if key not in self._order:
            label = self.label[voxels]
            order = np.argsort(label, kind="stable")
            unsort = np.empty_like(order)
            unsort[order] = np.arange(len(order))
            self._order[key] = order, unsort, np.searchsorted(label[order], np.arange(len(self.rhos) + 1))
        return self._order[key]

    def residual_ar1(self, betas: np.ndarray) -> np.ndarray:
        """Lag-1 autocorrelation (V,) of the residuals of the fit ``betas`` (P, V), within runs.

        Yule-Walker as nilearn's run_glm computes it for one run (the lag-1 autocovariance, averaged
        over the scan pairs, over the variance, averaged over the scans), with the sums pooled over
        runs. Needs ``lag_sums``.
        """
        if self.lag is None:
            raise ValueError("these normal equations keep no lag-1 sums (lag_sums=False)")
        rss = self.yty.sum(axis=0) - 2 * (betas * self.xty.sum(axis=0)).sum(axis=0) + (betas * (self.xtx[:, 0].sum(axis=0) @ betas)).sum(axis=0)
        lag1 = self.lag["yy"] - (betas * self.lag["xy"]).sum(axis=0) + (betas * (self.lag["xx"] @ betas)).sum(axis=0)
        r0, r1 = rss / self.lag["scans"], lag1 / self.lag["pairs"]
        return np.divide(r1, r0, out=np.zeros_like(r1), where=r0 > 0)

    def z_maps(self, betas: np.ndarray, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray, int]:
        """z maps of task regressors ``rows`` of the fit of all groups, from its residual variance.

        Parameters
        ----------
        betas : (P, V) the betas of all groups (:meth:`solve`).
        rows : regressors to test (e.g. the latent dimensions).

        Returns
        -------
        (z (len(rows), V): t = beta / se converted to z with the residual dof (0 where unidentified),
        residual variance (V,) (of the whitened residuals with AR(1)), residual degrees of freedom).
        """
        xtx = self.xtx.sum(axis=0)
        rss = self.yty.sum(axis=0) - (betas * self.xty.sum(axis=0)).sum(axis=0)
        dof = int(self.n_obs.sum() - np.linalg.matrix_rank(xtx[0], hermitian=True))
        if dof < 1:
            raise ValueError(f"no residual degrees of freedom ({self.n_obs.sum()} scans after nuisance, {xtx.shape[-1]} task regressors)")
        sigma2 = np.clip(rss, 0.0, None) / dof
        unscaled = np.zeros((len(rows), betas.shape[1]))
        for b, voxels in enumerate(self.bins):
            unscaled[:, voxels] = np.diag(np.linalg.pinv(xtx[b], rcond=1e-10, hermitian=True))[list(rows)][:, None]
        se = np.sqrt(unscaled * sigma2[None, :])
        t = np.divide(betas[list(rows)], se, out=np.zeros((len(rows), betas.shape[1])), where=se > 0)
        return t_to_z(t, dof), sigma2, dof

    def solve(self, groups: Iterable[int] | None = None) -> np.ndarray:
        """Betas (P, V) from the sums of ``groups`` (all by default); unidentified regressors get 0."""
        idx = list(range(self.xtx.shape[0])) if groups is None else list(groups)
        xtx = self.xtx[idx].sum(axis=0)
        xty = self.xty[idx].sum(axis=0)
        betas = np.zeros_like(xty)
        for b, voxels in enumerate(self.bins):
            betas[:, voxels] = np.linalg.pinv(xtx[b], rcond=1e-10, hermitian=True) @ xty[:, voxels]
        return betas

    def identified(self, group: int) -> np.ndarray:
        """(P,) bool: regressors with any signal in ``group``."""
        return np.diag(self.xtx[group, 0]) > 1e-8

    def select(self, columns: Sequence[int]) -> NormalEquations:
        """The OLS normal equations of the task regressors ``columns`` alone (copies; itself when ``columns`` are all of them, in order).

        A pass over the BOLD that stacked several models' task blocks side by side gives each
        model's sums this way: every entry of ``X~'X~``, ``X~'Y`` (and the lag-1 sums) is a product
        of two columns, the same whichever other columns were stacked.
        """
        if self.label is not None:
            raise ValueError("only the OLS sums of a stacked design can be split by columns")
        cols = np.asarray(columns, dtype=int)
        if np.array_equal(cols, np.arange(self.xtx.shape[-1])):
            return self  # every column: no copy (a model alone in its pass)
        out = NormalEquations(len(cols), self.yty.shape[1], groups=self.xtx.shape[0])
        out.xtx, out.xty, out.yty, out.n_obs = self.xtx[:, :, cols][:, :, :, cols], self.xty[:, cols], self.yty.copy(), self.n_obs.copy()
        if self.lag is not None:
            out.lag = dict(self.lag, xy=self.lag["xy"][cols], xx=self.lag["xx"][np.ix_(cols, cols)])
            out.lag |= {k: self.lag[k][:, cols] for k in ("x'y", "(SX)'y")} | {"last": [(g, x_last[cols], y_last) for g, x_last, y_last in self.lag["last"]]}
        return out

    def whitened(self, rho: np.ndarray) -> NormalEquations:
        """The AR(1) normal equations of coefficients ``rho`` (V,), started from this OLS pass's sums (needs ``lag_sums``).

        A voxel's whitened ``(WX)'(Wy) = X'y - rho (SX)'y + rho^2 X'L'Ly`` and ``y'W'Wy`` (:func:`add_whitened`) are
        sums over runs of products this pass kept per group (``X'L'Ly``: ``X'y`` less each run's last scans' product), so the refit's pass over the data adds
        only each run's nuisance projection, ``X~'X~`` and scans (``add_whitened(..., task_sums=False)``).
        """
        if self.lag is None:
            raise ValueError("these normal equations keep no sums of the data for a whitened refit (lag_sums=False)")
        out = NormalEquations(self.xtx.shape[-1], self.yty.shape[1], groups=self.xtx.shape[0], rho=rho)
        r = out.rhos[out.label]
        for g in range(self.xtx.shape[0]):
            x_last = np.array([x for group, x, _ in self.lag["last"] if group == g]).reshape(-1, self.xtx.shape[-1])
            y_last = np.array([y for group, _, y in self.lag["last"] if group == g]).reshape(-1, self.yty.shape[1])
            xty = out.xty[g]  # X'y + r (r (X'y - X_last'y_last) - (SX)'y), in place (memory: P x V each)
            np.matmul(x_last.T, y_last, out=xty)
            np.subtract(self.lag["x'y"][g], xty, out=xty)
            xty *= r
            xty -= self.lag["(SX)'y"][g]
            xty *= r
            xty += self.lag["x'y"][g]
            out.yty[g] = self.lag["y'y"][g] + r * (r * (self.lag["y'y"][g] - (y_last**2).sum(axis=0)) - self.lag["y'Sy"][g])
        return out


def add_whitened(normals: Sequence[tuple[NormalEquations, Sequence[int]]], x_task: np.ndarray, nuisance: np.ndarray, y: np.ndarray, group: int,
                 voxel_chunk: int = 50_000, task_sums: bool = True) -> None:
    """Add one run to the AR(1) normal equations of several models at once, in one pass over its data.

    Each model's sums are those of its task regressors, columns ``cols`` of ``x_task``, whitened
    with each voxel's coefficient (:class:`NormalEquations` with ``rho``): for a voxel of
    coefficient rho, with ``W = I - rho L`` (L the lag, the first scan kept: :func:`ar1_whiten`),
    ``M = [X, Q]`` (task block and an orthonormal basis of the nuisance block) and ``S = L + L'``,

        (WM)'(Wy) = M'y - rho M'Sy + rho^2 (M'y - m_last y_last),   y'W'Wy = y'y - rho y'Sy + rho^2 (y'y - y_last^2),

    so the data enter through ``[M, SM]'y`` alone, one product for every model and coefficient.
    Per coefficient, the whitened nuisance basis ``U = WQ V s^-1`` (SVD of ``WQ``) gives
    ``U'Wy = D g_Q`` with ``D = s^-1 V'`` and ``g = (WM)'(Wy)``, so the nuisance-projected sums are
    ``X~'y~ = g_X - (WX)'U D g_Q`` and ``y~'y~ = y'W'Wy - |D g_Q|^2``: small per-bin matrices
    applied to each bin's voxels. The same numbers as whitening the run's design and data per bin
    (to float rounding), without a pass over the data per model or bin. ``g_X`` and ``y'W'Wy`` are
    sums over runs of rho-free products, which an OLS pass can keep (:meth:`NormalEquations.whitened`):
    with ``task_sums=False`` only ``[Q, SQ]'y`` is taken here.

    Parameters
    ----------
    normals : (normal equations with ``rho``, the columns of ``x_task`` that are its task regressors), per model.
    x_task : (n, P) the stacked task regressors of the models; nuisance : (n, Q); y : (n, V) data.
    group : the group of runs the run adds to; voxel_chunk : voxels per matrix product.
    task_sums : add ``g_X`` and ``y'W'Wy`` too (False: the normal equations started from them, :meth:`NormalEquations.whitened`).
    """
    x = np.asarray(x_task, dtype=np.float64)
    q = nuisance_basis(np.asarray(nuisance, dtype=np.float64))
    m, both = lag_design(x, q)
    n_task, width = x.shape[1], m.shape[1]
    whitened = {}  # coefficient -> (D, (WX)'U, X~ whitened and projected) of this run
    for rho in sorted({float(r) for normal, _ in normals for r in normal.rhos}):
        u, sv, vt = np.linalg.svd(ar1_whiten(q, rho), full_matrices=False)
        keep = sv > sv.max() * 1e-10 if sv.size else sv > 0
        u, d = u[:, keep], vt[keep] / sv[keep, None]
        wx = ar1_whiten(x, rho)
        e = wx.T @ u
        whitened[rho] = d, e, wx - u @ e.T
    if not task_sums:  # the data's products with the nuisance basis alone, [Q, SQ]'y
        m, both = m[:, n_task:], both[np.r_[n_task:width, width + n_task : 2 * width]]
    first_q = m.shape[1] - q.shape[1]
    models = []
    for normal, cols in normals:
        cols = np.asarray(cols, dtype=int)
        rows = np.concatenate([cols if task_sums else cols[:0], np.arange(first_q, m.shape[1])])  # its products' rows, then the nuisance basis's
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        runs = [(slice(rows[lo], rows[hi - 1] + 1), slice(lo, hi)) for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(rows)])]
        models.append((normal, cols, runs, len(rows) - q.shape[1]))
    for normal, cols, _, _ in models:
        for b, rho in enumerate(normal.rhos):
            xr = whitened[float(rho)][2][:, cols]
            normal.xtx[group, b] += xr.T @ xr
    for start in range(0, y.shape[1], voxel_chunk):
        idx = slice(start, min(start + voxel_chunk, y.shape[1]))
        chunk = y[:, idx].astype(np.float64)
        products = both @ chunk
        my, msy = products[: m.shape[1]], products[m.shape[1] :]
        my_first = my - np.outer(m[-1], chunk[-1])  # M'L'Ly: every scan but the last
        if task_sums:
            yy = (chunk**2).sum(axis=0)
            ysy = 2 * (chunk[1:] * chunk[:-1]).sum(axis=0)
            yy_first = yy - chunk[-1] ** 2
        for normal, cols, runs, n_own in models:
            rho = normal.rhos[normal.label[idx]]
            g = np.empty((n_own + q.shape[1], len(rho)))  # (WM)'(Wy) of its rows = my + rho (rho my_first - msy)
            for rows, local in runs:
                np.multiply(my_first[rows], rho, out=g[local])
                g[local] -= msy[rows]
                g[local] *= rho
                g[local] += my[rows]
            order, unsort, edges = normal.bin_order(idx)
            g_q = g[n_own:, order]
            correction = np.empty((len(cols), len(order)))
            explained = np.empty(len(order))
            for b, rho_b in enumerate(normal.rhos):
                lo, hi = edges[b], edges[b + 1]
                if hi > lo:
                    d, e, _ = whitened[float(rho_b)]
                    h = d @ g_q[:, lo:hi]
                    correction[:, lo:hi] = e[cols] @ h
                    explained[lo:hi] = (h**2).sum(axis=0)
            if task_sums:
                g_x = g[:n_own]
                g_x -= correction[:, unsort]
                normal.xty[group][:, idx] += g_x
                normal.yty[group][idx] += yy + rho * (rho * yy_first - ysy) - explained[unsort]
            else:
                normal.xty[group][:, idx] -= correction[:, unsort]
                normal.yty[group][idx] -= explained[unsort]
    for normal, *_ in models:  # whitening is invertible (unit lower-triangular): the nuisance rank is the OLS one
        normal.n_obs[group] += len(y) - q.shape[1]


def split_half_reliability(test_even: np.ndarray, test_odd: np.ndarray) -> np.ndarray:
    """Pearson r per voxel across test faces between two halves' test betas, (n_test, V) each -> (V,)."""
    a = test_even - test_even.mean(axis=0)
    b = test_odd - test_odd.mean(axis=0)
    den = np.sqrt((a**2).sum(axis=0) * (b**2).sum(axis=0))
    return np.divide((a * b).sum(axis=0), den, out=np.zeros(a.shape[1]), where=den > 0)


def split_halves(runs: Sequence[Any]) -> list[int]:
    """Assign runs to two halves (0/1) so that as many test faces as possible are shown in both halves.

    Greedy, in acquisition order: a run goes to the half that has shown its test faces fewer
    times so far (ties: the half with fewer runs, then half 0). Runs that repeat one set of
    test faces alternate halves (ds001761 alternates sets of 10 of the 20 test faces), and
    runs that each show a different subset (the simulator) still spread every face over both.
    Then, while moving one run to the other half adds test faces shown in both halves, the
    first such run (in acquisition order) moves: with few runs that show overlapping subsets
    (sub-01, whose early sessions show no test face), the greedy order can leave most faces in
    one half only, and the split-half reliability is a correlation over the faces in both.
    """
    seen = [dict[str, int](), dict[str, int]()]
    n_runs = [0, 0]
    halves = []
    shown = []
    for run in runs:
        faces = set(run.events.loc[run.events.trial_type == "test_face", "stim_name"])
        load = [sum(seen[h].get(f, 0) for f in faces) for h in (0, 1)]
        half = min((0, 1), key=lambda h: (load[h], n_runs[h], h))
        for f in faces:
            seen[half][f] = seen[half].get(f, 0) + 1
        n_runs[half] += 1
        halves.append(half)
        shown.append(faces)

    def in_both(assignment: list[int]) -> int:
        union = [set(), set()]
        for faces, half in zip(shown, assignment):
            union[half] |= faces
        return len(union[0] & union[1])

    best = in_both(halves)
    moved = True
    while moved:
        moved = False
        for i in (i for i, faces in enumerate(shown) if faces):
            trial = halves[:i] + [1 - halves[i]] + halves[i + 1 :]
            if (n := in_both(trial)) > best:
                halves, best, moved = trial, n, True
                break
    return halves


def fit_encoding_glm(
    runs: Sequence[Any],
    mask: np.ndarray,
    latents: Mapping[str, np.ndarray],
    excluded: Collection[str] = (),
    hrf_model: str = "glover",
    high_pass: float = 0.01,
    voxel_chunk: int = 50_000,
    noise_model: str = "ols",
    bold: Callable[[int], np.ndarray] | None = None,
) -> GlmFit:
    """Fit the encoding GLM of one model over all task-faces runs of one subject (:func:`fit_encoding_glms` of one model).

    Parameters
    ----------
    runs : task-faces runs (objects with ``bold``, ``events``, ``confounds``, ``tr``; see
        :class:`facebrain.fmri.reader.FmriRun`), in acquisition order.
    mask : the analysis elements (V of them): a :class:`facebrain.fmri.spaces.SpaceMask` (voxels of a
        volume or vertices of fsaverage5: a vertex is a voxel to the GLM), or a 3D bool array of voxels.
    latents : stimulus name -> (K,) latent vector of the model, for every face shown.
    excluded : training stimuli left out of the latent regressors and their z-scoring (leaked test images).
    hrf_model, high_pass : see :func:`facebrain.encoding.design.run_design`.
    voxel_chunk : voxels per matrix product (bounds the memory of one product).
    noise_model : 'ols' or 'ar1' (nilearn's AR(1) prewhitening; module docstring).
    bold : run index -> that run's in-mask percent signal change, (n_volumes, V), e.g. a
        :class:`facebrain.encoding.scaled_bold.ScaledBold` of the subject; None reads and scales
        each run's BOLD files here.

    Returns
    -------
    GlmFit
    """
    return next(fit_encoding_glms(runs, mask, {"model": latents}, excluded, hrf_model, high_pass, voxel_chunk, noise_model, bold))[1]


def model_passes(n_latents: Mapping[str, int], n_shared: int, hrf_model: str = "glover", max_columns: int = MAX_STACKED_COLUMNS) -> list[list[str]]:
    """Models grouped into passes over the BOLD, in order: a pass stacks its models' latent regressors beside the shared ones.

    Parameters
    ----------
    n_latents : model -> K, its number of latent regressors.
    n_shared : the task regressors every model has (face, one-back, img, excluded, test faces).
    hrf_model : with an HRF derivative each model is a pass of its own (its latents' derivative
        regressors are nuisance regressors: :func:`facebrain.encoding.design.run_designs`).
    max_columns : the most task regressors a pass stacks (its sums hold ``2 x columns x V`` float64;
        a model with more is a pass of its own).
    """
    passes: list[list[str]] = []
    width = 0
    for model, k in n_latents.items():
        if passes and "derivative" not in hrf_model and width + k <= max_columns:
            passes[-1].append(model)
            width += k
        else:
            passes.append([model])
            width = n_shared + k
    return passes


def fit_encoding_glms(
    runs: Sequence[Any],
    mask: np.ndarray,
    latents: Mapping[str, Mapping[str, np.ndarray]],
    excluded: Collection[str] = (),
    hrf_model: str = "glover",
    high_pass: float = 0.01,
    voxel_chunk: int = 50_000,
    noise_model: str = "ols",
    bold: Callable[[int], np.ndarray] | None = None,
    max_columns: int = MAX_STACKED_COLUMNS,
) -> Iterator[tuple[str, GlmFit]]:
    """Fit the encoding GLMs of several models over all task-faces runs of one subject, reading each run once for them all.

    The models' designs differ only in their latent regressors: the nuisance block of a run
    (drifts, constant, confounds), its projection and ``Y~'Y~`` are the same for every model. A pass
    over the runs stacks the models' latent regressors beside the shared ones (face, one-back, img,
    excluded, test faces; :func:`model_passes` decides which models share a pass), accumulates one
    set of normal equations, and splits them per model (:meth:`NormalEquations.select`): each
    model gets the betas :func:`fit_encoding_glm` gives it alone (to float rounding). With ``ar1``
    the refit is whitened with each model's own AR(1) coefficients, in one more read of the runs
    for all the pass's models and one product of each run's data for them all (:func:`add_whitened`).

    Parameters
    ----------
    latents : model -> (stimulus name -> (K,) latent vector), for every face shown; models may differ in K.
    max_columns : the most task regressors stacked in one pass (bounds its memory).
    other parameters : see :func:`fit_encoding_glm`.

    Yields
    ------
    (model, GlmFit), in the order of ``latents``, each pass's models as the pass ends.
    """
    if noise_model not in NOISE_MODELS:
        raise ValueError(f"noise_model must be one of {NOISE_MODELS}, got {noise_model!r}")
    if not runs:
        raise DataError("<task-faces runs>", "no task-faces runs to fit")
    if not latents:
        raise ValueError("no model's latents to fit")
    train_trials, test_faces = [], set()
    for run in runs:
        ev = run.events
        shown = set(ev.loc[ev.trial_type.isin(["train_face", "test_face"]), "stim_name"])
        for model, vectors in latents.items():
            missing = sorted(shown - set(vectors))
            if missing:
                of_model = f" of model {model}" if len(latents) > 1 else ""
                raise DataError(run.bold, f"no latents{of_model} for stimuli {missing[:5]} (of {len(missing)})")
        train_trials += [s for s in ev.loc[ev.trial_type == "train_face", "stim_name"] if s not in excluded]
        test_faces |= set(ev.loc[ev.trial_type == "test_face", "stim_name"])
    if not train_trials:
        raise DataError(runs[0].bold, "no training-face trials: the latent weights cannot be estimated")
    if len(test_faces) < 3:
        raise DataError(runs[0].bold, f"only {len(test_faces)} distinct test faces across the runs (need >= 3)")
    test_faces = sorted(test_faces)
    stats = {model: zscore_latents(vectors, train_trials) for model, vectors in latents.items()}
    latents_z = {
        model: {name: (np.asarray(vec, dtype=np.float64) - stats[model][0]) / stats[model][1] for name, vec in vectors.items()}
        for model, vectors in latents.items()
    }
    space_mask = mask if isinstance(mask, SpaceMask) else SpaceMask(VOLUME, np.asarray(mask, bool))
    halves = split_halves(runs)
    n_shared = len(task_columns(0, test_faces))
    passes = model_passes({model: len(stats[model][0]) for model in latents}, n_shared, hrf_model, max_columns)
    log.info("GLM: %d runs, %d %s elements, %d model(s) in %d pass(es), %d test faces", len(runs), space_mask.n_elements, space_mask.space, len(latents), len(passes), len(test_faces))

    def read(i: int, run: Any) -> np.ndarray:
        return percent_signal_change(space_mask.load_run(run)) if bold is None else bold(i)

    for models in passes:
        n_latents = {model: len(stats[model][0]) for model in models}
        starts = np.cumsum([0] + [n_latents[m] for m in models])
        columns = {m: list(range(starts[j], starts[j + 1])) + list(range(starts[-1], starts[-1] + n_shared)) for j, m in enumerate(models)}
        designs: list[tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]] = []  # (model -> task block, stacked task block, nuisance) per run
        stacked = None
        for i, (run, half) in enumerate(zip(tqdm(runs, desc=f"GLM runs (OLS, {len(models)} model(s))", unit="run"), halves)):
            y = read(i, run)
            if len(run.confounds) != y.shape[0]:
                raise DataError(run.bold, f"{y.shape[0]} volumes but {len(run.confounds)} confound rows")
            tasks, nuisance = run_designs(run.events, y.shape[0], run.tr, {m: latents_z[m] for m in models}, test_faces, run.confounds, excluded, hrf_model, high_pass)
            tasks = {m: t.to_numpy() for m, t in tasks.items()}
            x = np.concatenate([tasks[m][:, : n_latents[m]] for m in models] + [tasks[models[0]][:, n_latents[models[0]] :]], axis=1)
            designs.append((tasks, x, nuisance.to_numpy()))
            if stacked is None:
                stacked = NormalEquations(x.shape[1], y.shape[1], lag_sums=noise_model == "ar1")
            stacked.add(x, designs[i][2], y, group=half, voxel_chunk=voxel_chunk)
        normals, rhos = {}, {m: np.zeros(space_mask.n_elements) for m in models}
        for m in models:  # one model's OLS sums at a time beside the stacked ones (memory)
            normals[m] = stacked.select(columns[m])
            if noise_model == "ar1":
                rhos[m] = bin_ar1(normals[m].residual_ar1(normals[m].solve()))
                log.info("%s: AR(1) coefficients of the OLS residuals: median %.2f, %d bins of 1/%d", m, float(np.median(rhos[m])), len(np.unique(rhos[m])), AR1_BINS)
                normals[m] = normals[m].whitened(rhos[m])
        del stacked
        if noise_model == "ar1":
            for i, (run, half) in enumerate(zip(tqdm(runs, desc=f"GLM runs (AR(1) refit, {len(models)} model(s))", unit="run"), halves)):
                y = read(i, run)
                add_whitened([(normals[m], columns[m]) for m in models], designs[i][1], designs[i][2], y, group=half, voxel_chunk=voxel_chunk, task_sums=False)
        for m in models:
            fit = _glm_fit(normals.pop(m), task_columns(n_latents[m], test_faces), test_faces, latents_z[m], stats[m], rhos[m], noise_model, len(runs))
            log.info("%s: residual dof %d; latent z maps: median |z| %.2f", m, fit.dof, float(np.median(np.abs(fit.z_latents))))
            yield m, fit


def _glm_fit(normal: NormalEquations, columns: list[str], test_faces: list[str], latents_z: Mapping[str, np.ndarray], stats: tuple[np.ndarray, np.ndarray],
             rho: np.ndarray, noise_model: str, n_runs: int) -> GlmFit:
    """A model's :class:`GlmFit` from its normal equations (``columns``: its task regressors, :func:`facebrain.encoding.design.task_columns`)."""
    mean, sd = stats
    n_latents = len(mean)
    betas = normal.solve()
    rows = {c: j for j, c in enumerate(columns)}
    test_rows = [rows[test_column(t)] for t in test_faces]
    latent_rows = [rows[latent_column(k)] for k in range(n_latents)]
    halves = [normal.solve([0]), normal.solve([1])]
    both = normal.identified(0)[test_rows] & normal.identified(1)[test_rows]
    if both.sum() >= 3:
        split_r = split_half_reliability(halves[0][test_rows][both], halves[1][test_rows][both])
    else:
        log.warning("fewer than 3 test faces in both even and odd runs: split-half reliability set to 0")
        split_r = np.zeros(betas.shape[1])
    z_latents, residual_var, dof = normal.z_maps(betas, latent_rows)
    return GlmFit(
        columns=columns,
        betas=betas.astype(np.float32),
        W=betas[latent_rows].astype(np.float32),
        bias=betas[rows[FACE]].astype(np.float32),
        test_faces=test_faces,
        test_betas=betas[test_rows].astype(np.float32),
        z_test=np.stack([latents_z[t] for t in test_faces]),
        latent_mean=mean,
        latent_sd=sd,
        split_half_r=split_r.astype(np.float32),
        z_latents=z_latents.astype(np.float32),
        residual_var=residual_var.astype(np.float32),
        noise_model=noise_model,
        ar1=rho.astype(np.float32),
        dof=dof,
        W_halves=np.stack([h[latent_rows] for h in halves]).astype(np.float32),
        n_runs=n_runs,
    )


def read_stimulus_latents(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a stimulus-latents HDF5 (:func:`facebrain.encoding.stimuli.encode_subject_stimuli`).

    Returns
    -------
    (stimulus name -> (K,) float32 mean latent, stimulus name -> face-dataset id).
    """
    import h5py

    try:
        with h5py.File(path, "r") as f:
            mu = f["mu"][()]
            names = f["ids"].asstr()[()]
            face_ids = f["face_ids"].asstr()[()]
    except (OSError, KeyError) as exc:
        raise DataError(path, f"not a stimulus-latents file (mu, ids, face_ids): {exc}") from exc
    return dict(zip(names, mu)), dict(zip(names, face_ids))


def fit_subject_glms(
    bids_root: str | Path,
    subject: str,
    models: Sequence[str],
    latents_h5: Sequence[str | Path],
    brain_mask: str | Path | Sequence[str | Path],
    out_h5: Sequence[str | Path],
    out_betas: Sequence[str | Path],
    out_zmaps: Sequence[str | Path],
    audit: Sequence[str | Path] = (),
    hrf_model: str = "glover",
    high_pass: float = 0.01,
    voxel_chunk: int = 50_000,
    noise_model: str = "ols",
    scaled_bold: str | Path | None = None,
    reader_options: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """Pipeline step: the encoding GLMs of one subject in one space for every model, the BOLD read once for all (:func:`fit_encoding_glms`).

    ``models[i]``'s stimulus latents are ``latents_h5[i]`` and its outputs ``out_h5[i]`` (every
    field of :class:`GlmFit`; elements are those of the mask in its order), its share of
    ``out_betas`` (the map of W with one volume (GIFTI data array) per latent dimension: a 4D
    NIfTI, or a GIFTI pair; the maps of the models in turn) and of ``out_zmaps`` (the same with
    each dimension's z map, :meth:`NormalEquations.z_maps`); each model's files are written as its
    pass ends. ``brain_mask`` is the localizer's analysis mask in the space read
    (``reader_options['space']``): a NIfTI of voxels, or the hemi-L/hemi-R GIFTI pair of fsaverage5
    vertices (:func:`facebrain.fmri.spaces.read_mask`). ``audit`` holds the fmri stage's stimulus
    audit of the subject (or nothing): the training trials of its leaked stimuli (training names
    showing a test face's image, :func:`facebrain.fmri.audit.leaked_stimuli`) are left out of the
    latent regressors. ``noise_model`` ('ols' or 'ar1') as in :func:`fit_encoding_glm`.
    ``scaled_bold``: the subject's BOLD of the space already masked and scaled
    (:func:`facebrain.encoding.scaled_bold.write_scaled_bold`), read instead of the BOLD files (the
    same numbers). ``reader_options`` (``space``, ``confounds``) go to
    :class:`facebrain.fmri.reader.BidsFmriDataset`.
    """
    from facebrain.fmri.audit import leaked_stimuli
    from facebrain.fmri.reader import BidsFmriDataset
    from facebrain.fmri.spaces import read_mask
    from facebrain.io import write_h5

    if not len(models) == len(latents_h5) == len(out_h5) or len(out_betas) != len(out_zmaps) or len(out_betas) % max(len(models), 1):
        raise ValueError(f"{len(models)} models, {len(latents_h5)} latents files, {len(out_h5)} GLM files, {len(out_betas)} beta and {len(out_zmaps)} z map files")
    per_model = len(out_betas) // len(models)
    excluded: set[str] = set()
    for path in audit:
        excluded |= set(leaked_stimuli(path))
    runs = BidsFmriDataset(bids_root, **(reader_options or {})).runs(subject, "faces")
    latents = {model: read_stimulus_latents(path)[0] for model, path in zip(models, latents_h5)}
    mask = read_mask(brain_mask)
    bold = None if scaled_bold is None else ScaledBold(scaled_bold, runs, mask.n_elements)
    for model, fit in fit_encoding_glms(runs, mask, latents, excluded, hrf_model, high_pass, voxel_chunk, noise_model, bold):
        i = list(models).index(model)
        fields = {k: v for k, v in vars(fit).items() if k not in ("n_runs", "dof", "noise_model")}
        fields["columns"] = np.asarray(fit.columns, dtype=object)
        fields["test_faces"] = np.asarray(fit.test_faces, dtype=object)
        attrs = dict(provenance or {}, model=model, n_runs=fit.n_runs, dof=fit.dof, noise_model=fit.noise_model, excluded=sorted(excluded))
        write_h5(out_h5[i], fields, attrs=attrs)
        names = [latent_column(k) for k in range(fit.W.shape[0])]
        maps = slice(i * per_model, (i + 1) * per_model)
        mask.save(fit.W, list(out_betas[maps]), provenance, names=names)
        mask.save(fit.z_latents, list(out_zmaps[maps]), provenance, intent="NIFTI_INTENT_ZSCORE", names=names)


def read_glm(path: str | Path) -> dict[str, np.ndarray]:
    """Read a GLM HDF5 written by :func:`fit_subject_glms` into a dict of arrays (string arrays as str)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            out = {k: (f[k].asstr()[()] if f[k].dtype.kind == "O" else f[k][()]) for k in f}
    except OSError as exc:
        raise DataError(path, f"cannot read GLM file: {exc}") from exc
    missing = {"W", "bias", "test_betas", "test_faces", "z_test", "split_half_r"} - set(out)
    if missing:
        raise DataError(path, f"GLM file lacks {sorted(missing)}")
    return out
