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
mod tests;
