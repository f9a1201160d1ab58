from facebrain.encoding.tables import write_beta_overlap
from facebrain.pipeline import run_step

i, p = snakemake.input, snakemake.params
run_step(snakemake, write_beta_overlap, glms=list(i.glms), brain_masks=list(i.brain_masks), selective=list(i.selective), labels=list(i.labels),
         subjects=p.subjects, models=p.models, spaces=p.spaces, out_csv=snakemake.output[0], top_fraction=p.beta_maps["top_fraction"],
         min_abs_corr=p.beta_maps["min_abs_corr"], reliability_threshold=p.reliability_threshold, n_null=p.beta_maps["n_null"], seed=p.seed)
