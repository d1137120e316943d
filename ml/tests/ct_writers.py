"""CT test data written by the tests themselves: DICOM slices and enhanced multi-frame files
(ml.ct.synthetic), NIfTI volumes (nibabel), and MosMedData-layout folders with a planted signal."""

from __future__ import annotations

from pathlib import Path

import nibabel
import numpy as np

from ml.ct.synthetic import ct_slice, enhanced_ct

__all__ = ["ct_slice", "enhanced_ct", "planted_volume", "write_mosmed", "write_nifti"]


def write_nifti(
    path: Path, hounsfield: np.ndarray, zooms: tuple[float, float, float] = (0.8, 0.8, 5.0)
) -> None:
    """Save (slices, rows, columns) HU as NIfTI, whose axes are (columns, rows, slices)."""
    image = nibabel.Nifti1Image(np.transpose(hounsfield, (2, 1, 0)).astype(np.int16), np.diag([*zooms, 1.0]))
    image.header.set_zooms(zooms)
    nibabel.save(image, path)


def planted_volume(rng: np.random.Generator, severe: bool, slices: int = 8, size: int = 32) -> np.ndarray:
    """Lung-like noise around -850 HU; a severe volume has bright opacities (about -100 HU) on its slices."""
    volume = rng.normal(-850.0, 60.0, (slices, size, size))
    if severe:
        for index in range(slices):
            for _ in range(3):
                row, column = rng.integers(4, size - 4, 2)
                volume[index, row - 3 : row + 3, column - 3 : column + 3] = rng.normal(-100.0, 40.0)
    return volume


def write_mosmed(
    root: Path,
    severe: list[bool],
    *,
    seed: int,
    graded: list[bool] | None = None,
    slices: int = 8,
    size: int = 32,
) -> Path:
    """studies/CT-0 (mild) and CT-3 (severe) NIfTI volumes, one a patient, with ``severe[i]``'s signal.

    ``graded`` files a volume under a grade other than its signal's (shuffled labels).
    """
    rng = np.random.default_rng(seed)
    graded = severe if graded is None else graded
    for number, (is_severe, graded_severe) in enumerate(zip(severe, graded, strict=True), start=1):
        folder = root / "studies" / ("CT-3" if graded_severe else "CT-0")
        folder.mkdir(parents=True, exist_ok=True)
        write_nifti(folder / f"study_{number:04d}.nii.gz", planted_volume(rng, is_severe, slices, size))
    return root
