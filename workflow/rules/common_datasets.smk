# datasets stage: config look-ups and target lists (paths come from facebrain.paths).

from facebrain.datasets.celeba import CELEBA_MD5


def celeba_files():
    """The files of real CelebA (download targets): every file with an official md5."""
    return [paths.path("celeba_file", file=name) for name in CELEBA_MD5]


def dsprites_source_params():
    """Config entries the dSprites npz depends on (the grid only matters when regenerating)."""
    section = config["datasets"]["dsprites"]
    if section["source"] == "download":
        return {"source": "download", "url": section["url"]}
    return {"source": "regenerate", "grid": section["grid"]}


def synthfaces_params():
    """Config entries the rendered SynthFaces depend on (all but the number of processes)."""
    return {k: v for k, v in config["datasets"]["synthfaces"].items() if k != "threads"}


def dataset_prepare_params(dataset):
    """Config entries the prepared HDF5 of ``dataset`` depends on."""
    section = config["datasets"][dataset]
    if dataset == "dsprites":
        keys = ("prepared_images", "valid_fraction", "test_fraction")
        return {**{k: section[k] for k in keys}, "seed": config["seed"]}
    return {"prepared_images": section.get("prepared_images", 0)}


def celeba_annotation_md5():
    """md5 of CelebA's annotation files, verified again before preparing (files placed by hand skip the download rule)."""
    return {name: md5 for name, md5 in CELEBA_MD5.items() if name.endswith(".txt")}


def face_dataset_input(wildcards):
    """The files of the config's face dataset (`face_dataset`): the SynthFaces folder, or CelebA's files."""
    if config["face_dataset"] == "synthfaces":
        return [paths.path("face_root", dataset="synthfaces")]
    return celeba_files()


def dataset_final_targets():
    """Prepared data the models train on (dSprites and the face dataset) and the two dataset figures."""
    prepared = [paths.path("prepared", dataset=d) for d in ("dsprites", config["face_dataset"])]
    return prepared + [paths.path("dataset_figure", dataset=d) for d in ("dsprites", "synthfaces")]
