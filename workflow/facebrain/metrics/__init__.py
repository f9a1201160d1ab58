"""Disentanglement metrics with disentanglement_lib's protocol.

One module per metric, all with the signature
``compute_X(ground_truth_data, representation_function, random_state, **sample_counts)``:
:mod:`beta_vae` (z-diff), :mod:`factor_vae` (z-min variance), :mod:`mig`,
:mod:`dci`, :mod:`sap`; :mod:`ground_truth` holds the data sets (dSprites,
SynthFaces) and :mod:`evaluate` runs them on a trained model and builds the tables.
"""
