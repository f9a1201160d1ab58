"""The map of the pipeline's files: every path, built from entities.

Each file the pipeline reads or writes is one line of :data:`FILES`, a
template whose ``{fields}`` are *entities* (:data:`ENTITIES`): ``subject``,
``model``, ``dataset``, ... One function turns a template into a Snakemake
wildcard pattern or a concrete path, depending on which entities it is given::

    >>> path("glm")                                   # a rule's input/output pattern
    'results/encoding/sub-{subject}/space-{space}/{model}/glm.h5'
    >>> path("glm", subject="01", space="fsaverage5", model="vae")   # a concrete file
    'results/encoding/sub-01/space-fsaverage5/vae/glm.h5'
    >>> path("glm", subject="01", space="fsaverage5")                # partly filled
    'results/encoding/sub-01/space-fsaverage5/{model}/glm.h5'

Rules use the patterns (``output: paths.path("glm")``), target lists and input
functions the concrete paths (``paths.path("model", **wildcards)``), and the
library gets the files it needs from its caller, never by parsing a path.

Conventions
-----------
- **Subjects travel as labels** ('01'), in wildcards, params, config and
  library calls; the ``sub-`` prefix is written only here: by the templates
  (``sub-{subject}``) and by :func:`bids` (``bids(subject="01") == "sub-01"``).
  A value that breaks an entity's pattern (``subject="sub-01"``) is refused.
- **Wildcard constraints come from the entities** (:func:`wildcard_constraints`,
  used by the Snakefile), so a pattern and its constraint cannot drift apart.
- **Logs and benchmarks** of a rule mirror its wildcards:
  ``logs/<rule>/<entities>.log`` and ``benchmarks/<rule>/<entities>.tsv``
  (:func:`log`, :func:`benchmark`); ``logs/<rule>/<rule>.log`` without wildcards.
- **BIDS names** (ours and the datasets') are built by :func:`bids` from
  entities in the BIDS specification's order; a run is an integer and is
  written as given (``run=1`` -> ``run-1``, as fMRIPrep writes it). Which
  files a BIDS dataset holds, and how ds001761 spells them, is the business
  of :mod:`facebrain.fmri.layout`.

Adding a file is one line in :data:`FILES`; adding an entity is one line in
:data:`ENTITIES` (its wildcard pattern and, for BIDS entities, its key).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ENTITIES", "FILES", "HEMIS", "benchmark", "bids", "entities_of", "log", "map_files", "path", "wildcard_constraints"]


@dataclass(frozen=True)
class Entity:
    """One entity of the pipeline's paths.

    Attributes
    ----------
    pattern : regular expression a value must match in full (the Snakemake
        wildcard constraint).
    key : its BIDS key ('sub', 'ses', 'run', ...); '' for entities of our own
        (model, dataset) that are written bare.
    doc : what a value is, with an example.
    """

    pattern: str
    key: str = ""
    doc: str = ""


LABEL = r"[A-Za-z0-9]+"
"""A BIDS label: alphanumeric, no '-' or '_'."""

#: Every entity, in the order of BIDS file names (then ours). The order also
#: sets the order of the folders of a log or benchmark path.
ENTITIES: dict[str, Entity] = {
    "subject": Entity(LABEL, "sub", "participant label without 'sub-': '01'"),
    "session": Entity(LABEL, "ses", "session label without 'ses-': '03'"),
    "task": Entity(LABEL, "task", "task label: 'faces', 'loc'"),
    "acq": Entity(LABEL, "acq", "acquisition label"),
    "rec": Entity(LABEL, "rec", "reconstruction label"),
    "dir": Entity(LABEL, "dir", "phase-encoding direction label"),
    "run": Entity(r"[0-9]+", "run", "run index, an integer: 1 (written run-1; a dataset's own padding is a string '01')"),
    "echo": Entity(r"[0-9]+", "echo", "echo index"),
    "hemi": Entity(r"L|R", "hemi", "hemisphere of a surface file: 'L' or 'R'"),
    "space": Entity(LABEL, "space", "template or surface space: 'MNI152NLin2009cAsym', 'fsaverage5'"),
    "res": Entity(LABEL, "res", "resolution index of a template space: '2'"),
    "den": Entity(LABEL, "den", "density of a surface space: '91k'"),
    "label": Entity(LABEL, "label", "label of a segmentation or probability map"),
    "desc": Entity(LABEL, "desc", "description: 'preproc', 'brain', 'confounds'"),
    "model": Entity(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", "", "a `models:` name, a grid name or NAME-seedN: 'factorvae', 'vae-seed1'"),
    "dataset": Entity(r"dsprites|synthfaces|celeba", "", "an image dataset: 'dsprites', 'synthfaces', 'celeba'"),
    "file": Entity(r"[^/]+", "", "a file name of a downloaded dataset: 'list_attr_celeba.txt'"),
}

_PAIR = "results/encoding/sub-{subject}/{model}"
_SPACE = "results/encoding/sub-{subject}/space-{space}"
_FIT = "results/encoding/sub-{subject}/space-{space}/{model}"
_HEMI = "_hemi-{hemi}.func.gii"

#: Every file of the pipeline: name -> template (Snakemake pattern with entity fields).
FILES: dict[str, str] = {
    # --- datasets: inputs in the real datasets' layouts, prepared HDF5 ------------------------
    "dsprites_npz": "resources/dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz",
    "face_root": "resources/{dataset}",  # CelebA layout: synthfaces (a folder written by one job) or celeba
    "celeba_file": "resources/celeba/{file}",  # one downloaded file of CelebA (img_align_celeba.zip, list_attr_celeba.txt, ...)
    "prepared": "results/data/{dataset}.h5",  # facebrain.datasets.prepared
    "face_grid": "results/data/synthfaces_grid.h5",  # every cell of SynthFaces' factor grid, rendered once (facebrain.datasets.face_grid)
    "dataset_figure": "results/figures/datasets/{dataset}.png",
    # --- models: trained models, latents, dimension labels, model tables -----------------------
    "model": "results/models/{model}/{dataset}/model.pt",
    "train_log": "results/models/{model}/{dataset}/train_log.tsv",
    "evaluation": "results/models/{model}/{dataset}/evaluation.json",
    "latents": "results/latents/{model}/{dataset}.h5",
    "dimension_labels": "results/latents/{model}/{dataset}_dimension_labels.tsv",
    "traversal_figure": "results/figures/traversals/{model}_{dataset}.png",
    "reconstruction_table": "results/tables/reconstruction_loss.csv",
    "hparam_table": "results/tables/hparam_search.csv",
    "latent_factor_table": "results/tables/latent_factor_correlation.csv",
    # --- fmri: the BIDS roots (layout inside: facebrain.fmri.layout), per-subject checks ------
    "fmri_simulated": "resources/simfmri",  # written whole by one job
    "fmri_downloaded": "resources/ds001761",  # filled by the download; its manifest is the job's output
    "fmri_manifest": "results/fmri/ds001761_manifest.json",
    "stimulus_audit": "results/fmri/sub-{subject}/stimulus_audit.tsv",
    "stimulus_counts": "results/fmri/sub-{subject}/stimulus_counts.json",
    "fmri_overview": "results/fmri/sub-{subject}/overview.png",
    # --- encoding: per subject and space (localizer), per subject x space x model, across subjects.
    # A map is one NIfTI in a volume space, a GIFTI per hemisphere on fsaverage5 (NAME_hemi: map_files)
    "brain_mask": f"{_SPACE}/localizer/brain_mask.nii.gz",
    "brain_mask_hemi": f"{_SPACE}/localizer/brain_mask{_HEMI}",
    "localizer_zmap": f"{_SPACE}/localizer/zmap.nii.gz",
    "localizer_zmap_hemi": f"{_SPACE}/localizer/zmap{_HEMI}",
    "face_selective": f"{_SPACE}/localizer/face_selective.nii.gz",
    "face_selective_hemi": f"{_SPACE}/localizer/face_selective{_HEMI}",
    "localizer_summary": f"{_SPACE}/localizer/localizer.json",
    "scaled_bold": f"{_SPACE}/scaled_bold.h5",  # task-faces BOLD masked and scaled once for every model's GLM (temporary)
    "encoding_labels": "results/encoding/labels/{model}_dimension_labels.tsv",  # automatic or raters' labels of the beta maps
    "stimulus_latents": f"{_PAIR}/stimulus_latents.h5",
    "glm": f"{_FIT}/glm.h5",
    "betas": f"{_FIT}/betas.nii.gz",
    "betas_hemi": f"{_FIT}/betas{_HEMI}",
    "zmaps": f"{_FIT}/zmaps.nii.gz",
    "zmaps_hemi": f"{_FIT}/zmaps{_HEMI}",
    "encoding": f"{_FIT}/encoding.h5",
    "encoding_summary": f"{_FIT}/encoding.json",
    "rho": f"{_FIT}/rho.nii.gz",
    "rho_hemi": f"{_FIT}/rho{_HEMI}",
    "rho_fdr": f"{_FIT}/rho_fdr.nii.gz",
    "rho_fdr_hemi": f"{_FIT}/rho_fdr{_HEMI}",
    "decoding": f"{_FIT}/decoding.h5",
    "decoding_summary": f"{_FIT}/decoding.json",
    "comparisons": f"{_SPACE}/comparisons.json",
    # figures: the volume's (axial slices), the surface's (inflated right hemisphere; view_surf page)
    "rho_figure": "results/figures/sub-{subject}/encoding_rho_{model}.png",
    "betas_figure": "results/figures/sub-{subject}/betas_{model}.png",
    "surface_rho_figure": "results/figures/sub-{subject}/space-{space}/encoding_rho_{model}.png",
    "surface_betas_figure": "results/figures/sub-{subject}/space-{space}/betas_{model}.png",
    "surface_view": "results/figures/sub-{subject}/space-{space}/encoding_rho_{model}.html",
    "surface_betas_group_figure": "results/figures/space-{space}/betas_{model}.png",
    "reconstructions_figure": "results/figures/sub-{subject}/reconstructions_{model}.png",
    "table1": "results/table1.csv",
    "table1_md": "results/table1.md",
    "decoding_table": "results/tables/decoding.csv",
    "beta_overlap_table": "results/tables/beta_overlap.csv",
    "rho_group_figure": "results/figures/encoding_rho_group.png",
    "ceiling_figure": "results/figures/encoding_ceiling.png",
    "decoding_group_figure": "results/figures/decoding_group.png",
    # --- metrics: per model, and the other papers' tables ----------------------------------------
    "metrics": "results/metrics/{model}/{dataset}.json",
    "metric_details": "results/metrics/{model}/{dataset}_details.json",
    "disentanglement_table": "results/tables/disentanglement_{dataset}.csv",
    "svae_forced_dims_table": "results/tables/svae_forced_dims_dsprites.csv",
    "svae_traversals_figure": "results/figures/svae_traversals_dsprites.png",
    "linear_probe_table": "results/tables/linear_probe.csv",
    "semantic_table": "results/tables/semantic_directions.csv",
    "semantic_dendrogram": "results/figures/semantic_directions_dendrogram.png",
    # --- metrics: Zheng et al. 2021 on the StyleGAN2s (facebrain.probes.measurement, directions, localized, quality)
    "measurement_net": "results/zheng/measurement_{dataset}.pt",
    "measurement_table": "results/tables/zheng_measurement_{dataset}.csv",
    "zheng_samples": "results/zheng/{model}/{dataset}/samples.h5",
    "zheng_directions": "results/zheng/{model}/{dataset}/directions.h5",
    "zheng_localized": "results/zheng/{model}/{dataset}/localized.h5",
    "zheng_table1": "results/tables/zheng_table1.csv",
    "zheng_table2": "results/tables/zheng_table2.csv",
    "zheng_manipulation_figure": "results/figures/zheng/manipulation_{model}_{dataset}.png",
    "zheng_dendrogram_figure": "results/figures/zheng/localized_dendrogram_{model}_{dataset}.png",
    "zheng_localized_figure": "results/figures/zheng/localized_edits_{model}_{dataset}.png",
    # --- provenance -------------------------------------------------------------------------------
    "provenance": "results/provenance.json",
    "environment": "results/provenance/environment.json",
}

_FIELD = re.compile(r"\{([^{}]*)\}")
_WILDCARD = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(,[^{}]*)?\}")


def _fields(template: str) -> tuple[str, ...]:
    """Entity names of ``template``'s fields, in order of appearance, each once."""
    return tuple(dict.fromkeys(_FIELD.findall(template)))


