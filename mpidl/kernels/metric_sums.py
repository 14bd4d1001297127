"""One pass over scored rows for the binomial metric sums (H2O's MetricBuilderBinomial.perRow
sums), so a large validation frame is read once rather than once per statistic."""

import numpy as np
from numba import njit


@njit(cache=True)
def binomial_sums(p0, p1, y, w, eps):
    """Sums over rows of P(class 0) ``p0`` and P(class 1) ``p1`` float64[n], classes ``y``
    int64[n] in {0, 1} and weights ``w`` float64[n]: float64[8] = [rows, sum w, sum w*y,
    sum w*(1 - p_actual)^2, -sum w*log(max(eps, p_actual)), rows with a non-finite p1, their
    positive weight, their negative weight] (p_actual = the actual class's column: p1 for
    y = 1, p0 for y = 0, as H2O's MetricBuilderBinomial.perRow)."""
    out = np.zeros(8)
    for i in range(p1.shape[0]):
        wi = w[i]
        p_act = p1[i] if y[i] == 1 else p0[i]
        out[1] += wi
        out[3] += wi * (1.0 - p_act) * (1.0 - p_act)
        out[4] -= wi * np.log(max(eps, p_act))
        if y[i] == 1:
            out[2] += wi
        if not np.isfinite(p1[i]):
            out[5] += 1.0
            if y[i] == 1:
                out[6] += wi
            else:
                out[7] += wi
    out[0] = p1.shape[0]
    return out
