"""Error types and the process exit codes of the command-line contract."""

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USER = 2
EXIT_REQUEUE = 75  # checkpointed on SIGTERM/SIGUSR1: resubmit to continue (EX_TEMPFAIL)


class UserError(Exception):
    """Bad input from the user: one line naming the file, column or parameter.

    The command line prints ``str(err)`` on stderr and exits with ``EXIT_USER``.
    """


class TrainingDiverged(Exception):
    """The model's weights became non-finite (H2O: 'unstable model')."""


class CheckpointedOnSignal(Exception):
    """A SIGTERM/SIGUSR1 reached some rank; the model was checkpointed for a resubmission."""
