"""A matrix product written with kernel combinators: y = x @ W for x: [4][8] fixed<8,3> and a constant W: [8][4].

Each output is an exact dot product accumulated in fixed<24,10> (8 products of 16-bit values never overflow it),
then rounded to nearest and saturated to fixed<16,6>.
"""

import numpy as np

from vhls.kernel import array, const, dot, fixed, kernel, transpose, vmap

IN = fixed(8, 3)
W = const(np.random.default_rng(7).uniform(-2, 2, size=(8, 4)), IN)


def matmul(x):  # x: [4][8]
    return vmap(lambda row: vmap(lambda col: dot(row, col, acc=fixed(24, 10)).cast(fixed(16, 6), "RND", "SAT"),
                                 transpose(W)),
                x)


model = kernel(matmul, x=array(IN, 4, 8))
calibration = np.random.default_rng(8).uniform(-4, 4, size=(64, 4, 8))
