//! MULMOD, `(a * b) mod n` over the exact 512-bit product, faster than ruint's
//! `Uint::mul_mod` (revm's interpreter) with exactly its results (the tests compare them).
//!
//! - A 4-limb modulus that a thread keeps using (elliptic-curve code: BN254, secp256k1)
//!   gets a per-thread cached Barrett constant `floor(2^512 / n)`, and each MULMOD is
//!   then multiplications only ([`barrett`]).
//! - Other moduli of 2 to 4 limbs: normalized long division (Knuth, TAOCP vol. 2, 4.3.1,
//!   algorithm D) whose quotient digits come from multiplications by a reciprocal of the
//!   divisor's top two limbs, computed once per call (Möller & Granlund, "Improved
//!   division by invariant integers", IEEE Trans. Computers 60(2), 2011, algorithms 4 to
//!   6), the design of evmone's intx ([`mulmod_knuth`]).
//! - `n < 2^64`: `a` and `b` reduced first, then their 128-bit product ([`mulmod_word`]).
//! - `n = 2^256 - 1` (Solidity's `mulDiv`): the product's halves added ([`mulmod_max`]).

use revm_interpreter::primitives::{U256, ruint::Uint};
use std::cell::Cell;

/// EVM MULMOD: `(a * b) mod n` over the exact 512-bit product, 0 when `n` is 0.
#[inline]
pub(super) fn mulmod(a: U256, b: U256, n: U256) -> U256 {
    let (a, b, n) = (a.as_limbs(), b.as_limbs(), n.as_limbs());
    U256::from_limbs(if n[3] != 0 {
        if n[0] & n[1] & n[2] & n[3] == u64::MAX {
            mulmod_max(a, b)
        } else if let Some(mu) = BARRETT_CACHE.with(|c| c.last(n)) {
            barrett(a, b, n, &mu)
        } else {
            mulmod_4_limbs(a, b, n)
        }
    } else if n[2] != 0 {
        mulmod_3_limbs(a, b, n)
    } else if n[1] != 0 {
        mulmod_2_limbs(a, b, n)
    } else if n[0] != 0 {
        [mulmod_word(a, b, n[0]), 0, 0, 0]
    } else {
        [0; 4]
    })
}

/// `(a * b) mod n` for a 4-limb `n` other than the ready modulus used last: by
/// [`barrett`] if the cache has (or now computes) `n`'s constant, else by
/// [`mulmod_knuth`].
#[inline(never)]
fn mulmod_4_limbs(a: &[u64; 4], b: &[u64; 4], n: &[u64; 4]) -> [u64; 4] {
    match BARRETT_CACHE.with(|c| c.lookup(n)) {
        Some(mu) => barrett(a, b, n, &mu),
        None => mulmod_knuth::<4>(a, b, n),
    }
}

/// [`mulmod_knuth`] for 3-limb moduli, out of line.
#[inline(never)]
fn mulmod_3_limbs(a: &[u64; 4], b: &[u64; 4], n: &[u64; 4]) -> [u64; 4] {
    mulmod_knuth::<3>(a, b, n)
}

/// [`mulmod_knuth`] for 2-limb moduli, out of line.
#[inline(never)]
fn mulmod_2_limbs(a: &[u64; 4], b: &[u64; 4], n: &[u64; 4]) -> [u64; 4] {
    mulmod_knuth::<2>(a, b, n)
}

/// `(a * b) mod (2^256 - 1)`: as `2^256 = 1` modulo `2^256 - 1`, the sum of the product's
/// halves with an end-around carry, and 0 for `2^256 - 1` itself.
#[inline(never)]
fn mulmod_max(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let p = mul_4x4(a, b);
    let mut r = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        (r[i], carry) = adc(p[i], p[i + 4], carry);
    }
    // With a carry, the sum was at most `2 (2^256 - 1) - 2^256 = 2^256 - 2`: adding it
    // back cannot carry again.
    for x in &mut r {
        (*x, carry) = adc(*x, 0, carry);
    }
    if r == [u64::MAX; 4] { [0; 4] } else { r }
}

// ---------------------------------------------------------------------------------------
// Barrett reduction with cached constants.

