"""Old module paths that share a name with a function of their package (2.2.0's layout).

Importing `pkg.track_hyperparameters` binds the module over the package's function of that
name; the old module calls `keep_package_name(__name__)` so the package keeps its own name, and
both `from pkg import track_hyperparameters` and `from pkg.track_hyperparameters import ...` work.
"""

from __future__ import annotations

import sys
import types
from typing import Any

__all__ = ["keep_package_name"]


class _KeepNames(types.ModuleType):
    """A package module that ignores the import system binding a submodule over a kept name."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in self.__dict__.get("__kept_names__", ()):
            return
        super().__setattr__(name, value)


def keep_package_name(module_name: str) -> None:
    """Called by the old module `pkg.name`: `pkg.name` stays the package's own `name`."""
    package_name, _, name = module_name.rpartition(".")
    package = sys.modules[package_name]
    package.__dict__["__kept_names__"] = package.__dict__.get("__kept_names__", frozenset()) | {name}
    package.__class__ = _KeepNames
