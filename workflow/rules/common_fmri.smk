# fmri stage: config look-ups and target lists (paths come from facebrain.paths).
#
# The fMRI source is one job: `simulate_fmri` writes the whole simulated BIDS
# tree as a directory() output; `download_fmri` fills resources/ds001761
# (resumable, so the tree itself is not a declared output) and writes its
# manifest. A per-subject job depends on `fmri_subject_input` and reads the
# tree under `fmri_root()` with facebrain.fmri.reader.BidsFmriDataset (names
# inside the tree: facebrain.fmri.layout). No file tree is globbed at parse time.

from facebrain.fmri.design import SCALES, subject_labels


def fmri_config():
    """The validated `fmri:` config section."""
    return config["fmri"]


def fmri_reader_options():
    """BidsFmriDataset options from the config: the BOLD `space` and the selected `confounds`."""
    return {"space": fmri_config()["space"], "confounds": list(fmri_config()["confounds"])}


def fmri_root():
    """The BIDS root the analysis reads: the simulated or the downloaded tree."""
    return paths.path("fmri_simulated" if fmri_config()["source"] == "simulate" else "fmri_downloaded")


def fmri_subjects():
    """Subject labels (['01', '02', ...]) of the configured source."""
    cfg = fmri_config()
    if cfg["source"] == "simulate":
        return subject_labels(SCALES[cfg["simulate"]["scale"]].subjects)
    return list(cfg["download"]["subjects"])


def fmri_subject_input(wildcards):
    """The file(s) a per-subject analysis job must depend on (the dataset's producing output)."""
    return [paths.path("fmri_simulated")] if fmri_config()["source"] == "simulate" else [paths.path("fmri_manifest")]


def fmri_simulate_params():
    """The config entries the simulated dataset depends on."""
    return dict(fmri_config()["simulate"], seed=config["seed"], face_root=paths.path("face_root", dataset=config["face_dataset"]))


def fmri_download_params():
    """The config entries the downloaded dataset depends on."""
    return dict(fmri_config()["download"], space=fmri_config()["space"])


def fmri_final_targets():
    """Per subject: the stimulus audit and the overview figure."""
    return [paths.path(name, subject=s) for s in fmri_subjects() for name in ("stimulus_audit", "fmri_overview")]
