"""Read PyTorch checkpoints (``torch.save`` files) with the standard library and NumPy alone.

A ``.pt`` or ``.pth.tar`` file is a pickle whose tensors point at raw storages kept beside
it: in a zip archive (``<root>/data.pkl`` and ``<root>/data/<key>``, PyTorch 1.6 and later)
or, in the legacy format, as a sequence of pickles followed by the storages' bytes.
Unpickling normally imports and calls whatever the file names, so it can run any code;
here the unpickler resolves only a short list of names to harmless functions of this
module. Tensors become NumPy arrays, ``OrderedDict`` stays itself, and instances of
PyTorch module classes (``torchxrayvision.models.DenseNet``, ``torch.nn.Conv2d``, ...)
become inert ``PickledObject`` records of their state: no class of the file is ever
imported or called. Anything else (``os.system``, an unknown tensor kind) is refused
with an error that names it, before anything is built from the file.
"""

from __future__ import annotations

import collections
import io
import math
import os
import pickle
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ml.errors import WeightsError

# The legacy format opens with this pickled number and protocol version.
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
# No DenseNet121 checkpoint comes near this; it bounds what a hostile file can make us allocate.
MAX_CHECKPOINT_BYTES = 2 * 1024**3

STORAGE_DTYPES: dict[str, np.dtype] = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
    "UntypedStorage": np.dtype("u1"),
}
TORCH_DTYPES: dict[str, np.dtype] = {
    "float64": np.dtype("<f8"),
    "double": np.dtype("<f8"),
    "float32": np.dtype("<f4"),
    "float": np.dtype("<f4"),
    "float16": np.dtype("<f2"),
    "half": np.dtype("<f2"),
    "int64": np.dtype("<i8"),
    "long": np.dtype("<i8"),
    "int32": np.dtype("<i4"),
    "int": np.dtype("<i4"),
    "int16": np.dtype("<i2"),
    "int8": np.dtype("i1"),
    "uint8": np.dtype("u1"),
    "bool": np.dtype("?"),
}
# Classes whose instances a whole-module checkpoint legitimately contains. They are never
# imported: an instance becomes a PickledObject that records the class path and state.
MODULE_CLASS_PREFIXES = ("torch.nn.modules.", "torchvision.models.", "torchxrayvision.", "__main__")


class CheckpointError(WeightsError):
    """A checkpoint file is unreadable, corrupt, truncated or refers to something it must not."""


class PickledObject:
    """An inert record of an object the checkpoint pickled: its class path and its state.

    Subclasses are made per class path by the unpickler; nothing of the named class runs.
    """

    class_path: str = ""

    def __setstate__(self, state: Any) -> None:
        self.__dict__["state"] = state

    @property
    def attributes(self) -> dict[str, Any]:
        """The object's ``__dict__`` as pickled ({} when it pickled no dict)."""
        state = self.__dict__.get("state")
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict | type(None)):
            state = {**(state[0] or {}), **(state[1] or {})}
        return state if isinstance(state, dict) else {}

    def __repr__(self) -> str:
        return f"<pickled {self.class_path}>"


class _StorageType:
    """What ``torch.FloatStorage`` and friends unpickle to: the element type of a storage."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = STORAGE_DTYPES[name]


class _Storage:
    """A storage's elements as a 1-D array, filled once its data has been read.

    A legacy checkpoint may pickle a view into another storage: ``base`` and ``base_offset``
    say where its elements start in that one.
    """

    def __init__(
        self, key: str, dtype: np.dtype, numel: int, base: _Storage | None = None, base_offset: int = 0
    ) -> None:
        self.key = key
        self.dtype = dtype
        self.numel = numel
        self.base = base
        self.base_offset = base_offset
        self._array: np.ndarray | None = None

    @property
    def array(self) -> np.ndarray | None:
        if self.base is None:
            return self._array
        base = self.base.array
        if base is None or self.base_offset + self.numel > base.size:
            return None
        return base[self.base_offset : self.base_offset + self.numel]

    @array.setter
    def array(self, value: np.ndarray) -> None:
        self._array = value


class _TensorRef:
    """A tensor awaiting its storage's bytes (legacy files store them after the pickle)."""

    def __init__(
        self, storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]
    ) -> None:
        self.storage = storage
        self.offset = offset
        self.size = size
        self.stride = stride


