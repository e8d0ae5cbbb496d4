"""The Tensor methods that are op functions, declared for type checkers (nothing here runs).

:mod:`ember.tensor_methods` puts each op function on ``Tensor`` at import time (``x.sum`` *is*
``ember.ops.reduction.sum``); a type checker cannot see that, so :class:`TensorSurface` names
the same functions as class attributes, and ``Tensor`` derives from it under ``TYPE_CHECKING``
only. A checker then binds ``x`` to each function's ``input`` and checks the other arguments
against its annotations (``x.sum(dim="a")`` is an error). The ops that factories generate
(``exp``, ``eq``, ``logical_and``, ...) are spelt out as methods: a checker cannot resolve a
factory's result across the import cycle. tests/test_typing.py checks every name here against
the ``Tensor`` of run time. Methods that are not op functions stay reachable through
``Tensor.__getattr__``'s declaration (``Any``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Sequence
    from typing import ParamSpec, Protocol

    from .dtypes import dtype as _dtype
    from .ops import (
        absent_devices,
        activations,
        arithmetic,
        clamping,
        comparison,
        composite_math,
        conversion,
        creation,
        indexing,
        inplace,
        linalg,
        matrix,
        movement,
        reduction,
        sequences,
        shifts,
        slicing_joining,
        strided,
        typed_storage,
    )
    from .tensor import Tensor
    from .types import Device, Number, _size

    _P = ParamSpec("_P")

    def _inplace(method: Callable[_P, object]) -> Callable[_P, Tensor]:
        """The in-place twin of ``method`` (``ember.ops.inplace._inplace``): the same operands,
        returning the tensor it wrote into."""
        raise NotImplementedError

    class _NewFactory(Protocol):
        """``Tensor.new_zeros`` and its kin (``ember.ops.creation._new_method``): a shape, as
        ints or one sequence or ``size=``, and this tensor's dtype and device unless given."""

        def __call__(
            self,
            *args: int | _size,
            size: _size = ...,
            dtype: _dtype | None = None,
            device: Device = None,
            requires_grad: bool = False,
        ) -> Tensor: ...

    class TensorSurface:
        """The op functions that are Tensor methods (``input`` or ``self`` is the tensor)."""

        abs = arithmetic.abs
        add = arithmetic.add
        addcdiv = arithmetic.addcdiv
        addcmul = arithmetic.addcmul
        addmm = linalg.addmm
        addmv = linalg.addmv
        addr = sequences.addr
        all = reduction.all
        allclose = comparison.allclose
        amax = reduction.amax
        amin = reduction.amin
        aminmax = reduction.aminmax
        any = reduction.any
        argmax = reduction.argmax
        argmin = reduction.argmin
        argsort = indexing.argsort
        argwhere = indexing.argwhere
        atan2 = arithmetic.atan2
        baddbmm = linalg.baddbmm
        bernoulli_ = inplace.bernoulli_
        bincount = slicing_joining.bincount
        bitwise_left_shift = shifts.bitwise_left_shift
        bitwise_not = clamping.bitwise_not
        bitwise_right_shift = shifts.bitwise_right_shift
        bmm = linalg.bmm
        broadcast_to = movement._broadcast_to_method
        cauchy_ = inplace.cauchy_
        chunk = movement.chunk
        clamp = arithmetic.clamp
        clamp_max = clamping.clamp_max
        clamp_min = clamping.clamp_min
        clone = conversion.clone
        contiguous = movement.contiguous
        copy_ = conversion.copy_
        copysign = composite_math.copysign
        count_nonzero = reduction.count_nonzero
        cpu = conversion.cpu
        cross = matrix.cross
        cuda = conversion.cuda
        cummax = reduction.cummax
        cummin = reduction.cummin
        cumprod = reduction.cumprod
        cumsum = reduction.cumsum
        deg2rad = composite_math.deg2rad
        diag = matrix.diag
        diag_embed = matrix.diag_embed
        diagonal = matrix.diagonal
        diff = sequences.diff
        div = arithmetic.div
        dot = linalg.dot
        dsplit = slicing_joining.dsplit
        equal = comparison.equal
        expand = movement.expand
        expand_as = movement.expand_as
        exponential_ = inplace.exponential_
        fill_ = inplace.fill_
        fix = composite_math.fix
        flatten = movement.flatten
        fliplr = slicing_joining.fliplr
        flipud = slicing_joining.flipud
        float_power = clamping.float_power
        floor_divide = arithmetic.floor_divide
        fmax = composite_math.fmax
        fmin = composite_math.fmin
        fmod = arithmetic.fmod
        frac = arithmetic.frac
        gather = indexing.gather
        hardshrink = activations.hardshrink
        heaviside = composite_math.heaviside
        hsplit = slicing_joining.hsplit
        hypot = composite_math.hypot
        index_add = indexing.index_add
        index_copy = indexing.index_copy
        index_fill = indexing.index_fill
        index_put = slicing_joining.index_put
        index_select = indexing.index_select
        inner = linalg.inner
        is_complex = slicing_joining.is_complex
        is_contiguous = movement.is_contiguous
        isclose = comparison.isclose
        isfinite = arithmetic.isfinite
        isinf = arithmetic.isinf
        isnan = arithmetic.isnan
        kron = matrix.kron
        kthvalue = indexing.kthvalue
        lerp = arithmetic.lerp
        log_normal_ = inplace.log_normal_
        log_softmax = activations.log_softmax
        logaddexp = composite_math.logaddexp
        logaddexp2 = composite_math.logaddexp2
        logcumsumexp = reduction.logcumsumexp
        logical_not = arithmetic.logical_not
        logit = composite_math.logit
        logsumexp = reduction.logsumexp
        masked_fill = indexing.masked_fill
        masked_scatter = indexing.masked_scatter
        masked_select = indexing.masked_select
        matmul = linalg.matmul
        max = reduction.max
        maximum = arithmetic.maximum
        mean = reduction.mean
        median = reduction.median
        min = reduction.min
        minimum = arithmetic.minimum
        mm = linalg.mm
        movedim = movement.tensor_movedim
        msort = sequences.msort
        mul = arithmetic.mul
        mv = linalg.mv
        nan_to_num = clamping.nan_to_num
        nanmean = reduction.nanmean
        nansum = reduction.nansum
        narrow = movement.tensor_narrow
        neg = arithmetic.neg
        nonzero = indexing.nonzero
        norm = reduction.norm
        normal_ = inplace.normal_
        numpy = conversion.numpy
        outer = linalg.outer
        permute = movement.tensor_permute
        positive = composite_math.positive
        pow = arithmetic.pow
        prod = reduction.prod
        rad2deg = composite_math.rad2deg
        random_ = inplace.random_
        ravel = sequences.ravel
        relu = activations.relu
        relu_ = activations.relu_
        remainder = arithmetic.remainder
        repeat = movement.repeat
        repeat_interleave = sequences.repeat_interleave
        reshape = movement.tensor_reshape
        reshape_as = movement.reshape_as
        roll = movement.tensor_roll
        rot90 = slicing_joining.rot90
        round = arithmetic.round
        scatter = indexing.scatter
        scatter_add = indexing.scatter_add
        select = slicing_joining.tensor_select
        sgn = composite_math.sgn
        signbit = composite_math.signbit
        sinc = composite_math.sinc
        softmax = activations.softmax
        sort = indexing.sort
        square = arithmetic.square
        squeeze = movement.squeeze
        std = reduction.std
        sub = arithmetic.sub
        sum = reduction.sum
        swapaxes = movement.swapaxes
        t = movement.t
        take = indexing.take
        take_along_dim = indexing.take_along_dim
        tensor_split = slicing_joining.tensor_split
        to = conversion.to
        topk = indexing.topk
        trace = matrix.trace
        transpose = movement.tensor_transpose
        tril = matrix.tril
        triu = matrix.triu
        true_divide = arithmetic.true_divide
        type = conversion.type_
        type_as = conversion.type_as
        unbind = movement.unbind
        unflatten = movement.unflatten
        uniform_ = inplace.uniform_
        unique = slicing_joining.unique
        unsqueeze = movement.unsqueeze
        var = reduction.var
        vdot = linalg.vdot
        view = movement.view
        view_as = movement.view_as
        vsplit = slicing_joining.vsplit
        xlogy = composite_math.xlogy
        zero_ = inplace.zero_

        # aliases: functions of their own, each renamed() from its op, which a checker cannot resolve
        # across the import cycle (the operands are the op's)
        def absolute(self) -> Tensor: ...
        def clip(self, min: Tensor | Number | None = None, max: Tensor | Number | None = None) -> Tensor: ...
        def divide(self, other: Tensor | Number, *, rounding_mode: str | None = None) -> Tensor: ...
        def ger(self, vec2: Tensor) -> Tensor: ...
        def multiply(self, other: Tensor | Number) -> Tensor: ...
        def negative(self) -> Tensor: ...
        def subtract(self, other: Tensor | Number, *, alpha: Number = 1) -> Tensor: ...
        def swapdims(self, dim0: int, dim1: int) -> Tensor: ...

        # made by factories: one operand or two, or a cast to a dtype
        def acos(self) -> Tensor: ...
        def acosh(self) -> Tensor: ...
        def arccos(self) -> Tensor: ...
        def arccosh(self) -> Tensor: ...
        def arcsin(self) -> Tensor: ...
        def arcsinh(self) -> Tensor: ...
        def arctan(self) -> Tensor: ...
        def arctanh(self) -> Tensor: ...
        def asin(self) -> Tensor: ...
        def asinh(self) -> Tensor: ...
        def atan(self) -> Tensor: ...
        def atanh(self) -> Tensor: ...
        def bfloat16(self, memory_format: object = None) -> Tensor: ...
        def bitwise_and(self, other: Tensor | Number) -> Tensor: ...
        def bitwise_or(self, other: Tensor | Number) -> Tensor: ...
        def bitwise_xor(self, other: Tensor | Number) -> Tensor: ...
        def bool(self, memory_format: object = None) -> Tensor: ...
        def byte(self, memory_format: object = None) -> Tensor: ...
        def ceil(self) -> Tensor: ...
        def char(self, memory_format: object = None) -> Tensor: ...
        def cos(self) -> Tensor: ...
        def cosh(self) -> Tensor: ...
        def double(self, memory_format: object = None) -> Tensor: ...
        def eq(self, other: Tensor | Number) -> Tensor: ...
        def erf(self) -> Tensor: ...
        def erfc(self) -> Tensor: ...
        def exp(self) -> Tensor: ...
        def exp2(self) -> Tensor: ...
        def expm1(self) -> Tensor: ...
        def float(self, memory_format: object = None) -> Tensor: ...
        def floor(self) -> Tensor: ...
        def ge(self, other: Tensor | Number) -> Tensor: ...
        def greater(self, other: Tensor | Number) -> Tensor: ...
        def greater_equal(self, other: Tensor | Number) -> Tensor: ...
        def gt(self, other: Tensor | Number) -> Tensor: ...
        def half(self, memory_format: object = None) -> Tensor: ...
        def int(self, memory_format: object = None) -> Tensor: ...
        def le(self, other: Tensor | Number) -> Tensor: ...
        def less(self, other: Tensor | Number) -> Tensor: ...
        def less_equal(self, other: Tensor | Number) -> Tensor: ...
        def log(self) -> Tensor: ...
        def log10(self) -> Tensor: ...
        def log1p(self) -> Tensor: ...
        def log2(self) -> Tensor: ...
        def logical_and(self, other: Tensor | Number) -> Tensor: ...
        def logical_or(self, other: Tensor | Number) -> Tensor: ...
        def logical_xor(self, other: Tensor | Number) -> Tensor: ...
        def long(self, memory_format: object = None) -> Tensor: ...
        def lt(self, other: Tensor | Number) -> Tensor: ...
        def ne(self, other: Tensor | Number) -> Tensor: ...
        def not_equal(self, other: Tensor | Number) -> Tensor: ...
        def reciprocal(self) -> Tensor: ...
        def rsqrt(self) -> Tensor: ...
        def short(self, memory_format: object = None) -> Tensor: ...
        def sigmoid(self) -> Tensor: ...
        def sign(self) -> Tensor: ...
        def sin(self) -> Tensor: ...
        def sinh(self) -> Tensor: ...
        def split(
            self, split_size: builtins.int | Sequence[builtins.int], dim: builtins.int = 0
        ) -> tuple[Tensor, ...]: ...
        def sqrt(self) -> Tensor: ...
        def tan(self) -> Tensor: ...
        def tanh(self) -> Tensor: ...
        def tile(
            self, *copies: builtins.int | _size, dims: _size | None = None
        ) -> Tensor: ...  # the class has a method int
        def trunc(self) -> Tensor: ...

        # made from the methods above by ember.tensor_methods: the in-place twins (ember.ops.inplace,
        # ember.ops.slicing_joining), their other names, and the new_* factories
        add_ = _inplace(add)
        sub_ = _inplace(sub)
        mul_ = _inplace(mul)
        div_ = _inplace(div)
        pow_ = _inplace(pow)
        remainder_ = _inplace(remainder)
        fmod_ = _inplace(fmod)
        floor_divide_ = _inplace(floor_divide)
        neg_ = _inplace(neg)
        abs_ = _inplace(abs)
        sign_ = _inplace(sign)
        exp_ = _inplace(exp)
        expm1_ = _inplace(expm1)
        log_ = _inplace(log)
        log1p_ = _inplace(log1p)
        log2_ = _inplace(log2)
        log10_ = _inplace(log10)
        sqrt_ = _inplace(sqrt)
        rsqrt_ = _inplace(rsqrt)
        square_ = _inplace(square)
        reciprocal_ = _inplace(reciprocal)
        sin_ = _inplace(sin)
        cos_ = _inplace(cos)
        tan_ = _inplace(tan)
        asin_ = _inplace(asin)
        acos_ = _inplace(acos)
        atan_ = _inplace(atan)
        atan2_ = _inplace(atan2)
        sinh_ = _inplace(sinh)
        cosh_ = _inplace(cosh)
        tanh_ = _inplace(tanh)
        sigmoid_ = _inplace(sigmoid)
        erf_ = _inplace(erf)
        floor_ = _inplace(floor)
        ceil_ = _inplace(ceil)
        round_ = _inplace(round)
        trunc_ = _inplace(trunc)
        frac_ = _inplace(frac)
        clamp_ = _inplace(clamp)
        clip_ = _inplace(clip)
        masked_fill_ = _inplace(masked_fill)
        index_add_ = _inplace(index_add)
        index_fill_ = _inplace(index_fill)
        scatter_ = _inplace(scatter)
        scatter_add_ = _inplace(scatter_add)
        lerp_ = _inplace(lerp)
        addcmul_ = _inplace(addcmul)
        addcdiv_ = _inplace(addcdiv)
        logical_not_ = _inplace(logical_not)
        logical_and_ = _inplace(logical_and)
        logical_or_ = _inplace(logical_or)
        logical_xor_ = _inplace(logical_xor)
        eq_ = _inplace(eq)
        ne_ = _inplace(ne)
        lt_ = _inplace(lt)
        le_ = _inplace(le)
        gt_ = _inplace(gt)
        ge_ = _inplace(ge)
        nan_to_num_ = _inplace(nan_to_num)
        clamp_min_ = _inplace(clamp_min)
        clamp_max_ = _inplace(clamp_max)
        float_power_ = _inplace(float_power)
        bitwise_not_ = _inplace(bitwise_not)
        bitwise_left_shift_ = _inplace(bitwise_left_shift)
        bitwise_right_shift_ = _inplace(bitwise_right_shift)
        tril_ = _inplace(tril)
        triu_ = _inplace(triu)
        cumsum_ = _inplace(cumsum)
        cumprod_ = _inplace(cumprod)
        index_put_ = _inplace(index_put)
        squeeze_ = _inplace(squeeze)
        unsqueeze_ = _inplace(unsqueeze)
        t_ = _inplace(t)
        transpose_ = _inplace(transpose)
        swapaxes_ = _inplace(swapaxes)
        swapdims_ = _inplace(swapdims)
        subtract_ = sub_
        multiply_ = mul_
        divide_ = div_
        true_divide_ = div_
        negative_ = neg_
        absolute_ = abs_
        new_empty: _NewFactory
        new_zeros: _NewFactory
        new_ones: _NewFactory
        new_full = creation._new_full
        new_tensor = creation._new_tensor
        # the devices, layouts and features ember has no backend for (flags, and methods that raise)
        is_nested = absent_devices.is_nested
        is_xla = absent_devices.is_xla
        is_ipu = absent_devices.is_ipu
        is_mtia = absent_devices.is_mtia
        is_maia = absent_devices.is_maia
        is_vulkan = absent_devices.is_vulkan
        is_mkldnn = absent_devices.is_mkldnn
        name = absent_devices.name
        is_distributed = absent_devices.is_distributed
        xpu = absent_devices.xpu
        ipu = absent_devices.ipu
        mtia = absent_devices.mtia
        record_stream = absent_devices.record_stream
        to_padded_tensor = absent_devices.to_padded_tensor
        module_load = absent_devices.module_load
        chalf = absent_devices.chalf
        smm = absent_devices.smm
        sspaddmm = absent_devices.sspaddmm
        storage_type = typed_storage.storage_type
        slice_inverse = strided.slice_inverse