def _check_templates() -> None:
    for name, template in FILES.items():
        unknown = [f for f in _fields(template) if f not in ENTITIES]
        if unknown:
            raise ValueError(f"facebrain.paths.FILES[{name!r}] = {template!r}: unknown entity field(s) {unknown}")


_check_templates()


def _value(entity: str, value: str | int) -> str:
    """``value`` as written in a path, after checking it against the entity's pattern.

    A Snakemake wildcard ('{model}') passes unchanged, so patterns and paths
    come from the same call.
    """
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}; known: {', '.join(ENTITIES)}")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"entity {entity}: expected a str or int, got {type(value).__name__} {value!r}")
    text = str(value)
    if _WILDCARD.fullmatch(text):
        return text
    if not re.fullmatch(ENTITIES[entity].pattern, text):
        hint = f" (write the label without '{ENTITIES[entity].key}-')" if ENTITIES[entity].key and text.startswith(f"{ENTITIES[entity].key}-") else ""
        raise ValueError(f"entity {entity}={text!r} does not match {ENTITIES[entity].pattern!r}{hint}")
    return text


def entities_of(name: str) -> tuple[str, ...]:
    """The entities of file ``name``'s template, in order ('glm' -> ('subject', 'space', 'model'))."""
    return _fields(_template(name))


