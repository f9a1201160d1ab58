from facebrain.encoding.localizer import localize_subject
from facebrain.pipeline import run_step

p = snakemake.params
run_step(snakemake, localize_subject, bids_root=p.root, subject=snakemake.wildcards.subject, out_brain_mask=list(snakemake.output.brain_mask),
         out_zmap=list(snakemake.output.zmap), out_mask=list(snakemake.output.mask), out_json=snakemake.output.summary,
         p_threshold=p.localizer["p_threshold"], noise_model=p.localizer["noise_model"], hrf_model=p.hrf_model, high_pass=p.high_pass,
         reader_options=p.reader)
