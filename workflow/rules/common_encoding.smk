# encoding stage: config look-ups and target lists (paths come from facebrain.paths).
#
# Per subject and space (localizer) and per subject x space x model: each path
# carries the subject and the space (its `space` entity: space_label), so one
# subject rebuilds alone. A map is one NIfTI in the volume and a GIFTI per
# hemisphere on fsaverage5 (space_map). Across subjects: Table 1, the decoding
# and beta-overlap tables (a `space` column) and the group figures.

import math
import re

from facebrain.encoding.glm import model_passes
from facebrain.models.kinds import latent_count


def encoding_config():
    """The validated `encoding:` config section."""
    return config["encoding"]


def encoding_models():
    """Models fitted per subject (`encoding.models`)."""
    return list(encoding_config()["models"])


VOLUME_LABEL, SURFACE_LABEL = space_label(VOLUME), space_label(SURFACE)
SPACE_OF_LABEL = {space_label(s): s for s in (VOLUME, SURFACE)}


def space_labels():
    """The `space` entities of the configured analysis spaces, in `fmri.spaces` order."""
    return [space_label(s) for s in fmri_spaces()]


def space_map(name, label, **entities):
    """The file(s) of map `name` in space `label`: [NIfTI] in the volume, [hemi-L, hemi-R GIFTI] on the surface."""
    return paths.map_files(name, is_surface(SPACE_OF_LABEL[label]), space=label, **entities)


def space_reader_options(wildcards):
    """params of the localizer and GLM: reader options for the BOLD of {space}."""
    return fmri_reader_options(SPACE_OF_LABEL[wildcards.space])


def bold_reader_options(wildcards):
    """params of the scaled-BOLD job: reader options for the BOLD of {space} (the confounds are the GLM's)."""
    return {k: v for k, v in space_reader_options(wildcards).items() if k != "confounds"}


def brain_mask_input(wildcards):
    """The localizer's analysis mask of {subject} in {space}."""
    return space_map("brain_mask", wildcards.space, subject=wildcards.subject)


def localizer_inputs(wildcards):
    """The localizer's maps of {subject} in {space}: the analysis mask and the face-selective mask."""
    return {name: space_map(name, wildcards.space, subject=wildcards.subject) for name in ("brain_mask", "face_selective")}


def glm_latents_inputs():
    """The stimulus latents of every model of {subject} (encoding_models() order): the inputs of the subject's GLM job."""
    return [paths.path("stimulus_latents", model=m) for m in encoding_models()]


def glm_outputs(name, surface):
    """Outputs of the GLM job of {subject} in {space}: file `name` (glm) or map `name` (betas, zmaps) of every model, models in turn."""
    if name == "glm":
        return [paths.path(name, model=m) for m in encoding_models()]
    return [f for m in encoding_models() for f in paths.map_files(name, surface, model=m)]


def other_model_pattern():
    """Regular expression of a model name outside `encoding.models`: such a model's files (e.g. a
    figure named on the command line) come from a GLM job of its own (rules encoding_glm_model*)."""
    listed = "|".join(re.escape(m) for m in encoding_models())
    # Snakemake matches the whole path: the name ends at the next folder separator, not at the string's end.
    return f"(?!(?:{listed})(?:/|$))[^/]+" if listed else "[^/]+"


# Memory of the GLM jobs (encoding_glm*: the widest pass; encoding_glm_model*: one model), at the real counts. Peak RSS measured with
# /usr/bin/time -v of one model's fit from the scaled BOLD, its maps written (bench/glm_memory.py: synthetic
# runs as bench/glm.py writes them, ols) at the demo's volume (25,600 voxels, 9 runs x 110 volumes): 363 MB with K = 24 latents (P = 48 task regressors), 2.27 GB with K = 512, 4.27 GB
# with K = 1024: linear in P x V, 153 bytes per regressor and element (the halves' X'Y sums and their per-model
# copy, the betas of the fit and of each half, the z-map steps: float64); with `glm.noise_model: ar1`, 2.89 GB
# at K = 512 (~201 bytes: GLM_BYTES_PER_BETA). At the real volume's 200,704 voxels (2 runs x 200 volumes; memory does not grow with
# the runs) K = 24 peaked at 1.38 GB (ols), below this estimate.
GLM_FIXED_MB = 1000
"""Fixed part of a GLM job's memory: libraries (130-300 MB measured) and one real run's data (200 x 200k float32 and a float64 chunk), with room."""
GLM_BYTES_PER_BETA = {"ols": 180, "ar1": 210}
"""Bytes per task regressor and element, by `encoding.glm.noise_model` (153 measured with ols; ~201 with ar1,
whose OLS pass keeps 7 float64 sums per stacked column and voxel: bench/glm_memory.py --latents 512
--noise-model ar1 peaked at 2.89 GB; rounded up)."""
GLM_SHARED_REGRESSORS = 24
"""Task regressors besides the latents: face, one-back, img, excluded and the 20 test faces."""
GLM_REAL_ELEMENTS = {VOLUME_LABEL: 200_704, SURFACE_LABEL: 2 * 10_242}
"""Elements per space at the real counts: ds001761's ~200k in-brain voxels (bench/glm.py's real scale), fsaverage5's vertices."""
ORACLE_LATENTS = 40
"""The oracle's latents are the face dataset's factors: at most CelebA's 40 attributes."""


def _glm_mem_mb(regressors: int, space: str) -> int:
    """Memory (MB) of a GLM pass with ``regressors`` task regressors at the real element count of ``space`` (the constants above)."""
    per_beta = GLM_BYTES_PER_BETA[encoding_config()["glm"]["noise_model"]]
    return GLM_FIXED_MB + math.ceil(per_beta * regressors * GLM_REAL_ELEMENTS[space] / 1e6)


