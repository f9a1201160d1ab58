# Helper functions of the datasets stage (paths, targets, config look-ups).
#
# Inputs live in resources/ in the real datasets' own layouts; prepared data
# in results/data/{dataset}.h5 (see facebrain.datasets.prepared):
#   resources/dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz   (dsprites_npz())
#   resources/synthfaces/   (CelebA layout)      resources/celeba/   (CelebA files)


DSPRITES_NPZ = "resources/dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
CELEBA_FILES = [
    "img_align_celeba.zip",
    "list_attr_celeba.txt",
    "identity_CelebA.txt",
    "list_bbox_celeba.txt",
    "list_landmarks_align_celeba.txt",
    "list_eval_partition.txt",
]


def dsprites_npz():
    """The dSprites npz (official or regenerated, per datasets.dsprites.source)."""
    return DSPRITES_NPZ


def face_root(dataset):
    """resources/<dataset>: the CelebA-layout folder of a face dataset (synthfaces or celeba)."""
    return f"resources/{dataset}"


def celeba_files():
    """The files of real CelebA under resources/celeba/ (download targets)."""
    return [f"{face_root('celeba')}/{name}" for name in CELEBA_FILES]


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
    from facebrain.datasets.celeba import CELEBA_MD5

    return {name: md5 for name, md5 in CELEBA_MD5.items() if name.endswith(".txt")}


def dataset_final_targets():
    """The final targets of the datasets stage (prepared data the models train on, and the figures)."""
    datasets = ["dsprites", config["face_dataset"]]
    figures = ["results/figures/datasets/dsprites.png", "results/figures/datasets/synthfaces.png"]
    return [f"results/data/{name}.h5" for name in datasets] + figures
