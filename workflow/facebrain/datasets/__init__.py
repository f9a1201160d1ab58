"""Input datasets: real downloads, offline stand-ins in the real formats, prepared HDF5.

One module per job:

- :mod:`.download`   resumable, checksum-verified HTTP downloads (offline -> clear message)
- :mod:`.dsprites`   the dSprites npz: download or procedural regeneration
- :mod:`.synthfaces` procedural colour faces with known factors, in CelebA's layout
- :mod:`.celeba`     reader/validator of the CelebA layout (real CelebA and SynthFaces), CelebA download
- :mod:`.faces`      the face preprocessing used everywhere (centre crop, resize to 64)
- :mod:`.prepared`   writing and reading ``results/data/{dataset}.h5``, torch batches
- :mod:`.figures`    sample grids and factor sweeps
"""
