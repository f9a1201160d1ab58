"""Decoding latents from brain patterns (VanRullen & Reddy 2019).

The encoding model is ``Y = bias + X W`` (W: K x V). Decoding inverts it by
least squares, ``X = (Y - bias) W' (W W' + lambda I)^-1``, with an optional
ridge ``lambda = ridge * trace(W W') / K`` (relative to the mean eigenvalue,
so the setting does not depend on the units of the betas). When K exceeds the
number of voxels, ``W W'`` is singular and the decoder uses a ridge chosen by
cross-validation on the training trials (:func:`choose_ridge`).

Identification (``pairwise``, as VanRullen & Reddy's ``identification_decoding``):
each decoded test latent is compared, by Spearman correlation across latent
dimensions, with its own true latent and with each distractor's separately; a
comparison is correct when ``r(d_i, x_i) > r(d_i, x_j)`` (n (n - 1) comparisons,
380 for 20 faces; chance 0.5). The option ``two_vs_two`` is the summed form
``r(d_i, x_i) + r(d_j, x_j) > r(d_i, x_j) + r(d_j, x_i)`` over the n (n - 1) / 2 pairs
(Pearson). p comes from permuting the test-face labels of the true latents (the
comparisons share faces, so a binomial p would be anti-conservative):
``p = (1 + #(null >= observed)) / (1 + n_perm)``.

Gender: a logistic regression trained on the latents of the subject's training
stimuli predicts the gender of the decoded test latents; its p permutes the
test faces' true genders against the fixed predictions. Training stimuli that
show a test face's image (the stimulus audit's leaked names) are left out of
its training set, so no test face is seen there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facebrain.encoding.permutation import permutations, standardized_ranks
from facebrain.errors import DataError

log = logging.getLogger(__name__)

GENDER_FACTORS = ("gender", "Male")


def _relative_penalty(gram: np.ndarray, ridge: float) -> float:
    return ridge * float(np.trace(gram)) / max(len(gram), 1)


def decode_patterns(Y: np.ndarray, W: np.ndarray, bias: np.ndarray, ridge: float = 0.0) -> np.ndarray:
    """Latents from patterns: ``(Y - bias) W' (W W' + lambda I)^-1``.

    Parameters
    ----------
    Y : (n, V) response patterns (e.g. test-face betas in the face-selective voxels).
    W : (K, V) encoding weights; bias : (V,) face-presence betas.
    ridge : lambda relative to the mean eigenvalue of ``W W'`` (0: plain least squares, pseudo-inverse).

    Returns
    -------
    (n, K) decoded latents, in the units of the GLM's regressors (z-scored latents).
    """
    W = np.asarray(W, dtype=np.float64)
    gram = W @ W.T
    lam = _relative_penalty(gram, ridge)
    rhs = (np.asarray(Y, dtype=np.float64) - np.asarray(bias)[None, :]) @ W.T
    return np.linalg.solve(gram + lam * np.eye(len(gram)), rhs.T).T if lam > 0 else rhs @ np.linalg.pinv(gram, hermitian=True)


RIDGE_GRID = tuple(10.0 ** np.arange(-4.0, 2.5, 0.5))


def choose_ridge(W_halves: np.ndarray, train_z: np.ndarray, grid: Sequence[float] = RIDGE_GRID) -> tuple[float, np.ndarray]:
    """Ridge of the decoder chosen by two-fold cross-validation over the halves of the runs, on training trials.

    The decoder built from one half's weights ``W_h`` decodes the training faces' responses as the
    other half estimated them (``z W_other``, from that half's training trials only; no test face is
    used), and the error is the mean squared difference from the true z-scored latents, averaged over
    both directions.

    Parameters
    ----------
    W_halves : (2, K, V) latent weights fitted on each half of the runs.
    train_z : (n_train, K) z-scored latents of the training stimuli.
    grid : candidate ridges, relative to the mean eigenvalue of ``W_h W_h'``.

    Returns
    -------
    (the ridge with the smallest error, (len(grid),) the cross-validated errors).
    """
    z = np.asarray(train_z, dtype=np.float64)
    errors = np.zeros(len(grid))
    for h in (0, 1):
        w = np.asarray(W_halves[h], dtype=np.float64)
        u, s, vt = np.linalg.svd(w, full_matrices=False)
        projected = (z @ np.asarray(W_halves[1 - h], dtype=np.float64)) @ vt.T  # (n, r): patterns of the other half on W_h's row space
        mean_eig = float((s**2).sum()) / len(w)
        for g, ridge in enumerate(grid):
            decoded = (projected * (s / (s**2 + ridge * mean_eig))) @ u.T
            errors[g] += ((decoded - z) ** 2).mean() / 2
    return float(grid[int(np.argmin(errors))]), errors


def row_ranks(x: np.ndarray) -> np.ndarray:
    """Standardised ranks of each row of ``x`` (n, K) across its K entries; row dot products are Spearman rhos."""
    return standardized_ranks(np.asarray(x, dtype=np.float64).T).T


def correlation_matrix(decoded: np.ndarray, true: np.ndarray, method: str = "pearson") -> np.ndarray:
    """Correlation (``pearson`` or ``spearman``) between every decoded row i and true row j, (n, K) each -> (n, n)."""
    if method == "spearman":
        return row_ranks(decoded) @ row_ranks(true).T
    a = decoded - decoded.mean(axis=1, keepdims=True)
    b = true - true.mean(axis=1, keepdims=True)
    a /= np.linalg.norm(a, axis=1, keepdims=True).clip(min=1e-12)
    b /= np.linalg.norm(b, axis=1, keepdims=True).clip(min=1e-12)
    return a @ b.T


def identification_accuracy(corr: np.ndarray) -> np.ndarray:
    """VanRullen & Reddy's criterion: fraction of (i, j != i) with ``C_ii > C_ij`` (ties, within 1e-12, count 1/2).

    ``corr`` is (n, n) or a stack (..., n, n) of decoded-vs-true correlation matrices; returns (...,).
    """
    n = corr.shape[-1]
    diag = np.diagonal(corr, axis1=-2, axis2=-1)[..., :, None]
    wins = (diag > corr + 1e-12).sum(axis=(-2, -1)) + 0.5 * ((np.abs(diag - corr) <= 1e-12).sum(axis=(-2, -1)) - n)
    return wins / (n * (n - 1))


def two_vs_two_accuracy(corr: np.ndarray) -> np.ndarray:
    """Fraction of pairs (i < j) with ``C_ii + C_jj > C_ij + C_ji``; ``corr`` (..., n, n) -> (...,)."""
    n = corr.shape[-1]
    d = np.diagonal(corr, axis1=-2, axis2=-1)
    right = d[..., :, None] + d[..., None, :]
    wrong = corr + np.swapaxes(corr, -1, -2)
    iu = np.triu_indices(n, k=1)
    return (right[..., iu[0], iu[1]] > wrong[..., iu[0], iu[1]]).mean(axis=-1)


CRITERIA = {"pairwise": ("spearman", identification_accuracy), "two_vs_two": ("pearson", two_vs_two_accuracy)}


def pairwise_identification(
    decoded: np.ndarray, true: np.ndarray, n_perm: int, rng: np.random.Generator, criterion: str = "pairwise", chunk_size: int = 1000
) -> tuple[float, float, np.ndarray]:
    """Identification accuracy of the decoded test latents with its permutation p.

    Parameters
    ----------
    decoded, true : (n, K) decoded and true latents of the same n test faces (same row order).
    n_perm : label permutations for the null (the true latents' rows are shuffled).
    rng : numpy Generator.
    criterion : ``pairwise`` (VanRullen & Reddy: each decoded latent vs its own and each distractor,
        Spearman) or ``two_vs_two`` (summed pairs, Pearson).

    Returns
    -------
    (accuracy in [0, 1], p, null (n_perm,) accuracies).
    """
    if criterion not in CRITERIA:
        raise ValueError(f"unknown identification criterion {criterion!r}; expected one of {sorted(CRITERIA)}")
    method, accuracy = CRITERIA[criterion]
    corr = correlation_matrix(np.asarray(decoded, float), np.asarray(true, float), method)
    acc = float(accuracy(corr))
    perms = permutations(len(corr), n_perm, rng)
    null = np.concatenate([accuracy(np.moveaxis(corr[:, perms[s : s + chunk_size]], 1, 0)) for s in range(0, n_perm, chunk_size)])
    return acc, (1 + int((null >= acc - 1e-12).sum())) / (1 + n_perm), null


def gender_test(train_z: np.ndarray, train_male: np.ndarray, decoded_test: np.ndarray, test_male: np.ndarray, n_perm: int,
                rng: np.random.Generator, seed: int = 0) -> tuple[float, float]:
    """Gender decoding accuracy (:func:`gender_accuracy`) and its permutation p.

    The null permutes the test faces' true genders against the fixed predictions:
    ``p = (1 + #(null >= observed)) / (1 + n_perm)``. Returns (NaN, NaN) when training has one gender only.
    """
    from sklearn.linear_model import LogisticRegression

    train_male, test_male = np.asarray(train_male, bool), np.asarray(test_male, bool)
    if train_male.all() or not train_male.any():
        return float("nan"), float("nan")
    predicted = LogisticRegression(max_iter=1000, random_state=seed).fit(train_z, train_male).predict(decoded_test)
    acc = float((predicted == test_male).mean())
    null = (predicted[None, :] == test_male[permutations(len(test_male), n_perm, rng)]).mean(axis=1)
    return acc, (1 + int((null >= acc - 1e-12).sum())) / (1 + n_perm)


def male_labels(face_data_h5: str | Path, face_ids: list[str]) -> np.ndarray | None:
    """Gender (True = male) of faces by their face-dataset id, from the prepared data's 'gender' or 'Male' factor.

    Returns None when the dataset has no such factor; raises DataError for an unknown id.
    """
    from facebrain.datasets.prepared import PreparedData

    data = PreparedData(face_data_h5)
    names = [n for n in GENDER_FACTORS if n in data.factor_names]
    if not names:
        log.warning("%s has no gender factor (%s): gender decoding skipped", face_data_h5, GENDER_FACTORS)
        return None
    row = {fid: i for i, fid in enumerate(np.asarray(data.ids).astype(str))}
    unknown = [f for f in face_ids if f not in row]
    if unknown:
        raise DataError(face_data_h5, f"stimulus face ids not in the dataset: {unknown[:5]}")
    return data.factors[[row[f] for f in face_ids], data.factor_names.index(names[0])] > 0


def decode_subject(
    glm_h5: str | Path,
    brain_mask: str | Path | Sequence[str | Path],
    selective: str | Path | Sequence[str | Path],
    latents_h5: str | Path,
    face_data_h5: str | Path,
    out_json: str | Path,
    out_h5: str | Path,
    audit: str | Path | None = None,
    ridge: float = 0.0,
    identification: str = "pairwise",
    n_permutations: int = 10_000,
    seed: int = 0,
    reliability_threshold: float | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Pipeline step: decoding of one subject x model over the face-selective voxels (or vertices).

    ``brain_mask`` and ``selective`` are the localizer's maps in the GLM's space (a NIfTI each,
    or a hemi-L/hemi-R GIFTI pair each on fsaverage5). ``audit`` is the subject's stimulus audit
    (fmri stage): its leaked training stimuli (:func:`facebrain.fmri.audit.leaked_stimuli`) are left
    out of the gender classifier's training set and of the ridge's cross-validation.

    With ``ridge`` 0 and more latent dimensions than selected voxels, the ridge is chosen by
    :func:`choose_ridge` from the GLM's per-half weights and the training stimuli (logged; the
    summary's ``ridge_cv`` is then true).

    Writes ``out_json`` (pairwise_accuracy, p, identification, gender_accuracy, gender_p, n_voxels,
    n_latents, n_test_faces, n_gender_train, ridge, ridge_cv, n_permutations) and ``out_h5`` (decoded latents in the
    model's own units, ``test_faces``, the identification null).
    """
    from facebrain.encoding.accuracy import load_selected_glm
    from facebrain.encoding.glm import read_stimulus_latents
    from facebrain.fmri.audit import leaked_stimuli
    from facebrain.io import write_h5, write_json

    glm, keep, _ = load_selected_glm(glm_h5, brain_mask, selective, reliability_threshold)
    latents, face_ids = read_stimulus_latents(latents_h5)
    test = list(glm["test_faces"])
    leaked = set(leaked_stimuli(audit)) if audit else set()
    train = sorted(set(latents) - set(test) - leaked)
    train_z = (np.stack([latents[s] for s in train]) - glm["latent_mean"]) / glm["latent_sd"] if train else np.zeros((0, len(glm["W"])))
    n_latents, n_voxels = len(glm["W"]), int(keep.sum())
    ridge_cv = ridge == 0 and n_latents > n_voxels
    if ridge_cv:
        if "W_halves" not in glm or not len(train_z):
            raise DataError(glm_h5, f"{n_latents} latent dimensions but {n_voxels} voxels: a ridge must be chosen, and the GLM has no per-half weights or training stimuli")
        ridge, errors = choose_ridge(glm["W_halves"][:, :, keep], train_z)
        log.warning("%d latent dimensions exceed the %d usable voxels: ridge decoder, penalty %.4g (relative to the mean eigenvalue of W W') "
                    "chosen by cross-validation over the halves of the runs on %d training stimuli (errors %s)",
                    n_latents, n_voxels, ridge, len(train_z), np.array2string(errors, precision=4))
    decoded_z = decode_patterns(glm["test_betas"][:, keep], glm["W"][:, keep], glm["bias"][keep], ridge)
    rng = np.random.default_rng(seed)
    acc, p, null = pairwise_identification(decoded_z, glm["z_test"], n_permutations, rng, identification)
    male = male_labels(face_data_h5, [face_ids[s] for s in train + test])
    gender, gender_p = float("nan"), float("nan")
    if male is not None and train:
        gender, gender_p = gender_test(train_z, male[: len(train)], decoded_z, male[len(train) :], n_permutations, rng, seed)
    summary = {"pairwise_accuracy": acc, "p": p, "identification": identification, "gender_accuracy": gender, "gender_p": gender_p,
               "n_voxels": n_voxels, "n_latents": n_latents, "n_test_faces": len(test), "n_gender_train": len(train), "ridge": ridge, "ridge_cv": bool(ridge_cv),
               "n_permutations": n_permutations}
    log.info("decoding: %s identification %.3f (p %.4f), gender %.3f (p %.4f)", identification, acc, p, gender, gender_p)
    decoded = decoded_z * glm["latent_sd"] + glm["latent_mean"]
    write_h5(out_h5, {"decoded": decoded.astype(np.float32), "test_faces": np.asarray(test, dtype=object), "null": null}, attrs=dict(provenance or {}, **summary))
    write_json(out_json, summary)
    return summary
