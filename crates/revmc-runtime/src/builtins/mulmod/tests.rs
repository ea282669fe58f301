//! Tests of [`super::mulmod`] and its paths against ruint's `mul_mod`.

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
