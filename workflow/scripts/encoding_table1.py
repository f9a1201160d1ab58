from facebrain.encoding.tables import write_table1
from facebrain.pipeline import run_step

run_step(snakemake, write_table1, summaries=list(snakemake.input), subjects=snakemake.params.subjects, models=snakemake.params.models,
         out_csv=snakemake.output.csv, out_md=snakemake.output.md)
