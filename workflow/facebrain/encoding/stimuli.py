"""Latents of one subject's fMRI stimuli, through the one encode function of the models stage."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from facebrain.errors import DataError
from facebrain.paths import bids

log = logging.getLogger(__name__)


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


def encode_subject_stimuli(
    bids_root: str | Path,
    subject: str,
    model_path: str | Path,
    out_h5: str | Path,
    device: str = "auto",
    batch_size: int = 256,
    provenance: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """Pipeline step: encode a subject's stimuli with a trained model.

    Each stimulus jpg is preprocessed with :func:`facebrain.datasets.faces.preprocess_face`
    and encoded by :func:`facebrain.latents.encode_images` with its face-dataset id
    (the oracle model looks its factors up by id). Writes ``out_h5`` with ``mu`` (N, K),
    ``logvar`` (N, K), ``ids`` (stimulus names) and ``face_ids``. Returns ``mu``.
    """
    from PIL import Image

    from facebrain.datasets.faces import preprocess_face
    from facebrain.io import write_h5
    from facebrain.latents import encode_images

    names, face_ids, paths = subject_stimuli(bids_root, subject)
    images = np.empty((len(paths), 64, 64, 3), dtype=np.uint8)
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as img:
                images[i] = preprocess_face(img.convert("RGB"))
        except OSError as exc:
            raise DataError(path, f"cannot read stimulus image: {exc}") from exc
    log.info("%s: encoding %d stimuli with %s", bids(subject=subject), len(names), model_path)
    mu, logvar = encode_images(model_path, images, face_ids, device=device, batch_size=batch_size)
    write_h5(out_h5, {"mu": np.asarray(mu, np.float32), "logvar": np.asarray(logvar, np.float32), "ids": np.asarray(names, dtype=object), "face_ids": np.asarray(face_ids, dtype=object)}, attrs=provenance)
    return mu
