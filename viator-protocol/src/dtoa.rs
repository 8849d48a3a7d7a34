//! Double to text exactly as Redis prints doubles in replies.
//!
//! Redis 7.2+ formats reply doubles with `d2string`: `nan`, `inf`, `-inf`,
//! `0`, `-0`, plain integers for integral values within ±2^62, and
//! otherwise the Grisu2 digits of the bundled `fpconv_dtoa`, laid out in
//! its own shape (`0.0001`, `1.5`, `1e+20`, `1.23456123456789e+5`).
//! Grisu2 is round-trip exact but not always the shortest text, so this is
//! a faithful Rust implementation of that algorithm, not a call to a
//! shortest-digits library: the bytes must match the real server's.

/// Cached normalized powers of ten 10^k for k = -348, -340, ..., 340, as
/// (64-bit significand rounded to nearest, binary exponent). Generated from
/// exact rational arithmetic.
const POWERS_TEN: [(u64, i32); 87] = [
    (0xfa8fd5a0081c0288, -1220),
    (0xbaaee17fa23ebf76, -1193),
    (0x8b16fb203055ac76, -1166),
    (0xcf42894a5dce35ea, -1140),
    (0x9a6bb0aa55653b2d, -1113),
    (0xe61acf033d1a45df, -1087),
    (0xab70fe17c79ac6ca, -1060),
    (0xff77b1fcbebcdc4f, -1034),
    (0xbe5691ef416bd60c, -1007),
    (0x8dd01fad907ffc3c, -980),
    (0xd3515c2831559a83, -954),
    (0x9d71ac8fada6c9b5, -927),
    (0xea9c227723ee8bcb, -901),
    (0xaecc49914078536d, -874),
    (0x823c12795db6ce57, -847),
    (0xc21094364dfb5637, -821),
    (0x9096ea6f3848984f, -794),
    (0xd77485cb25823ac7, -768),
    (0xa086cfcd97bf97f4, -741),
    (0xef340a98172aace5, -715),
    (0xb23867fb2a35b28e, -688),
    (0x84c8d4dfd2c63f3b, -661),
    (0xc5dd44271ad3cdba, -635),
    (0x936b9fcebb25c996, -608),
    (0xdbac6c247d62a584, -582),
    (0xa3ab66580d5fdaf6, -555),
    (0xf3e2f893dec3f126, -529),
    (0xb5b5ada8aaff80b8, -502),
    (0x87625f056c7c4a8b, -475),
    (0xc9bcff6034c13053, -449),
    (0x964e858c91ba2655, -422),
    (0xdff9772470297ebd, -396),
    (0xa6dfbd9fb8e5b88f, -369),
    (0xf8a95fcf88747d94, -343),
    (0xb94470938fa89bcf, -316),
    (0x8a08f0f8bf0f156b, -289),
    (0xcdb02555653131b6, -263),
    (0x993fe2c6d07b7fac, -236),
    (0xe45c10c42a2b3b06, -210),
    (0xaa242499697392d3, -183),
    (0xfd87b5f28300ca0e, -157),
    (0xbce5086492111aeb, -130),
    (0x8cbccc096f5088cc, -103),
    (0xd1b71758e219652c, -77),
    (0x9c40000000000000, -50),
    (0xe8d4a51000000000, -24),
    (0xad78ebc5ac620000, 3),
    (0x813f3978f8940984, 30),
    (0xc097ce7bc90715b3, 56),
    (0x8f7e32ce7bea5c70, 83),
    (0xd5d238a4abe98068, 109),
    (0x9f4f2726179a2245, 136),
    (0xed63a231d4c4fb27, 162),
    (0xb0de65388cc8ada8, 189),
    (0x83c7088e1aab65db, 216),
    (0xc45d1df942711d9a, 242),
    (0x924d692ca61be758, 269),
    (0xda01ee641a708dea, 295),
    (0xa26da3999aef774a, 322),
    (0xf209787bb47d6b85, 348),
    (0xb454e4a179dd1877, 375),
    (0x865b86925b9bc5c2, 402),
    (0xc83553c5c8965d3d, 428),
    (0x952ab45cfa97a0b3, 455),
    (0xde469fbd99a05fe3, 481),
    (0xa59bc234db398c25, 508),
    (0xf6c69a72a3989f5c, 534),
    (0xb7dcbf5354e9bece, 561),
    (0x88fcf317f22241e2, 588),
    (0xcc20ce9bd35c78a5, 614),
    (0x98165af37b2153df, 641),
    (0xe2a0b5dc971f303a, 667),
    (0xa8d9d1535ce3b396, 694),
    (0xfb9b7cd9a4a7443c, 720),
    (0xbb764c4ca7a44410, 747),
    (0x8bab8eefb6409c1a, 774),
    (0xd01fef10a657842c, 800),
    (0x9b10a4e5e9913129, 827),
    (0xe7109bfba19c0c9d, 853),
    (0xac2820d9623bf429, 880),
    (0x80444b5e7aa7cf85, 907),
    (0xbf21e44003acdd2d, 933),
    (0x8e679c2f5e44ff8f, 960),
    (0xd433179d9c8cb841, 986),
    (0x9e19db92b4e31ba9, 1013),
    (0xeb96bf6ebadf77d9, 1039),
    (0xaf87023b9bf0ee6b, 1066),
];