def _template(name: str) -> str:
    try:
        return FILES[name]
    except KeyError:
        raise KeyError(f"no file {name!r} in facebrain.paths.FILES; known: {', '.join(sorted(FILES))}") from None


def path(name: str, **entities: str | int) -> str:
    """The path of file ``name`` of :data:`FILES`, with the given entities filled in.

    Entities not given stay Snakemake wildcards (``{model}``), so the same call
    makes a rule's pattern (no entities), a concrete path (all of them) or
    anything between. Snakemake's ``wildcards`` object can be passed as
    ``**wildcards``.

    Parameters
    ----------
    name : a key of :data:`FILES` ('glm', 'model', 'table1', ...).
    **entities : entity values (labels: ``subject="01"``, ``model="vae"``).

    Returns
    -------
    str, relative to the workflow's directory.

    Raises
    ------
    KeyError
        ``name`` is not in :data:`FILES`.
    ValueError
        an entity the template does not have, or a value that breaks its pattern.
    """
    template = _template(name)
    fields = _fields(template)
    extra = [e for e in entities if e not in fields]
    if extra:
        raise ValueError(f"file {name!r} ({template}) has no entity {', '.join(extra)}; its entities: {', '.join(fields) or 'none'}")
    values = {e: _value(e, v) for e, v in entities.items()}
    return _FIELD.sub(lambda m: values.get(m[1], m[0]), template)