def read_torch_checkpoint(path: str | os.PathLike[str]) -> Any:
    """Unpickle a ``torch.save`` file safely; tensors come back as NumPy arrays.

    Raises CheckpointError (a WeightsError) for anything unreadable or disallowed.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError as error:
        raise CheckpointError(f"The checkpoint {path} does not exist.") from error
    except OSError as error:
        raise CheckpointError(f"The checkpoint {path} cannot be read: {error}.") from error
    if size == 0:
        raise CheckpointError(f"The checkpoint {path} is empty.")
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"The checkpoint {path} is {size:,} bytes, larger than any DenseNet121 checkpoint."
        )
    try:
        if zipfile.is_zipfile(path):
            return _read_zip(path)
        with open(path, "rb") as handle:
            return _read_legacy(handle, path)
    except CheckpointError:
        raise
    except (
        pickle.UnpicklingError,
        EOFError,
        struct.error,
        ValueError,
        TypeError,
        IndexError,
        KeyError,
    ) as error:
        raise CheckpointError(
            f"The checkpoint {path} is corrupt or truncated ({type(error).__name__}: {error})."
        ) from error
    except (OSError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"The checkpoint {path} cannot be read: {error}.") from error


def _read_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [name for name in names if name.endswith("data.pkl") and name.count("/") == 1]
        if len(pickles) != 1:
            raise CheckpointError(
                f"The checkpoint {path} is a zip file but not a PyTorch checkpoint (no data.pkl)."
            )
        root = pickles[0][: -len("data.pkl")]
        if f"{root}byteorder" in names and archive.read(f"{root}byteorder").strip() not in (b"little", b""):
            raise CheckpointError(
                f"The checkpoint {path} stores big-endian tensors, which are not supported."
            )
        total = sum(info.file_size for info in archive.infolist())
        if total > MAX_CHECKPOINT_BYTES:
            raise CheckpointError(
                f"The checkpoint {path} unpacks to {total:,} bytes, more than any DenseNet121."
            )

        loaded: dict[str, _Storage] = {}

        def load_storage(key: str, dtype: np.dtype, numel: int) -> _Storage:
            if key in loaded:
                return loaded[key]
            name = f"{root}data/{key}"
            try:
                data = archive.read(name)
            except KeyError as error:
                raise CheckpointError(
                    f"The checkpoint {path} lacks the tensor data {name}: it is truncated."
                ) from error
            storage = _Storage(key, dtype, numel)
            if len(data) != numel * dtype.itemsize:
                raise CheckpointError(
                    f"The checkpoint {path}: tensor data {name} holds {len(data)} bytes, "
                    f"not the {numel * dtype.itemsize} its header declares; the file is corrupt."
                )
            storage.array = np.frombuffer(data, dtype=dtype)
            loaded[key] = storage
            return storage

        unpickler = _SafeUnpickler(io.BytesIO(archive.read(pickles[0])), path, load_storage)
        result = unpickler.load()
    return _resolve(result, path)


def _read_legacy(handle: io.BufferedReader, path: Path) -> Any:
    def refuse() -> CheckpointError:
        return CheckpointError(
            f"The checkpoint {path} is neither a PyTorch zip checkpoint nor a legacy PyTorch pickle."
        )

    head = handle.read(2)
    handle.seek(0)
    if len(head) < 2 or head[0] != 0x80:  # Every torch.save pickle starts with the PROTO opcode.
        raise refuse()
    plain = _SafeUnpickler(handle, path, None)
    try:
        magic = plain.load()
    except pickle.UnpicklingError as error:
        raise refuse() from error
    if magic != LEGACY_MAGIC_NUMBER:
        raise refuse()
    protocol = _SafeUnpickler(handle, path, None).load()
    if protocol != LEGACY_PROTOCOL_VERSION:
        raise CheckpointError(
            f"The checkpoint {path} has legacy protocol {protocol!r}, not {LEGACY_PROTOCOL_VERSION}."
        )
    system = _SafeUnpickler(handle, path, None).load()
    if isinstance(system, dict) and system.get("little_endian") is False:
        raise CheckpointError(f"The checkpoint {path} stores big-endian tensors, which are not supported.")

    storages: dict[str, _Storage] = {}

    def declare_storage(key: str, dtype: np.dtype, numel: int) -> _Storage:
        if key not in storages:
            storages[key] = _Storage(key, dtype, numel)
        return storages[key]

    result = _SafeUnpickler(handle, path, declare_storage).load()
    keys = _SafeUnpickler(handle, path, None).load()
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise CheckpointError(f"The checkpoint {path} has a malformed storage list.")
    remaining = os.fstat(handle.fileno()).st_size - handle.tell()
    for key in keys:
        storage = storages.get(key)
        if storage is None:
            raise CheckpointError(
                f"The checkpoint {path} stores data for an undeclared tensor storage {key!r}."
            )
        header = handle.read(8)
        if len(header) != 8:
            raise CheckpointError(f"The checkpoint {path} is truncated (tensor storage {key} is missing).")
        (numel,) = struct.unpack("<q", header)
        nbytes = numel * storage.dtype.itemsize
        remaining -= 8
        if numel < 0 or nbytes > remaining:
            raise CheckpointError(f"The checkpoint {path} is truncated (tensor storage {key} is cut short).")
        data = handle.read(nbytes)
        remaining -= nbytes
        storage.array = np.frombuffer(data, dtype=storage.dtype)
        storage.numel = numel
    return _resolve(result, path)


class _SafeUnpickler(pickle.Unpickler):
    """An unpickler that resolves only whitelisted names, all to functions of this module."""

    def __init__(
        self,
        file: Any,
        path: Path,
        storage_loader: Callable[[str, np.dtype, int], _Storage] | None,
    ) -> None:
        super().__init__(file, encoding="latin1")
        self._path = path
        self._storage_loader = storage_loader
        self._classes: dict[str, type[PickledObject]] = {}

    def find_class(self, module: str, name: str) -> Any:
        resolved = _SAFE_GLOBALS.get((module, name))
        if resolved is not None:
            return resolved
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        if module == "torch" and name in TORCH_DTYPES:
            return TORCH_DTYPES[name]
        if module.startswith(MODULE_CLASS_PREFIXES) and name.isidentifier():
            class_path = f"{module}.{name}"
            if class_path not in self._classes:
                self._classes[class_path] = type(name, (PickledObject,), {"class_path": class_path})
            return self._classes[class_path]
        raise CheckpointError(
            f"The checkpoint {self._path} refers to {module}.{name}, which a weights file has no "
            "reason to contain; it was refused unread (nothing in it was run)."
        )

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid:
            raise CheckpointError(f"The checkpoint {self._path} has a malformed tensor reference.")
        kind = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
        if kind == "module":
            # Legacy files record each module class with its source code; only the class
            # (already a PickledObject stand-in) is kept, the source is never looked at.
            return pid[1]
        if kind != "storage" or self._storage_loader is None or len(pid) < 5:
            raise CheckpointError(
                f"The checkpoint {self._path} has an unsupported tensor reference {kind!r}."
            )
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise CheckpointError(f"The checkpoint {self._path} has a tensor of unknown storage type.")
        if isinstance(key, int):
            key = str(key)
        if not isinstance(key, str) or not isinstance(numel, int) or numel < 0:
            raise CheckpointError(f"The checkpoint {self._path} has a malformed tensor reference.")
        storage = self._storage_loader(key, storage_type.dtype, numel)
        view = pid[5] if len(pid) > 5 else None
        if view is None:
            return storage
        # Legacy files describe a view into another storage as (view key, offset, size).
        if not (
            isinstance(view, tuple)
            and len(view) == 3
            and all(isinstance(value, int) and value >= 0 for value in view[1:])
        ):
            raise CheckpointError(f"The checkpoint {self._path} has a malformed storage view.")
        _view_key, offset, size = view
        return _Storage(f"{key}[{offset}:{offset + size}]", storage.dtype, size, storage, offset)


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *_rest: Any) -> _TensorRef:
    if not isinstance(storage, _Storage):
        raise CheckpointError("A tensor in the checkpoint does not point at tensor data.")
    size = tuple(size)
    stride = tuple(stride)
    if (
        not isinstance(offset, int)
        or offset < 0
        or len(size) != len(stride)
        or not all(isinstance(value, int) and value >= 0 for value in (*size, *stride))
    ):
        raise CheckpointError("A tensor in the checkpoint has a malformed shape.")
    return _TensorRef(storage, offset, size, stride)


def _rebuild_tensor_v3(
    storage: Any,
    offset: Any,
    size: Any,
    stride: Any,
    _requires_grad: Any,
    _hooks: Any,
    dtype: Any,
    *_rest: Any,
) -> _TensorRef:
    reference = _rebuild_tensor(storage, offset, size, stride)
    if isinstance(dtype, np.dtype) and dtype != storage.dtype:
        raise CheckpointError("A tensor in the checkpoint has a dtype that differs from its data.")
    return reference


def _rebuild_parameter(data: Any, *_rest: Any) -> Any:
    return data


def _rebuild_from_type_v2(function: Any, _new_type: Any, arguments: Any, _state: Any) -> Any:
    if function not in (_rebuild_tensor, _rebuild_tensor_v3, _rebuild_parameter):
        raise CheckpointError("The checkpoint rebuilds a tensor subclass in an unsupported way.")
    return function(*arguments)


def _reconstructor(cls: Any, base: Any, state: Any) -> Any:
    # copyreg._reconstructor is how protocols 0 and 1 pickle plain objects.
    if (
        not (isinstance(cls, type) and issubclass(cls, PickledObject))
        or base is not object
        or state is not None
    ):
        raise CheckpointError("The checkpoint reconstructs an object in an unsupported way.")
    return cls.__new__(cls)


def _torch_size(values: Any = ()) -> tuple[int, ...]:
    return tuple(values)


def _torch_device(*arguments: Any) -> str:
    return ":".join(str(argument) for argument in arguments)


def _numpy_dtype(name: Any, *_flags: Any) -> np.dtype:
    dtype = np.dtype(name)
    if dtype.hasobject:
        raise CheckpointError("The checkpoint holds a NumPy object array, which is not supported.")
    return dtype


def _numpy_scalar(dtype: Any, data: Any = None) -> Any:
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes | str):
        raise CheckpointError("The checkpoint holds an unsupported NumPy scalar.")
    raw = data.encode("latin1") if isinstance(data, str) else data
    return np.frombuffer(raw, dtype=dtype, count=1)[0]


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    # Protocol 2 has no bytes opcode: it pickles bytes as _codecs.encode(text, "latin1").
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise CheckpointError("The checkpoint encodes bytes in an unsupported way.")
    return text.encode(encoding)


class _NumpyArrayClass:
    """What ``numpy.ndarray`` unpickles to: only a marker for ``_numpy_reconstruct``."""


def _numpy_reconstruct(subtype: Any, shape: Any, dtype_code: Any) -> np.ndarray:
    # NumPy pickles an array as an empty one of shape (0,) that BUILD then fills (and checks).
    if subtype is not _NumpyArrayClass or tuple(shape) != (0,):
        raise CheckpointError("The checkpoint holds an unsupported NumPy array.")
    return np.ndarray.__new__(np.ndarray, (0,), dtype_code)


_SAFE_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("__builtin__", "set"): set,
    ("_codecs", "encode"): _encode,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch.nn.parameter", "Parameter"): _rebuild_parameter,
    ("torch", "Tensor"): _rebuild_parameter,
    ("torch", "Size"): _torch_size,
    ("torch", "device"): _torch_device,
    ("numpy", "dtype"): _numpy_dtype,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy", "ndarray"): _NumpyArrayClass,
}


def _resolve(value: Any, path: Path, seen: dict[int, Any] | None = None) -> Any:
    """Replace every tensor reference by a NumPy array, walking containers and pickled objects."""
    seen = {} if seen is None else seen
    identity = id(value)
    if identity in seen:
        return seen[identity]
    if isinstance(value, _TensorRef):
        result: Any = _tensor_array(value, path)
    elif isinstance(value, _Storage):
        raise CheckpointError(f"The checkpoint {path} holds a bare tensor storage, which is not supported.")
    elif isinstance(value, collections.OrderedDict):
        result = collections.OrderedDict()
        seen[identity] = result
        for key, item in value.items():
            result[key] = _resolve(item, path, seen)
        # A state dict pickles its version metadata as an instance attribute.
        result.__dict__.update({key: _resolve(item, path, seen) for key, item in vars(value).items()})
    elif isinstance(value, dict):
        result = {}
        seen[identity] = result
        for key, item in value.items():
            result[key] = _resolve(item, path, seen)
    elif isinstance(value, list):
        result = []
        seen[identity] = result
        result.extend(_resolve(item, path, seen) for item in value)
    elif isinstance(value, tuple):
        result = tuple(_resolve(item, path, seen) for item in value)
    elif isinstance(value, PickledObject):
        seen[identity] = value
        if "state" in value.__dict__:
            value.__dict__["state"] = _resolve(value.__dict__["state"], path, seen)
        result = value
    else:
        result = value
    seen[identity] = result
    return result


def _tensor_array(reference: _TensorRef, path: Path) -> np.ndarray:
    storage = reference.storage
    if storage.array is None:
        raise CheckpointError(
            f"The checkpoint {path} is truncated (tensor storage {storage.key} has no data)."
        )
    count = math.prod(reference.size)
    if count == 0:
        return np.zeros(reference.size, dtype=storage.dtype)
    extent = reference.offset + sum(
        (dim - 1) * step for dim, step in zip(reference.size, reference.stride, strict=True)
    )
    if extent >= storage.array.size:
        raise CheckpointError(
            f"The checkpoint {path} is corrupt: a tensor of shape {reference.size} reaches past the end "
            f"of its data (storage {storage.key})."
        )
    itemsize = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage.array[reference.offset :],
        shape=reference.size,
        strides=tuple(step * itemsize for step in reference.stride),
        writeable=False,
    )
    return np.array(view, copy=True)


def module_state_dict(module: Any, prefix: str = "") -> dict[str, np.ndarray]:
    """The parameters and buffers of a pickled ``nn.Module`` tree, keyed as ``state_dict()`` does."""
    if not isinstance(module, PickledObject):
        where = prefix.rstrip(".") or "the top level"
        raise CheckpointError(f"Expected a pickled PyTorch module at {where}, found {type(module).__name__}.")
    attributes = module.attributes
    if "_modules" not in attributes and "_parameters" not in attributes:
        raise CheckpointError(f"{module.class_path} at {prefix or 'the top level'} is not a PyTorch module.")
    state: dict[str, np.ndarray] = {}
    for group in ("_parameters", "_buffers"):
        for name, value in (attributes.get(group) or {}).items():
            if value is None:
                continue
            if not isinstance(value, np.ndarray):
                raise CheckpointError(f"{prefix}{name} is not a tensor.")
            state[f"{prefix}{name}"] = value
    for name, child in (attributes.get("_modules") or {}).items():
        if child is not None:
            state.update(module_state_dict(child, f"{prefix}{name}."))
    return state
