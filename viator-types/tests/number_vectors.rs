//! `viator_types::number` against answers recorded from glibc on x86-64
//! (the C library Redis runs on): Redis's `string2ld` and `string2d`
//! acceptance rules around `strtold`/`strtod`, `long double` addition, and
//! `ld2string(LD_STR_HUMAN)` (`%.17Lf`, trimmed).
//!
//! Each line of `number_glibc_vectors.txt` is a question then glibc's answer:
//!
//! * `P <hex input> ok <x87 bits> | err`: `LongDouble::parse`
//! * `D <hex input> ok <f64 bits> | err`: `parse_f64_strict`
//! * `A <hex a> <hex b> ok <x87 bits> <text> | err`: parse both, add, format
//!   (`incr_by_float` for finite sums)
//! * `H <x87 bits> <text>`: `LongDouble::to_human_string`
//!
//! Inputs are random decimals, exact midpoints between neighbouring long
//! doubles and doubles (and a hair either side), hexadecimal floats, values
//! at the edges of both ranges, and malformed text. Set
//! `VIATOR_NUMBER_VECTORS=<file>` to check a larger recording too.

use viator_types::number::{IncrByFloatError, LongDouble, incr_by_float, parse_f64_strict};

fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).chars().take(120).collect()
}

/// glibc 2.36's `strtod` (not `strtold`) rounds some very long decimal
/// inputs of subnormal doubles one unit too low; Python's exact `Fraction`
/// arithmetic confirms our correctly rounded answer. About 1 in 15000 of
/// the random inputs here; the committed recording leaves them out.
fn glibc_strtod_misrounds(input: &[u8], got: f64, want: &str) -> bool {
    let want = u64::from_str_radix(want, 16).expect("bits");
    input.len() > 500
        && got.is_subnormal()
        && got.to_bits().abs_diff(want) == 1
        && got.abs() > f64::from_bits(want).abs()
}

fn check(text: &str) -> usize {
    let mut n = 0;
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        match f[0] {
            "P" => {
                let input = unhex(f[1]);
                let got = LongDouble::parse(&input).map(|v| format!("{:020x}", v.to_x87_bits()));
                let want = (f[2] == "ok").then(|| f[3].to_string());
                assert_eq!(got, want, "string2ld({:?})", show(&input));
            }
            "D" => {
                let input = unhex(f[1]);
                let got = parse_f64_strict(&input);
                let want = (f[2] == "ok").then(|| f[3].to_string());
                if let (Some(g), Some(w)) = (got, &want)
                    && glibc_strtod_misrounds(&input, g, w)
                {
                    n += 1;
                    continue;
                }
                let got = got.map(|v| format!("{:016x}", v.to_bits()));
                assert_eq!(got, want, "string2d({:?})", show(&input));
            }
            "A" => {
                let (a, b) = (unhex(f[1]), unhex(f[2]));
                let sum = LongDouble::parse(&a)
                    .zip(LongDouble::parse(&b))
                    .map(|(x, y)| x + y);
                let got = sum.map(|s| (format!("{:020x}", s.to_x87_bits()), s.to_human_string()));
                let want = (f[3] == "ok").then(|| (f[4].to_string(), f[5].to_string()));
                assert_eq!(got, want, "{:?} + {:?}", show(&a), show(&b));
                let incr = incr_by_float(Some(&a), &b);
                match want {
                    None => assert_eq!(incr, Err(IncrByFloatError::InvalidFloat)),
                    Some((_, text)) if text.contains("inf") || text == "nan" => {
                        assert_eq!(incr, Err(IncrByFloatError::NanOrInfinity))
                    }
                    Some((_, text)) => assert_eq!(incr, Ok(text)),
                }
            }
            "H" => {
                let bits = u128::from_str_radix(f[1], 16).expect("bits");
                let v = LongDouble::from_x87_bits(bits);
                assert_eq!(v.to_human_string(), f[2], "%.17Lf of {bits:020x}");
            }
            _ => continue,
        }
        n += 1;
    }
    n
}

#[test]
fn matches_recorded_glibc_answers() {
    let n = check(include_str!("number_glibc_vectors.txt"));
    assert!(n > 3000, "only {n} vectors checked");
}

#[test]
fn matches_external_recording() {
    if let Ok(path) = std::env::var("VIATOR_NUMBER_VECTORS") {
        let text = std::fs::read_to_string(path).expect("read vectors");
        check(&text);
    }
}
