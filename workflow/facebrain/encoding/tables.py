"""Tables of the encoding stage: Table 1 (encoding accuracy), decoding, beta-map overlap."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from facebrain.errors import DataError
from facebrain.io import read_json, write_table, write_text
from facebrain.paths import bids

log = logging.getLogger(__name__)


def stars(p: float) -> str:
    """Significance stars: *** p < 0.001, ** p < 0.01, * p < 0.05."""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def collect(summaries: Sequence[str | Path], subjects: Sequence[str], models: Sequence[str], columns: Sequence[str],
            spaces: Sequence[str]) -> pd.DataFrame:
    """One row per (subject, model, space) with ``columns`` taken from each summary JSON (same order as ``summaries``).

    ``subjects`` are labels ('01'); the table's ``subject`` column names them as BIDS does ('sub-01').
    ``spaces`` are the analysis spaces of the summaries ('MNI152NLin2009cAsym', 'fsaverage5').
    """
    if not len(summaries) == len(subjects) == len(models) == len(spaces):
        raise ValueError("summaries, subjects, models and spaces must have the same length")
    rows = []
    for path, subject, model, space in zip(summaries, subjects, models, spaces):
        summary = read_json(path, "summary JSON")
        missing = [c for c in columns if c not in summary]
        if missing:
            raise DataError(path, f"summary lacks {missing}")
        rows.append({"subject": bids(subject=subject), "model": model, "space": space, **{c: summary[c] for c in columns}})
    return pd.DataFrame(rows)


def comparison_rows(comparison_jsons: Sequence[str | Path], subjects: Sequence[str], spaces: Sequence[str], seed: int = 0) -> pd.DataFrame:
    """Table 1's comparison rows: per subject, and across subjects (``subject`` 'group'), per space.

    Parameters
    ----------
    comparison_jsons : per subject and space, the JSON of :func:`facebrain.encoding.comparison.compare_subject_models`.
    subjects : their labels ('01').
    spaces : their analysis spaces ('MNI152NLin2009cAsym', 'fsaverage5').
    seed : seed of the random sign flips (used only with more than 12 subjects).

    Returns
    -------
    DataFrame (subject, model 'a - b', space, rho = the difference of mean rho, p, ci_low, ci_high, n_voxels,
    n_permutations, kind 'comparison'). A space's group row has the sign-flip p over its subjects
    (:func:`facebrain.encoding.comparison.sign_flip_test`; n_permutations = sign patterns), its interval
    the percentile interval of the mean of the subjects' bootstrap draws.
    """
    from facebrain.encoding.comparison import EXACT_SIGN_FLIPS, sign_flip_test

    columns = ["subject", "model", "space", "rho", "p", "ci_low", "ci_high", "n_voxels", "n_permutations"]
    rows, draws = [], {}
    for path, subject, space in zip(comparison_jsons, subjects, spaces, strict=True):
        for c in read_json(path, "summary JSON").get("comparisons", []):
            name = f"{c['a']} - {c['b']}"
            rows.append({"subject": bids(subject=subject), "model": name, "space": space, "rho": c["diff"], "p": c["p"], "ci_low": c["ci_low"],
                         "ci_high": c["ci_high"], "n_voxels": c["n_voxels"], "n_permutations": c["n_permutations"]})
            draws.setdefault((name, space), []).append(np.asarray(c["bootstrap"]))
    frame = pd.DataFrame(rows, columns=columns)
    group = []
    for (name, space), per_subject in frame.groupby(["model", "space"], sort=False):
        mean, p = sign_flip_test(per_subject.rho.to_numpy(), 10_000, np.random.default_rng(seed))
        n_boot = min(len(d) for d in draws[name, space])
        low, high = np.quantile(np.mean([d[:n_boot] for d in draws[name, space]], axis=0), [0.025, 0.975])
        n_signs = 2 ** len(per_subject) if len(per_subject) <= EXACT_SIGN_FLIPS else 10_000
        group.append({"subject": "group", "model": name, "space": space, "rho": mean, "p": p, "ci_low": low, "ci_high": high, "n_voxels": np.nan,
                      "n_permutations": n_signs})
    return pd.concat([frame, pd.DataFrame(group, columns=columns)], ignore_index=True).assign(kind="comparison")


def table1_markdown(table: pd.DataFrame) -> str:
    """Table 1 laid out as in Soulos & Isik 2020: models as rows, subjects as columns, 'rho stars'; one block per space.

    Comparison rows ('a - b', ``kind == 'comparison'``) follow in each block, each cell 'difference stars [95% CI]',
    with a 'group' column (mean over subjects, sign-flip p).
    """
    kind = table.kind if "kind" in table else pd.Series("model", index=table.index)
    models, comparisons = table[kind == "model"], table[kind == "comparison"]
    cells = table.assign(cell=[f"{r:.3f}{stars(p)}" for r, p in zip(table.rho, table.p)])
    if len(comparisons):
        cells.loc[comparisons.index, "cell"] = [f"{r:+.3f}{stars(p)} [{lo:+.3f}, {hi:+.3f}]" for r, p, lo, hi in
                                                zip(comparisons.rho, comparisons.p, comparisons.ci_low, comparisons.ci_high)]
    n_perm = ", ".join(str(n) for n in sorted(set(models.n_permutations)))
    lines = [
        "Table 1. Mean Spearman rho over face-selective voxels (vertices on fsaverage5) between predicted and measured responses "
        f"to the held-out test faces ({n_perm} permutations of the test-face labels; *** p < 0.001, ** p < 0.01, * p < 0.05)."
        + (" Rows 'a - b': difference of mean rho [95% bootstrap CI over test faces]; p from swapping the two models' "
           "predicted patterns per test face (two-sided); group: mean over subjects, p from sign flips of the subjects' differences."
           if len(comparisons) else ""),
    ]
    for space, block in cells.groupby("space", sort=False):
        block_comparisons = (kind[block.index] == "comparison").any()
        columns = list(dict.fromkeys(block[kind[block.index] == "model"].subject)) + (["group"] if block_comparisons else [])
        wide = block.pivot(index="model", columns="subject", values="cell").reindex(index=list(dict.fromkeys(block.model)), columns=columns)
        lines += ["", f"space-{space}:", "", "| model | " + " | ".join(wide.columns) + " |", "|---|" + "---:|" * len(wide.columns)]
        lines += [f"| {model} | " + " | ".join(row.fillna("")) + " |" for model, row in wide.iterrows()]
        block_models = models[models.space == space]
        if "ceiling" in block_models and block_models.ceiling.notna().any():
            ceiling = block_models.groupby("subject", sort=False).ceiling.mean().reindex(columns)
            lines.append("| noise ceiling | " + " | ".join("" if np.isnan(c) else f"{c:.3f}" for c in ceiling) + " |")
    if "ceiling" in models and models.ceiling.notna().any():
        lines += ["", "Noise ceiling: sqrt of the Spearman-Brown corrected split-half reliability of the test-face responses "
                  "(mean split-half r over the face-selective voxels), averaged over the models' fits (each fit's own test betas); "
                  "results/table1.csv gives each model's ceiling and rho as a fraction of it (rho_ceiling)."]
    return "\n".join(lines) + "\n"


def write_table1(
    summaries: Sequence[str | Path],
    subjects: Sequence[str],
    models: Sequence[str],
    spaces: Sequence[str],
    out_csv: str | Path,
    out_md: str | Path,
    comparisons: Sequence[str | Path] = (),
    comparison_subjects: Sequence[str] = (),
    comparison_spaces: Sequence[str] = (),
    seed: int = 0,
) -> pd.DataFrame:
    """Pipeline step: results/table1.csv and table1.md.

    Columns: subject, model, space, rho, p, ci_low, ci_high, ceiling, rho_ceiling, n_voxels, n_permutations, kind.
    One 'model' row per subject x model x analysis space (``spaces``: the space of each summary; rho and its
    label-permutation p, the noise ceiling of the fit and rho as a fraction of it, :mod:`facebrain.encoding.ceiling`;
    no CI), then the 'comparison' rows of :func:`comparison_rows` from the per-subject and space
    ``comparisons`` JSONs (labels ``comparison_subjects``, spaces ``comparison_spaces``).
    """
    table = collect(summaries, subjects, models, ["rho", "p", "ceiling", "rho_ceiling", "n_voxels", "n_permutations"], spaces)
    table = table.assign(ci_low=np.nan, ci_high=np.nan, kind="model")
    if len(comparisons):
        table = pd.concat([table, comparison_rows(comparisons, comparison_subjects, comparison_spaces, seed)], ignore_index=True)
    table = table[["subject", "model", "space", "rho", "p", "ci_low", "ci_high", "ceiling", "rho_ceiling", "n_voxels", "n_permutations", "kind"]]
    log.info("Table 1: %d subjects x %d models x %d spaces, %d comparison rows", len(set(subjects)), len(set(models)), len(set(spaces)),
             int((table.kind == "comparison").sum()))
    write_table(out_csv, table)
    write_text(out_md, table1_markdown(table))
    return table


def write_decoding_table(
    summaries: Sequence[str | Path], subjects: Sequence[str], models: Sequence[str], spaces: Sequence[str], out_csv: str | Path,
    comparisons: Sequence[Sequence[str]] = (),
) -> pd.DataFrame:
    """Pipeline step: results/tables/decoding.csv.

    One row per subject x model x space (pairwise_accuracy and its p under ``identification``, gender_accuracy and
    gender_p, n_voxels, n_latents, the decoder's ridge and whether cross-validation chose it, ridge_cv); for each
    ``(a, b)`` in ``comparisons`` whose models are both present, one row per subject and space with
    model ``'a - b'`` holding the differences of the accuracies (p left empty: the two models' p
    are in their own rows).
    """
    table = collect(summaries, subjects, models, ["pairwise_accuracy", "p", "identification", "gender_accuracy", "gender_p", "n_voxels", "n_latents", "ridge", "ridge_cv"],
                    spaces)
    rows = []
    for a, b in comparisons:
        if not {a, b} <= set(table.model):
            continue
        for (subject, space), group in table.groupby(["subject", "space"], sort=False):
            ra, rb = group.set_index("model").loc[a], group.set_index("model").loc[b]
            rows.append({"subject": subject, "model": f"{a} - {b}", "space": space, "pairwise_accuracy": ra.pairwise_accuracy - rb.pairwise_accuracy,
                         "p": np.nan, "identification": ra.identification, "gender_accuracy": ra.gender_accuracy - rb.gender_accuracy,
                         "gender_p": np.nan, "n_voxels": ra.n_voxels})
    table = pd.concat([table, pd.DataFrame(rows)], ignore_index=True) if rows else table
    write_table(out_csv, table)
    return table


def labelled_dimensions(labels_tsv: str | Path, min_abs_corr: float) -> dict[str, int]:
    """factor -> the latent dim best matching it, from a models-stage ``*_dimension_labels.tsv``.

    Each factor keeps its single best dim, and only if ``abs_corr >= min_abs_corr``; labels given
    by raters (``source`` 'raters', :func:`facebrain.models.dimension_labels.apply_rater_labels`) are
    kept whatever their correlation.
    """
    try:
        labels = pd.read_csv(labels_tsv, sep="\t")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(labels_tsv, f"cannot read dimension labels: {exc}") from exc
    missing = {"dim", "factor", "abs_corr"} - set(labels.columns)
    if missing:
        raise DataError(labels_tsv, f"missing column(s) {sorted(missing)}")
    labels = labels[labels.factor.notna() & (labels.factor.astype(str) != "")]
    rated = labels["source"].eq("raters") if "source" in labels.columns else pd.Series(False, index=labels.index)
    best = labels[rated | (labels.abs_corr >= min_abs_corr)].sort_values("abs_corr", ascending=False).drop_duplicates("factor")
    return {str(f): int(d) for f, d in zip(best.factor, best.dim)}


def beta_overlap(W: np.ndarray, dims: dict[str, int], fraction: float, null, n_null: int, rng: np.random.Generator) -> pd.DataFrame:
    """Dice overlap of the top voxels of every pair of labelled dimensions, with its spatial null.

    Parameters
    ----------
    W : (K, V) latent weights over all of the GLM's elements, or (for a spin null) over the whole surface (the null moves whole maps).
    dims : factor -> latent dim (:func:`labelled_dimensions`).
    fraction : share of the region's voxels with the largest |beta| that form a dimension's map.
    null : spatial null over the region (:class:`facebrain.encoding.overlap.ShiftNull` or
        :class:`facebrain.encoding.spin.SpinNull`); n_null : its surrogates; rng : numpy Generator.

    Returns
    -------
    DataFrame with factor_a, dim_a, factor_b, dim_b, dice, chance (the null's mean Dice), p (one-sided,
    :func:`facebrain.encoding.overlap.overlap_test`), null (its name), n_null, n_top.
    """
    from facebrain.encoding.overlap import overlap_test

    n_top = max(1, int(round(fraction * len(null.region))))
    rows = []
    for fa, fb in itertools.combinations(dims, 2):
        result = overlap_test(W[dims[fa]], W[dims[fb]], null, fraction, n_null, rng)
        rows.append({"factor_a": fa, "dim_a": dims[fa], "factor_b": fb, "dim_b": dims[fb], "dice": result.dice, "chance": result.chance, "p": result.p,
                     "null": null.name, "n_null": n_null, "n_top": n_top})
    return pd.DataFrame(rows, columns=OVERLAP_COLUMNS[3:])


OVERLAP_COLUMNS = ["subject", "model", "space", "factor_a", "dim_a", "factor_b", "dim_b", "dice", "chance", "p", "null", "n_null", "n_top"]


def write_beta_overlap(
    glms: Sequence[str | Path],
    brain_masks: Sequence[str | Path],
    selective: Sequence[str | Path],
    labels: Sequence[str | Path],
    subjects: Sequence[str],
    models: Sequence[str],
    spaces: Sequence[str],
    out_csv: str | Path,
    top_fraction: float = 0.2,
    min_abs_corr: float = 0.5,
    reliability_threshold: float | None = None,
    n_null: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Pipeline step: results/tables/beta_overlap.csv, one row per subject x model x space x pair of labelled dims.

    The maps are taken over the voxels the encoding score uses (face-selective, and split-half
    reliable when ``reliability_threshold`` is set). ``brain_masks`` and ``selective`` list the
    fits' localizer maps in turn: a NIfTI per volume fit, a GIFTI pair (hemi-L, hemi-R) per fit on
    fsaverage5 (:func:`facebrain.fmri.spaces.split_maps`); ``spaces`` is each fit's space. The null
    (``n_null`` surrogates, seeded by ``seed``) is :class:`facebrain.encoding.overlap.ShiftNull` in a
    volume and :class:`facebrain.encoding.spin.SpinNull` on the surface.
    """
    from facebrain.encoding.accuracy import load_selected_glm
    from facebrain.encoding.overlap import ShiftNull
    from facebrain.encoding.spin import SpinNull
    from facebrain.fmri.spaces import split_maps

    frames = []
    masks, sels = split_maps(brain_masks, spaces), split_maps(selective, spaces)
    for glm_h5, mask, sel, lab, subject, model, space in zip(glms, masks, sels, labels, subjects, models, spaces, strict=True):
        glm, keep, space_mask = load_selected_glm(glm_h5, mask, sel, reliability_threshold)
        if space_mask.surface:
            null, W = SpinNull(np.flatnonzero(space_mask.inside)[keep]), space_mask.full(np.asarray(glm["W"], float), fill=np.nan)
        else:
            null, W = ShiftNull(space_mask.inside, np.flatnonzero(keep)), glm["W"]
        frame = beta_overlap(W, labelled_dimensions(lab, min_abs_corr), top_fraction, null, n_null, np.random.default_rng(seed))
        frames.append(frame.assign(subject=bids(subject=subject), model=model, space=space))
    table = pd.concat(frames, ignore_index=True)[OVERLAP_COLUMNS] if frames else pd.DataFrame(columns=OVERLAP_COLUMNS)
    log.info("beta overlap: %d pairs of labelled dimensions over %d subject x model fits (%d null surrogates each)", len(table), len(frames), n_null)
    write_table(out_csv, table)
    return table
