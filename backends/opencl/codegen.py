"""Assembly of generated OpenCL C: the template fields of the ``cl/*.cl`` kernels whose index
arithmetic, operand list or arithmetic is chosen per call (element-wise maps, reductions,
scans, softmax rows). Pure text: C expressions and type names in, template fields out; the
layers above build and launch the programs (:meth:`~ember.backends.opencl.runtime.Device.kernel`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np

from .runtime import cl_type

__all__ = ["index_code", "helper_source", "map_fields", "reduce_fields", "scan_fields", "rows_fields"]

_HALF = np.dtype("float16")


def index_code(starts, nd, counter, shape_at):
    """C code adding to each variable its offset for the linear index ``counter``.

    The ``nd`` dimensions' sizes are read from ``meta[shape_at + d]``; ``starts`` maps each
    variable to the meta index of its first stride. All are C expressions, so one compiled
    kernel serves every number of dimensions.
    """
    adds = " ".join(f"{var} += c_ * meta[{start} + d_];" for var, start in starts.items())
    return (
        f"    {{ long r_ = {counter};\n"
        f"      for (int d_ = (int)({nd}) - 1; d_ >= 0; --d_) {{\n"
        f"        const long n_ = meta[{shape_at} + d_]; const long c_ = d_ ? r_ % n_ : r_; r_ = d_ ? r_ / n_ : 0;\n"
        f"        {adds}\n      }} }}"
    )


@cache
def helper_source(name, compute):
    """The helper functions of ``cl/<name>`` with ``C_T`` standing for the type ``compute``."""
    return resources.files(__package__).joinpath("cl", name).read_text().replace("C_T", compute)


def map_fields(family, flat, signature):
    """The fields of ``elementwise.cl``, one dict per expression of ``family`` (kernel ``mapJ``
    computes ``family[J]``).

    ``signature`` is the output dtype, then per operand ``(dtype, compute type)`` for an array
    or the compute type of a scalar passed by value. ``flat``: every array walks memory
    contiguously and ``meta`` holds only their offsets; otherwise ``meta`` holds the collapsed
    shape, then each array's offset and strides (see ``elementwise.map_into``).
    """
    out_dtype, operands = signature[0], signature[1:]
    arrays = [i for i, s in enumerate(operands) if type(s) is tuple]
    names = ["io"] + [f"i{i}" for i in arrays]
    params, loads = [], []
    for i, s in enumerate(operands):
        if type(s) is tuple:
            dtype, c = s
            params.append(f", __global const {cl_type(dtype)} *a{i}")
            value = f"vload_half(i{i}, a{i})" if dtype == _HALF else f"a{i}[i{i}]"
            if dtype == np.bool_:  # any nonzero byte is true (memory viewed as bool may hold others)
                value = f"({value} != 0)"
            loads.append(f"    const {c} x{i} = ({c}){value};")
        else:
            params.append(f", const {s} x{i}")
    if flat:
        index = "\n".join(f"    const long {name} = meta[{j}] + i;" for j, name in enumerate(names))
    else:
        index = ["    const int nd = (int)meta[0];"]
        index += [f"    long {name} = meta[1 + nd + {j} * (nd + 1)];" for j, name in enumerate(names)]
        starts = {name: f"2 + nd + {j} * (nd + 1)" for j, name in enumerate(names)}
        index = "\n".join(index) + "\n" + index_code(starts, "nd", "i", "1")
    out_t = cl_type(out_dtype)
    if out_dtype == np.bool_:
        store = "    out[io] = (uchar)((%s) != 0);"
    elif out_dtype == _HALF:  # round to nearest even, as NumPy and PyTorch convert
        store = "    vstore_half_rte((float)(%s), io, out);"
    else:
        store = f"    out[io] = ({out_t})(%s);"
    common = {"OUT_T": out_t, "PARAMS": "".join(params), "LOADS": "\n".join(loads), "INDEX": index}
    return [{**common, "NAME": f"map{j}", "STORE": store % e} for j, e in enumerate(family)]


def reduce_fields(in_dtype, out_dtype, acc_t, init, step, final, load):
    """The fields of ``reduce.cl``: accumulate ``step`` (C statements on ``acc`` and the loaded
    ``x``) from ``init``, then ``final``; ``load`` reads element ``a[ia]`` (default: a cast)."""
    return {
        "ISNAN": "isnan(v)" if acc_t in ("float", "double") else "0",
        "OUT_T": cl_type(out_dtype),
        "IN_T": cl_type(in_dtype),
        "OUTER": index_code({"base": "3 + no + nr"}, "no", "i", "2"),
        "INNER": index_code({"ia": "3 + 2 * no + nr"}, "nr", "j", "2 + no"),
        "ACC_T": acc_t,
        "INIT": init,
        "STEP": step,
        "FINAL": final,
        "LOAD": load or f"({acc_t})a[ia]",
    }


def scan_fields(in_dtype, out_dtype, initial):
    """The fields of ``scan.cl`` (``initial``: 1 to start each row with a 0)."""
    return {
        "OUT_T": cl_type(out_dtype),
        "IN_T": cl_type(in_dtype),
        "INITIAL": initial,
        "OUTER": index_code({"base": "2 + no"}, "no", "i", "1"),
    }


def rows_fields():
    """The fields of a row kernel walking strided rows (``softmax.cl``)."""
    return {"OUTER": index_code({"base": "2 + nd"}, "nd", "i", "1")}
