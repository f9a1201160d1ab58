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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from facebrain.encoding.glm import read_glm, unmask
from facebrain.encoding.permutation import PermutationResult, fdr_bh, spearman_permutation_test
from facebrain.errors import DataError
from facebrain.io import write_h5, write_json
from facebrain.nifti import save_nifti

log = logging.getLogger(__name__)


def predict_test_responses(W: np.ndarray, bias: np.ndarray, z_test: np.ndarray) -> np.ndarray:
    """Predicted responses ``bias + z_test @ W``: W (K, V), bias (V,), z_test (n_test, K) -> (n_test, V)."""
    return np.asarray(bias)[None, :] + np.asarray(z_test) @ np.asarray(W)


def selected_voxels(brain_mask_img, selective_img, split_half_r: np.ndarray | None = None, reliability_threshold: float | None = None) -> np.ndarray:
    """(V,) bool over the brain-mask voxels: face-selective, and (optionally) split-half reliable.

    Parameters
    ----------
    brain_mask_img : the GLM's voxel grid (3D nibabel image).
    selective_img : face-selective mask (3D nibabel image, same grid).
    split_half_r : (V,) split-half reliability of the test-face betas, needed with a threshold.
    reliability_threshold : keep only voxels with ``split_half_r`` above it (None: no filter).
    """
    inside = np.asarray(brain_mask_img.dataobj) > 0
    selective = np.asarray(selective_img.dataobj) > 0
    if selective.shape != inside.shape:
        raise ValueError(f"face-selective mask grid {selective.shape} differs from the brain mask {inside.shape}")
    keep = selective[inside]
    if reliability_threshold is not None:
        keep &= np.asarray(split_half_r) > reliability_threshold
    return keep


def load_selected_glm(glm_h5: str | Path, brain_mask_nii: str | Path, selective_nii: str | Path, reliability_threshold: float | None = None):
    """Read a GLM file and the voxels it is evaluated on.

    Returns
    -------
    (GLM fields (:func:`facebrain.encoding.glm.read_glm`), (V,) bool selected voxels
    (:func:`selected_voxels`), the brain-mask image). Raises DataError when no voxel is selected.
    """
    from facebrain.nifti import load_nifti

    glm = read_glm(glm_h5)
    mask_img = load_nifti(brain_mask_nii, "brain mask")
    keep = selected_voxels(mask_img, load_nifti(selective_nii, "face-selective mask"), glm["split_half_r"], reliability_threshold)
    if not keep.any():
        raise DataError(selective_nii, "no face-selective voxel left to analyse (check the localizer threshold and reliability filter)")
    return glm, keep, mask_img


def evaluate_encoding(
    glm_h5: str | Path,
    brain_mask_nii: str | Path,
    selective_nii: str | Path,
    out_h5: str | Path,
    out_json: str | Path,
    out_rho: str | Path,
    out_rho_fdr: str | Path,
    n_permutations: int = 10_000,
    seed: int = 0,
    reliability_threshold: float | None = None,
    fdr_alpha: float = 0.05,
    provenance: Mapping[str, Any] | None = None,
) -> PermutationResult:
    """Pipeline step: encoding score, permutation p and voxelwise maps of one subject x model.

    Writes ``out_h5`` (rho, voxel_p, q per selected voxel, the null, the voxel indices),
    ``out_json`` (score, p, n_voxels, n_permutations, n_fdr_significant), ``out_rho``
    (NIfTI, rho in the selected voxels) and ``out_rho_fdr`` (rho where q < ``fdr_alpha``, else 0).
    """
    glm, keep, mask_img = load_selected_glm(glm_h5, brain_mask_nii, selective_nii, reliability_threshold)
    predicted = predict_test_responses(glm["W"][:, keep], glm["bias"][keep], glm["z_test"])
    result = spearman_permutation_test(predicted, glm["test_betas"][:, keep], n_permutations, np.random.default_rng(seed))
    significant, q = fdr_bh(result.voxel_p, fdr_alpha)
    log.info("rho %.4f, p %.5f over %d voxels (%d FDR-significant)", result.score, result.p, keep.sum(), significant.sum())
    rho_full = np.zeros(keep.size, dtype=np.float32)
    rho_full[keep] = result.rho
    fdr_full = np.zeros(keep.size, dtype=np.float32)
    fdr_full[np.flatnonzero(keep)[significant]] = result.rho[significant]
    summary = {
        "rho": result.score, "p": result.p, "n_voxels": int(keep.sum()), "n_permutations": result.n_perm,
        "n_test_faces": int(len(glm["test_faces"])), "n_fdr_significant": int(significant.sum()),
        "null_mean": float(result.null.mean()), "null_sd": float(result.null.std()),
    }
    write_h5(out_h5, {"rho": result.rho, "voxel_p": result.voxel_p, "q": q, "null": result.null, "voxels": np.flatnonzero(keep)}, attrs=dict(provenance or {}, **summary))
    write_json(out_json, summary)
    save_nifti(unmask(rho_full, mask_img), out_rho, provenance)
    save_nifti(unmask(fdr_full, mask_img), out_rho_fdr, provenance)
    return result
