# Helper functions of the fmri stage (paths, targets, config look-ups).
#
# The fMRI source is one job: `simulate_fmri` writes the whole simulated BIDS
# tree resources/simfmri as a directory() output; `download_fmri` fetches
# resources/ds001761 (resumable, so the tree itself is not a declared output)
# and writes the manifest results/fmri/ds001761_manifest.json. A per-subject
# analysis job depends on `fmri_subject_input` and reads the tree under
# `fmri_root()` with facebrain.fmri.reader.BidsFmriDataset. No file tree is
# globbed at parse time.

from facebrain.fmri.design import SCALES, subject_labels

FMRI_SIM_ROOT = "resources/simfmri"
FMRI_DOWNLOAD_ROOT = "resources/ds001761"
FMRI_DOWNLOAD_MANIFEST = "results/fmri/ds001761_manifest.json"


def fmri_config():
    """The validated `fmri:` config section."""
    return config["fmri"]


def fmri_reader_options():
    """BidsFmriDataset options from the config: the BOLD `space` and the selected `confounds`."""
    return {"space": fmri_config()["space"], "confounds": list(fmri_config()["confounds"])}


def fmri_root():
    """The BIDS root the analysis reads: resources/simfmri or resources/ds001761."""
    return FMRI_SIM_ROOT if fmri_config()["source"] == "simulate" else FMRI_DOWNLOAD_ROOT


def fmri_subject_labels():
    """Subject labels without prefix (['01', '02', ...]) of the configured source."""
    cfg = fmri_config()
    if cfg["source"] == "simulate":
        return subject_labels(SCALES[cfg["simulate"]["scale"]].subjects)
    return list(cfg["download"]["subjects"])


FMRI_SUBJECTS = [f"sub-{label}" for label in fmri_subject_labels()]


def fmri_subject_input(wildcards):
    """The file(s) a per-subject analysis job must depend on (the dataset's producing output)."""
    return [FMRI_SIM_ROOT] if fmri_config()["source"] == "simulate" else [FMRI_DOWNLOAD_MANIFEST]


def face_dataset_input(wildcards):
    """The face dataset the simulator copies its stimuli from (the datasets stage's output)."""
    if config["face_dataset"] == "synthfaces":
        return [face_root("synthfaces")]
    return celeba_files()


def fmri_simulate_params():
    """The config entries the simulated dataset depends on."""
    return dict(fmri_config()["simulate"], seed=config["seed"], face_root=face_root(config["face_dataset"]))


def fmri_download_params():
    """The config entries the downloaded dataset depends on."""
    return dict(fmri_config()["download"], space=fmri_config()["space"])


def fmri_exclude_leaked():
    """Whether the analysis leaves out training trials that show a test face (config fmri.exclude_leaked)."""
    return bool(fmri_config()["exclude_leaked"])


def fmri_final_targets():
    """Per subject: results/fmri/sub-XX/stimulus_audit.tsv and overview.png."""
    return [f"results/fmri/{subject}/{name}" for subject in FMRI_SUBJECTS for name in ("stimulus_audit.tsv", "overview.png")]
