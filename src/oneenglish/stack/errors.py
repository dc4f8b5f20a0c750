class StackError(RuntimeError):
    """A local server could not be provisioned, started or stopped; the message says why."""
