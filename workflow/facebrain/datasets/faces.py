"""The face preprocessing used everywhere: training images and fMRI stimuli.

CelebA's usual preprocessing for 64x64 generative models (as in DCGAN,
beta-VAE and FactorVAE code): a centred square crop of 148x148 pixels from the
aligned 178x218 image, then a resize to 64x64. For images of another size the
crop keeps the same proportion: a centred square of side ``148/178`` of the
shorter side (so an image already cropped square loses its borders the same way).

ds001761's displayed stimuli are already cropped around the face (small JPEGs);
:func:`resize_displayed` brings one to the model input without cropping it a
second time.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

FACE_SIZE = 64
"""Side (pixels) of the preprocessed face images."""
CROP_FRACTION = 148 / 178
"""Side of the centred square crop, as a fraction of the image's shorter side."""


def preprocess_face(img: Image.Image) -> np.ndarray:
    """Centre-crop and resize a face image to the model input.

    Parameters
    ----------
    img : PIL.Image.Image
        Any mode and size; CelebA's aligned images are 178 (w) x 218 (h).

    Returns
    -------
    numpy.ndarray
        uint8, shape (64, 64, 3), RGB: the centred square of side
        ``round(148/178 * min(w, h))`` (148 px for CelebA), resized with a
        Lanczos (anti-aliased) filter.
    """
    img = img.convert("RGB")
    w, h = img.size
    side = max(1, round(CROP_FRACTION * min(w, h)))
    left = (w - side) // 2
    top = (h - side) // 2
    crop = img.crop((left, top, left + side, top + side))
    out = crop.resize((FACE_SIZE, FACE_SIZE), Image.Resampling.LANCZOS)
    return np.asarray(out, dtype=np.uint8)


def resize_displayed(img: Image.Image) -> np.ndarray:
    """Resize an already cropped face image (a displayed ds001761 stimulus) to the model input, without cropping.

    Parameters
    ----------
    img : PIL.Image.Image
        Any mode and size.

    Returns
    -------
    numpy.ndarray
        uint8, shape (64, 64, 3), RGB: the whole image resized with a Lanczos filter.
    """
    out = img.convert("RGB").resize((FACE_SIZE, FACE_SIZE), Image.Resampling.LANCZOS)
    return np.asarray(out, dtype=np.uint8)
