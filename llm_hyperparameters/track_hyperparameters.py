"""The 2.2.0 module path `llm_hyperparameters.track_hyperparameters`: aliases of the package's names."""

from . import (
    Hyperparameter,
    Hyperparameters,
    HyperparametersScope,
    hyperparameters_scope,
    track_hyperparameters,
)

__all__ = [
    "Hyperparameter",
    "Hyperparameters",
    "HyperparametersScope",
    "hyperparameters_scope",
    "track_hyperparameters",
]
