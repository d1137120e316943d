"""Write PyTorch checkpoint files without PyTorch, for the tests of the checkpoint importers.

A small pickle writer (protocol 2, as ``torch.save`` uses) emits exactly the globals,
persistent ids and object layouts PyTorch writes, in the zip format (PyTorch 1.6 and
later) or the legacy one: whole pickled modules as torchxrayvision publishes them and
training checkpoints with a ``state_dict`` as CheXNet does. The committed fixtures made
by real PyTorch (``fixtures/make_torch_fixtures.py``) keep the reader honest; this writer
makes full-size DenseNet121 checkpoints from known arrays on the fly.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
_STORAGE_TYPES = {np.dtype("float32"): "FloatStorage", np.dtype("int64"): "LongStorage"}


@dataclass(frozen=True)
class Global:
    module: str
    name: str


@dataclass
class Module:
    """A pickled ``nn.Module``: its class path and its ``__dict__``."""

    class_path: str
    parameters: dict[str, np.ndarray | None] = field(default_factory=dict)
    buffers: dict[str, np.ndarray] = field(default_factory=dict)
    modules: dict[str, Module] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Parameter:
    array: np.ndarray


class _Pickler:
    """Protocol-2 pickles of plain values, tensors (as persistent storages) and modules."""

    def __init__(self, legacy: bool) -> None:
        self.legacy = legacy
        self.out = io.BytesIO()
        self.storages: list[np.ndarray] = []

    def dump(self, value: Any) -> bytes:
        self.out.write(b"\x80\x02")
        self.save(value)
        self.out.write(b".")
        return self.out.getvalue()

    def save(self, value: Any) -> None:
        write = self.out.write
        if value is None:
            write(b"N")
        elif value is True:
            write(b"\x88")
        elif value is False:
            write(b"\x89")
        elif isinstance(value, int):
            if 0 <= value < 256:
                write(b"K" + bytes([value]))
            elif -(2**31) <= value < 2**31:
                write(b"J" + struct.pack("<i", value))
            else:
                encoded = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
                write(b"\x8a" + bytes([len(encoded)]) + encoded)
        elif isinstance(value, float):
            write(b"G" + struct.pack(">d", value))
        elif isinstance(value, str):
            encoded = value.encode("utf-8")
            write(b"X" + struct.pack("<I", len(encoded)) + encoded)
        elif isinstance(value, Global):
            write(b"c" + value.module.encode() + b"\n" + value.name.encode() + b"\n")
        elif isinstance(value, tuple):
            write(b"(")
            for item in value:
                self.save(item)
            write(b"t")
        elif isinstance(value, list):
            write(b"]")
            if value:
                write(b"(")
                for item in value:
                    self.save(item)
                write(b"e")
        elif isinstance(value, OrderedDict):
            self.save(Global("collections", "OrderedDict"))
            write(b")R")
            self._setitems(value)
            metadata = getattr(value, "_metadata", None)
            if metadata is not None:
                self.save({"_metadata": metadata})
                write(b"b")
        elif isinstance(value, dict):
            write(b"}")
            self._setitems(value)
        elif isinstance(value, Parameter):
            self.save(Global("torch._utils", "_rebuild_parameter"))
            self.save((_Tensor(value.array), True, OrderedDict()))
            write(b"R")
        elif isinstance(value, np.ndarray):
            self.save(_Tensor(value))
        elif isinstance(value, _Tensor):
            self._save_tensor(value.array)
        elif isinstance(value, Module):
            self._save_module(value)
        else:
            raise TypeError(f"Cannot pickle {type(value).__name__}.")

    def _setitems(self, mapping: Mapping[Any, Any]) -> None:
        if mapping:
            self.out.write(b"(")
            for key, item in mapping.items():
                self.save(key)
                self.save(item)
            self.out.write(b"u")

    def _save_tensor(self, array: np.ndarray) -> None:
        # Not np.ascontiguousarray, which turns a 0-d tensor (num_batches_tracked) into a 1-d one.
        array = np.array(array, order="C", copy=True)
        key = str(len(self.storages))
        self.storages.append(array)
        storage_type = Global("torch", _STORAGE_TYPES[array.dtype])
        self.save(Global("torch._utils", "_rebuild_tensor_v2"))
        self.out.write(b"(")
        # The storage is a persistent id: ("storage", type, key, location, numel[, view]).
        pid: tuple[Any, ...] = ("storage", storage_type, key, "cpu", int(array.size))
        self.save(pid + ((None,) if self.legacy else ()))
        self.out.write(b"Q")
        strides = tuple(step // array.itemsize for step in array.strides)
        for item in (0, tuple(array.shape), strides, False, OrderedDict()):
            self.save(item)
        self.out.write(b"tR")

    def _save_module(self, module: Module) -> None:
        module_name, _, class_name = module.class_path.rpartition(".")
        if self.legacy:
            # Legacy files record each module class with its source code, as a persistent id.
            self.save(("module", Global(module_name, class_name), f"{module_name}.py", "class ..."))
            self.out.write(b"Q")
        else:
            self.save(Global(module_name, class_name))
        self.out.write(b")\x81")
        state = {
            "training": False,
            "_parameters": OrderedDict(
                (name, None if array is None else Parameter(array))
                for name, array in module.parameters.items()
            ),
            "_buffers": OrderedDict(module.buffers),
            "_backward_hooks": OrderedDict(),
            "_forward_hooks": OrderedDict(),
            "_forward_pre_hooks": OrderedDict(),
            "_state_dict_hooks": OrderedDict(),
            "_load_state_dict_pre_hooks": OrderedDict(),
            "_modules": OrderedDict(module.modules),
            **module.attributes,
        }
        self.save(state)
        self.out.write(b"b")


@dataclass(frozen=True)
class _Tensor:
    array: np.ndarray


def save_checkpoint(value: Any, path: Path, *, legacy: bool = False) -> Path:
    """Write ``value`` as ``torch.save`` would: a zip archive, or the legacy stream."""
    pickler = _Pickler(legacy)
    data = pickler.dump(value)
    if legacy:
        with open(path, "wb") as handle:
            handle.write(_Pickler(True).dump(LEGACY_MAGIC_NUMBER))
            handle.write(_Pickler(True).dump(1001))
            handle.write(
                _Pickler(True).dump(
                    {"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4}}
                )
            )
            handle.write(data)
            handle.write(_Pickler(True).dump([str(index) for index in range(len(pickler.storages))]))
            for array in pickler.storages:
                handle.write(struct.pack("<q", array.size))
                handle.write(array.tobytes())
        return path
    root = "archive"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{root}/data.pkl", data)
        archive.writestr(f"{root}/byteorder", "little")
        for index, array in enumerate(pickler.storages):
            archive.writestr(f"{root}/data/{index}", array.tobytes())
        archive.writestr(f"{root}/version", "3\n")
    return path


def torchxrayvision_module(
    state: Mapping[str, np.ndarray],
    *,
    pathologies: list[str] | None = None,
    op_threshs: np.ndarray | None = None,
) -> Module:
    """A ``torchxrayvision.models.DenseNet`` holding ``state`` (torchvision key names)."""
    xrv = "torchxrayvision.models"
    nn = "torch.nn.modules"
    root = Module(f"{xrv}.DenseNet")
    if pathologies is not None:
        root.attributes["pathologies"] = pathologies
    if op_threshs is not None:
        root.attributes["op_threshs"] = op_threshs.astype(np.float32)

    def container(path: list[str]) -> Module:
        node = root
        for depth, name in enumerate(path):
            if name not in node.modules:
                node.modules[name] = Module(_container_class(path[: depth + 1], xrv, nn))
            node = node.modules[name]
        return node

    for key, array in state.items():
        *path, leaf = key.split(".")
        owner = container(path)
        if owner.class_path == f"{nn}.container.Sequential":
            raise AssertionError(f"{key} sits directly in a Sequential.")
        if leaf in ("running_mean", "running_var", "num_batches_tracked"):
            owner.buffers[leaf] = array
        else:
            owner.parameters[leaf] = array
    for module in _walk(root):
        if module.class_path.endswith("conv.Conv2d"):
            module.parameters.setdefault("bias", None)
            module.attributes.update(padding_mode="zeros", groups=1)
        if module.class_path.endswith("batchnorm.BatchNorm2d"):
            module.buffers.setdefault("num_batches_tracked", np.array(1000, dtype=np.int64))
            module.attributes.update(eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)
    # The parameter-free layers are modules too; they carry only attributes.
    features = root.modules["features"]
    features.modules["relu0"] = Module(f"{nn}.activation.ReLU", attributes={"inplace": True})
    features.modules["pool0"] = Module(
        f"{nn}.pooling.MaxPool2d", attributes={"kernel_size": 3, "stride": 2, "padding": 1}
    )
    return root


def _container_class(path: list[str], xrv: str, nn: str) -> str:
    leaf = path[-1]
    if path == ["features"]:
        return f"{nn}.container.Sequential"
    if path == ["classifier"]:
        return f"{nn}.linear.Linear"
    if re.fullmatch(r"denseblock\d", leaf):
        return f"{xrv}._DenseBlock"
    if re.fullmatch(r"denselayer\d+", leaf):
        return f"{xrv}._DenseLayer"
    if re.fullmatch(r"transition\d", leaf):
        return f"{xrv}._Transition"
    if leaf.startswith("conv"):
        return f"{nn}.conv.Conv2d"
    if leaf.startswith("norm"):
        return f"{nn}.batchnorm.BatchNorm2d"
    raise AssertionError(f"No class for {'.'.join(path)}.")


def _walk(module: Module) -> list[Module]:
    found = [module]
    for child in module.modules.values():
        found.extend(_walk(child))
    return found


def chexnet_checkpoint(state: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """A CheXNet training checkpoint: DataParallel prefixes and old torchvision key names."""
    renamed: OrderedDict[str, np.ndarray] = OrderedDict()
    for key, array in state.items():
        name = re.sub(r"(denselayer\d+)\.(norm|conv)(\d)\.", r"\1.\2.\3.", key)
        name = name.replace("classifier.", "classifier.0.")
        renamed[f"module.densenet121.{name}"] = array
    renamed._metadata = OrderedDict([("", {"version": 1})])  # type: ignore[attr-defined]
    return {"epoch": 7, "arch": "densenet121", "state_dict": renamed, "best_loss": 0.1534}
