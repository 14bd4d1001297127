"""H2O's approximate square root (``water.util.MathUtils.approxSqrt``, spec section 4.1).

ADADELTA's step size is ``approxSqrt((E[dx^2] + eps) / (E[g^2] + eps))``: the float's bit
pattern halved and re-biased, within about 4 % of the square root.  It is H2O's own
arithmetic, and it costs an integer shift and add where a vector square root costs 6-12
cycles per vector on current x86 cores; the online update is bound by it once the model fits
in cache.
"""

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

# float32: bits(x) / 2 + 532483686;  float64: ((bits(x) >> 32) + 1072632448) << 31
_F32_BIAS = 532483686
_F64_BIAS = 1072632448


@intrinsic
def _approx_sqrt(typingctx, x):
    if x == types.float32:
        def codegen(context, builder, sig, args):
            i = builder.bitcast(args[0], ir.IntType(32))
            r = builder.add(builder.ashr(i, ir.Constant(ir.IntType(32), 1)),
                            ir.Constant(ir.IntType(32), _F32_BIAS))
            return builder.bitcast(r, ir.FloatType())
        return types.float32(types.float32), codegen
    if x == types.float64:
        def codegen(context, builder, sig, args):
            i64 = ir.IntType(64)
            i = builder.bitcast(args[0], i64)
            r = builder.shl(builder.add(builder.ashr(i, ir.Constant(i64, 32)),
                                        ir.Constant(i64, _F64_BIAS)), ir.Constant(i64, 31))
            return builder.bitcast(r, ir.DoubleType())
        return types.float64(types.float64), codegen
    return None


@njit(inline="always")
def approx_sqrt(x):
    """H2O's approxSqrt of a non-negative float32 or float64 ``x`` (same type back)."""
    return _approx_sqrt(x)
