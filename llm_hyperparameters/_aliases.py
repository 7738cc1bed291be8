"""Old module paths that share a name with a function of their package (2.2.0's layout).

`import pkg.track_hyperparameters` would bind the module over the package's function of that
name; a package made with `keep_names` keeps its own name instead, so both
`from pkg import track_hyperparameters` and `from pkg.track_hyperparameters import ...` work.
"""

from __future__ import annotations

import sys
import types
from typing import Any

__all__ = ["keep_names"]


class _KeepNames(types.ModuleType):
    """A package module that ignores the import system binding a submodule over a kept name."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in self.__dict__.get("__kept_names__", ()):
            return
        super().__setattr__(name, value)


def keep_names(package: str, *names: str) -> None:
    """Keep the package's `names` when same-named submodules (old import paths) are imported."""
    module = sys.modules[package]
    module.__dict__["__kept_names__"] = frozenset(names)
    module.__class__ = _KeepNames
