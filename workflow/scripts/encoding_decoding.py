from facebrain.encoding.decoding import decode_subject
from facebrain.pipeline import run_step

i, o, p = snakemake.input, snakemake.output, snakemake.params
run_step(snakemake, decode_subject, glm_h5=i.glm, brain_mask=list(i.brain_mask), selective=list(i.face_selective), latents_h5=i.latents, face_data_h5=i.faces,
         out_json=o.summary, out_h5=o.h5, audit=i.audit, ridge=p.ridge, identification=p.identification, n_permutations=p.n_permutations, seed=p.seed, reliability_threshold=p.reliability_threshold)
