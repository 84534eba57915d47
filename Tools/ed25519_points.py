"""Ed25519 point arithmetic (RFC 8032 §5.1, affine, a = -1) for building unusable public keys
in the verifiers' tests (Tools/test_verify_log.py, Tools/test_verify.py). Test-side on purpose:
it is not the verifiers' own code, so the keys it builds check them independently."""

from __future__ import annotations

ED_P = 2 ** 255 - 19
ED_L = 2 ** 252 + 27742317777372353535851937790883648493
ED_D = -121665 * pow(121666, -1, ED_P) % ED_P
ED_SQRT_M1 = pow(2, (ED_P - 1) // 4, ED_P)
ED_IDENTITY = (0, 1)


def ed_decode(b: bytes):
    """RFC 8032 §5.1.3 (without the y < p check: y is reduced); None when x does not exist."""
    n = int.from_bytes(b, "little")
    sign, y = n >> 255, (n & ((1 << 255) - 1)) % ED_P
    u, v = (y * y - 1) % ED_P, (ED_D * y * y + 1) % ED_P
    x2 = u * pow(v, -1, ED_P) % ED_P
    x = pow(x2, (ED_P + 3) // 8, ED_P)
    if (x * x - x2) % ED_P:
        x = x * ED_SQRT_M1 % ED_P
    if (x * x - x2) % ED_P:
        return None
    if x & 1 != sign:
        x = -x % ED_P
    return x, y


def ed_encode(pt) -> bytes:
    x, y = pt
    return (y | (x & 1) << 255).to_bytes(32, "little")


def ed_add(p1, p2):
    (x1, y1), (x2, y2) = p1, p2
    t = ED_D * x1 * x2 * y1 * y2 % ED_P
    return ((x1 * y2 + x2 * y1) * pow(1 + t, -1, ED_P) % ED_P,
            (y1 * y2 + x1 * x2) * pow(1 - t, -1, ED_P) % ED_P)


def ed_mul(k: int, pt):
    r = ED_IDENTITY
    while k:
        if k & 1:
            r = ed_add(r, pt)
        pt = ed_add(pt, pt)
        k >>= 1
    return r


ED_B = ed_decode((4 * pow(5, -1, ED_P) % ED_P).to_bytes(32, "little"))
T2 = (0, ED_P - 1)                                   # the point of order 2


def order8_point():
    """A point of order 8: [L]Q for a curve point Q with a torsion part of order 8."""
    for y in range(2, 1000):
        q = ed_decode(y.to_bytes(32, "little"))
        if q is None:
            continue
        t = ed_mul(ED_L, q)
        if ed_mul(4, t) != ED_IDENTITY:
            return t
    raise AssertionError("no order-8 point found")