const FIRST_POWER: i32 = -348;
const STEP_POWERS: i32 = 8;
const EXP_MAX: i32 = -32;
const EXP_MIN: i32 = -60;

const FRAC_MASK: u64 = 0x000F_FFFF_FFFF_FFFF;
const EXP_MASK: u64 = 0x7FF0_0000_0000_0000;
const HIDDEN_BIT: u64 = 0x0010_0000_0000_0000;
const EXP_BIAS: i32 = 1023 + 52;

/// Powers of ten from 10^19 down to 10^0.
const TENS: [u64; 20] = [
    10_000_000_000_000_000_000,
    1_000_000_000_000_000_000,
    100_000_000_000_000_000,
    10_000_000_000_000_000,
    1_000_000_000_000_000,
    100_000_000_000_000,
    10_000_000_000_000,
    1_000_000_000_000,
    100_000_000_000,
    10_000_000_000,
    1_000_000_000,
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

/// A do-it-yourself floating point number: `frac * 2^exp`.
#[derive(Clone, Copy)]
struct Fp {
    frac: u64,
    exp: i32,
}

fn build_fp(d: f64) -> Fp {
    let bits = d.to_bits();
    let frac = bits & FRAC_MASK;
    let exp = ((bits & EXP_MASK) >> 52) as i32;
    if exp != 0 {
        Fp {
            frac: frac + HIDDEN_BIT,
            exp: exp - EXP_BIAS,
        }
    } else {
        Fp {
            frac,
            exp: 1 - EXP_BIAS,
        }
    }
}

fn normalize(fp: &mut Fp) {
    // `fp.frac` is never 0 here (zero is handled before Grisu runs); the
    // bound keeps the loop finite whatever happens.
    while fp.frac & HIDDEN_BIT == 0 && fp.frac != 0 {
        fp.frac <<= 1;
        fp.exp -= 1;
    }
    let shift = 64 - 52 - 1;
    fp.frac <<= shift;
    fp.exp -= shift;
}

/// The boundaries m- and m+ halfway to the neighbouring doubles, scaled to
/// the same exponent.
fn normalized_boundaries(fp: Fp) -> (Fp, Fp) {
    let mut upper = Fp {
        frac: (fp.frac << 1) + 1,
        exp: fp.exp - 1,
    };
    while upper.frac & (HIDDEN_BIT << 1) == 0 {
        upper.frac <<= 1;
        upper.exp -= 1;
    }
    let u_shift = 64 - 52 - 2;
    upper.frac <<= u_shift;
    upper.exp -= u_shift;

    let l_shift = if fp.frac == HIDDEN_BIT { 2 } else { 1 };
    let mut lower = Fp {
        frac: (fp.frac << l_shift) - 1,
        exp: fp.exp - l_shift,
    };
    let diff = (lower.exp - upper.exp) as u32;
    lower.frac = lower.frac.checked_shl(diff).unwrap_or(0);
    lower.exp = upper.exp;
    (lower, upper)
}

/// The upper 64 bits of the 128-bit product, rounded half up.
fn multiply(a: Fp, b: Fp) -> Fp {
    let product = (a.frac as u128) * (b.frac as u128) + (1u128 << 63);
    Fp {
        frac: (product >> 64) as u64,
        exp: a.exp + b.exp + 64,
    }
}

/// The cached power c = 10^-k such that `exp` of the product lands in
/// [EXP_MIN, EXP_MAX].
fn cached_pow10(exp: i32) -> (Fp, i32) {
    const ONE_LOG_TEN: f64 = 0.301_029_995_663_981_14;
    let approx = (f64::from(-(exp + 87)) * ONE_LOG_TEN) as i32;
    let mut idx = (approx - FIRST_POWER) / STEP_POWERS;
    // The estimate is off by at most one step; the bounds only guard
    // against impossible exponents.
    for _ in 0..POWERS_TEN.len() {
        let i = idx.clamp(0, POWERS_TEN.len() as i32 - 1);
        let (frac, pexp) = POWERS_TEN[i as usize];
        let current = exp + pexp + 64;
        if current < EXP_MIN && i + 1 < POWERS_TEN.len() as i32 {
            idx = i + 1;
            continue;
        }
        if current > EXP_MAX && i > 0 {
            idx = i - 1;
            continue;
        }
        return (Fp { frac, exp: pexp }, FIRST_POWER + i * STEP_POWERS);
    }
    let i = idx.clamp(0, POWERS_TEN.len() as i32 - 1);
    let (frac, pexp) = POWERS_TEN[i as usize];
    (Fp { frac, exp: pexp }, FIRST_POWER + i * STEP_POWERS)
}

fn round_digit(digits: &mut [u8], ndigits: usize, delta: u64, mut rem: u64, kappa: u64, frac: u64) {
    let Some(last) = ndigits.checked_sub(1) else {
        return;
    };
    while rem < frac
        && delta.wrapping_sub(rem) >= kappa
        && (rem.wrapping_add(kappa) < frac
            || frac.wrapping_sub(rem) > rem.wrapping_add(kappa).wrapping_sub(frac))
    {
        digits[last] = digits[last].wrapping_sub(1);
        rem = rem.wrapping_add(kappa);
    }
}

/// Generates the digits of `upper`, stopping as soon as the value is
/// within the boundaries. Returns the number of digits; `k` receives the
/// decimal exponent of the last digit.
fn generate_digits(fp: Fp, upper: Fp, lower: Fp, digits: &mut [u8; 24], k: &mut i32) -> usize {
    let wfrac = upper.frac.wrapping_sub(fp.frac);
    let mut delta = upper.frac.wrapping_sub(lower.frac);

    let shift = (-upper.exp) as u32;
    let one_frac = 1u64.checked_shl(shift).unwrap_or(0);
    let mut part1 = upper.frac.checked_shr(shift).unwrap_or(0);
    let mut part2 = upper.frac & one_frac.wrapping_sub(1);

    let mut idx = 0usize;
    let mut kappa = 10;
    for &div in &TENS[10..] {
        // `part1` is below 2^32 (the exponent lies in [-60, -32]), so a
        // 32-bit division gives the same digit, faster; leading zeros skip
        // the division altogether.
        let digit = if part1 < div {
            0
        } else {
            match (u32::try_from(part1), u32::try_from(div)) {
                (Ok(p), Ok(d)) => u64::from(p / d),
                _ => part1 / div,
            }
        };
        if (digit != 0 || idx != 0) && idx < digits.len() {
            digits[idx] = b'0'.wrapping_add(digit as u8);
            idx += 1;
        }
        part1 -= digit * div;
        kappa -= 1;
        let tmp = part1.checked_shl(shift).unwrap_or(0).wrapping_add(part2);
        if tmp <= delta {
            *k += kappa;
            round_digit(
                digits,
                idx,
                delta,
                tmp,
                div.checked_shl(shift).unwrap_or(0),
                wfrac,
            );
            return idx;
        }
    }

    // The fractional digits; `unit` walks 10, 100, ... alongside.
    let mut unit = 18usize;
    loop {
        part2 = part2.wrapping_mul(10);
        delta = delta.wrapping_mul(10);
        kappa -= 1;
        let digit = part2.checked_shr(shift).unwrap_or(0);
        if (digit != 0 || idx != 0) && idx < digits.len() {
            digits[idx] = b'0'.wrapping_add(digit as u8);
            idx += 1;
        }
        part2 &= one_frac.wrapping_sub(1);
        if part2 < delta || unit == 0 {
            *k += kappa;
            round_digit(
                digits,
                idx,
                delta,
                part2,
                one_frac,
                wfrac.wrapping_mul(TENS[unit]),
            );
            return idx;
        }
        unit -= 1;
    }
}

fn grisu2(d: f64, digits: &mut [u8; 24], k_out: &mut i32) -> usize {
    let w = build_fp(d);
    let (lower, upper) = normalized_boundaries(w);
    let mut w = w;
    normalize(&mut w);
    let (cp, k) = cached_pow10(upper.exp);
    let w = multiply(w, cp);
    let mut upper = multiply(upper, cp);
    let mut lower = multiply(lower, cp);
    lower.frac = lower.frac.wrapping_add(1);
    upper.frac = upper.frac.wrapping_sub(1);
    *k_out = -k;
    generate_digits(w, upper, lower, digits, k_out)
}

/// Lays the digits out the way `fpconv_dtoa`'s `emit_digits` does.
fn emit_digits(digits: &[u8], k: i32, neg: bool, out: &mut Writer<'_>) {
    let mut ndigits = digits.len() as i32;
    let mut exp = (k + ndigits - 1).abs();

    // Plain integer with trailing zeros.
    if k >= 0 && exp < ndigits + 7 {
        out.put_slice(digits);
        for _ in 0..k {
            out.put(b'0');
        }
        return;
    }

    // Decimal without exponent.
    if k < 0 && (k > -7 || exp < 4) {
        let offset = ndigits - k.abs();
        if offset <= 0 {
            out.put(b'0');
            out.put(b'.');
            for _ in 0..(-offset) {
                out.put(b'0');
            }
            out.put_slice(digits);
        } else {
            let offset = offset as usize;
            out.put_slice(&digits[..offset]);
            out.put(b'.');
            out.put_slice(&digits[offset..]);
        }
        return;
    }

    // Scientific notation, at most 18 significant characters.
    ndigits = ndigits.min(18 - i32::from(neg));
    let digits = &digits[..ndigits as usize];
    out.put(digits[0]);
    if ndigits > 1 {
        out.put(b'.');
        out.put_slice(&digits[1..]);
    }
    out.put(b'e');
    out.put(if k + ndigits - 1 < 0 { b'-' } else { b'+' });
    let mut cent = 0;
    if exp > 99 {
        cent = exp / 100;
        out.put(b'0' + cent as u8);
        exp -= cent * 100;
    }
    if exp > 9 {
        let dec = exp / 10;
        out.put(b'0' + dec as u8);
        exp -= dec * 10;
    } else if cent != 0 {
        out.put(b'0');
    }
    out.put(b'0' + (exp % 10) as u8);
}

/// A bounded writer that drops bytes past the end instead of panicking.
struct Writer<'a> {
    buf: &'a mut [u8; 32],
    len: usize,
}

