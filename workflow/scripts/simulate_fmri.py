from facebrain.fmri.simulate import simulate_dataset
from facebrain.pipeline import run_step

sim = dict(snakemake.params.sim)
run_step(snakemake, simulate_dataset, face_root=sim.pop("face_root"), out=snakemake.output[0], **sim)
