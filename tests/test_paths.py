"""facebrain.paths: one template per file gives the rules' patterns and the concrete paths."""

from __future__ import annotations

import re

import pytest

from facebrain import paths

#: A valid value of every entity the templates use (a new entity needs one here).
EXAMPLES = {"subject": "01", "model": "vae-seed1", "dataset": "celeba", "file": "list_attr_celeba.txt", "space": "fsaverage5", "hemi": "L"}


def test_one_template_gives_the_pattern_and_the_path():
    assert paths.path("glm") == "results/encoding/sub-{subject}/space-{space}/{model}/glm.h5"
    assert paths.path("glm", subject="01", space="fsaverage5", model="vae") == "results/encoding/sub-01/space-fsaverage5/vae/glm.h5"
    assert paths.path("glm", subject="01", space="fsaverage5") == "results/encoding/sub-01/space-fsaverage5/{model}/glm.h5"
    assert paths.path("model", model="factorvae", dataset="celeba") == "results/models/factorvae/celeba/model.pt"
    assert paths.path("rho_figure", **{"subject": "02", "model": "vae"}) == "results/figures/sub-02/encoding_rho_vae.png"
    assert paths.entities_of("rho_figure") == ("subject", "model")


def test_subjects_are_labels_and_only_the_path_layer_adds_sub():
    with pytest.raises(ValueError, match=r"subject='sub-01'.*without 'sub-'"):
        paths.path("glm", subject="sub-01", model="vae")
    assert paths.bids(subject="01") == "sub-01"


def test_wrong_names_and_entities_are_named():
    with pytest.raises(KeyError, match="no file 'gml'"):
        paths.path("gml")
    with pytest.raises(ValueError, match="has no entity space"):
        paths.path("stimulus_latents", space="fsaverage5")
    with pytest.raises(ValueError, match="dataset='mnist' does not match"):
        paths.path("prepared", dataset="mnist")
    with pytest.raises(ValueError, match="unknown entity colour"):
        paths.log("train_model", "colour")


def test_a_map_is_one_nifti_in_the_volume_and_a_gifti_per_hemisphere_on_the_surface():
    assert paths.map_files("rho", False, subject="01", space="MNI152NLin2009cAsym", model="vae") == [
        "results/encoding/sub-01/space-MNI152NLin2009cAsym/vae/rho.nii.gz"]
    assert paths.map_files("rho", True, subject="01", space="fsaverage5", model="vae") == [
        "results/encoding/sub-01/space-fsaverage5/vae/rho_hemi-L.func.gii", "results/encoding/sub-01/space-fsaverage5/vae/rho_hemi-R.func.gii"]


def test_logs_and_benchmarks_mirror_the_wildcards_in_entity_order():
    assert paths.log("encoding_glm", "model", "space", "subject") == "logs/encoding_glm/sub-{subject}/space-{space}/{model}.log"
    assert paths.log("encoding_glm", subject="01", model="vae") == "logs/encoding_glm/sub-01/vae.log"
    assert paths.benchmark("train_model", "model", "dataset") == "benchmarks/train_model/{model}/{dataset}.tsv"
    assert paths.log("encoding_table1") == "logs/encoding_table1/encoding_table1.log"


def template_regex(template: str) -> re.Pattern:
    """The template as Snakemake matches it: each entity field by its wildcard constraint."""
    constraints = paths.wildcard_constraints()
    parts = re.split(r"\{(\w+)\}", template)
    seen: set[str] = set()
    regex = ""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            regex += re.escape(part)
        else:
            regex += f"(?P={part})" if part in seen else f"(?P<{part}>{constraints[part]})"
            seen.add(part)
    return re.compile(regex)


def test_every_concrete_path_matches_its_own_template_only():
    """No two templates can make the same file (Snakemake would find the rules ambiguous), and each
    template's concrete paths give back the entities they were built from."""
    regexes = {name: template_regex(template) for name, template in paths.FILES.items()}
    for name in paths.FILES:
        entities = {e: EXAMPLES[e] for e in paths.entities_of(name)}
        concrete = paths.path(name, **entities)
        matches = [other for other, regex in regexes.items() if regex.fullmatch(concrete)]
        assert matches == [name], f"{concrete} matches {matches}"
        assert regexes[name].fullmatch(concrete).groupdict() == entities


def test_bids_names_follow_the_entity_order():
    name = paths.bids(desc="preproc", run=1, task="faces", space="MNI152NLin2009cAsym", res="2", session="03", subject="01",
                      suffix="bold", extension=".nii.gz")
    assert name == "sub-01_ses-03_task-faces_run-1_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz"
    assert paths.bids(subject="01", session="03", task="faces", run="01", suffix="events", extension=".tsv", datatype="func") == (
        "sub-01/ses-03/func/sub-01_ses-03_task-faces_run-01_events.tsv")
    assert paths.bids(subject="01", task="faces", run=12, hemi="L", space="fsaverage5", suffix="bold", extension=".func.gii") == (
        "sub-01_task-faces_run-12_hemi-L_space-fsaverage5_bold.func.gii")
    assert paths.bids(subject="{subject}", desc="tuning", suffix="weights") == "sub-{subject}_desc-tuning_weights"
    with pytest.raises(ValueError, match="not BIDS entities: model"):
        paths.bids(subject="01", model="vae")
