"""The walk of a piece of work through the backend's modules, traced as it runs.

A call from one module of the walk into another is an entry. An entry into a module that was
entered before and has since been left (no frame of it is still running) is a *return to a module
already left*: its caller drives that module piece by piece where one entry point would do.

What the walk does not count, and why:

- the shared floor, ``common`` (errors, the job lifecycle), and the two ports of ``studies`` that
  every step may use: ``studies.storage`` (media) and ``studies.events`` (announcements). Like
  Django and ``ml``, they are tools the steps call, not steps of the walk;
- reading a value: a property of a value object (``ReceivedUpload.is_ct_series``) and the methods
  a dataclass generates (``__init__``, ``__eq__``), which have no source file of their own.
"""

import importlib
import inspect
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from types import CodeType, FrameType
from typing import Any

# The backend's apps; ``tests`` is not one.
BACKEND_APPS = frozenset(
    {
        "accounts",
        "audit",
        "backups",
        "common",
        "config",
        "feedback",
        "health",
        "model_card",
        "observability",
        "pacs",
        "reports",
        "studies",
    }
)
FLOOR_PACKAGES = frozenset({"common"})
FLOOR_MODULES = frozenset({"studies.storage", "studies.events"})


@dataclass(frozen=True)
class Entry:
    module: str
    function: str
    caller: str

    def __str__(self) -> str:
        return f"{self.caller or '(start)'} -> {self.module}.{self.function}"


@dataclass
class Walk:
    entries: list[Entry] = field(default_factory=list)
    # Entries into a module already left.
    returns: list[Entry] = field(default_factory=list)

    @property
    def modules(self) -> list[str]:
        """The modules of the walk, in the order it first entered them."""
        return list(dict.fromkeys(entry.module for entry in self.entries))


def walk_module(frame: FrameType, accessors: frozenset[CodeType]) -> str | None:
    """The module of the walk that ``frame`` runs in, or None for code the walk does not count."""
    name = frame.f_globals.get("__name__", "")
    package = name.split(".", 1)[0]
    if package not in BACKEND_APPS or package in FLOOR_PACKAGES or name in FLOOR_MODULES:
        return None
    if not frame.f_code.co_filename.endswith(".py") or frame.f_code in accessors:
        return None
    return name


def value_accessors(module_names: set[str]) -> frozenset[CodeType]:
    """The code of every property (plain or cached) defined in these modules' classes."""
    codes: set[CodeType] = set()
    for module_name in module_names:
        module = importlib.import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module_name:
                continue
            for attribute in vars(cls).values():
                if isinstance(attribute, property) and attribute.fget is not None:
                    codes.add(attribute.fget.__code__)
                elif isinstance(attribute, cached_property):
                    codes.add(attribute.func.__code__)
    return frozenset(codes)


@contextmanager
def walk_traced() -> Iterator[Walk]:
    """Trace every thread's calls while the block runs; the walk is complete when it ends."""
    walk = Walk()
    accessors = value_accessors(
        {name for name in sys.modules if name.split(".", 1)[0] in BACKEND_APPS and sys.modules[name]}
    )
    # Each thread's stack of walk modules (None for a frame the walk does not count).
    stacks: dict[int, list[str | None]] = {}
    entered: set[str] = set()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event not in ("call", "return"):
            return
        name = frame.f_globals.get("__name__", "")
        if name.split(".", 1)[0] not in BACKEND_APPS:
            return
        stack = stacks.setdefault(threading.get_ident(), [])
        if event == "return":
            if stack:
                stack.pop()
            return
        module = walk_module(frame, accessors)
        stack.append(module)
        if module is None:
            return
        caller = next((running for running in reversed(stack[:-1]) if running is not None), "")
        if module == caller:
            return
        entry = Entry(module=module, function=frame.f_code.co_qualname, caller=caller)
        walk.entries.append(entry)
        if module in entered and module not in stack[:-1]:
            walk.returns.append(entry)
        entered.add(module)

    previous = sys.getprofile()
    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield walk
    finally:
        sys.setprofile(previous)
        threading.setprofile(None)  # type: ignore[arg-type]
