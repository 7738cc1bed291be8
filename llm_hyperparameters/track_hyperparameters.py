"""The 2.2.0 module path `llm_hyperparameters.track_hyperparameters`: aliases of the package's names."""

from . import (
    Hyperparameter,
    Hyperparameters,
    HyperparametersScope,
    hyperparameters_scope,
    track_hyperparameters,
)
from ._aliases import keep_package_name

keep_package_name(__name__)  # the package keeps its own name for the function

__all__ = [
    "Hyperparameter",
    "Hyperparameters",
    "HyperparametersScope",
    "hyperparameters_scope",
    "track_hyperparameters",
]
