//! A family of small looping contracts, distinct for every `n`: what the soak and the
//! lookup bench fill the compile service with. Included by path (`#[path]`) from those
//! binaries, which share no library.

/// A loop of 300 iterations, distinct for every `n`: acc = acc * n + 7.
pub fn contract(n: u32) -> Vec<u8> {
    let n = n.to_be_bytes();
    let mut c = vec![0x63, n[0], n[1], n[2], n[3], 0x61, 0x01, 0x2c, 0x5b, 0x90, 0x63];
    c.extend(n);
    c.extend([0x02, 0x60, 7, 0x01, 0x90, 0x60, 1, 0x90, 0x03, 0x80, 0x60, 8, 0x57]);
    c.extend([0x50, 0x60, 0, 0x52, 0x60, 32, 0x60, 0, 0xf3]);
    c
}
