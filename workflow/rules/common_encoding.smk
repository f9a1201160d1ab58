# encoding stage: config look-ups and target lists (paths come from facebrain.paths).
#
# Per subject (localizer) and per subject x model: each path carries the
# subject, so one subject rebuilds alone. Across subjects: Table 1, the
# decoding and beta-overlap tables and the group figures.


def encoding_config():
    """The validated `encoding:` config section."""
    return config["encoding"]


def encoding_models():
    """Models fitted per subject (`encoding.models`)."""
    return list(encoding_config()["models"])


def subject_model_pairs():
    """(subject label, model) for every subject and encoding model, subjects first."""
    return [(s, m) for s in fmri_subjects() for m in encoding_models()]


def pair_inputs(name):
    """paths.path(name) of every (subject, model) pair, in subject_model_pairs() order."""
    return [paths.path(name, subject=s, model=m) for s, m in subject_model_pairs()]


def pair_subjects():
    """params of the tables: the subject label of each pair."""
    return [s for s, _ in subject_model_pairs()]


def pair_models():
    """params of the tables: the model of each pair."""
    return [m for _, m in subject_model_pairs()]


def encoding_model_input(wildcards):
    """The trained model.pt of {model} on the config's face dataset."""
    return paths.path("model", model=wildcards.model, dataset=config["face_dataset"])


def stimulus_faces_input(wildcards):
    """The face dataset's files when stimuli are encoded from their originals (`encoding.stimulus_images: celeba`), else nothing."""
    return face_dataset_input(wildcards) if encoding_config()["stimulus_images"] == "celeba" else []


def encoding_labels_input(wildcards):
    """The labels of {model}'s dimensions the beta maps use (automatic, or the raters' file)."""
    return paths.path("encoding_labels", model=wildcards.model)


def automatic_labels_input(wildcards):
    """The models stage's dimension labels of {model} on the face dataset."""
    return paths.path("dimension_labels", model=wildcards.model, dataset=config["face_dataset"])


def rater_labels_input(wildcards):
    """The raters' labels file of {model} (`encoding.dimension_labels`), or nothing."""
    path = encoding_config()["dimension_labels"].get(wildcards.model)
    return [path] if path else []


def stimulus_audit_input(wildcards):
    """The fmri stage's stimulus audit of {subject} when `fmri.exclude_leaked` is on, else nothing."""
    return [paths.path("stimulus_audit", subject=wildcards.subject)] if config["fmri"]["exclude_leaked"] else []


def comparison_models():
    """Encoding models that take part in a configured comparison (`encoding.comparisons`, both models fitted)."""
    fitted = encoding_models()
    pairs = [(a, b) for a, b in encoding_config()["comparisons"] if a in fitted and b in fitted]
    return list(dict.fromkeys(m for pair in pairs for m in pair))


def comparison_glms(wildcards):
    """The GLMs of {subject} that the model comparisons need (comparison_models() order)."""
    return [paths.path("glm", subject=wildcards.subject, model=m) for m in comparison_models()]


def comparison_subjects():
    """params of Table 1: the subjects with a comparisons file (all of them, or none without comparisons)."""
    return fmri_subjects() if comparison_models() else []


def table1_inputs(wildcards):
    """Every subject x model encoding summary and every subject's model comparisons."""
    return {
        "summaries": pair_inputs("encoding_summary"),
        "comparisons": [paths.path("comparisons", subject=s) for s in comparison_subjects()],
    }


def decoding_inputs(wildcards):
    return pair_inputs("decoding_summary")


def beta_overlap_inputs(wildcards):
    """GLMs, masks and dimension labels of every (subject, model) pair."""
    pairs = subject_model_pairs()
    return {
        "glms": pair_inputs("glm"),
        "brain_masks": [paths.path("brain_mask", subject=s) for s, _ in pairs],
        "selective": [paths.path("face_selective", subject=s) for s, _ in pairs],
        "labels": [paths.path("encoding_labels", model=m) for _, m in pairs],
    }


def subject_figures(subject):
    """Per-subject figures: rho and beta maps of every model, reconstructions of decodable ones."""
    figures = []
    for model in encoding_models():
        names = ["rho_figure", "betas_figure"] + (["reconstructions_figure"] if model_is_decodable(model) else [])
        figures += [paths.path(name, subject=subject, model=model) for name in names]
    return figures


def encoding_final_targets():
    """Table 1, the decoding and beta-overlap tables, the group figures and every subject's figures."""
    names = ("table1", "table1_md", "decoding_table", "beta_overlap_table", "rho_group_figure", "decoding_group_figure")
    return [paths.path(name) for name in names] + [f for s in fmri_subjects() for f in subject_figures(s)]