/// Per thread, the last two 4-limb moduli MULMOD saw, and the Barrett constant of each
/// one used again while still here (computing one costs a long division). Code that
/// keeps using one or two moduli takes the Barrett path; code that changes moduli all
/// the time pays a few compares and stores per call (and long division).
struct BarrettCache {
    /// The moduli; all-zero (no 4-limb modulus) for an empty slot.
    moduli: [Cell<[u64; 4]>; 2],
    /// `mus[i]` is `barrett_mu(moduli[i])` if `ready[i]`.
    mus: [Cell<[u64; 5]>; 2],
    ready: [Cell<bool>; 2],
    /// The slot used last.
    recent: Cell<usize>,
}

thread_local! {
    /// Const-initialized without a destructor: access never fails (and never panics).
    static BARRETT_CACHE: BarrettCache = const {
        BarrettCache {
            moduli: [Cell::new([0; 4]), Cell::new([0; 4])],
            mus: [Cell::new([0; 5]), Cell::new([0; 5])],
            ready: [Cell::new(false), Cell::new(false)],
            recent: Cell::new(0),
        }
    };
}

impl BarrettCache {
    /// The Barrett constant of `n` if `n` is the ready modulus used last.
    #[inline(always)]
    fn last(&self, n: &[u64; 4]) -> Option<[u64; 5]> {
        let i = self.recent.get() & 1;
        (self.ready[i].get() && self.moduli[i].get() == *n).then(|| self.mus[i].get())
    }

    /// The Barrett constant of `n` if it is cached or now gets cached, and the cache's
    /// update for a use of `n`.
    #[inline(always)]
    fn lookup(&self, n: &[u64; 4]) -> Option<[u64; 5]> {
        for i in 0..2 {
            if self.moduli[i].get() == *n {
                self.recent.set(i);
                if !self.ready[i].get() {
                    self.mus[i].set(barrett_mu(n)?);
                    self.ready[i].set(true);
                }
                return Some(self.mus[i].get());
            }
        }
        // A new modulus replaces the other slot.
        let i = 1 - (self.recent.get() & 1);
        self.moduli[i].set(*n);
        self.ready[i].set(false);
        self.recent.set(i);
        None
    }
}

/// `floor(2^512 / n)` for a 4-limb `n`, if below `2^320` (that is, `n > 2^192`).
#[cold]
#[inline(never)]
fn barrett_mu(n: &[u64; 4]) -> Option<[u64; 5]> {
    type U576 = Uint<576, 9>;
    if *n == [0, 0, 0, 1] {
        // The only 4-limb modulus whose `mu` does not fit, without dividing.
        return None;
    }
    let mut wide = [0u64; 9];
    wide[..4].copy_from_slice(n);
    let mu = (U576::ONE << 512usize).checked_div(U576::from_limbs(wide))?;
    let mu = mu.as_limbs();
    if mu[5..].iter().any(|&x| x != 0) {
        return None;
    }
    Some([mu[0], mu[1], mu[2], mu[3], mu[4]])
}

