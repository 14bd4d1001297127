"""Flush denormals to zero inside the kernels (x86 MXCSR FTZ + DAZ bits).

Online updates multiply tiny gradients together (g^2, dx^2 of saturated units); denormal
floats make each vector operation take a microcode assist, measured here at ~70x slower.
Each kernel thread calls ``denormals_off()`` first and ``restore(old)`` last, so numpy in the
calling thread keeps IEEE semantics.  On other processors both are no-ops.
"""

import platform

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")
_FTZ_DAZ = 0x8040


def _mxcsr_fn(builder, name):
    mod = builder.module
    fty = ir.FunctionType(ir.VoidType(), [ir.PointerType(ir.IntType(8))])
    return mod.globals.get(name) or ir.Function(mod, fty, name)


@intrinsic
def _swap_mxcsr(typingctx, bits):
    """Set MXCSR to (old | bits) when bits > 0, else to -bits exactly; return old MXCSR."""
    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        slot = builder.alloca(i32)
        ptr = builder.bitcast(slot, ir.PointerType(ir.IntType(8)))
        builder.call(_mxcsr_fn(builder, "llvm.x86.sse.stmxcsr"), [ptr])
        old = builder.load(slot)
        arg = builder.trunc(args[0], i32)
        is_set = builder.icmp_signed(">", arg, ir.Constant(i32, 0))
        new = builder.select(is_set, builder.or_(old, arg), builder.neg(arg))
        builder.store(new, slot)
        builder.call(_mxcsr_fn(builder, "llvm.x86.sse.ldmxcsr"), [ptr])
        return builder.zext(old, ir.IntType(64))
    return types.int64(types.int64), codegen


if _X86:
    @njit(cache=True)
    def denormals_off():
        """Turn on flush-to-zero and denormals-are-zero for this thread; returns the old mode."""
        return _swap_mxcsr(_FTZ_DAZ)

    @njit(cache=True)
    def restore(old):
        """Put back the mode returned by ``denormals_off``."""
        _swap_mxcsr(-old)
else:  # pragma: no cover - non-x86 processors
    @njit(cache=True)
    def denormals_off():
        return 0

    @njit(cache=True)
    def restore(old):
        return None
