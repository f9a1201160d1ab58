from facebrain.encoding.accuracy import evaluate_encoding
from facebrain.pipeline import run_step

i, o, p = snakemake.input, snakemake.output, snakemake.params
run_step(snakemake, evaluate_encoding, glm_h5=i.glm, brain_mask=list(i.brain_mask), selective=list(i.face_selective), out_h5=o.h5, out_json=o.summary, out_rho=list(o.rho),
         out_rho_fdr=list(o.rho_fdr), n_permutations=p.n_permutations, seed=p.seed, reliability_threshold=p.reliability_threshold, fdr_alpha=p.fdr_alpha)