HEMIS = ("L", "R")
"""The hemispheres of a surface map, in the order of its files (left first)."""


def map_files(name: str, surface: bool, **entities: str | int) -> list[str]:
    """The file(s) of map ``name``: ``[path(name)]`` in a volume space (one NIfTI), or
    ``[path(name + '_hemi', hemi='L'), path(name + '_hemi', hemi='R')]`` on a surface (a GIFTI per hemisphere).

    ``map_files("rho", True, subject="01", space="fsaverage5", model="vae")`` is
    ``['results/encoding/sub-01/space-fsaverage5/vae/rho_hemi-L.func.gii', '..._hemi-R.func.gii']``
    (the order :mod:`facebrain.fmri.spaces` reads and writes).
    """
    if not surface:
        return [path(name, **entities)]
    return [path(f"{name}_hemi", hemi=hemi, **entities) for hemi in HEMIS]


def _entity_folders(wildcards: tuple[str, ...], entities: dict[str, str | int]) -> str:
    """'sub-{subject}/{model}': one folder per entity, in :data:`ENTITIES` order."""
    given = set(wildcards) | set(entities)
    unknown = sorted(given - set(ENTITIES))
    if unknown:
        raise ValueError(f"unknown entity {', '.join(unknown)}; known: {', '.join(ENTITIES)}")
    parts = []
    for entity, spec in ENTITIES.items():
        if entity in given:
            value = _value(entity, entities[entity]) if entity in entities else f"{{{entity}}}"
            parts.append(f"{spec.key}-{value}" if spec.key else value)
    return "/".join(parts)