impl Writer<'_> {
    fn put(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn put_slice(&mut self, s: &[u8]) {
        for &b in s {
            self.put(b);
        }
    }
}

/// Redis's `double2ll`: the value as an integer when it is integral and
/// within ±(LLONG_MAX/2), the range where printing the integer is safe.
fn as_small_integer(d: f64) -> Option<i64> {
    const LIMIT: f64 = (i64::MAX / 2) as f64;
    if !(-LIMIT..=LIMIT).contains(&d) {
        return None;
    }
    let n = d as i64;
    (n as f64 == d).then_some(n)
}

/// Writes `d` as Redis's `d2string` does; returns the length.
pub(crate) fn d2string(d: f64, out: &mut [u8; 32]) -> usize {
    let mut w = Writer { buf: out, len: 0 };
    if d.is_nan() {
        w.put_slice(b"nan");
    } else if d.is_infinite() {
        w.put_slice(if d < 0.0 { b"-inf" } else { b"inf" });
    } else if d == 0.0 {
        w.put_slice(if d.is_sign_negative() { b"-0" } else { b"0" });
    } else if let Some(n) = as_small_integer(d) {
        let mut tmp = itoa::Buffer::new();
        w.put_slice(tmp.format(n).as_bytes());
    } else {
        fpconv_dtoa(d, &mut w);
    }
    w.len
}

/// `fpconv_dtoa` for finite, non-zero `d`.
fn fpconv_dtoa(d: f64, out: &mut Writer<'_>) {
    let neg = d.is_sign_negative();
    if neg {
        out.put(b'-');
    }
    let mut digits = [0u8; 24];
    let mut k = 0;
    let n = grisu2(d, &mut digits, &mut k);
    if n == 0 {
        out.put(b'0');
        return;
    }
    emit_digits(&digits[..n], k, neg, out);
}
