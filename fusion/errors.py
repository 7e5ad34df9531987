"""Errors that the command line turns into exit codes."""


class BadInput(Exception):
    """Bad input or usage: a missing or corrupt file, an unknown source, a bad config.

    The command line prints the message as one line on stderr and exits with code 2.
    Raise it with a message a user can act on; never for a bug in the program.
    """
