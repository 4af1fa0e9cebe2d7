"""Cases for the scipy.special rules and gradkit's polygamma."""
import numpy as np
import scipy.special as sc

from gradkit.autodiff.rules.special import polygamma

R = np.random.default_rng(4)
S = np.array(0.6)
V = R.uniform(0.2, 0.8, 4)          # inside every domain below (logit, erfinv, ...)
M = R.uniform(0.2, 0.8, (3, 4))
ROW = R.uniform(0.5, 2.0, (1, 4))
POS = R.uniform(0.5, 3.0, (3, 4))

UNARY = [sc.expit, sc.logit, sc.log_expit, sc.erf, sc.erfc, sc.erfinv, sc.erfcinv, sc.ndtr,
         sc.ndtri, sc.log_ndtr, sc.gammaln, sc.gamma, sc.digamma, sc.entr]
BINARY = [sc.xlogy, sc.xlog1py, sc.rel_entr, sc.kl_div]

CASES = []
for f in UNARY:
    for x in (S, M):
        CASES.append((f"{f.__name__}{x.shape}", f, (x,)))
for f in BINARY:
    for x, y in ((V, V[::-1] + 0.1), (M, ROW)):
        CASES.append((f"{f.__name__}{x.shape}{y.shape}", f, (x, y)))
CASES += [
    ("expit-wide-range", sc.expit, (np.linspace(-8.0, 8.0, 7),)),
    ("log_ndtr-negative-tail", sc.log_ndtr, (np.array([-30.0, -8.0, -1.0]),)),
    ("xlogy-at-x-zero", lambda x, y: sc.xlogy(x * x, y), (np.array([0.0, 0.5, 0.0]), ROW[0, :3])),
    ("polygamma-1", lambda x: polygamma(1, x), (POS,)),
    ("polygamma-broadcast-order", lambda x: polygamma(np.array([[1], [2], [3]]), x), (ROW,)),
    ("digamma-of-sum", lambda x, y: sc.digamma(x + y), (POS, ROW)),
]

# -- gradkit's stable primitives (gradkit.autodiff.stable)
from gradkit.autodiff import stable  # noqa: E402

X = R.standard_normal((3, 4))
CASES += [
    ("logsumexp", stable.logsumexp, (X,)),
    ("logsumexp-axis", lambda x: stable.logsumexp(x, axis=1), (X,)),
    ("logsumexp-axes-keepdims", lambda x: stable.logsumexp(x, (0, 1), keepdims=True) * x, (X,)),
    ("logsumexp-weights", lambda x, b: stable.logsumexp(x, axis=0, b=b), (X, POS)),
    ("logsumexp-weights-broadcast", lambda x, b: stable.logsumexp(x, axis=-1, b=b), (X, ROW)),
    ("softmax", stable.softmax, (X,)),
    ("softmax-axis0", lambda x: stable.softmax(x, axis=0) ** 2, (X,)),
    ("softmax-all", lambda x: stable.softmax(x, axis=None), (X,)),
    ("log_softmax", stable.log_softmax, (X,)),
    ("log_softmax-axis0", lambda x: stable.log_softmax(x, axis=0) ** 2, (X,)),
    ("sigmoid", stable.sigmoid, (3.0 * X,)),
    ("log_sigmoid", stable.log_sigmoid, (3.0 * X,)),
    ("softplus", stable.softplus, (3.0 * X,)),
]
