"""The stimulus audit on the real ds001761: all 438 real events files and the real image identities.

The image bytes are not in the fixtures, only their MD5s (ds001761_stimuli.tsv),
so each stimulus the events show is written as a stub file whose bytes are its
MD5: two stubs have the same bytes exactly when the real images do. The leaks
expected here were found independently (same MD5 for a test face and a
training image of the same subject).
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from facebrain.fmri import layout
from facebrain.fmri.audit import write_stimulus_audit

SUBJECTS = ("01", "02", "03", "04")
LEAKS = {  # training stimulus = test face, per subject
    "01": {("F0278.jpg", "F1148.jpg")},
    "02": {("M8155.jpg", "M6776.jpg"), ("M8339.jpg", "M7260.jpg")},
    "03": set(),
    "04": {("F17037.jpg", "F15404.jpg"), ("M16155.jpg", "M14256.jpg"), ("M16670.jpg", "M17160.jpg")},
}


@pytest.fixture(scope="module")
def real_tree(tmp_path_factory, fixtures_dir):
    """The real raw text files with stub stimuli carrying the real identities (MD5s)."""
    root = tmp_path_factory.mktemp("ds001761") / "ds001761"
    shutil.copytree(fixtures_dir / "ds001761_text", root)
    md5 = pd.read_csv(fixtures_dir / "ds001761_stimuli.tsv", sep="\t", dtype=str).set_index("path")["md5"]
    shown = set()
    for events in root.glob("sub-*/ses-*/func/*_task-faces_*_events.tsv"):
        shown |= set(pd.read_csv(events, sep="\t", dtype=str, keep_default_na=False)["stim_file"])
    for stim in sorted(shown):
        dest = root / layout.STIMULI / stim
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(md5[stim])
    return root


@pytest.fixture(scope="module")
def audits(real_tree, tmp_path_factory):
    out = tmp_path_factory.mktemp("audits")
    results = {}
    for subject in SUBJECTS:
        audit = write_stimulus_audit(real_tree, subject, out / f"{subject}.tsv", out / f"{subject}.json")
        results[subject] = (audit, json.loads((out / f"{subject}.json").read_text()))
    return results


@pytest.mark.parametrize("subject", SUBJECTS)
def test_audit_finds_exactly_the_real_leaks(audits, subject):
    audit, counts = audits[subject]
    leaks = audit[audit.problem == "test_in_train"]
    found = {(row.stim_name, other) for row in leaks.itertuples() for other in row.same_image_as.split(";")}
    assert found == LEAKS[subject]
    assert counts["leaked_training_names"] == len(LEAKS[subject])


def test_stimulus_counts_of_sub01_are_the_real_ones(audits):
    _, counts = audits["01"]
    assert counts["training_trials"] == 9364
    assert counts["test_trials"] == 908
    assert counts["test_faces"] == 20
    assert counts["training_names"] == 8606
    assert counts["training_images"] < counts["training_names"]  # some images are shown under two names
    assert counts["oneback_repeats"] == 758


def test_counts_of_every_subject(audits):
    expected = {"01": (9364, 908), "02": (8484, 1116), "03": (8308, 1100), "04": (8408, 1096)}
    for subject, (train, test) in expected.items():
        counts = audits[subject][1]
        assert (counts["training_trials"], counts["test_trials"], counts["test_faces"]) == (train, test, 20)
