"""Latents of one subject's fMRI stimuli, through the one encode function of the models stage.

Which pixels a stimulus is encoded from (config ``encoding.stimulus_images``):

- ``celeba`` (the default): the stimulus's original in the face dataset, found through
  ``stimuli/ImageNames2Celeba.txt``, with exactly the training preprocessing
  (:func:`facebrain.datasets.celeba.load_faces`), as the authors encoded each stimulus's
  CelebA original (with SynthFaces, its original image);
- ``displayed``: the image file shown in the scanner, which ds001761 crops around the
  face already: resized to the model input without a second crop
  (:func:`facebrain.datasets.faces.resize_displayed`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from facebrain.errors import DataError
from facebrain.paths import bids

log = logging.getLogger(__name__)

STIMULUS_IMAGES = ("celeba", "displayed")


def subject_stimuli(bids_root: str | Path, subject: str) -> tuple[list[str], list[str], list[Path]]:
    """Every distinct face stimulus of a subject's task-faces runs.

    Returns
    -------
    (stimulus names e.g. 'F1148.jpg', face-dataset ids, one image path per stimulus), sorted by name.
    A stimulus's identity is its name; the copy in the first run that shows it is used.
    """
    from facebrain.fmri.reader import BidsFmriDataset

    data = BidsFmriDataset(bids_root)
    found: dict[str, tuple[str, str]] = {}
    for run in data.runs(subject, "faces"):
        faces = run.events[run.events.trial_type.isin(["train_face", "test_face"])]
        for ev in faces.itertuples(index=False):
            found.setdefault(ev.stim_name, (ev.face_id, ev.stim_file))
    if not found:
        raise DataError(bids_root, f"{bids(subject=subject)}: no face stimuli in the task-faces events")
    names = sorted(found)
    return names, [found[n][0] for n in names], [data.stimulus_path(found[n][1]) for n in names]


def stimulus_images(bids_root: str | Path, subject: str, source: str = "celeba", face_root: str | Path | None = None) -> tuple[list[str], list[str], np.ndarray]:
    """The model-input images of a subject's stimuli.

    Parameters
    ----------
    bids_root, subject : the dataset and subject label ('01').
    source : 'celeba' (each stimulus's original in the face dataset at ``face_root``, training
        preprocessing) or 'displayed' (the shown image, resized without a second crop).
    face_root : the face dataset in CelebA's layout (source 'celeba').

    Returns
    -------
    (stimulus names, face-dataset ids, uint8 images (N, 64, 64, 3)), sorted by name.

    Raises
    ------
    DataError
        naming a stimulus with no face-dataset id (source 'celeba') or an unreadable image.
    """
    from PIL import Image

    from facebrain.datasets.celeba import load_faces
    from facebrain.datasets.faces import resize_displayed

    if source not in STIMULUS_IMAGES:
        raise ValueError(f"unknown stimulus image source {source!r}; expected one of {STIMULUS_IMAGES}")
    names, face_ids, paths = subject_stimuli(bids_root, subject)
    if source == "celeba":
        if face_root is None:
            raise ValueError("stimulus images from the face dataset need face_root")
        unmapped = [n for n, f in zip(names, face_ids) if not f]
        if unmapped:
            raise DataError(Path(bids_root) / "stimuli/ImageNames2Celeba.txt", f"no face-dataset file for stimuli {unmapped[:5]} (of {len(unmapped)})")
        return names, face_ids, load_faces(face_root, face_ids)
    images = np.empty((len(paths), 64, 64, 3), dtype=np.uint8)
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as img:
                images[i] = resize_displayed(img)
        except OSError as exc:
            raise DataError(path, f"cannot read stimulus image: {exc}") from exc
    return names, face_ids, images


def encode_subject_stimuli(
    bids_root: str | Path,
    subject: str,
    model_path: str | Path,
    out_h5: str | Path,
    stimulus_source: str = "celeba",
    face_root: str | Path | None = None,
    device: str = "auto",
    batch_size: int = 256,
    provenance: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """Pipeline step: encode a subject's stimuli with a trained model.

    The images come from :func:`stimulus_images` (``stimulus_source``, ``face_root``) and are
    encoded by :func:`facebrain.models.latents.encode_images` with their face-dataset ids (the oracle
    model looks its factors up by id). Writes ``out_h5`` with ``mu`` (N, K), ``logvar`` (N, K),
    ``ids`` (stimulus names) and ``face_ids``. Returns ``mu``.
    """
    from facebrain.io import write_h5
    from facebrain.models.latents import encode_images

    names, face_ids, images = stimulus_images(bids_root, subject, stimulus_source, face_root)
    log.info("%s: encoding %d stimuli (%s images) with %s", bids(subject=subject), len(names), stimulus_source, model_path)
    mu, logvar = encode_images(model_path, images, face_ids, device=device, batch_size=batch_size)
    write_h5(out_h5, {"mu": np.asarray(mu, np.float32), "logvar": np.asarray(logvar, np.float32), "ids": np.asarray(names, dtype=object), "face_ids": np.asarray(face_ids, dtype=object)}, attrs=provenance)
    return mu