def _latents(model: str) -> int:
    return latent_count(model_spec(model)) or ORACLE_LATENTS


def glm_model_mem_mb(wildcards):
    """resources of rules encoding_glm_model*: the memory (MB) of one model's GLM at the real counts of {space},
    from its latent count K (facebrain.models.kinds.latent_count) and the constants above."""
    return _glm_mem_mb(_latents(wildcards.model) + GLM_SHARED_REGRESSORS, wildcards.space)


def glm_subject_mem_mb(wildcards):
    """resources of rules encoding_glm(_surface): the memory (MB) of the widest of the subject's passes over its
    BOLD (facebrain.encoding.glm.model_passes groups encoding.models; the passes run one after another),
    at the real counts of {space}: a 1024-d model is a pass of its own and needs ~39 GB in the volume."""
    counts = {m: _latents(m) for m in encoding_models()}
    passes = model_passes(counts, GLM_SHARED_REGRESSORS, encoding_config()["glm"]["hrf_model"])
    return _glm_mem_mb(max(GLM_SHARED_REGRESSORS + sum(counts[m] for m in p) for p in passes), wildcards.space)


def fit_triples():
    """(subject label, space label, model) of every fit: subjects first, then spaces, then models."""
    return [(s, sp, m) for s in fmri_subjects() for sp in space_labels() for m in encoding_models()]


def pair_inputs(name):
    """paths.path(name) of every fit, in fit_triples() order."""
    return [paths.path(name, subject=s, space=sp, model=m) for s, sp, m in fit_triples()]


def pair_subjects():
    """params of the tables: the subject label of each fit."""
    return [s for s, _, _ in fit_triples()]


def pair_spaces():
    """params of the tables: the space of each fit."""
    return [sp for _, sp, _ in fit_triples()]


def pair_models():
    """params of the tables: the model of each fit."""
    return [m for _, _, m in fit_triples()]


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
    """The GLMs of {subject} in {space} that the model comparisons need (comparison_models() order)."""
    return [paths.path("glm", subject=wildcards.subject, space=wildcards.space, model=m) for m in comparison_models()]


def comparison_fits():
    """(subject, space) with a comparisons file: every subject in every space, or none without comparisons."""
    return [(s, sp) for s in fmri_subjects() for sp in space_labels()] if comparison_models() else []


def comparison_subjects():
    """params of Table 1: the subject of each comparisons file."""
    return [s for s, _ in comparison_fits()]


def comparison_spaces():
    """params of Table 1: the space of each comparisons file."""
    return [sp for _, sp in comparison_fits()]


def table1_inputs(wildcards):
    """Every subject x space x model encoding summary and every subject's model comparisons in every space."""
    return {
        "summaries": pair_inputs("encoding_summary"),
        "comparisons": [paths.path("comparisons", subject=s, space=sp) for s, sp in comparison_fits()],
    }


def decoding_inputs(wildcards):
    return pair_inputs("decoding_summary")


def beta_overlap_inputs(wildcards):
    """GLMs, masks and dimension labels of every fit (a map's files are listed by the params' counts)."""
    fits = fit_triples()
    return {
        "glms": pair_inputs("glm"),
        "brain_masks": [f for s, sp, _ in fits for f in space_map("brain_mask", sp, subject=s)],
        "selective": [f for s, sp, _ in fits for f in space_map("face_selective", sp, subject=s)],
        "labels": [paths.path("encoding_labels", model=m) for _, _, m in fits],
    }


def primary_space_label():
    """The first space of `fmri.spaces`: the one the reconstructions figure decodes from."""
    return space_labels()[0]


def surface_group_inputs(wildcards):
    """Fig. 5/7 of {model}: every subject's surface beta maps and face-selective masks."""
    subjects = fmri_subjects()
    return {
        "betas": [f for s in subjects for f in space_map("betas", SURFACE_LABEL, subject=s, model=wildcards.model)],
        "selective": [f for s in subjects for f in space_map("face_selective", SURFACE_LABEL, subject=s)],
        "labels": encoding_labels_input(wildcards),
    }


def subject_figures(subject):
    """Per-subject figures of every model: the volume's rho and beta maps, the surface's rho and beta maps
    and interactive page (each for a configured space), and the reconstructions of decodable models."""
    names = (["rho_figure", "betas_figure"] if VOLUME_LABEL in space_labels() else []) + (
        ["surface_rho_figure", "surface_betas_figure", "surface_view"] if SURFACE_LABEL in space_labels() else [])
    figures = []
    for model in encoding_models():
        figures += [paths.path(name, subject=subject, model=model, **({"space": SURFACE_LABEL} if name.startswith("surface") else {}))
                    for name in names]
        if model_is_decodable(model):
            figures.append(paths.path("reconstructions_figure", subject=subject, model=model))
    return figures


def encoding_final_targets():
    """Table 1, the decoding and beta-overlap tables, the group figures (and Fig. 5/7 on the surface per
    model) and every subject's figures."""
    names = ("table1", "table1_md", "decoding_table", "beta_overlap_table", "rho_group_figure", "decoding_group_figure", "ceiling_figure")
    group = [paths.path("surface_betas_group_figure", space=SURFACE_LABEL, model=m) for m in encoding_models()] if SURFACE_LABEL in space_labels() else []
    return [paths.path(name) for name in names] + group + [f for s in fmri_subjects() for f in subject_figures(s)]
