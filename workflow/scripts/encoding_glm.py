from facebrain.encoding.glm import fit_subject_glms
from facebrain.pipeline import run_step

glm = snakemake.params.glm
run_step(snakemake, fit_subject_glms, bids_root=snakemake.params.root, subject=snakemake.wildcards.subject, models=snakemake.params.models,
         latents_h5=list(snakemake.input.latents), brain_mask=list(snakemake.input.brain_mask), out_h5=list(snakemake.output.glm),
         out_betas=list(snakemake.output.betas), out_zmaps=list(snakemake.output.zmaps), audit=list(snakemake.input.audit),
         hrf_model=glm["hrf_model"], high_pass=glm["high_pass"], voxel_chunk=glm["voxel_chunk"], noise_model=glm["noise_model"],
         scaled_bold=snakemake.input.bold, reader_options=snakemake.params.reader)