def log(rule: str, *wildcards: str, **entities: str | int) -> str:
    """The log of a job of ``rule``: ``logs/<rule>/<entities>.log``.

    Parameters
    ----------
    rule : the rule's name.
    *wildcards : names of the entities left as wildcards (those of the rule's
        outputs): ``log("encoding_glm", "subject", "model")`` is
        ``'logs/encoding_glm/sub-{subject}/{model}.log'``.
    **entities : entities given a value: ``log("encoding_glm", subject="01", model="vae")``
        is ``'logs/encoding_glm/sub-01/vae.log'``.

    Without entities the log is ``logs/<rule>/<rule>.log``.
    """
    return f"logs/{rule}/{_entity_folders(wildcards, entities) or rule}.log"


def benchmark(rule: str, *wildcards: str, **entities: str | int) -> str:
    """The benchmark of a job of ``rule``: ``benchmarks/<rule>/<entities>.tsv`` (as :func:`log`)."""
    return f"benchmarks/{rule}/{_entity_folders(wildcards, entities) or rule}.tsv"


def wildcard_constraints() -> dict[str, str]:
    """Entity -> regular expression: the Snakefile's global ``wildcard_constraints``."""
    return {entity: spec.pattern for entity, spec in ENTITIES.items()}


def bids(datatype: str = "", suffix: str = "", extension: str = "", **entities: str | int | None) -> str:
    """A BIDS file name (or folder path) from entities, in the specification's entity order.

    Parameters
    ----------
    datatype : e.g. 'func'; when given, the name is placed under its folders
        ``sub-<subject>/[ses-<session>/]<datatype>/``.
    suffix : e.g. 'bold', 'events', 'mask', 'timeseries' ('' for none).
    extension : with its dot: '.nii.gz', '.tsv', '.func.gii', '.json'.
    **entities : BIDS entities of :data:`ENTITIES` with a key (subject, session,
        task, run, hemi, space, res, desc, ...); None leaves one out. Labels
        are written as given; a run given as an int is written unpadded
        (``run=1`` -> ``run-1``), a run given as a str as is (``'01'``).

    Returns
    -------
    str: ``'sub-01_ses-03_task-faces_run-1_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz'``
    (``datatype=''``), ``'sub-01/ses-03/func/sub-01_..._events.tsv'`` (``datatype='func'``),
    or just the key-values: ``bids(subject="01") == 'sub-01'``.

    Raises
    ------
    ValueError
        an entity without a BIDS key, or a value that breaks its pattern.
    """
    given = {e: v for e, v in entities.items() if v is not None}
    not_bids = [e for e in given if e not in ENTITIES or not ENTITIES[e].key]
    if not_bids:
        raise ValueError(f"not BIDS entities: {', '.join(not_bids)}; BIDS entities: {', '.join(e for e, s in ENTITIES.items() if s.key)}")
    pairs = {e: f"{spec.key}-{_value(e, given[e])}" for e, spec in ENTITIES.items() if e in given}
    name = "_".join(list(pairs.values()) + ([suffix] if suffix else [])) + extension
    if not datatype:
        return name
    if "subject" not in pairs:
        raise ValueError(f"a BIDS {datatype}/ file needs a subject")
    folders = [pairs["subject"]] + ([pairs["session"]] if "session" in pairs else []) + [datatype]
    return "/".join(folders + [name])
