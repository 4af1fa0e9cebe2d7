"""Optimization: gradient transformations (optax style) and full-batch solvers (scipy style).

- :mod:`.transforms`: ``sgd``, ``momentum``, ``adagrad``, ``rmsprop``, ``adam``, ``adamw``, ...
  as ``GradientTransformation(init, update)`` chains of small blocks, gathered from the
  family's modules as optax splits them: :mod:`.base` (the protocol, ``chain``,
  ``apply_updates``, ``step``), :mod:`.scaling` (step sizes, momentum, the adaptive
  scalings, weight decay), :mod:`.clipping`, :mod:`.plateau` (``reduce_on_plateau``,
  ``current_learning_rate``) and :mod:`.aliases` (the named optimizers).
- :mod:`.schedules`: learning rates as functions of the step.
- :mod:`.minimize`: ``minimize(f, x0, method=...)`` with ``gd``, ``newton``, ``newton-cg``,
  ``bfgs``, ``lbfgs``, ``frank-wolfe`` (:mod:`.frank_wolfe`), ``natural``
  (:mod:`.natural_gradient`), ``proximal`` (:mod:`.proximal`), ``subgradient``, and
  ``trust-ncg`` / ``trust-exact`` (:mod:`.trust_region`).
- :mod:`.smoothing`: ``smoothed(fun, x0)``, non-smooth losses (``smooth_abs``,
  ``smooth_hinge``, ``smooth_max``) minimized by continuation on the smoothing parameter.
- :mod:`.loop`: ``run(optimizer, f, x0, max_iter)``, a transformation on f, full batch.
- :mod:`.blockwise`: ``blockwise_objective(loss, X, y)``, a loss summed over row blocks
  (Dask arrays: computed where each block lives) for any full-batch solver.
- :mod:`.landscapes`: the two-dimensional test functions ``gradkit race`` runs on
  (Rosenbrock, Beale, Himmelblau, ...).
"""
from . import schedules, transforms
from .blockwise import BlockwiseObjective, blockwise_objective
from .frank_wolfe import Box, L1Ball, L2Ball, NuclearNormBall, Simplex
from .line_search import backtracking_armijo, line_search, strong_wolfe
from .loop import run
from .minimize import METHODS, OptimizeResult, minimize
from .natural_gradient import conjugate_gradient, fisher_vector_product, natural_gradient_descent
from .proximal import prox_elastic_net, soft_threshold
from .schedules import *  # noqa: F401,F403
from .smoothing import smooth_abs, smooth_hinge, smooth_max, smoothed
from .schedules import __all__ as _schedules_all
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transforms_all

__all__ = ["schedules", "transforms", *_transforms_all, *_schedules_all,
           "minimize", "OptimizeResult", "METHODS", "Simplex", "L1Ball", "L2Ball", "Box",
           "NuclearNormBall", "natural_gradient_descent", "fisher_vector_product",
           "conjugate_gradient", "soft_threshold", "prox_elastic_net", "strong_wolfe",
           "backtracking_armijo", "line_search", "blockwise_objective", "BlockwiseObjective",
           "run", "smoothed", "smooth_abs", "smooth_hinge", "smooth_max"]
