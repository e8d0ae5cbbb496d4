"""PyTorch's CPU random stream on NumPy: the same Mersenne Twister, consumed in the same order and
turned into samples by the same arithmetic, so that ``ember.manual_seed(s)`` followed by the same
calls gives PyTorch's numbers on the ``cpu`` device (initial weights, dropout masks, shuffles).

The engine is MT19937 seeded as C++'s ``std::mt19937`` (``init_genrand`` of the seed's low 32
bits), which NumPy ships; the samplers draw from its 32-bit outputs:

* a float32 (and a 16-bit float) uniform uses one output, its low 24 bits over ``2**24``;
* a float64 uniform uses 53 bits of two outputs (the first one high) over ``2**53``;
* an integer in a range below ``2**28`` is one output modulo the range, else 64 bits modulo it
  (``random_()`` without bounds: 64 bits for int64 and float64 only);
* a normal sample of a tensor of 16 or more elements comes from Box-Muller over blocks of 16
  uniforms (float64 ones for float64, else float32 ones, the samples rounded to the dtype after;
  the first 8 and last 8 of each block; the last 16 elements are drawn again as a block when the
  size is not a multiple of 16, after uniforms for all elements, or for a 16-bit dtype after those
  of the whole blocks only); a smaller tensor takes its
  samples one by one from float64 Box-Muller pairs, the second of each pair kept for the next
  sample, also across calls, until the next seeding;
* exponential, log-normal, Cauchy and geometric samples come from float64 uniforms and normals,
  one each, rounded to the dtype; Poisson, Gamma and binomial ones from PyTorch's serial rejection
  samplers, over blocks of float64 uniforms drawn ahead (:mod:`.loops.rejection` where Numba serves,
  else :mod:`.serial_samplers` in Python);
* multinomial samples with replacement from float64 uniforms placed in each row's running sums.

PyTorch's x86 kernels round ``a * b + c`` once and its float32 Box-Muller takes its own
polynomial logarithm and sine/cosine: :mod:`.sampling_math` reproduces both; its scalar samplers
call the C library's float64 functions, which :mod:`.libm` calls too. So the samples are PyTorch's
bit for bit (checked against PyTorch 2.13 on x86), and the state (:meth:`CpuGenerator.get_state`)
is PyTorch's 5056 bytes.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from ember.backend import Generator

from . import libm, loops
from .sampling_math import fma32, fma64, log32, sincos32
from .serial_samplers import UniformFeed, binomial_sample, gamma_sample, poisson_count

__all__ = ["CpuGenerator"]

_LOW24 = np.uint32((1 << 24) - 1)
_HIGH21 = np.uint32((1 << 21) - 1)  # the bits of a 64-bit number's high word below its 53rd
_WIDE_SPAN = 1 << 28  # integers in a range this wide or wider take 64 bits (less modulo bias)
_BLOCK = 16  # PyTorch's Box-Muller block: uniforms j and j + 8 give normals j and j + 8
_CHUNK_BLOCKS = 2048  # blocks computed together: their temporaries stay in the CPU's cache


_STATE_WORDS = 624  # MT19937's state: 624 words
_SEED_MASK = (1 << 64) - 1
# PyTorch's CPUGeneratorImplState (5056 bytes): the seed, left, seeded, next, the 624 words as uint64,
# the cached double normal as y of a legacy (x, y, rho) and its validity, then a float normal and its
# validity (which nothing on the CPU caches), padded as the C struct is
_STATE = struct.Struct(f"<QiiQ{_STATE_WORDS}Qdddi4xf?3x")


def _seeded_key(seed):
    """MT19937's 624 words right after seeding with ``seed``'s low 32 bits."""
    engine = np.random.MT19937(0)
    engine._legacy_seeding(seed & 0xFFFFFFFF)
    return engine.state["state"]["key"]


def _narrowed(values, dtype):
    """float64 ``values`` in ``dtype``, a 16-bit float by way of float32, as PyTorch's casts from double
    go (its 16-bit floats are made from a float)."""
    if dtype.itemsize == 2 and dtype.kind not in "iu":
        values = values.astype(np.float32)
    return values.astype(dtype, copy=False)


class CpuGenerator(Generator):
    """A per-device stream that reproduces PyTorch's CPU generator (see the module's docstring)."""

    def __init__(self, seed):
        self._engine = np.random.MT19937(0)
        self._bits = np.random.Generator(self._engine)  # the engine's outputs as uint32, in order
        self.manual_seed(seed)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self._engine._legacy_seeding(self._seed & 0xFFFFFFFF)
        self._cached_normal = None  # the second sample of the last float64 Box-Muller pair

    def initial_seed(self):
        return self._seed

    # -- the engine's outputs ------------------------------------------------------------------
    def _words(self, n):
        """``n`` 32-bit outputs, as uint32 (the full range of ``integers`` takes one output each)."""
        return self._bits.integers(0, 1 << 32, n, dtype=np.uint32)

    def _words64(self, n):
        """``n`` 64-bit numbers, each from two outputs, the first one high."""
        pairs = self._words(2 * n).reshape(n, 2).astype(np.uint64)
        return (pairs[:, 0] << np.uint64(32)) | pairs[:, 1]

    def _uniform24(self, n):
        """``n`` float32 uniforms in [0, 1): the low 24 bits of an output over ``2**24``."""
        values = (self._words(n) & _LOW24).astype(np.float32)
        values *= np.float32(2.0**-24)
        return values

    def _uniform53(self, n):
        """``n`` float64 uniforms in [0, 1): the low 53 bits of a 64-bit number over ``2**53`` (the
        high word's 21 bits and the low word, added exactly in float64)."""
        pairs = self._words(2 * n).reshape(n, 2)
        values = (pairs[:, 0] & _HIGH21).astype(np.float64)
        values *= 2.0**32
        values += pairs[:, 1]
        values *= 2.0**-53
        return values

    # -- samplers ----------------------------------------------------------------------------------
    def uniform(self, shape, dtype):
        return self.uniform_range(shape, dtype, 0.0, 1.0)

    def uniform_range(self, shape, dtype, low, high):
        dtype = np.dtype(dtype)
        n = math.prod(shape)
        standard = low == 0 and high == 1  # u * 1 + 0 is u
        if dtype == np.float64:
            values = self._uniform53(n)
            return (values if standard else fma64(values, high - low, low)).reshape(shape)
        if dtype == np.float32:  # the bounds in float32
            low32, high32 = np.float32(low), np.float32(high)
            values = self._uniform24(n)
            return (values if standard else fma32(values, high32 - low32, low32, out=values)).reshape(shape)
        # 16-bit floats: computed in float32 (fused, as for float32), rounded to the dtype; a value
        # rounded up to the upper bound becomes the lower one, keeping the interval half-open
        low32, high32 = np.float32(low), np.float32(high)
        values = fma32(self._uniform24(n), high32 - low32, low32).astype(dtype)
        values[values == np.asarray(high32).astype(dtype)] = np.asarray(low32).astype(dtype)
        return values.reshape(shape)

    def normal(self, shape, dtype):
        return self.normal_scaled(shape, dtype, 0.0, 1.0)

    def normal_scaled(self, shape, dtype, mean, std):
        dtype = np.dtype(dtype)
        n = math.prod(shape)
        if n < _BLOCK:
            return self.normal_scaled_serially(shape, dtype, mean, std)
        work = np.float64 if dtype == np.float64 else np.float32
        # the uniforms of all n samples first; for a 16-bit dtype only those of the whole blocks
        drawn = n if dtype.itemsize >= 4 else n - n % _BLOCK
        values = self.uniform((drawn,), work)
        if drawn < n:
            values = np.concatenate([values, np.empty(n - drawn, work)])
        values = self._box_muller_blocks(values, work, mean, std)
        if n % _BLOCK:
            values[n - _BLOCK :] = self._box_muller_blocks(self.uniform((_BLOCK,), work), work, mean, std)
        return values.astype(dtype, copy=False).reshape(shape)

    def normal_scaled_serially(self, shape, dtype, mean, std):
        """PyTorch's scalar sampler, one float64 normal per element (its CPU kernel for fewer than 16
        elements, or a tensor that is not row-major), rounded to ``dtype``."""
        n = math.prod(shape)
        return _narrowed(fma64(self._double_normals(n), std, mean), np.dtype(dtype)).reshape(shape)

    @staticmethod
    def _box_muller_blocks(uniforms, work, mean, std):
        """Box-Muller over the whole blocks of 16 of ``uniforms``, in the arithmetic of ``work``
        (float32 as PyTorch's AVX2 kernel computes it), in place; the elements after the last
        whole block are left as they are. Computed by the compiled loop (:mod:`.loops.sampling`)
        where it serves, else with NumPy a cache-sized chunk of blocks at a time."""
        whole = uniforms[: len(uniforms) // _BLOCK * _BLOCK]
        if work is np.float32:  # the mean and std in float32 too
            mean, std = np.float32(mean), np.float32(std)
            compiled = loops.get() if len(whole) >= loops.runtime.MIN_ELEMENTWISE else None
            if compiled is not None:
                loops.launch(compiled.box_muller_float32, whole.reshape(-1, _BLOCK), mean, std)
                return uniforms
        blocks = whole.reshape(-1, 2, _BLOCK // 2)
        fma = fma32 if work is np.float32 else fma64
        for start in range(0, len(blocks), _CHUNK_BLOCKS):
            chunk = blocks[start : start + _CHUNK_BLOCKS]
            u1, u2 = 1 - chunk[:, 0], chunk[:, 1]
            if work is np.float32:
                radius = np.sqrt(np.float32(-2) * log32(u1))
                sin, cos = sincos32(np.float32(2 * math.pi) * u2)
            else:  # the C library's functions, as PyTorch's scalar loop calls them
                radius = np.sqrt(-2 * libm.log(u1))
                theta = 2 * math.pi * u2
                sin, cos = libm.sin(theta), libm.cos(theta)
            for row, trig in ((0, cos), (1, sin)):
                np.multiply(radius, trig, out=chunk[:, row])
                if std == 1:  # x * 1 + mean rounds as x + mean (and -0 + 0 gives 0, as the fused step)
                    chunk[:, row] += mean
                else:
                    chunk[:, row] = fma(chunk[:, row], std, mean)
        return uniforms

    def _double_normals(self, n):
        """``n`` float64 standard normals as PyTorch's scalar sampler draws them one by one: the cached
        second sample of the last pair first, then pairs from two float64 uniforms ``u1, u2``:
        ``r cos(t)``, then ``r sin(t)`` (kept for the next draw when ``n`` ends between them), where
        ``r = sqrt(-2 log1p(-u2))`` and ``t = 2 pi u1``."""
        if n == 0:
            return np.empty(0)
        cached, self._cached_normal = ([] if self._cached_normal is None else [self._cached_normal]), None
        pairs = (n - len(cached) + 1) // 2
        uniforms = self._uniform53(2 * pairs).reshape(pairs, 2)
        radius = np.sqrt(-2.0 * libm.log1p(-uniforms[:, 1]))
        theta = 2.0 * math.pi * uniforms[:, 0]
        samples = np.stack([radius * libm.cos(theta), radius * libm.sin(theta)], axis=1).reshape(-1)
        if (n - len(cached)) % 2:
            self._cached_normal = float(samples[-1])
        return np.concatenate([cached, samples])[:n]

    # -- PyTorch's scalar samplers of float64 uniforms and normals, rounded to the dtype ------------
    def exponential(self, shape, dtype, lambd):
        values = (-1.0 / lambd) * libm.log1p(-self._uniform53(math.prod(shape)))
        return _narrowed(values, np.dtype(dtype)).reshape(shape)

    def log_normal(self, shape, dtype, mean, std):
        values = libm.exp(fma64(self._double_normals(math.prod(shape)), std, mean))
        return _narrowed(values, np.dtype(dtype)).reshape(shape)

    def cauchy(self, shape, dtype, median, sigma):
        values = fma64(sigma, libm.tan(math.pi * (self._uniform53(math.prod(shape)) - 0.5)), median)
        return _narrowed(values, np.dtype(dtype)).reshape(shape)

    def geometric(self, shape, dtype, p):
        with np.errstate(divide="ignore"):  # a uniform of 0 gives an infinite count, as in PyTorch
            values = np.ceil(libm.log(self._uniform53(math.prod(shape))) / math.log1p(-p))
        return _narrowed(values, np.dtype(dtype)).reshape(shape)

    def poisson(self, rates):
        """PyTorch's sampler, element by element (C order): a count from float64 uniforms, by Knuth's
        product for a rate below 10 and Hoermann's transformed rejection (1993) from 10 on."""
        flat = np.ascontiguousarray(rates, np.float64).reshape(-1)
        compiled = loops.serial()
        if compiled is not None:
            # Knuth's product takes rate + 1 uniforms on average, the rejection about 2.2
            expected = float(np.where(flat < 10, flat + 1, 2.2).sum())
            counts = self._draw_serially(
                lambda out, uniforms, done, pos: compiled.poisson_counts(flat, out, uniforms, done, pos),
                flat.size,
                expected,
            )
        else:
            uniforms = UniformFeed(self)
            counts = np.array([poisson_count(rate, uniforms) for rate in flat.tolist()], dtype=np.float64)
            uniforms.close()
        return counts.astype(rates.dtype).reshape(rates.shape)

    def binomial(self, counts, probs):
        """PyTorch's sampler, element by element (C order): inversion of geometric waits below a mean of
        10 successes (or failures), Hoermann's BTRS rejection (1993) from 10 on, from float64
        uniforms; a float32 tensor's own steps in float32, as PyTorch's template computes them."""
        kind = np.float64 if probs.dtype == np.float64 else np.float32
        flat_counts = np.ascontiguousarray(counts, kind).reshape(-1)
        flat_probs = np.ascontiguousarray(probs, kind).reshape(-1)
        compiled = loops.serial()
        if compiled is not None:
            with np.errstate(invalid="ignore"):  # NaN parameters take no uniforms
                # inversion takes mean + 1 uniforms on average, BTRS about 2.5, a sure count none
                mean = flat_counts * np.minimum(flat_probs, 1 - flat_probs).astype(np.float64)
                uniforms_each = np.where(mean < 10, mean + 1, 2.5)
                uniforms_each[(flat_counts <= 0) | (flat_probs <= 0) | (flat_probs >= 1)] = 0
            samples = self._draw_serially(
                lambda out, uniforms, done, pos: compiled.binomial_samples(
                    flat_counts, flat_probs, kind(1), out, uniforms, done, pos
                ),
                flat_counts.size,
                float(np.nan_to_num(uniforms_each).sum()),
            )
        else:
            uniforms = UniformFeed(self)
            pairs = zip(flat_counts, flat_probs)
            samples = np.array([binomial_sample(count, prob, kind, uniforms) for count, prob in pairs], kind)
            uniforms.close()
        return samples.astype(probs.dtype).reshape(probs.shape)

    def standard_gamma(self, concentrations):
        """PyTorch's sampler, element by element (C order): Marsaglia and Tsang's rejection of float64
        normals and uniforms, a concentration below 1 boosted by a uniform's power; a float32
        concentration's own steps in float32, as PyTorch's template computes them."""
        kind = np.float64 if concentrations.dtype == np.float64 else np.float32
        flat = np.ascontiguousarray(concentrations, kind).reshape(-1)
        compiled = loops.serial()
        if compiled is not None:
            cache = np.array([0.0, 0.0] if self._cached_normal is None else [1.0, self._cached_normal])
            third = kind(np.float32(1) / np.float32(3))  # PyTorch's 1.0f / 3.0f
            samples = self._draw_serially(
                lambda out, uniforms, done, pos: compiled.gamma_samples(
                    flat, kind(1), third, out, uniforms, done, pos, cache
                ),
                flat.size,
                2.1 * flat.size + np.count_nonzero(flat < 1),  # a normal (a uniform) and a uniform a try, one to boost
            )
            self._cached_normal = float(cache[1]) if cache[0] else None
        else:
            samples = self._gamma_one_by_one(flat, kind)
        # PyTorch's max(tiny, sample), which a NaN sample loses
        values = np.fmax(samples.astype(concentrations.dtype), np.finfo(concentrations.dtype).tiny)
        return values.reshape(concentrations.shape)

    def _gamma_one_by_one(self, flat, kind):
        """:meth:`standard_gamma`'s samples of ``flat`` (of ``kind``) in Python, where Numba does not serve."""
        uniforms = UniformFeed(self)

        def normal():
            if self._cached_normal is not None:
                value, self._cached_normal = self._cached_normal, None
                return value
            u1, u2 = uniforms(), uniforms()
            radius = math.sqrt(-2.0 * math.log1p(-u2))
            self._cached_normal = radius * math.sin(2.0 * math.pi * u1)
            return radius * math.cos(2.0 * math.pi * u1)

        samples = np.array([gamma_sample(alpha, kind, uniforms, normal) for alpha in flat], dtype=np.float64)
        uniforms.close()
        return samples

    def _draw_serially(self, loop, n, expected):
        """The ``n`` float64 samples of a compiled rejection loop (:mod:`.loops.rejection`), called as
        ``loop(out, uniforms, done, pos)``, ``expected`` its likely number of uniforms: float64 uniforms
        drawn ahead in blocks (most of the expected ones first, then a tenth of them at a time), the
        engine then put back before the last block and advanced past the ones of it used (two
        outputs each), so that the uniforms drawn twice are at most a block's."""
        out = np.empty(n)
        block_start, before_block = self._engine.state, 0  # the engine before the last block, the uniforms before it
        uniforms = self._uniform53(int(0.9 * expected) + 16)
        done = pos = 0
        while True:
            done, pos = loop(out, uniforms, done, pos)
            if done == n:
                break
            block_start, before_block = self._engine.state, len(uniforms) - pos
            uniforms, pos = np.concatenate([uniforms[pos:], self._uniform53(int(0.1 * expected) + 256)]), 0
        self._engine.state = block_start
        self._words(2 * (pos - before_block))
        return out

    def integers(self, low, high, shape, dtype):
        span = int(high) - int(low)
        if span == 1 << 64:  # every int64: the 64 bits as they are
            return self._words64(math.prod(shape)).view(np.int64).astype(dtype, copy=False).reshape(shape)
        offsets = self._offsets(span, span >= _WIDE_SPAN, math.prod(shape))
        # low + offset, wrapping as int64 does (a span above 2**63 puts low + offset past int64)
        return (offsets + np.int64(low)).astype(dtype, copy=False).reshape(shape)

    def whole_range_integers(self, high, shape, dtype):
        # PyTorch's unbounded sampler takes 64 bits for int64 and float64 only
        return self._offsets(int(high), high > 1 << 32, math.prod(shape)).astype(dtype, copy=False).reshape(shape)

    def _offsets(self, span, wide, n):
        """``n`` int64 offsets in [0, span): an output, or a 64-bit number where ``wide``, modulo ``span``."""
        if wide:
            return (self._words64(n) % np.uint64(span)).view(np.int64)
        return (self._words(n) % np.uint32(span)).astype(np.int64)

    def categorical(self, cdf, num_samples):
        """PyTorch's sampler with replacement: row by row, ``num_samples`` float64 uniforms, each placed
        by bisection in the row's running sums (the first index whose sum is not below it; the sums
        are non-decreasing, so any bisection finds that index)."""
        rows = cdf.shape[0]
        uniforms = self._uniform53(rows * num_samples).reshape(rows, num_samples)
        found = np.empty((rows, num_samples), np.int64)
        for row in range(rows):  # float32 sums are compared as float64, as C compares them with a double
            found[row] = np.searchsorted(cdf[row], uniforms[row], side="left")
        return found

    def permutation(self, n):
        """PyTorch's shuffle: for ``i`` from 0 to ``n - 2``, swap ``order[i]`` with ``order[j[i]]``, where
        ``j[i] = i + word % (n - i)`` (Fisher-Yates from the front): the swaps in a compiled loop where
        Numba serves (:mod:`.loops.sampling`), else without a loop over ``i``, as follows.

        Position ``i`` is final after step ``i`` and holds what ``j[i]`` held before it. A position ``p``
        changes before step ``p`` only as the ``j[k]`` of a step ``k < p``, taking what ``k`` held
        before step ``k``. So the value at ``p`` before step ``t <= p`` is ``p`` itself if no step
        ``k < t`` has ``j[k] == p``, else the value at ``k`` before step ``k`` for the last such ``k``:
        the steps grouped by ``j`` name these last writers, and pointer doubling follows their chains."""
        if n <= 1:
            return np.zeros(n, dtype=np.int64)
        steps = np.arange(n - 1, dtype=np.int64)
        targets = steps + self._words(n - 1) % (n - steps).astype(np.uint32)  # j[i]
        compiled = loops.serial() if n >= loops.runtime.MIN_ELEMENTWISE else None
        if compiled is not None:
            order = np.arange(n, dtype=np.int64)
            compiled.fisher_yates(order, targets)
            return order
        by_target = np.argsort(targets, kind="stable")  # steps grouped by j, in order within a group
        grouped = targets[by_target]
        same = grouped[1:] == grouped[:-1]
        previous = np.full(n, -1, dtype=np.int64)  # the last step before i with the same j as i
        previous[by_target[1:]] = np.where(same, by_target[:-1], -1)
        last_writer = np.full(n, -1, dtype=np.int64)  # the last step k < p with j[k] == p
        group_end = np.append(~same, True)
        last_writer[grouped[group_end]] = by_target[group_end]
        positions = np.arange(n, dtype=np.int64)
        own = last_writer == positions  # j[p] == p is step p itself, not before it
        last_writer[own] = previous[own]
        # origin[p]: the value at p before step p, by following the last writers back
        origin = np.where(last_writer < 0, positions, last_writer)
        while True:
            further = origin[origin]
            if np.array_equal(further, origin):
                break
            origin = further
        # position i takes the value at j[i] before step i; the last position its own chain's
        writer = previous[:-1]
        return np.append(np.where(writer < 0, targets, origin[np.maximum(writer, 0)]), origin[n - 1])

    # -- the state, laid out as PyTorch's CPUGeneratorImplState ------------------------------------
    raw_state = True

    def get_state(self):
        engine = self._engine.state["state"]
        key, pos = engine["key"], int(engine["pos"])
        # PyTorch counts the outputs left before the next twist (``left``, 1 meaning "twist first")
        # and the index of the next one (``next``, 0 after seeding, where NumPy has 624)
        just_seeded = pos == _STATE_WORDS and np.array_equal(key, _seeded_key(self._seed))
        cached = self._cached_normal
        return _STATE.pack(
            self._seed & _SEED_MASK,
            _STATE_WORDS + 1 - pos,
            True,
            0 if just_seeded else pos,
            *key.tolist(),
            0.0,
            0.0 if cached is None else cached,
            0.0,
            cached is not None,
            0.0,
            False,
        )

    def set_state(self, state):
        if len(state) != _STATE.size:
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {_STATE.size} but found the input RNG state size to be "
                f"{len(state)}"
            )
        seed, left, seeded, next_, *rest = _STATE.unpack(state)
        key, (_, normal_y, _, valid) = rest[:_STATE_WORDS], rest[_STATE_WORDS : _STATE_WORDS + 4]
        if not (seeded and 0 < left <= _STATE_WORDS and next_ <= _STATE_WORDS):
            raise RuntimeError("Invalid mt19937 state")
        words = np.array(key, dtype=np.uint64).astype(np.uint32)  # stored as 64-bit, each holding 32 bits
        self._engine.state = {"bit_generator": "MT19937", "state": {"key": words, "pos": _STATE_WORDS + 1 - left}}
        self._seed = seed
        self._cached_normal = normal_y if valid else None
