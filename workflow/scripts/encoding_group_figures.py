from facebrain.encoding.figures import plot_group_figures
from facebrain.pipeline import run_step

i, o = snakemake.input, snakemake.output
run_step(snakemake, plot_group_figures, table1_csv=i.table1, decoding_csv=i.decoding, out_rho=o.rho, out_decoding=o.decoding, out_ceiling=o.ceiling)
