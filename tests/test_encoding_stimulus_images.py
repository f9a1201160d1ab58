"""Stimulus images as the authors used them: a stimulus is encoded from its face-dataset original with
exactly the training preprocessing, or from the displayed (pre-cropped) image without a second crop."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from facebrain.datasets.celeba import ATTRIBUTE_NAMES, load_faces, prepare_faces
from facebrain.datasets.faces import preprocess_face
from facebrain.datasets.prepared import PreparedData
from facebrain.encoding.stimuli import stimulus_images
from facebrain.errors import DataError
from facebrain.fmri import layout

SHOWN = {"F0001.jpg": "000007.jpg", "M0002.jpg": "000003.jpg", "F0003.jpg": "000011.jpg"}


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    """A CelebA-layout folder of 12 noise images with the 40 attributes and the partition."""
    root = tmp_path_factory.mktemp("celeba") / "celeba"
    (root / "img_align_celeba").mkdir(parents=True)
    rng = np.random.default_rng(0)
    ids = [f"{i + 1:06d}.jpg" for i in range(12)]
    for name in ids:
        Image.fromarray(rng.integers(0, 255, (218, 178, 3), dtype=np.uint8)).save(root / "img_align_celeba" / name)
    values = rng.choice([-1, 1], size=(len(ids), len(ATTRIBUTE_NAMES)))
    rows = [f"{name} {' '.join(map(str, v))}" for name, v in zip(ids, values)]
    (root / "list_attr_celeba.txt").write_text("\n".join([str(len(ids)), " ".join(ATTRIBUTE_NAMES), *rows]) + "\n")
    (root / "list_eval_partition.txt").write_text("".join(f"{name} {i % 3}\n" for i, name in enumerate(ids)))
    return root


@pytest.fixture(scope="module")
def bids_root(tmp_path_factory, faces):
    """One faces run of sub-01 showing three stimuli; each displayed image is a small crop of its face-dataset original."""
    root = tmp_path_factory.mktemp("bids") / "ds001761"
    (root / "dataset_description.json").parent.mkdir(parents=True)
    (root / "dataset_description.json").write_text(json.dumps({"Name": "stimuli", "BIDSVersion": "1.0.2"}))
    stim = {name: str(layout.stimulus_file("01", 1, name)) for name in SHOWN}
    events = pd.DataFrame({"onset": [6.0, 9.0, 12.0], "duration": 1.0, "trial_type": ["train_face", "train_face", "test_face"],
                           "stim_file": list(stim.values()), "oneback": 0})
    path = root / layout.raw_file("01", "01", "faces", 1, "events", ".tsv")
    path.parent.mkdir(parents=True)
    events.to_csv(path, sep="\t", index=False)
    layout_json = root / layout.raw_file("01", "01", "faces", 1, "bold", ".json")
    layout_json.write_text(json.dumps({"RepetitionTime": 2.0, "TaskName": "faces"}))
    for name, face in SHOWN.items():
        dest = root / layout.STIMULI / stim[name]
        dest.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(faces / "img_align_celeba" / face) as img:
            img.crop((20, 40, 158, 178)).resize((90, 90)).save(dest)  # pre-cropped, like ds001761's small JPEGs
    (root / layout.IMAGE_NAMES).write_text("".join(f"{stim[n]} {f}\n" for n, f in SHOWN.items()))
    return root


def test_stimulus_and_training_paths_of_the_same_id_give_identical_arrays(bids_root, faces, tmp_path):
    names, face_ids, images = stimulus_images(bids_root, "01", "celeba", faces)
    assert names == sorted(SHOWN) and face_ids == [SHOWN[n] for n in names]
    prepare_faces(faces, tmp_path / "celeba.h5")
    data = PreparedData(tmp_path / "celeba.h5")
    row = {fid: i for i, fid in enumerate(np.asarray(data.ids).astype(str))}
    np.testing.assert_array_equal(images, data.images([row[f] for f in face_ids]))
    np.testing.assert_array_equal(load_faces(faces, face_ids), images)


def test_displayed_images_are_not_cropped_a_second_time(bids_root, faces):
    names, _, images = stimulus_images(bids_root, "01", "displayed")
    for name, image in zip(names, images):
        with Image.open(bids_root / layout.STIMULI / layout.stimulus_file("01", 1, name)) as shown:
            np.testing.assert_array_equal(image, np.asarray(shown.convert("RGB").resize((64, 64), Image.Resampling.LANCZOS)))
            assert not np.array_equal(image, preprocess_face(shown))
    originals = stimulus_images(bids_root, "01", "celeba", faces)[2]
    assert not np.array_equal(images, originals)


def test_a_stimulus_without_face_id_is_named(bids_root, faces, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(bids_root, copy)
    lines = (copy / layout.IMAGE_NAMES).read_text().splitlines()
    (copy / layout.IMAGE_NAMES).write_text("\n".join(lines[1:]) + "\n")
    with pytest.raises(DataError, match="F0001.jpg"):
        stimulus_images(copy, "01", "celeba", faces)
