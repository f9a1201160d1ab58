"""Surface figures: what they refuse and what the interactive page carries."""

from __future__ import annotations

import json
import re

import nibabel as nib
import numpy as np
import pytest

from facebrain.encoding.surface_figures import plot_surface_rho, surface_view_html
from facebrain.fmri import fsaverage, spaces


@pytest.fixture()
def rho_map(tmp_path):
    mask = spaces.surface_mask()
    values = np.zeros(mask.n_elements, np.float32)
    values[:50] = np.linspace(-0.4, 0.7, 50)
    paths = [tmp_path / f"rho_hemi-{h}.func.gii" for h in fsaverage.HEMIS]
    mask.save(values, paths)
    return paths


def test_surface_figure_refuses_a_volume_map(tmp_path, rho_map):
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4)), tmp_path / "rho.nii.gz")
    (tmp_path / "summary.json").write_text(json.dumps({"rho": 0.1, "p": 0.01, "n_voxels": 50}))
    with pytest.raises(ValueError, match="rho.nii.gz.*needs fsaverage5 maps, got a MNI152NLin2009cAsym_res-2 map"):
        plot_surface_rho([tmp_path / "rho.nii.gz"], rho_map, tmp_path / "summary.json", "sub-01, vae", tmp_path / "out.png")


def test_interactive_view_carries_title_unit_and_symmetric_scale(tmp_path, rho_map):
    surface_view_html(rho_map, "sub-01, factorvae", tmp_path / "view.html")
    page = (tmp_path / "view.html").read_text()
    assert '"title": "sub-01, factorvae: Spearman rho"' in page
    cmin, cmax = (float(re.search(rf'"{k}": (-?[0-9.]+)', page).group(1)) for k in ("cmin", "cmax"))
    assert cmin == -cmax == pytest.approx(-0.7, abs=1e-6)  # symmetric around 0, up to the largest |rho|


def test_rho_figure_names_hemisphere_views_and_scale(tmp_path, rho_map):
    mask = spaces.surface_mask()
    values = np.zeros(mask.n_elements, np.float32)
    values[-50:] = np.linspace(-0.3, 0.5, 50)  # the last vertices are the right hemisphere's; the left's (rho_map, up to 0.7) are not drawn
    right = [tmp_path / f"right_hemi-{h}.func.gii" for h in fsaverage.HEMIS]
    mask.save(values, right)
    (tmp_path / "summary.json").write_text(json.dumps({"rho": 0.12, "p": 0.0004, "n_voxels": 50}))
    fig = plot_surface_rho(right, right, tmp_path / "summary.json", "sub-01, vae", tmp_path / "rho.png")
    assert fig._suptitle.get_text().startswith("sub-01, vae: voxelwise Spearman rho on fsaverage5")
    assert "mean 0.120*** (p = 0.0004) over 50 face-selective vertices" in fig._suptitle.get_text()
    assert [ax.get_title() for ax in fig.axes[:2]] == ["right hemisphere, lateral view", "right hemisphere, ventral view"]
    bar = fig.axes[-1]
    assert bar.get_xlabel() == "Spearman rho (predicted vs measured, 20 test faces)"
    assert bar.get_xlim() == pytest.approx((-0.5, 0.5), abs=1e-6)  # symmetric, up to the largest |rho| drawn