/// `(a * b) mod n` for a 4-limb `n > 2^192` by Barrett reduction with `mu = floor(2^512 /
/// n)` (Menezes, van Oorschot & Vanstone, Handbook of Applied Cryptography, algorithm
/// 14.42, base `2^64`, `k = 4`).
///
/// With `x = a * b < 2^512` and `q = floor(x / n)`, HAC's estimate `floor(floor(x /
/// 2^192) * mu / 2^320)` is in `[q - 2, q]`: `mu <= 2^512 / n` bounds it above by `x /
/// n`, and `floor(x / 2^192) > x / 2^192 - 1`, `mu > 2^512 / n - 1` bound the product
/// divided by `2^320` below by `x / n - 2^192 / n - x / 2^512 > x / n - 2`. The product
/// here leaves out its partial products of weight below `2^192`, which total less than
/// `(1 + 2 * 2^64 + 3 * 2^128) * 2^128 < 4 * 2^256`, so the estimate `q̂` used loses at
/// most one more: `q - 3 <= q̂ <= q`. Then `x - q̂ n` is in `[0, 4n)`, is exact modulo
/// `2^320`, and at most three subtractions of `n` reduce it.
#[inline(always)]
fn barrett(a: &[u64; 4], b: &[u64; 4], n: &[u64; 4], mu: &[u64; 5]) -> [u64; 4] {
    let x = mul_4x4(a, b);
    if x[4..].iter().all(|&l| l == 0) && less::<4>(&x, n) {
        return [x[0], x[1], x[2], x[3]];
    }
    let q1 = [x[3], x[4], x[5], x[6], x[7]];
    // `q1 * mu` without the partial products of weight below `2^192`.
    let mut t = [0u64; 10];
    for i in 0..5 {
        let mut carry = 0u64;
        for j in 0..5 {
            if i + j >= 3 {
                (t[i + j], carry) = mac(q1[i], mu[j], t[i + j], carry);
            }
        }
        t[i + 5] = carry;
    }
    let q = [t[5], t[6], t[7], t[8], t[9]];
    // `q * n mod 2^320`.
    let mut qn = [0u64; 5];
    for i in 0..5 {
        let mut carry = 0u64;
        for j in 0..4 {
            if i + j < 4 {
                (qn[i + j], carry) = mac(q[i], n[j], qn[i + j], carry);
            } else if i + j == 4 {
                qn[4] = qn[4].wrapping_add(q[i].wrapping_mul(n[j])).wrapping_add(carry);
            }
        }
        if i == 0 {
            qn[4] = carry;
        }
    }
    // `r = x - q n mod 2^320`, in `[0, 4n)`.
    let mut r = [0u64; 5];
    let mut borrow = false;
    for i in 0..5 {
        (r[i], borrow) = sbb(x[i], qn[i], borrow);
    }
    // One subtraction is often needed (without a branch), two or three hardly ever.
    r = sub_if_not_less(r, n);
    if r[4] != 0 || !less::<4>(&r, n) {
        r = sub_twice_if_not_less(r, *n);
    }
    [r[0], r[1], r[2], r[3]]
}

/// `r - n` if `r >= n`, else `r`.
#[inline(always)]
fn sub_if_not_less(r: [u64; 5], n: &[u64; 4]) -> [u64; 5] {
    let mut s = [0u64; 5];
    let mut borrow = false;
    for i in 0..5 {
        (s[i], borrow) = sbb(r[i], if i < 4 { n[i] } else { 0 }, borrow);
    }
    if borrow { r } else { s }
}

/// [`sub_if_not_less`] twice: the rare end of [`barrett`].
#[cold]
#[inline(never)]
fn sub_twice_if_not_less(r: [u64; 5], n: [u64; 4]) -> [u64; 5] {
    sub_if_not_less(sub_if_not_less(r, &n), &n)
}

// ---------------------------------------------------------------------------------------
// Long division.

/// `(a * b) mod n` for a modulus of exactly `K >= 2` limbs (`n[K - 1] != 0`).
///
/// Written so that, once inlined and unrolled, every array index is a constant and the
/// limbs stay in registers; the rare corrections are out-of-line calls by value.
#[inline(always)]
fn mulmod_knuth<const K: usize>(a: &[u64; 4], b: &[u64; 4], n: &[u64; 4]) -> [u64; 4] {
    let p = mul_4x4(a, b);
    if p[K..].iter().all(|&x| x == 0) && less::<K>(&p, n) {
        return [p[0], p[1], p[2], p[3]];
    }

    // Normalize: shift the divisor and the product left until the divisor's top bit is set.
    let s = n[K - 1].leading_zeros();
    let mut d = [0u64; K];
    for i in (1..K).rev() {
        d[i] = (n[i] << s) | shr_complement(n[i - 1], s);
    }
    d[0] = n[0] << s;
    // The shifted product in `u[..9]`; `u[9]` stays zero, so that there is always a limb
    // above the product's top for a window.
    let mut u = [0u64; 10];
    u[8] = shr_complement(p[7], s);
    for i in (1..8).rev() {
        u[i] = (p[i] << s) | shr_complement(p[i - 1], s);
    }
    u[0] = p[0] << s;

    let dd = join(d[K - 1], d[K - 2]);
    let v = reciprocal_3by2(dd);
    // The windows are `u[j..=j + K]` from `j = top - K` down to 0. The top `K` limbs of
    // the first one must be below `d`: true when `u[top]` is above the top nonzero limb
    // `u[i]`, and also with `top = i` when `u[i]:u[i - 1]` is below `d`'s top two limbs
    // (which saves a step when `a, b < n`). Unrolled by hand: constant indices keep `u`
    // in registers.
    let mut top = K;
    let mut found = false;
    macro_rules! find_top {
        ($($i:literal)*) => {$(
            if $i >= K && !found && u[$i] != 0 {
                found = true;
                top = if join(u[$i], u[$i - 1]) < dd { $i } else { $i + 1 };
            }
        )*};
    }
    find_top!(8 7 6 5 4 3 2);
    let count = top + 1 - K;
    macro_rules! windows {
        ($($j:literal)*) => {$(
            if $j < 10 - K && $j < count {
                reduce_window::<K>(&mut u[$j..=$j + K], &d, dd, v);
            }
        )*};
    }
    windows!(7 6 5 4 3 2 1 0);

    // Denormalize the remainder `u[..K]`.
    let mut r = [0u64; 4];
    for i in 0..K - 1 {
        r[i] = (u[i] >> s) | shl_complement(u[i + 1], s);
    }
    r[K - 1] = u[K - 1] >> s;
    r
}

