"""`nnscratch.nn.functional` (import as F): the functional forms of layers, activations and losses."""

from ..functional import *  # noqa: F401,F403
from ..functional import __all__  # noqa: F401
