"""Decoding latents from brain patterns (VanRullen & Reddy 2019).

The encoding model is ``Y = bias + X W`` (W: K x V). Decoding inverts it by
least squares, ``X = (Y - bias) W' (W W' + lambda I)^-1``, with an optional
ridge ``lambda = ridge * trace(W W') / K`` (relative to the mean eigenvalue,
so the setting does not depend on the units of the betas).

Pairwise identification: for each pair (i, j) of test faces the decoded
latents are compared with both true latents by Pearson correlation; the pair
is correct when ``r(d_i, x_i) + r(d_j, x_j) > r(d_i, x_j) + r(d_j, x_i)``.
Its p comes from permuting the test-face labels (the pairs share faces, so
they are not independent trials and a binomial p would be anti-conservative):
``p = (1 + #(null >= observed)) / (1 + n_perm)``.

Gender: a logistic regression trained on the latents of the subject's
training stimuli predicts the gender of the decoded test latents. Training
stimuli that show a test face's image (the stimulus audit's leaked names) are
left out of its training set, so no test face is seen there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facebrain.encoding.permutation import permutations
from facebrain.errors import DataError

log = logging.getLogger(__name__)

GENDER_FACTORS = ("gender", "Male")


def decode_patterns(Y: np.ndarray, W: np.ndarray, bias: np.ndarray, ridge: float = 0.0) -> np.ndarray:
    """Latents from patterns: ``(Y - bias) W' (W W' + lambda I)^-1``.

    Parameters
    ----------
    Y : (n, V) response patterns (e.g. test-face betas in the face-selective voxels).
    W : (K, V) encoding weights; bias : (V,) face-presence betas.
    ridge : lambda relative to the mean eigenvalue of ``W W'`` (0: plain least squares).

    Returns
    -------
    (n, K) decoded latents, in the units of the GLM's regressors (z-scored latents).
    """
    W = np.asarray(W, dtype=np.float64)
    gram = W @ W.T
    lam = ridge * np.trace(gram) / max(len(gram), 1)
    rhs = (np.asarray(Y, dtype=np.float64) - np.asarray(bias)[None, :]) @ W.T
    return np.linalg.solve(gram + lam * np.eye(len(gram)), rhs.T).T if lam > 0 else rhs @ np.linalg.pinv(gram, hermitian=True)


def correlation_matrix(decoded: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Pearson r between every decoded row i and true row j, (n, K) each -> (n, n)."""
    a = decoded - decoded.mean(axis=1, keepdims=True)
    b = true - true.mean(axis=1, keepdims=True)
    a /= np.linalg.norm(a, axis=1, keepdims=True).clip(min=1e-12)
    b /= np.linalg.norm(b, axis=1, keepdims=True).clip(min=1e-12)
    return a @ b.T


def pairwise_accuracy(corr: np.ndarray) -> float:
    """Fraction of pairs (i < j) with ``C_ii + C_jj > C_ij + C_ji`` for a decoded-vs-true correlation matrix C."""
    d = np.diag(corr)
    right = d[:, None] + d[None, :]
    wrong = corr + corr.T
    iu = np.triu_indices(len(corr), k=1)
    return float((right[iu] > wrong[iu]).mean())


def pairwise_identification(decoded: np.ndarray, true: np.ndarray, n_perm: int, rng: np.random.Generator) -> tuple[float, float, np.ndarray]:
    """Pairwise identification accuracy with its permutation p.

    Parameters
    ----------
    decoded, true : (n, K) decoded and true latents of the same n test faces (same row order).
    n_perm : label permutations for the null.
    rng : numpy Generator.

    Returns
    -------
    (accuracy in [0, 1], p, null (n_perm,) accuracies).
    """
    corr = correlation_matrix(np.asarray(decoded, float), np.asarray(true, float))
    acc = pairwise_accuracy(corr)
    null = np.array([pairwise_accuracy(corr[:, perm]) for perm in permutations(len(corr), n_perm, rng)])
    return acc, (1 + int((null >= acc - 1e-12).sum())) / (1 + n_perm), null


def gender_accuracy(train_z: np.ndarray, train_male: np.ndarray, decoded_test: np.ndarray, test_male: np.ndarray, seed: int = 0) -> float:
    """Accuracy of a logistic regression (trained on training-stimulus latents) on decoded test latents.

    Parameters
    ----------
    train_z : (n_train, K) z-scored latents of the training stimuli; train_male : (n_train,) bool.
    decoded_test : (n_test, K) decoded latents; test_male : (n_test,) bool true genders.

    Returns
    -------
    Fraction of test faces whose gender is predicted right (NaN if training has one gender only).
    """
    from sklearn.linear_model import LogisticRegression

    train_male = np.asarray(train_male, bool)
    if train_male.all() or not train_male.any():
        return float("nan")
    clf = LogisticRegression(max_iter=1000, random_state=seed).fit(train_z, train_male)
    return float((clf.predict(decoded_test) == np.asarray(test_male, bool)).mean())


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
    n_permutations: int = 10_000,
    seed: int = 0,
    reliability_threshold: float | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """Pipeline step: decoding of one subject x model over the face-selective voxels (or vertices).

    ``brain_mask`` and ``selective`` are the localizer's maps in the GLM's space (a NIfTI each,
    or a hemi-L/hemi-R GIFTI pair each on fsaverage5).

    Writes ``out_json`` (pairwise_accuracy, p, gender_accuracy, n_voxels, n_test_faces, ridge,
    n_gender_train) and ``out_h5`` (decoded latents in the model's own units, ``test_faces``, the
    pairwise null). ``audit`` is the subject's stimulus audit (fmri stage): its leaked training
    stimuli (:func:`facebrain.fmri.audit.leaked_stimuli`) are left out of the gender classifier's
    training set.
    """
    from facebrain.encoding.accuracy import load_selected_glm
    from facebrain.encoding.glm import read_stimulus_latents
    from facebrain.fmri.audit import leaked_stimuli
    from facebrain.io import write_h5, write_json

    glm, keep, _ = load_selected_glm(glm_h5, brain_mask, selective, reliability_threshold)
    decoded_z = decode_patterns(glm["test_betas"][:, keep], glm["W"][:, keep], glm["bias"][keep], ridge)
    rng = np.random.default_rng(seed)
    acc, p, null = pairwise_identification(decoded_z, glm["z_test"], n_permutations, rng)
    latents, face_ids = read_stimulus_latents(latents_h5)
    test = list(glm["test_faces"])
    leaked = set(leaked_stimuli(audit)) if audit else set()
    train = sorted(set(latents) - set(test) - leaked)
    male = male_labels(face_data_h5, [face_ids[s] for s in train + test])
    gender = float("nan")
    if male is not None and train:
        train_z = (np.stack([latents[s] for s in train]) - glm["latent_mean"]) / glm["latent_sd"]
        gender = gender_accuracy(train_z, male[: len(train)], decoded_z, male[len(train) :], seed)
    summary = {"pairwise_accuracy": acc, "p": p, "gender_accuracy": gender, "n_voxels": int(keep.sum()), "n_test_faces": len(test), "n_gender_train": len(train), "ridge": ridge, "n_permutations": n_permutations}
    log.info("decoding: pairwise %.3f (p %.4f), gender %.3f", acc, p, gender)
    decoded = decoded_z * glm["latent_sd"] + glm["latent_mean"]
    write_h5(out_h5, {"decoded": decoded.astype(np.float32), "test_faces": np.asarray(test, dtype=object), "null": null}, attrs=dict(provenance or {}, **summary))
    write_json(out_json, summary)
    return summary
