from facebrain.encoding.tables import write_decoding_table
from facebrain.pipeline import run_step

run_step(snakemake, write_decoding_table, summaries=list(snakemake.input), subjects=snakemake.params.subjects, models=snakemake.params.models,
         spaces=snakemake.params.spaces, out_csv=snakemake.output[0], comparisons=snakemake.params.comparisons)
