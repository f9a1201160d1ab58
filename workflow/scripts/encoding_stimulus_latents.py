from facebrain.encoding.stimuli import encode_subject_stimuli
from facebrain.pipeline import run_step

run_step(snakemake, encode_subject_stimuli, bids_root=snakemake.params.root, subject=snakemake.wildcards.subject, model_path=snakemake.input.model,
         out_h5=snakemake.output[0], stimulus_source=snakemake.params.stimulus_images,
         face_root=snakemake.params.face_root, device=snakemake.params.device, batch_size=snakemake.params.batch_size)
