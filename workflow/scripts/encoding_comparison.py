from facebrain.encoding.comparison import compare_subject_models
from facebrain.pipeline import run_step

i, p = snakemake.input, snakemake.params
run_step(snakemake, compare_subject_models, glms=dict(zip(p.models, i.glms, strict=True)), brain_mask_nii=list(i.brain_mask), selective_nii=list(i.face_selective),
         comparisons=p.comparisons, out_json=snakemake.output[0], n_permutations=p.n_permutations, n_bootstrap=p.n_bootstrap, seed=p.seed,
         reliability_threshold=p.reliability_threshold)
