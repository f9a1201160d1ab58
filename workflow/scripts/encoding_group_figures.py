from facebrain.encoding.figures import plot_group_figures
from facebrain.pipeline import run_step

run_step(snakemake, plot_group_figures, table1_csv=snakemake.input.table1, decoding_csv=snakemake.input.decoding, out_rho=snakemake.output.rho,
         out_decoding=snakemake.output.decoding)
