"""The errors a user can act on: the tools print them as one line and exit with status 2."""


class UserError(Exception):
    """A problem the user can fix (bad path, bad option); scripts print it as one line, exit 2."""


class ImageError(UserError):
    """One file cannot be used as an image."""
