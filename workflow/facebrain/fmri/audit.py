"""Stimulus audit: test faces that also appear among training faces, and images shown under two names.

In ds001761 a stimulus's identity is its file name ('F1148.jpg'; every run
folder holds its own copy). Two traps of the real data break that identity:
some CelebA images appear under two stimulus names, and some test faces also
appear among a subject's training faces (under another name). The audit finds
both by linking stimulus names that share a face-dataset file
(``ImageNames2Celeba.txt``) or identical image bytes, and lists them in
``results/fmri/sub-XX/stimulus_audit.tsv``::

    problem        stim_name  trial_type  face_id     same_image_as  n_trials  runs
    test_in_train  F1024.jpg  train_face  000043.jpg  F9321.jpg      1         ses-01_run-02
    two_names      ...

Beside it, ``stimulus_counts.json`` gives the subject's trial and stimulus counts
(training trials, distinct training names and images, test trials and faces, leaked
names and trials; :func:`audit_and_count`), the numbers to check against the paper.

``problem`` is ``test_in_train`` (a training stimulus showing a test face's
image: its trials leak the test set into the fit) or ``two_names`` (one image,
several names). :func:`leaked_stimuli` returns the training names the encoding
analysis leaves out (config ``fmri.exclude_leaked``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from facebrain.errors import DataError
from facebrain.io import read_tsv, write_json, write_table
from facebrain.paths import bids

AUDIT_COLUMNS = ("subject", "problem", "stim_name", "trial_type", "face_id", "same_image_as", "n_trials", "runs")
FACE_TRIALS = ("train_face", "test_face")


def audit_subject(bids_root: str | Path, subject: str) -> pd.DataFrame:
    """Audit one subject's task-faces stimuli.

    Parameters
    ----------
    bids_root : BIDS root in ds001761's layout (see :class:`facebrain.fmri.reader.BidsFmriDataset`).
    subject : label ('01').

    Returns
    -------
    DataFrame with columns :data:`AUDIT_COLUMNS`, one row per (problem, stimulus name),
    sorted; empty (with the columns) when nothing is found.

    Raises
    ------
    DataError
        when a stimulus can be identified neither by a face id nor by its image file.
    """
    return audit_and_count(bids_root, subject)[0]


def audit_and_count(bids_root: str | Path, subject: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """The audit of :func:`audit_subject` and the subject's stimulus counts.

    Returns
    -------
    (audit, counts): counts has ``training_trials`` (train_face events, one-back repeats
    included), ``oneback_repeats`` (of them), ``training_names`` (distinct training stimulus
    names), ``training_images`` (distinct training images: names linked by a face id or
    identical bytes count once), ``test_trials``, ``test_faces`` (distinct test-face names),
    ``leaked_training_names`` and ``leaked_training_trials`` (training stimuli showing a test
    face's image, and their trials), ``two_name_images`` (images shown under several names).
    """
    from facebrain.fmri.reader import BidsFmriDataset

    data = BidsFmriDataset(bids_root)
    trials = []
    for run in data.runs(subject, "faces"):
        ev = run.events[run.events.trial_type.isin(FACE_TRIALS)]
        trials.append(ev.assign(run=f"ses-{run.session}_run-{run.run:02d}"))
    table = pd.concat(trials, ignore_index=True) if trials else pd.DataFrame(columns=["stim_name", "trial_type", "face_id", "stim_file", "oneback", "run"])
    stimuli = table.groupby("stim_name", sort=True).agg(
        face_id=("face_id", "first"), stim_file=("stim_file", "first"), n_trials=("stim_name", "size"),
        runs=("run", lambda r: ";".join(sorted(set(r)))), kinds=("trial_type", lambda k: frozenset(k)),
    )
    keys = {name: _image_keys(data.stimulus_path(row.stim_file), row.face_id, name) for name, row in stimuli.iterrows()}
    groups = _connected_names(keys)
    rows = []
    for names in groups:
        kinds = {n: stimuli.loc[n, "kinds"] for n in names}
        tests = sorted(n for n in names if "test_face" in kinds[n])
        for name in names:
            row = stimuli.loc[name]
            base = {"subject": bids(subject=subject), "stim_name": name, "face_id": row.face_id, "n_trials": int(row.n_trials), "runs": row.runs}
            if len(names) > 1:
                others = [n for n in names if n != name]
                rows.append({**base, "problem": "two_names", "trial_type": _kind_label(kinds[name]), "same_image_as": ";".join(others)})
            if "train_face" in kinds[name] and tests:
                leaked_as = [n for n in tests if n != name] or [name]
                rows.append({**base, "problem": "test_in_train", "trial_type": "train_face", "same_image_as": ";".join(leaked_as)})
    audit = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS)).sort_values(["problem", "stim_name"], ignore_index=True)
    train = table[table.trial_type == "train_face"]
    train_names = set(train.stim_name)
    leaked = set(audit.loc[audit.problem == "test_in_train", "stim_name"])
    counts = {
        "training_trials": len(train),
        "oneback_repeats": int(train.oneback.sum()),
        "training_names": len(train_names),
        "training_images": sum(1 for names in groups if train_names.intersection(names)),
        "test_trials": int((table.trial_type == "test_face").sum()),
        "test_faces": int(table.loc[table.trial_type == "test_face", "stim_name"].nunique()),
        "leaked_training_names": len(leaked),
        "leaked_training_trials": int(train.stim_name.isin(leaked).sum()),
        "two_name_images": sum(1 for names in groups if len(names) > 1),
    }
    return audit, counts


def _kind_label(kinds: Collection[str]) -> str:
    return ";".join(sorted(kinds))


def _image_keys(path: Path, face_id: str, name: str) -> list[str]:
    """Identity keys of a stimulus: its face-dataset file and the sha1 of its image bytes."""
    keys = [f"face:{face_id}"] if face_id else []
    if path.is_file():
        keys.append("sha1:" + hashlib.sha1(path.read_bytes()).hexdigest())
    if not keys:
        raise DataError(path, f"stimulus {name} has no face-dataset id (ImageNames2Celeba.txt) and no image file")
    return keys


def _connected_names(keys: Mapping[str, list[str]]) -> list[list[str]]:
    """Group names that share any identity key (connected components), each group sorted."""
    parent = {name: name for name in keys}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[str, str] = {}
    for name, name_keys in keys.items():
        for key in name_keys:
            if key in owner:
                parent[find(name)] = find(owner[key])
            else:
                owner[key] = name
    groups: dict[str, list[str]] = {}
    for name in keys:
        groups.setdefault(find(name), []).append(name)
    return [sorted(g) for g in groups.values()]


def write_stimulus_audit(bids_root: str | Path, subject: str, out: str | Path, out_counts: str | Path,
                         provenance: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Pipeline step: write ``out`` (stimulus_audit.tsv) and ``out_counts`` (stimulus_counts.json, see
    :func:`audit_and_count`) for one subject; return the audit table."""
    import logging

    audit, counts = audit_and_count(bids_root, subject)
    problems = audit["problem"].value_counts().to_dict()
    log = logging.getLogger(__name__)
    log.info("%s: %s", subject, problems or "no leaked or duplicated stimuli")
    log.info("%s: %s", subject, counts)
    write_table(out, audit)
    write_json(out_counts, dict(counts, subject=bids(subject=subject)))
    return audit


def read_audit(path: str | Path) -> pd.DataFrame:
    """Read a stimulus_audit.tsv written by :func:`write_stimulus_audit` (DataError when malformed)."""
    return read_tsv(path, "stimulus audit", AUDIT_COLUMNS)


def leaked_stimuli(audit_path: str | Path) -> list[str]:
    """Training stimulus names whose image is one of the subject's test faces (sorted).

    The encoding analysis leaves their trials out of the fit when ``fmri.exclude_leaked``
    is true, so no test face is seen during training.
    """
    audit = read_audit(audit_path)
    leaked = audit.loc[(audit.problem == "test_in_train") & (audit.trial_type == "train_face"), "stim_name"]
    return sorted(set(leaked))


def leaked_trial_mask(events: pd.DataFrame, leaked: Collection[str]) -> np.ndarray:
    """bool (n_events,): the training-face trials of ``events`` that show a leaked stimulus."""
    return (events["trial_type"].eq("train_face") & events["stim_name"].isin(set(leaked))).to_numpy()
