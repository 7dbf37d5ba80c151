"""The errors a user can act on: the tools print them as one line and exit with status 2."""


class UserError(Exception):
    """A problem the user can fix (bad path, bad option); scripts print it as one line, exit 2."""


class ImageError(UserError):
    """One file cannot be used as an image."""


def check_finite(values, source):
    """Refuse values (a NumPy array) holding NaN or infinity, with one line naming their source:
    a model that returns NaN must not fill a painting with black."""
    import numpy as np
    if not np.isfinite(values).all():
        raise UserError(f"{source} returned NaN or infinite values: it is damaged or was "
                        f"trained into divergence; nothing was written from it")
