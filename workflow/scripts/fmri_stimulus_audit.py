from facebrain.fmri.audit import write_stimulus_audit
from facebrain.pipeline import run_step

run_step(snakemake, write_stimulus_audit, bids_root=snakemake.params.root, subject=snakemake.wildcards.subject, out=snakemake.output.audit,
         out_counts=snakemake.output.counts)
