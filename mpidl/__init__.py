"""mpidl: H2O-3 Deep Learning rebuilt as an MPI batch application."""

__version__ = "0.1.0"
