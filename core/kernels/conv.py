"""Portable conv kernels: N-d convolution by im2col (strided slices + one batched matmul).

Shapes follow PyTorch: input ``(N, C_in, *spatial)``, weight ``(C_out, C_in / groups, *kernel)``.
``padding`` is a tuple of ``(before, after)`` pairs, one per spatial dim (asymmetric padding
serves ``padding='same'`` with even kernels). The three kernels are the three faces of the
one bilinear map: ``conv`` (forward), ``conv_backward_input`` (its adjoint in the input,
which is also the transposed convolution) and ``conv_backward_weight`` (its adjoint in the
weight).
"""

from __future__ import annotations

import itertools
import math

from .unsignalling import unsignalling

__all__ = ["ConvKernels", "conv_output_shape"]


def conv_output_shape(padded, kernel, stride, dilation):
    """Output extent per spatial dim of a valid (already padded) convolution."""
    return tuple((p - d * (k - 1) - 1) // s + 1 for p, k, s, d in zip(padded, kernel, stride, dilation))


def window_keys(kernel, stride, dilation, out_shape, lead=2):
    """One index key per kernel offset (row-major): the strided slice of the padded input it reads."""
    head = (slice(None),) * lead
    return [
        head + tuple(slice(o * d, o * d + (n - 1) * s + 1, s) for o, d, s, n in zip(offs, dilation, stride, out_shape))
        for offs in itertools.product(*(range(k) for k in kernel))
    ]


class ConvKernels:
    """Portable default conv kernels, written against ``self.xp`` only."""

    def pad_constant(self, x, padding, value):
        """``x`` with its trailing ``len(padding)`` dims padded by ``(before, after)`` pairs of ``value``."""
        if not any(lo or hi for lo, hi in padding):
            return x
        xp = self.xp
        lead = x.ndim - len(padding)
        spatial = x.shape[lead:]
        shape = tuple(x.shape[:lead]) + tuple(s + lo + hi for s, (lo, hi) in zip(spatial, padding))
        out = xp.full(shape, value, dtype=x.dtype)
        out[(slice(None),) * lead + tuple(slice(lo, lo + s) for s, (lo, _) in zip(spatial, padding))] = x
        return out

    def im2col(self, x, kernel, stride, padding, dilation, out_shape):
        """Columns ``(N, C, prod(kernel), *out_shape)`` of ``x`` zero-padded by ``padding``."""
        x = self.pad_constant(x, padding, 0)
        keys = window_keys(kernel, stride, dilation, out_shape)
        return self.xp.stack([x[key] for key in keys], axis=2)

    def col2im(self, cols, input_shape, kernel, stride, padding, dilation, order=None):
        """The adjoint of :meth:`im2col`: columns ``(N, C, prod(kernel), *out_shape)`` summed into ``input_shape``,
        the kernel offsets in ``order`` (first to last unless given; see :meth:`col2im_order`)."""
        xp = self.xp
        padded = tuple(input_shape[:2]) + tuple(s + lo + hi for s, (lo, hi) in zip(input_shape[2:], padding))
        dx = xp.zeros(padded, dtype=cols.dtype)
        keys = window_keys(kernel, stride, dilation, tuple(cols.shape[3:]))
        for i in range(len(keys)) if order is None else order:
            dx[keys[i]] = dx[keys[i]] + cols[:, :, i]
        if not any(lo or hi for lo, hi in padding):
            return dx
        inside = dx[
            (slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(input_shape[2:], padding))
        ]
        return xp.asarray(inside, copy=True)  # a gradient of its own, laid out row-major (not a view into the padding)

    def conv(self, x, weight, stride, padding, dilation, groups):
        """Cross-correlation of ``x`` with ``weight``; returns ``(N, C_out, *out)``."""
        xp = self.xp
        n, c = x.shape[0], x.shape[1]
        cout, kernel = weight.shape[0], tuple(weight.shape[2:])
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], padding))
        out_shape = conv_output_shape(padded, kernel, stride, dilation)
        cols = self.im2col(x, kernel, stride, padding, dilation, out_shape)
        cols = xp.reshape(cols, (n, groups, c // groups * math.prod(kernel), math.prod(out_shape)))
        w = xp.reshape(weight, (groups, cout // groups, c // groups * math.prod(kernel)))
        return xp.reshape(xp.matmul(w, cols), (n, cout) + out_shape)

    def conv_bias(self, x, weight, bias, stride, padding, dilation, groups):
        """:meth:`conv` plus ``bias`` (``(C_out,)``), added in place to the convolution's fresh output."""
        out = self.conv(x, weight, stride, padding, dilation, groups)
        out += self.xp.reshape(bias, (1, -1) + (1,) * (out.ndim - 2))
        return out

    def conv_backward_input(self, grad, weight, input_shape, stride, padding, dilation, groups):
        """Gradient of :meth:`conv` in its input (the transposed convolution of ``grad``)."""
        xp = self.xp
        n, cout = grad.shape[0], grad.shape[1]
        out_shape = tuple(grad.shape[2:])
        c, kernel = input_shape[1], tuple(weight.shape[2:])
        k = math.prod(kernel)
        g = xp.reshape(grad, (n, groups, cout // groups, math.prod(out_shape)))
        w = xp.reshape(weight, (groups, cout // groups, c // groups * k))
        dcols = xp.reshape(xp.matmul(xp.permute_dims(w, (0, 2, 1)), g), (n, c, k) + out_shape)
        return self.col2im(dcols, input_shape, kernel, stride, padding, dilation, self.col2im_order(k, grad, weight))

    @unsignalling
    def col2im_order(self, k, grad, weight):
        """The order in which :meth:`conv_backward_input` adds the columns of its ``k`` kernel offsets into the
        gradient (``range(k)`` here; a backend may follow the operands' layout, as PyTorch's channels-last
        ``col2im`` walks them last to first, which shows in the last bit of 16-bit sums)."""
        return range(k)

    def conv_transpose(self, x, weight, bias, output_shape, stride, padding, dilation, groups):
        """The transposed convolution of ``x`` (:meth:`conv_backward_input` into ``output_shape``), plus ``bias``
        (``(C_out,)``, or None) per channel."""
        out = self.conv_backward_input(x, weight, output_shape, stride, padding, dilation, groups)
        if bias is None:
            return out
        return out + self.xp.reshape(bias, (1, -1) + (1,) * (out.ndim - 2))

    def conv_backward_weight(self, x, grad, weight_shape, stride, padding, dilation, groups):
        """Gradient of :meth:`conv` in its weight."""
        xp = self.xp
        n, c = x.shape[0], x.shape[1]
        cout, kernel = weight_shape[0], tuple(weight_shape[2:])
        out_shape = tuple(grad.shape[2:])
        p = math.prod(out_shape)
        cols = self.im2col(x, kernel, stride, padding, dilation, out_shape)
        cols = xp.reshape(cols, (n, groups, c // groups * math.prod(kernel), p))
        g = xp.reshape(grad, (n, groups, cout // groups, p))
        dw = xp.sum(xp.matmul(g, xp.permute_dims(cols, (0, 1, 3, 2))), axis=0)
        return xp.reshape(dw, tuple(weight_shape))
