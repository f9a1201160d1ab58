from facebrain.encoding.tables import write_table1
from facebrain.pipeline import run_step

i, p = snakemake.input, snakemake.params
run_step(snakemake, write_table1, summaries=list(i.summaries), subjects=p.subjects, models=p.models, spaces=p.spaces, out_csv=snakemake.output.csv,
         out_md=snakemake.output.md, comparisons=list(i.comparisons), comparison_subjects=p.comparison_subjects,
         comparison_spaces=p.comparison_spaces, seed=p.seed)