/// One step of algorithm D: replaces the `K + 1`-limb window `w`, whose top `K` limbs are
/// below the normalized divisor `d`, with `w mod d` (its top limb becomes zero). `dd` is
/// `d`'s top two limbs and `v` their 3-by-2 reciprocal.
#[inline(always)]
fn reduce_window<const K: usize>(w: &mut [u64], d: &[u64; K], dd: u128, v: u64) {
    let (u2, u1, u0) = (w[K], w[K - 1], w[K - 2]);
    let mut low = [0u64; K];
    if join(u2, u1) == dd {
        // The 3-by-2 division would overflow: the quotient digit is exactly `2^64 - 1`,
        // as the window is below `2^64 d` and (`d` being normalized) at least
        // `(2^64 - 1) d`.
        low.copy_from_slice(&w[..K]);
        w[..K].copy_from_slice(&sub_max_multiple(low, *d));
        w[K] = 0;
        return;
    }
    // `q` is the quotient of the top three limbs by `dd` and `r` their remainder; the
    // window's quotient digit is `q` or `q - 1`.
    let (q, r) = div_3by2(u2, u1, u0, dd, v);
    let borrow = submul(&mut w[..K - 2], &d[..K - 2], q);
    let (r0, c0) = (r as u64).overflowing_sub(borrow);
    let (r1, c1) = ((r >> 64) as u64).overflowing_sub(u64::from(c0));
    w[K - 2] = r0;
    w[K - 1] = r1;
    w[K] = 0;
    if c1 {
        // `q` was one too large: add `d` back (the carry out cancels the borrow).
        low.copy_from_slice(&w[..K]);
        w[..K].copy_from_slice(&add_back(low, *d));
    }
}

/// The low `K` limbs of `w - (2^64 - 1) d`, where `w` has one limb more (see
/// [`reduce_window`]). Out of line and by value, so that the caller's limbs stay in
/// registers.
#[cold]
#[inline(never)]
fn sub_max_multiple<const K: usize>(mut w: [u64; K], d: [u64; K]) -> [u64; K] {
    submul(&mut w, &d, u64::MAX);
    w
}

/// `w + d` modulo `2^(64 K)`: undoes a subtraction of `d` that borrowed.
#[cold]
#[inline(never)]
fn add_back<const K: usize>(mut w: [u64; K], d: [u64; K]) -> [u64; K] {
    let mut carry = false;
    for i in 0..K {
        (w[i], carry) = adc(w[i], d[i], carry);
    }
    w
}

/// `w -= q * d` over `d.len()` limbs; returns the limb still to subtract above them.
#[inline(always)]
fn submul(w: &mut [u64], d: &[u64], q: u64) -> u64 {
    let mut carry = 0u64;
    for (w, &d) in w.iter_mut().zip(d) {
        let (lo, hi) = mac(d, q, carry, 0);
        let (x, borrow) = w.overflowing_sub(lo);
        *w = x;
        carry = hi + u64::from(borrow);
    }
    carry
}

