# Helper functions of the encoding stage (paths, targets, config look-ups).
#
# Per subject x model (every path carries sub-XX, so one subject rebuilds alone):
#   results/encoding/{subject}/localizer/{brain_mask,zmap,face_selective}.nii.gz, localizer.json
#   results/encoding/{subject}/{model}/stimulus_latents.h5     (mu, logvar, ids, face_ids)
#   results/encoding/{subject}/{model}/glm.h5, betas.nii.gz    (W, bias, test betas; one volume per latent dim)
#   results/encoding/{subject}/{model}/encoding.{h5,json}, rho.nii.gz, rho_fdr.nii.gz
#   results/encoding/{subject}/{model}/decoding.{h5,json}
#   results/figures/{subject}/{encoding_rho,betas,reconstructions}_{model}.png
# Across subjects: results/table1.{csv,md}, results/tables/{decoding,beta_overlap}.csv,
#   results/figures/{encoding_rho,decoding}_group.png


ENCODING_DIR = "results/encoding/{subject}"
ENCODING_MODEL_DIR = "results/encoding/{subject}/{model}"
LOCALIZER_DIR = "results/encoding/{subject}/localizer"


def encoding_config():
    """The validated `encoding:` config section."""
    return config["encoding"]


def encoding_models():
    """Models fitted per subject (`encoding.models`)."""
    return list(encoding_config()["models"])


def subject_model_pairs():
    """(subject, model) for every subject and encoding model, subjects first."""
    return [(s, m) for s in FMRI_SUBJECTS for m in encoding_models()]


def encoding_file(name, subject="{subject}", model="{model}"):
    """results/encoding/<subject>/<model>/<name>."""
    return f"results/encoding/{subject}/{model}/{name}"


def localizer_file(name, subject="{subject}"):
    """results/encoding/<subject>/localizer/<name>."""
    return f"results/encoding/{subject}/localizer/{name}"


def encoding_model_input(wildcards):
    """The trained model.pt of {model} on the config's face dataset."""
    return model_path(wildcards.model, config["face_dataset"])


def face_data_input(wildcards):
    """The prepared face dataset (gender labels of the stimuli for decoding)."""
    return f"results/data/{config['face_dataset']}.h5"


def encoding_labels_input(wildcards):
    """The models stage's dimension labels of {model} on the face dataset."""
    return dimension_labels_path(wildcards.model, config["face_dataset"])


def stimulus_audit_input(wildcards):
    """The fmri stage's stimulus audit of {subject} when `fmri.exclude_leaked` is on, else nothing."""
    return [f"results/fmri/{wildcards.subject}/stimulus_audit.tsv"] if config["fmri"]["exclude_leaked"] else []


def encoding_seed():
    """Seed of the permutation tests (the config's master seed)."""
    return config["seed"]


def pair_inputs(name):
    """encoding_file(name) of every (subject, model) pair, in subject_model_pairs() order."""
    return [encoding_file(name, s, m) for s, m in subject_model_pairs()]


def table1_inputs(wildcards):
    return pair_inputs("encoding.json")


def decoding_inputs(wildcards):
    return pair_inputs("decoding.json")


def beta_overlap_inputs(wildcards):
    """GLMs, masks and dimension labels of every (subject, model) pair."""
    pairs = subject_model_pairs()
    return {
        "glms": pair_inputs("glm.h5"),
        "brain_masks": [localizer_file("brain_mask.nii.gz", s) for s, _ in pairs],
        "selective": [localizer_file("face_selective.nii.gz", s) for s, _ in pairs],
        "labels": [dimension_labels_path(m, config["face_dataset"]) for _, m in pairs],
    }


def pair_subjects():
    return [s for s, _ in subject_model_pairs()]


def pair_models():
    return [m for _, m in subject_model_pairs()]


def subject_figures(subject):
    """Per-subject figures: rho and beta maps of every model, reconstructions of decodable ones."""
    figures = []
    for model in encoding_models():
        figures += [f"results/figures/{subject}/encoding_rho_{model}.png", f"results/figures/{subject}/betas_{model}.png"]
        if model_is_decodable(model):
            figures.append(f"results/figures/{subject}/reconstructions_{model}.png")
    return figures


def encoding_final_targets():
    """The encoding stage's final targets (registered in encoding.smk)."""
    targets = ["results/table1.csv", "results/table1.md", "results/tables/decoding.csv", "results/tables/beta_overlap.csv"]
    targets += ["results/figures/encoding_rho_group.png", "results/figures/decoding_group.png"]
    return targets + [f for s in FMRI_SUBJECTS for f in subject_figures(s)]
