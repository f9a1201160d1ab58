"""fMRI data: the ds001761 layout, its simulator with planted truth, its download, one reader.

Modules
-------
layout    : BIDS paths of ds001761 and its fMRIPrep derivatives, built from entities.
reader    : :class:`~facebrain.fmri.reader.BidsFmriDataset` -- one reader for both sources.
design    : the study's trial sequences (faces runs, localizer blocks, imagery).
simulate  : the simulated dataset ``resources/simfmri`` with ground truth.
download  : resumable, checksum-verified HTTPS client for OpenNeuro ds001761.
audit     : stimulus audit (test faces among training faces, images under two names).
"""