// ---------------------------------------------------------------------------------------
// One-limb moduli.

/// `(a * b) mod n` for `0 < n < 2^64`: `a` and `b` reduced first, then their 128-bit
/// product.
#[inline(never)]
fn mulmod_word(a: &[u64; 4], b: &[u64; 4], n: u64) -> u64 {
    let s = n.leading_zeros();
    let d = n << s;
    let v = reciprocal_2by1(d);
    let a = rem_word(a, n, s, d, v);
    let b = rem_word(b, n, s, d, v);
    let p = u128::from(a) * u128::from(b);
    rem_word(&[p as u64, (p >> 64) as u64], n, s, d, v)
}

/// `x mod n`, where `d = n << s` is normalized and `v` its 2-by-1 reciprocal.
#[inline(always)]
fn rem_word(x: &[u64], n: u64, s: u32, d: u64, v: u64) -> u64 {
    let mut len = x.len();
    while len > 1 && x[len - 1] == 0 {
        len -= 1;
    }
    if len == 1 && x[0] < n {
        return x[0];
    }
    // The remainder of `x << s` by `d`, digit by digit from the top; the first remainder
    // is the bits shifted out of `x`, below `2^s <= d`.
    let mut r = shr_complement(x[len - 1], s);
    for i in (0..len).rev() {
        let below = if i > 0 { shr_complement(x[i - 1], s) } else { 0 };
        r = rem_2by1(r, (x[i] << s) | below, d, v);
    }
    r >> s
}

// ---------------------------------------------------------------------------------------
// Limb arithmetic and division by invariant integers.

/// The 512-bit product of two 256-bit numbers (schoolbook, little-endian limbs).
#[inline(always)]
fn mul_4x4(a: &[u64; 4], b: &[u64; 4]) -> [u64; 8] {
    let mut p = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0u64;
        for j in 0..4 {
            (p[i + j], carry) = mac(a[i], b[j], p[i + j], carry);
        }
        p[i + 4] = carry;
    }
    p
}

/// `a * b + c + d` as (low, high) limbs; it cannot overflow: `(2^64 - 1)^2 + 2 (2^64 - 1)
/// = 2^128 - 1`.
#[inline(always)]
fn mac(a: u64, b: u64, c: u64, d: u64) -> (u64, u64) {
    let x = u128::from(a) * u128::from(b) + u128::from(c) + u128::from(d);
    (x as u64, (x >> 64) as u64)
}

/// `a + b + carry` and the carry out.
#[inline(always)]
fn adc(a: u64, b: u64, carry: bool) -> (u64, bool) {
    let (x, c1) = a.overflowing_add(b);
    let (x, c2) = x.overflowing_add(u64::from(carry));
    (x, c1 | c2)
}

/// `a - b - borrow` and the borrow out.
#[inline(always)]
fn sbb(a: u64, b: u64, borrow: bool) -> (u64, bool) {
    let (x, b1) = a.overflowing_sub(b);
    let (x, b2) = x.overflowing_sub(u64::from(borrow));
    (x, b1 | b2)
}

/// Whether the `K`-limb numbers `x[..K] < y[..K]`.
#[inline(always)]
fn less<const K: usize>(x: &[u64], y: &[u64]) -> bool {
    let mut borrow = false;
    for i in 0..K {
        (_, borrow) = sbb(x[i], y[i], borrow);
    }
    borrow
}

/// `hi:lo` as a double word.
#[inline(always)]
fn join(hi: u64, lo: u64) -> u128 {
    (u128::from(hi) << 64) | u128::from(lo)
}

/// `x >> (64 - s)` for `s` in `0..64` (0 when `s` is 0).
#[inline(always)]
fn shr_complement(x: u64, s: u32) -> u64 {
    (x >> 1) >> (63 - s)
}

/// `x << (64 - s)` for `s` in `0..64` (0 when `s` is 0).
#[inline(always)]
fn shl_complement(x: u64, s: u32) -> u64 {
    (x << 1) << (63 - s)
}

