"""Reading PyTorch checkpoints without PyTorch: real files, refusals and damaged files."""

from __future__ import annotations

import pickle
import struct
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from torch_writer import Module, save_checkpoint

from ml.errors import WeightsError
from ml.weights.torch_checkpoint import (
    CheckpointError,
    PickledObject,
    module_state_dict,
    read_torch_checkpoint,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def expected() -> dict[str, np.ndarray]:
    return dict(np.load(FIXTURES / "tiny-expected.npz"))


@pytest.mark.parametrize("name", ["tiny-xrv-module-zip.pt", "tiny-xrv-module-legacy.pt"])
def test_whole_module_written_by_pytorch_reads_as_its_state_dict(name, expected):
    module = read_torch_checkpoint(FIXTURES / name)
    assert isinstance(module, PickledObject)
    assert module.class_path == "torchxrayvision.models.DenseNet"
    state = module_state_dict(module)
    assert set(state) == {key[4:] for key in expected if key.startswith("xrv/")} - {"op_threshs"}
    for key, array in state.items():
        np.testing.assert_array_equal(array, expected[f"xrv/{key}"])
        assert array.dtype == expected[f"xrv/{key}"].dtype
    assert module.attributes["pathologies"] == ["Atelectasis", "Consolidation", "", "Effusion", ""]
    np.testing.assert_array_equal(module.attributes["op_threshs"], expected["xrv/op_threshs"])
    layer = module.attributes["_modules"]["features"].attributes["_modules"]["denseblock1"]
    assert layer.attributes["_modules"]["denselayer1"].class_path == "torchxrayvision.models._DenseLayer"


@pytest.mark.parametrize("name", ["tiny-chexnet-zip.pth.tar", "tiny-chexnet-legacy.pth.tar"])
def test_training_checkpoint_written_by_pytorch_reads_as_plain_containers(name, expected):
    checkpoint = read_torch_checkpoint(FIXTURES / name)
    assert checkpoint["epoch"] == 3 and checkpoint["arch"] == "densenet121"
    assert checkpoint["best_loss"] == 0.125
    state = checkpoint["state_dict"]
    assert isinstance(state, OrderedDict)
    assert list(state) == [key[8:] for key in expected if key.startswith("chexnet/")]
    for key, array in state.items():
        np.testing.assert_array_equal(array, expected[f"chexnet/{key}"])
    # Transposed, storage-sharing and half-precision tensors come back as PyTorch saw them.
    for key, array in checkpoint["extras"].items():
        np.testing.assert_array_equal(array, expected[f"extra/{key}"])
        assert array.dtype == expected[f"extra/{key}"].dtype


@pytest.mark.parametrize("legacy", [False, True])
def test_the_test_writer_round_trips_through_the_reader(tmp_path, legacy):
    rng = np.random.default_rng(0)
    conv = rng.normal(size=(4, 2, 3, 3)).astype(np.float32)
    module = Module(
        "torchxrayvision.models.DenseNet",
        modules={
            "classifier": Module("torch.nn.modules.linear.Linear", parameters={"weight": conv[:, :, 0, 0]})
        },
        attributes={"pathologies": ["A", ""]},
    )
    checkpoint = {"model": module, "table": OrderedDict(x=conv), "big": 2**40, "negative": -3, "none": None}
    read = read_torch_checkpoint(save_checkpoint(checkpoint, tmp_path / "c.pt", legacy=legacy))
    np.testing.assert_array_equal(read["table"]["x"], conv)
    assert (read["big"], read["negative"], read["none"]) == (2**40, -3, None)
    np.testing.assert_array_equal(module_state_dict(read["model"])["classifier.weight"], conv[:, :, 0, 0])
    assert read["model"].attributes["pathologies"] == ["A", ""]


def test_the_test_writer_matches_pytorch_when_pytorch_is_installed(tmp_path):
    torch = pytest.importorskip("torch")
    state = OrderedDict(w=np.arange(6, dtype=np.float32).reshape(2, 3))
    for legacy in (False, True):
        path = save_checkpoint({"state_dict": state}, tmp_path / f"c{legacy}.pt", legacy=legacy)
        loaded = torch.load(path, weights_only=True)
        np.testing.assert_array_equal(loaded["state_dict"]["w"].numpy(), state["w"])


def _pickle_calling(module: str, name: str, argument: str) -> bytes:
    """A protocol-2 pickle that calls module.name(argument) when unpickled naively."""
    encoded = argument.encode()
    return (
        b"\x80\x02c"
        + module.encode()
        + b"\n"
        + name.encode()
        + b"\nX"
        + struct.pack("<I", len(encoded))
        + encoded
        + b"\x85R."
    )


@pytest.mark.parametrize(("module", "name"), [("os", "system"), ("builtins", "exec"), ("posix", "system")])
def test_a_checkpoint_that_would_run_code_is_refused_and_nothing_runs(tmp_path, module, name):
    marker = tmp_path / "ran"
    command = f"open({str(marker)!r}, 'w')" if name == "exec" else f"touch {marker}"
    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", _pickle_calling(module, name, command))
    with pytest.raises(CheckpointError, match=rf"{module}\.{name}.*nothing in it was run"):
        read_torch_checkpoint(path)
    assert not marker.exists()
    # The same payload as a legacy file is refused too.
    legacy = tmp_path / "evil-legacy.pt"
    legacy.write_bytes(
        pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + _pickle_calling(module, name, command)
    )
    with pytest.raises(CheckpointError, match=rf"{module}\.{name}"):
        read_torch_checkpoint(legacy)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["tiny-xrv-module-zip.pt", "tiny-xrv-module-legacy.pt"])
def test_truncated_checkpoints_give_a_clear_error(tmp_path, name):
    data = (FIXTURES / name).read_bytes()
    for cut in (len(data) // 3, len(data) - 200):
        path = tmp_path / f"cut-{cut}-{name}"
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=r"truncated|corrupt|neither|cannot be read"):
            read_torch_checkpoint(path)


def test_tensor_data_of_the_wrong_size_is_refused(tmp_path):
    source = FIXTURES / "tiny-chexnet-zip.pth.tar"
    damaged = tmp_path / "damaged.pth.tar"
    shortened = False
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(damaged, "w") as copy:
        for info in original.infolist():
            data = original.read(info)
            if "/data/" in info.filename and not shortened:
                data, shortened = data[:-4], True
            copy.writestr(info, data)
    with pytest.raises(CheckpointError, match="bytes, not the"):
        read_torch_checkpoint(damaged)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "neither"),
        (pickle.dumps({"a": 1}, protocol=2), "neither"),
    ],
)
def test_files_that_are_not_checkpoints_are_refused(tmp_path, content, message):
    path = tmp_path / "weights.pt"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=message):
        read_torch_checkpoint(path)


def test_a_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        read_torch_checkpoint(tmp_path / "nowhere.pt")
