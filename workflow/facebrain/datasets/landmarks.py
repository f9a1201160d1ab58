"""CelebA's facial landmarks and the continuous face attributes they give.

CelebA has no pose attribute, yet the paper's headline dimension is head
rotation. ``list_landmarks_align_celeba.txt`` (the image count, the 10 column
names, then ``file lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y
leftmouth_x leftmouth_y rightmouth_x rightmouth_y`` in pixels of the aligned
178 x 218 image; "left" is the image's left) gives three continuous
attributes (:func:`landmark_factors`), used beside the 40 binary attributes
when dimensions are labelled:

- ``yaw``: a yaw proxy, the horizontal offset of the nose from the eyes'
  midpoint divided by the inter-ocular distance (positive: the nose lies
  towards the image's right, the face turned to the image's right);
- ``roll``: the angle of the eye line, degrees (positive: the image-right eye
  lower, i.e. clockwise in the image);
- ``mouth_width``: the distance between the mouth corners over the
  inter-ocular distance (wider when smiling).

SynthFaces writes the same file from its 3D head
(:func:`facebrain.datasets.synthfaces.synthfaces_landmarks`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from facebrain.errors import DataError

LANDMARK_COLUMNS = ["lefteye_x", "lefteye_y", "righteye_x", "righteye_y", "nose_x", "nose_y",
                    "leftmouth_x", "leftmouth_y", "rightmouth_x", "rightmouth_y"]
"""The columns of ``list_landmarks_align_celeba.txt``, in its order."""
LANDMARK_FACTORS = ["yaw", "roll", "mouth_width"]
"""The continuous attributes :func:`landmark_factors` derives."""
LANDMARKS_FILE = "list_landmarks_align_celeba.txt"


def read_landmarks(path: str | Path) -> pd.DataFrame:
    """Read ``list_landmarks_align_celeba.txt``.

    Returns
    -------
    int DataFrame (N, 10), index = image file names, columns :data:`LANDMARK_COLUMNS` (pixels).

    Raises
    ------
    DataError
        naming the file and line when the count, the header or a row is malformed.
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except OSError as err:
        raise DataError(path, f"cannot read landmarks: {err}") from err
    if len(lines) < 2:
        raise DataError(path, "too short: expected a count line and the landmark names")
    try:
        count = int(lines[0].strip())
    except ValueError as err:
        raise DataError(path, f"line 1 should be the number of images, got {lines[0]!r}") from err
    if lines[1].split() != LANDMARK_COLUMNS:
        raise DataError(path, f"line 2 should name the landmarks {LANDMARK_COLUMNS}, got {lines[1].split()}")
    files, rows = [], []
    for number, line in enumerate(lines[2:], start=3):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != len(LANDMARK_COLUMNS) + 1:
            raise DataError(path, f"line {number} has {len(parts) - 1} values, expected {len(LANDMARK_COLUMNS)}")
        try:
            rows.append([int(v) for v in parts[1:]])
        except ValueError as err:
            raise DataError(path, f"line {number}: non-integer landmark ({err})") from err
        files.append(parts[0])
    if len(files) != count:
        raise DataError(path, f"line 1 announces {count} images but {len(files)} are listed")
    return pd.DataFrame(np.asarray(rows, dtype=int).reshape(len(files), len(LANDMARK_COLUMNS)),
                        index=pd.Index(files, name="image_id"), columns=LANDMARK_COLUMNS)


def write_landmarks(path: str | Path, landmarks: pd.DataFrame) -> None:
    """Write landmarks (int, index = file names, columns :data:`LANDMARK_COLUMNS`) in CelebA's layout (atomic)."""
    from facebrain.io import write_text

    lines = [str(len(landmarks)), " ".join(LANDMARK_COLUMNS)]
    lines += [f"{name} " + " ".join(f"{int(v):3d}" for v in row) for name, row in zip(landmarks.index, landmarks[LANDMARK_COLUMNS].to_numpy())]
    write_text(path, "\n".join(lines) + "\n")


def landmark_factors(landmarks: pd.DataFrame) -> pd.DataFrame:
    """The continuous attributes of each face from its landmarks.

    Parameters
    ----------
    landmarks : (N, 10) pixel coordinates, columns :data:`LANDMARK_COLUMNS`.

    Returns
    -------
    float32 DataFrame (N, 3), same index, columns :data:`LANDMARK_FACTORS`: ``yaw``
    (nose offset from the eyes' midpoint / inter-ocular distance, unitless), ``roll``
    (eye-line angle, degrees), ``mouth_width`` (mouth-corner distance / inter-ocular distance).
    """
    lm = landmarks[LANDMARK_COLUMNS].to_numpy(dtype=np.float64)
    lx, ly, rx, ry, nx, _, mlx, mly, mrx, mry = lm.T
    iod = np.maximum(np.hypot(rx - lx, ry - ly), 1.0)
    yaw = (nx - (lx + rx) / 2) / iod
    roll = np.degrees(np.arctan2(ry - ly, rx - lx))
    mouth = np.hypot(mrx - mlx, mry - mly) / iod
    return pd.DataFrame({"yaw": yaw, "roll": roll, "mouth_width": mouth}, index=landmarks.index).astype(np.float32)