/// `floor((2^128 - 1) / d) - 2^64` for `d >= 2^63`. One hardware division (here faster
/// than Möller & Granlund's table-and-Newton algorithm 3); it is computed once per call.
#[inline(always)]
fn reciprocal_2by1(d: u64) -> u64 {
    debug_assert!(d >> 63 == 1);
    // The quotient is in `[2^64, 2^65)`: truncating subtracts `2^64`. (Setting the top
    // bit, already set, tells the compiler the divisor is not zero.)
    (u128::MAX / u128::from(d | 1 << 63)) as u64
}

/// `floor((2^192 - 1) / d) - 2^64` for `d >= 2^127`: Möller & Granlund's algorithm 6.
#[inline(always)]
fn reciprocal_3by2(d: u128) -> u64 {
    let (d1, d0) = ((d >> 64) as u64, d as u64);
    let mut v = reciprocal_2by1(d1);
    let mut p = d1.wrapping_mul(v).wrapping_add(d0);
    if p < d0 {
        v = v.wrapping_sub(1);
        if p >= d1 {
            v = v.wrapping_sub(1);
            p = p.wrapping_sub(d1);
        }
        p = p.wrapping_sub(d1);
    }
    let (t0, t1) = mac(v, d0, 0, 0);
    p = p.wrapping_add(t1);
    if p < t1 {
        v = v.wrapping_sub(1);
        if join(p, t0) >= d {
            v = v.wrapping_sub(1);
        }
    }
    v
}

/// `(u1:u0) mod d` for a normalized `d > u1` with 2-by-1 reciprocal `v`: Möller &
/// Granlund's algorithm 4.
#[inline(always)]
fn rem_2by1(u1: u64, u0: u64, d: u64, v: u64) -> u64 {
    let q = (u128::from(v) * u128::from(u1)).wrapping_add(join(u1, u0));
    let (q1, q0) = (((q >> 64) as u64).wrapping_add(1), q as u64);
    let mut r = u0.wrapping_sub(q1.wrapping_mul(d));
    if r > q0 {
        r = r.wrapping_add(d);
    }
    if r >= d {
        return rem_2by1_fix(r, d);
    }
    r
}

/// The unlikely last correction of [`rem_2by1`] (out of line: a branch, not a select).
#[cold]
#[inline(never)]
fn rem_2by1_fix(r: u64, d: u64) -> u64 {
    r - d
}

/// The quotient and remainder of `u2:u1:u0` by a normalized `d > u2:u1` with 3-by-2
/// reciprocal `v`: Möller & Granlund's algorithm 5.
#[inline(always)]
fn div_3by2(u2: u64, u1: u64, u0: u64, d: u128, v: u64) -> (u64, u128) {
    let (d1, d0) = ((d >> 64) as u64, d as u64);
    let q = (u128::from(v) * u128::from(u2)).wrapping_add(join(u2, u1));
    let (mut q1, q0) = ((q >> 64) as u64, q as u64);
    let r1 = u1.wrapping_sub(q1.wrapping_mul(d1));
    let t = u128::from(d0) * u128::from(q1);
    let mut r = join(r1, u0).wrapping_sub(t).wrapping_sub(d);
    q1 = q1.wrapping_add(1);
    if (r >> 64) as u64 >= q0 {
        q1 = q1.wrapping_sub(1);
        r = r.wrapping_add(d);
    }
    if r >= d {
        return div_3by2_fix(q1, r, d);
    }
    (q1, r)
}

