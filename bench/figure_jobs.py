"""CPU of the encoding figure jobs of a subject x model: one process per figure against one per space.

Until commit "encoding: one job draws a subject x model's volume figures, one its surface
figures", five rules drew a subject x model's figures, each in a process of its own
(encoding_rho_figure, encoding_betas_figure, encoding_surface_rho_figure,
encoding_surface_betas_figure, encoding_surface_view); rules encoding_volume_figures and
encoding_surface_figures now draw them in two. Each process here is a fresh interpreter that
imports what a Snakemake script job imports (the script preamble's snakemake modules,
facebrain.pipeline) and makes the library call; its CPU (user + sys of the child) counts the
interpreter's start and the imports, as a job's benchmark does. The figures of both ways are
then compared: pixels of the PNGs, bytes of the page.

Inputs are a finished demo's results (read only):

    .venv/bin/python bench/figure_jobs.py /path/to/demo --subjects 01 04 --models factorvae oracle
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from facebrain import paths
from facebrain.fmri.spaces import SURFACE, VOLUME, space_label

CHILD = """import importlib, json, sys
from snakemake.logging import logger
from snakemake.iocontainers import Snakemake
module, func, kwargs = json.loads(sys.argv[1])
function = getattr(importlib.import_module(module), func)
import facebrain.pipeline
function(**kwargs)
"""


def child_cpu(module: str, func: str, **kwargs) -> float:
    """CPU seconds (user + sys) of a fresh interpreter that imports ``module`` and calls ``func(**kwargs)``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", CHILD, json.dumps([module, func, kwargs])], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def jobs(root: Path, subject: str, model: str, out: Path, min_abs_corr: float, fdr_alpha: float) -> tuple[list, list]:
    """(separate, combined): lists of (name, module, function, kwargs, outputs) of the subject x model's figure jobs."""
    vol, surf = space_label(VOLUME), space_label(SURFACE)

    def f(name: str, space: str | None = None, **entities) -> str:
        return str(root / paths.path(name, subject=subject, **({"space": space} if space else {}), **entities))

    def pair(name: str, **entities) -> list[str]:
        return [str(root / p) for p in paths.map_files(name, True, subject=subject, space=surf, **entities)]

    labels = str(root / paths.path("encoding_labels", model=model))
    vol_kw = dict(rho_nii=f("rho", vol, model=model), brain_mask_nii=f("brain_mask", vol), summary_json=f("encoding_summary", vol, model=model),
                  title=f"{paths.bids(subject=subject)} {model}")
    beta_kw = dict(betas_nii=f("betas", vol, model=model), zmaps_nii=f("zmaps", vol, model=model), selective_nii=f("face_selective", vol),
                   labels_tsv=labels, min_abs_corr=min_abs_corr, fdr_alpha=fdr_alpha)
    surf_kw = dict(rho=pair("rho", model=model), selective=pair("face_selective"), summary_json=f("encoding_summary", surf, model=model))
    title = f"{paths.bids(subject=subject)}, {model}"
    o = {k: str(out / k / f"{subject}_{model}.{'html' if k == 'view' else 'png'}") for k in ("rho", "betas", "surface_rho", "surface_betas", "view")}
    e = "facebrain.encoding.figures"
    s = "facebrain.encoding.surface_figures"
    separate = [
        ("rho", e, "plot_rho_map", {**vol_kw, "out_png": o["rho"]}, [o["rho"]]),
        ("betas", e, "plot_beta_maps", {**beta_kw, "title": vol_kw["title"], "out_png": o["betas"]}, [o["betas"]]),
        ("surface rho", s, "plot_surface_rho", {**surf_kw, "title": title, "out_png": o["surface_rho"]}, [o["surface_rho"]]),
        ("surface betas", s, "plot_surface_betas", dict(betas=pair("betas", model=model), selective=surf_kw["selective"], labels_tsv=labels,
                                                        subject=subject, model=model, out_png=o["surface_betas"], min_abs_corr=min_abs_corr),
         [o["surface_betas"]]),
        ("surface view", s, "surface_view_html", dict(values=surf_kw["rho"], title=title, out_html=o["view"]), [o["view"]]),
    ]
    combined = [
        ("volume", e, "plot_volume_figures", {**vol_kw, **beta_kw, "out_rho": o["rho"], "out_betas": o["betas"]}, [o["rho"], o["betas"]]),
        ("surface", s, "plot_surface_figures", dict(**surf_kw, betas=pair("betas", model=model), labels_tsv=labels, subject=subject, model=model,
                                                    out_rho=o["surface_rho"], out_betas=o["surface_betas"], out_view=o["view"],
                                                    min_abs_corr=min_abs_corr), [o["surface_rho"], o["surface_betas"], o["view"]]),
    ]
    return separate, combined


def same(a: str, b: str) -> bool:
    """Whether two PNGs have identical pixels (other files: identical bytes)."""
    if not a.endswith(".png"):
        return Path(a).read_bytes() == Path(b).read_bytes()
    with Image.open(a) as x, Image.open(b) as y:
        return x.size == y.size and np.array_equal(np.asarray(x.convert("RGBA")), np.asarray(y.convert("RGBA")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("demo", type=Path, help="a finished demo's checkout (its results/ are read)")
    parser.add_argument("--subjects", nargs="+", default=["01"])
    parser.add_argument("--models", nargs="+", default=["factorvae"])
    parser.add_argument("--min-abs-corr", type=float, default=0.5, help="encoding.beta_maps.min_abs_corr of the demo")
    parser.add_argument("--fdr-alpha", type=float, default=0.05, help="encoding.fdr_alpha of the demo")
    args = parser.parse_args()
    totals = {"separate": 0.0, "combined": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        for subject in args.subjects:
            for model in args.models:
                runs = {}
                for way in ("separate", "combined"):
                    out = Path(tmp) / way
                    for sub in ("rho", "betas", "surface_rho", "surface_betas", "view"):
                        (out / sub).mkdir(parents=True, exist_ok=True)
                    runs[way] = jobs(args.demo.resolve(), subject, model, out, args.min_abs_corr, args.fdr_alpha)[way == "combined"]
                    cpu = [child_cpu(module, func, **kwargs) for _, module, func, kwargs, _ in runs[way]]
                    totals[way] += sum(cpu)
                    print(f"sub-{subject} {model} {way}: " + ", ".join(f"{name} {c:.2f}" for (name, *_), c in zip(runs[way], cpu)) + f"; sum {sum(cpu):.2f} CPU-s")
                made = {way: {Path(f).relative_to(Path(tmp) / way): f for *_, outputs in runs[way] for f in outputs} for way in runs}
                identical = made["separate"].keys() == made["combined"].keys() and all(same(f, made["combined"][k]) for k, f in made["separate"].items())
                print(f"sub-{subject} {model}: the two ways' figures are {'identical' if identical else 'DIFFERENT'}")
    n = len(args.subjects) * len(args.models)
    print(json.dumps({"pairs": n, **{k: round(v, 2) for k, v in totals.items()}, "saved_per_pair": round((totals["separate"] - totals["combined"]) / n, 2)}))


if __name__ == "__main__":
    main()
