"""facebrain: disentangled generative models of faces as encoding and decoding
models of face-selective cortex.

The package holds all logic of the Snakemake workflow in ``workflow/``; rules
and scripts only wire files to one function of this package.
"""

__version__ = "0.1.0"