/// The unlikely last correction of [`div_3by2`] (out of line: a branch, not a select).
#[cold]
#[inline(never)]
fn div_3by2_fix(q: u64, r: u128, d: u128) -> (u64, u128) {
    (q.wrapping_add(1), r - d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A word from 64 hex digits.
    fn hex(s: &str) -> U256 {
        U256::from_str_radix(s, 16).unwrap()
    }

    /// 2^k.
    fn pow2(k: usize) -> U256 {
        U256::ONE << k
    }

    /// Operands at the edges of every path: limb boundaries, powers of two, `2^256 - 1`,
    /// the usual field primes, and random-looking words of several sizes.
    fn edge_values() -> Vec<U256> {
        let words = [
            "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47", // BN254 p
            "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001", // BN254 r
            "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f", // secp256k1 p
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", // secp256k1 n
            "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed", // 2^255 - 19
            "0123456789abcdeffedcba98765432100f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "8000000000000000000000000000000000000000000000000000000000000001",
            "00000000000000009e3779b97f4a7c15f39cc0605cedc8341082276bf3a27251",
            "000000000000000000000000000000003c6ef372fe94f82ba54ff53a5f1d36f1",
            "000000000000000000000000000000000000000000000000d1b54a32d192ed03",
        ];
        let mut v = vec![U256::ZERO, U256::ONE, U256::from(2), U256::from(3)];
        for k in [63, 64, 127, 128, 191, 192, 255] {
            v.extend([pow2(k) - U256::ONE, pow2(k), pow2(k) + U256::ONE]);
        }
        v.extend([U256::MAX, U256::MAX - U256::ONE]);
        v.extend(words.iter().map(|w| hex(w)));
        v
    }

    /// Checks every path that can take `(a, b, n)` against ruint; `mu` is
    /// `barrett_mu(n)` for a 4-limb `n`.
    fn check(a: U256, b: U256, n: U256, mu: Option<[u64; 5]>) {
        let want = a.mul_mod(b, n);
        assert_eq!(mulmod(a, b, n), want, "mulmod({a:#x}, {b:#x}, {n:#x})");
        let (al, bl, nl) = (a.as_limbs(), b.as_limbs(), n.as_limbs());
        if nl[3] != 0 {
            let knuth = U256::from_limbs(mulmod_knuth::<4>(al, bl, nl));
            assert_eq!(knuth, want, "knuth({a:#x}, {b:#x}, {n:#x})");
            if let Some(mu) = mu {
                let barrett = U256::from_limbs(barrett(al, bl, nl, &mu));
                assert_eq!(barrett, want, "barrett({a:#x}, {b:#x}, {n:#x})");
            }
            if n == U256::MAX {
                assert_eq!(U256::from_limbs(mulmod_max(al, bl)), want);
            }
        }
    }

    /// `barrett_mu` for a 4-limb modulus (with its own check of the definition).
    fn mu_of(n: U256) -> Option<[u64; 5]> {
        let nl = n.as_limbs();
        if nl[3] == 0 {
            return None;
        }
        let mu = barrett_mu(nl);
        assert_eq!(mu.is_some(), n > pow2(192), "{n:#x}");
        if let Some(mu) = mu {
            // `mu * n <= 2^512 < (mu + 1) * n`.
            type U576 = Uint<576, 9>;
            let mut wide = [0u64; 9];
            wide[..5].copy_from_slice(&mu);
            let mu = U576::from_limbs(wide);
            let n = U576::from(n);
            let two512 = U576::ONE << 512usize;
            assert!(mu * n <= two512 && (mu + U576::ONE) * n > two512);
        }
        mu
    }

    #[test]
    fn edge_operands_match_ruint() {
        let values = edge_values();
        for &n in &values {
            let mu = mu_of(n);
            for &a in &values {
                for &b in &values {
                    check(a, b, n, mu);
                }
            }
        }
    }

    /// xorshift64.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// A word of random bit length (so every limb count and quotient size comes up);
        /// its limbs are random or, half of the time, each one of a few patterns (0, 1,
        /// `2^63`, `2^64 - 1`, ...), which reach the rare corrections of the divisions.
        fn word(&mut self) -> U256 {
            const PATTERNS: [u64; 8] =
                [0, 1, 2, 1 << 63, (1 << 63) - 1, (1 << 63) + 1, u64::MAX - 1, u64::MAX];
            let patterned = self.next() & 1 == 0;
            let mut limbs = [0u64; 4];
            for l in &mut limbs {
                let r = self.next();
                *l = if patterned && r & 3 != 0 { PATTERNS[(r >> 2) as usize % 8] } else { r };
            }
            let bits = (self.next() % 257) as usize;
            if bits == 0 { U256::ZERO } else { U256::from_limbs(limbs) >> (256 - bits) }
        }
    }

    #[test]
    fn random_operands_match_ruint() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..50_000 {
            let n = rng.word();
            let mu = mu_of(n);
            // Several products per modulus: the first ones go the long way and cache
            // `mu`, the later ones take the Barrett path of `mulmod`.
            for _ in 0..4 {
                let (a, b) = (rng.word(), rng.word());
                // Also operands below `n` (reduced field elements) and next to it.
                let (a, b) = match rng.next() % 4 {
                    0 | 1 => (a, b),
                    2 if !n.is_zero() => (a % n, b % n),
                    _ => (n.wrapping_sub(a % n.max(U256::ONE)), n.wrapping_sub(U256::ONE)),
                };
                check(a, b, n, mu);
            }
        }
    }

    #[test]
    fn random_multiples_of_the_modulus_plus_small_match_ruint() {
        // Products `k n + e` for small `e` and quotients `k` of every size: remainders near
        // 0 and near `n`, where an estimated quotient digit off by one shows.
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let n = rng.word() | U256::ONE;
            let mu = mu_of(n);
            let k = rng.word();
            let e = U256::from(rng.next() % 4);
            // `a * b` with `a = n` and `b = k`, and `(n - e) * (n + e)`-like pairs.
            check(n, k, n, mu);
            check(n.wrapping_sub(e), k, n, mu);
            check(n.wrapping_add(e), n.wrapping_sub(e), n, mu);
        }
    }

    #[test]
    fn cache_paths() {
        let p = hex("30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47");
        let secp = hex("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f");
        let a = hex("0123456789abcdeffedcba98765432100f1e2d3c4b5a69788796a5b4c3d2e1f0");
        let ready = |n: U256| {
            BARRETT_CACHE
                .with(|c| (0..2).any(|i| c.ready[i].get() && c.moduli[i].get() == *n.as_limbs()))
        };
        // One modulus: cached from its second use on.
        check(a, a, p, None);
        assert!(!ready(p));
        check(a, a, p, None);
        assert!(ready(p));
        // Two alternating moduli: both cached.
        for i in 0..6 {
            check(a + U256::from(i), a, if i % 2 == 0 { p } else { secp }, None);
        }
        assert!(ready(p) && ready(secp));
        // Three rotating moduli: evictions, never a wrong result.
        let moduli = [p, secp, U256::MAX - U256::from(12345)];
        for i in 0..30 {
            check(a, U256::from(i) << 200, moduli[i % 3], None);
        }
        // `2^192` (its `mu` does not fit) never gets a constant.
        for i in 0..4 {
            check(a, a + U256::from(i), pow2(192), None);
        }
        assert!(!ready(pow2(192)));
    }

    #[test]
    fn reciprocals_and_small_divisions() {
        let mut rng = Rng(0xdead_beef_cafe_f00d);
        let top = 1u64 << 63;
        let mut ds = vec![top, top + 1, u64::MAX, u64::MAX - 1, 0xc000_0000_0000_0000];
        ds.extend((0..2000).map(|_| rng.next() | top));
        for &d1 in &ds {
            let v = reciprocal_2by1(d1);
            assert_eq!(v, (u128::MAX / u128::from(d1)) as u64);
            for d0 in [0, 1, u64::MAX, rng.next()] {
                let d = join(d1, d0);
                // `floor((2^192 - 1) / d) - 2^64`.
                let exact = (U256::MAX >> 64usize) / U256::from(d) - pow2(64);
                assert_eq!(U256::from(reciprocal_3by2(d)), exact, "{d:#x}");
                let v = reciprocal_3by2(d);
                for _ in 0..4 {
                    // `u2:u1 < d`.
                    let u21 = match rng.next() % 3 {
                        0 => d - 1,
                        1 => d - 1 - u128::from(rng.next()),
                        _ => join(rng.next() % d1, rng.next()),
                    };
                    let u0 = rng.next();
                    let u = (U256::from(u21) << 64usize) | U256::from(u0);
                    let (q, r) = div_3by2((u21 >> 64) as u64, u21 as u64, u0, d, v);
                    assert_eq!(U256::from(q), u / U256::from(d));
                    assert_eq!(U256::from(r), u % U256::from(d));
                }
            }
            for _ in 0..4 {
                let u1 = match rng.next() % 2 {
                    0 => d1 - 1,
                    _ => rng.next() % d1,
                };
                let u0 = rng.next();
                let u = join(u1, u0);
                assert_eq!(rem_2by1(u1, u0, d1, v), (u % u128::from(d1)) as u64);
            }
        }
    }
}
