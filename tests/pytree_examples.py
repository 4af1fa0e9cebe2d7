"""User containers for the pytree tests: a dataclass and a class registered by hand."""
import dataclasses

import numpy as np

from gradkit.tree import register_pytree_node


@dataclasses.dataclass
class Dense:
    w: np.ndarray
    b: np.ndarray


class Affine:
    """A user container registered by hand; ``name`` is static data, not a leaf."""

    def __init__(self, scale, shift, name="affine"):
        self.scale, self.shift, self.name = scale, shift, name


register_pytree_node(Affine, lambda a: ((a.scale, a.shift), a.name),
                     lambda name, ch: Affine(ch[0], ch[1], name))
