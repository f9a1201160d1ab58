from facebrain.encoding.scaled_bold import write_scaled_bold
from facebrain.pipeline import run_step

run_step(snakemake, write_scaled_bold, bids_root=snakemake.params.root, subject=snakemake.wildcards.subject,
         brain_mask=list(snakemake.input.brain_mask), out_h5=snakemake.output[0], reader_options=snakemake.params.reader)
