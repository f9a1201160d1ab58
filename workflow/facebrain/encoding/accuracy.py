"""Encoding accuracy of one subject x model: Spearman rho over the test faces, with its permutation test.

Predicted test responses are ``bias + z_test W`` (Soulos & Isik 2020); the
score is the mean over face-selective voxels of the per-voxel Spearman rho
between predicted and measured (test-face betas) responses across the test
faces; p comes from shuffling the test-face labels
(:func:`facebrain.encoding.permutation.spearman_permutation_test`), and a
voxelwise map is FDR-corrected (Benjamini-Hochberg) over the face-selective voxels.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facebrain.encoding.ceiling import noise_ceiling
from facebrain.encoding.glm import read_glm
from facebrain.encoding.permutation import PermutationResult, fdr_bh, spearman_permutation_test
from facebrain.errors import DataError
from facebrain.io import write_h5, write_json

log = logging.getLogger(__name__)


def predict_test_responses(W: np.ndarray, bias: np.ndarray, z_test: np.ndarray) -> np.ndarray:
    """Predicted responses ``bias + z_test @ W``: W (K, V), bias (V,), z_test (n_test, K) -> (n_test, V)."""
    return np.asarray(bias)[None, :] + np.asarray(z_test) @ np.asarray(W)


def selected_voxels(brain_mask, selective, split_half_r: np.ndarray | None = None, reliability_threshold: float | None = None) -> np.ndarray:
    """(V,) bool over the analysis mask's elements: face-selective, and (optionally) split-half reliable.

    Parameters
    ----------
    brain_mask : the GLM's elements, a :class:`facebrain.fmri.spaces.SpaceMask` (voxels or fsaverage5 vertices).
    selective : the face-selective mask on the same grid (a SpaceMask).
    split_half_r : (V,) split-half reliability of the test-face betas, needed with a threshold.
    reliability_threshold : keep only elements with ``split_half_r`` above it (None: no filter).
    """
    if selective.space != brain_mask.space or selective.inside.shape != brain_mask.inside.shape:
        raise ValueError(f"face-selective mask grid {selective.space} {selective.inside.shape} differs from the brain mask "
                         f"{brain_mask.space} {brain_mask.inside.shape}")
    keep = brain_mask.select(selective.inside)
    if reliability_threshold is not None:
        keep &= np.asarray(split_half_r) > reliability_threshold
    return keep


def load_selected_glm(glm_h5: str | Path, brain_mask, selective, reliability_threshold: float | None = None):
    """Read a GLM file and the elements it is evaluated on.

    ``brain_mask`` and ``selective`` name the localizer's maps: a NIfTI each in a volume space,
    a hemi-L/hemi-R GIFTI pair each on fsaverage5 (:func:`facebrain.fmri.spaces.read_mask`).

    Returns
    -------
    (GLM fields (:func:`facebrain.encoding.glm.read_glm`), (V,) bool selected elements
    (:func:`selected_voxels`), the analysis mask as a SpaceMask). Raises DataError when none is selected.
    """
    from facebrain.fmri.spaces import SpaceMask, read_map, read_mask

    glm = read_glm(glm_h5)
    mask = read_mask(brain_mask)
    values, space, affine = read_map(selective)
    selected = SpaceMask(space, (values[0] if mask.surface else values) > 0, affine)
    keep = selected_voxels(mask, selected, glm["split_half_r"], reliability_threshold)
    if keep.size != glm["W"].shape[1]:
        raise DataError(glm_h5, f"{glm['W'].shape[1]} GLM elements, but the analysis mask has {keep.size}")
    if not keep.any():
        raise DataError(_first_file(selective), "no face-selective voxel left to analyse (check the localizer threshold and reliability filter)")
    return glm, keep, mask


def _first_file(paths) -> str:
    """The first file of a map (its NIfTI, or its hemi-L GIFTI): what an error names."""
    return str(paths if isinstance(paths, (str, Path)) else paths[0])


def evaluate_encoding(
    glm_h5: str | Path,
    brain_mask: str | Path | Sequence[str | Path],
    selective: str | Path | Sequence[str | Path],
    out_h5: str | Path,
    out_json: str | Path,
    out_rho: str | Path | Sequence[str | Path],
    out_rho_fdr: str | Path | Sequence[str | Path],
    n_permutations: int = 10_000,
    seed: int = 0,
    reliability_threshold: float | None = None,
    fdr_alpha: float = 0.05,
    provenance: Mapping[str, Any] | None = None,
) -> PermutationResult:
    """Pipeline step: encoding score, permutation p and voxelwise maps of one subject x model.

    Writes ``out_h5`` (rho, voxel_p, q per selected voxel, the null, the voxel indices),
    ``out_json`` (score, p, the noise ceiling and rho as a fraction of it, n_voxels, n_permutations, n_fdr_significant), ``out_rho``
    (rho in the selected voxels) and ``out_rho_fdr`` (rho where q < ``fdr_alpha``, else 0): maps
    in the space of ``brain_mask`` and ``selective`` (a NIfTI each, or a GIFTI pair each on fsaverage5).
    """
    glm, keep, mask = load_selected_glm(glm_h5, brain_mask, selective, reliability_threshold)
    predicted = predict_test_responses(glm["W"][:, keep], glm["bias"][keep], glm["z_test"])
    result = spearman_permutation_test(predicted, glm["test_betas"][:, keep], n_permutations, np.random.default_rng(seed))
    significant, q = fdr_bh(result.voxel_p, fdr_alpha)
    log.info("rho %.4f, p %.5f over %d voxels (%d FDR-significant)", result.score, result.p, keep.sum(), significant.sum())
    rho_full = np.zeros(keep.size, dtype=np.float32)
    rho_full[keep] = result.rho
    fdr_full = np.zeros(keep.size, dtype=np.float32)
    fdr_full[np.flatnonzero(keep)[significant]] = result.rho[significant]
    ceiling = noise_ceiling(glm["split_half_r"][keep])
    log.info("noise ceiling %.4f (sqrt of the Spearman-Brown corrected mean split-half reliability): rho is %.1f%% of it", ceiling, 100 * result.score / ceiling if ceiling > 0 else float("nan"))
    summary = {
        "rho": result.score, "p": result.p, "ceiling": ceiling, "rho_ceiling": result.score / ceiling if ceiling > 0 else float("nan"), "n_voxels": int(keep.sum()), "n_permutations": result.n_perm,
        "n_test_faces": int(len(glm["test_faces"])), "n_fdr_significant": int(significant.sum()),
        "null_mean": float(result.null.mean()), "null_sd": float(result.null.std()),
    }
    write_h5(out_h5, {"rho": result.rho, "voxel_p": result.voxel_p, "q": q, "null": result.null, "voxels": np.flatnonzero(keep)}, attrs=dict(provenance or {}, **summary))
    write_json(out_json, summary)
    mask.save(rho_full, out_rho, provenance, names=["rho"])
    mask.save(fdr_full, out_rho_fdr, provenance, names=["rho"])
    return result
