"""mpidl: H2O-3 Deep Learning rebuilt as an MPI batch application."""

__version__ = "0.1.0"

__all__ = ["DeepLearningEstimator"]


def __getattr__(name: str):
    """``from mpidl import DeepLearningEstimator`` without loading the API for the commands."""
    if name == "DeepLearningEstimator":
        from .api import DeepLearningEstimator
        return DeepLearningEstimator
    raise AttributeError(f"module 'mpidl' has no attribute {name!r}")
