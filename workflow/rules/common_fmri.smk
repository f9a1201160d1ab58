# fmri stage: config look-ups and target lists (paths come from facebrain.paths).
#
# The fMRI source is one job: `simulate_fmri` writes the whole simulated BIDS
# tree as a directory() output; `download_fmri` fills resources/ds001761
# (resumable, so the tree itself is not a declared output) and writes its
# manifest. A local copy (`source: local`) is no job: it is checked when the
# DAG is built (facebrain.fmri.local.check_local_dataset). A per-subject job depends on `fmri_subject_input` and reads the
# tree under `fmri_root()` with facebrain.fmri.reader.BidsFmriDataset (names
# inside the tree: facebrain.fmri.layout). No file tree is globbed at parse time.

from snakemake.exceptions import WorkflowError

from facebrain.fmri.design import SCALES, subject_labels
from facebrain.fmri.local import check_local_dataset
from facebrain.fmri.spaces import SURFACE, VOLUME, is_surface, space_label


def fmri_config():
    """The validated `fmri:` config section."""
    return config["fmri"]


def fmri_spaces():
    """The analysis spaces of `fmri.spaces`, fMRIPrep's names ('MNI152NLin2009cAsym_res-2', 'fsaverage5')."""
    return list(fmri_config()["spaces"])


def fmri_reader_options(space):
    """BidsFmriDataset options for the BOLD of `space` (fMRIPrep's name), the selected `confounds` and, for a local copy, its `derivatives`."""
    options = {"space": space, "confounds": list(fmri_config()["confounds"])}
    if fmri_config()["source"] == "local" and fmri_config()["derivatives"]:
        options["derivatives"] = fmri_config()["derivatives"]
    return options


def fmri_root():
    """The BIDS root the analysis reads: the simulated or the downloaded tree, or the local copy at `fmri.root`."""
    source = fmri_config()["source"]
    if source == "local":
        return fmri_config()["root"]
    return paths.path("fmri_simulated" if source == "simulate" else "fmri_downloaded")


def check_fmri_source():
    """source local: stop before any job runs when `fmri.root` lacks a subject, session or file the analysis reads.

    Only the main snakemake process checks (a cluster job re-reads the workflow; the copy was checked before it was submitted).
    """
    cfg = fmri_config()
    if cfg["source"] != "local" or not workflow.is_main_process:
        return
    if not cfg["root"]:
        raise WorkflowError("fmri.source: local needs fmri.root (the path of a ds001761 copy)")
    for space in cfg["spaces"]:
        check_local_dataset(cfg["root"], cfg["download"]["subjects"], cfg["download"]["sessions"], space, cfg["derivatives"])


def fmri_subjects():
    """Subject labels (['01', '02', ...]) of the configured source."""
    cfg = fmri_config()
    if cfg["source"] == "simulate":
        return subject_labels(SCALES[cfg["simulate"]["scale"]].subjects)
    return list(cfg["download"]["subjects"])


def fmri_subject_input(wildcards):
    """The file(s) a per-subject analysis job must depend on (the dataset's producing output; none for a local copy)."""
    source = fmri_config()["source"]
    if source == "local":
        return []
    return [paths.path("fmri_simulated")] if source == "simulate" else [paths.path("fmri_manifest")]


def fmri_simulate_params():
    """The config entries the simulated dataset depends on."""
    return dict(fmri_config()["simulate"], seed=config["seed"], face_root=paths.path("face_root", dataset=config["face_dataset"]))


def fmri_download_params():
    """The config entries the downloaded dataset depends on."""
    return dict(fmri_config()["download"], spaces=fmri_spaces())


def fmri_final_targets():
    """Per subject: the stimulus audit and the overview figure."""
    return [paths.path(name, subject=s) for s in fmri_subjects() for name in ("stimulus_audit", "fmri_overview")]
