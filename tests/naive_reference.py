"""Plain-Python reference computations that the loss tests compare the vectorised losses with."""
import math


def softmax_list(values):
    """softmax of a list of floats."""
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


def kl_list(p, q):
    """KL(p ‖ q) = Σ p (log p − log q) of two probability lists (terms with p = 0 contribute 0)."""
    return sum(pi * (math.log(pi) - math.log(qi)) for pi, qi in zip(p, q) if pi > 0)
