//! `glob_match` against verdicts recorded from a real redis-server (7.0.15,
//! whose `stringmatchlen` is the one Redis 8.4 ships): random patterns over
//! the bytes that matter (`* ? [ ] ^ - \`, NUL, 0x80, 0xff, letters in both
//! cases) run through `KEYS` against a fixed key set (case-sensitive), and
//! through `COMMAND LIST FILTERBY PATTERN` against the command names (the
//! matcher's `nocase` mode).
//!
//! Format of `glob_redis_vectors.txt`: `S <hex>...` starts a subject set
//! (`-` is the empty string); `M <nocase> <hex pattern> <hex bitmap>` lists
//! which subjects of the current set the pattern matched. Set
//! `VIATOR_GLOB_VECTORS=<file>` to check a larger recording instead.

use viator_types::glob::glob_match;

fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn bit(bitmap: &str, i: usize) -> bool {
    let digits = bitmap.as_bytes();
    let Some(pos) = digits.len().checked_sub(1 + i / 4) else {
        return false;
    };
    let d = (digits[pos] as char).to_digit(16).expect("hex digit");
    d >> (i % 4) & 1 == 1
}

fn check(text: &str) -> usize {
    let mut subjects: Vec<Vec<u8>> = Vec::new();
    let mut checked = 0;
    for line in text.lines() {
        let mut f = line.split(' ');
        match f.next() {
            Some("S") => subjects = f.map(unhex).collect(),
            Some("M") => {
                let nocase = f.next() == Some("1");
                let pattern = unhex(f.next().expect("pattern"));
                let bitmap = f.next().expect("bitmap");
                for (i, s) in subjects.iter().enumerate() {
                    assert_eq!(
                        glob_match(&pattern, s, nocase),
                        bit(bitmap, i),
                        "pattern {:?} subject {:?} nocase {nocase}",
                        String::from_utf8_lossy(&pattern),
                        String::from_utf8_lossy(s),
                    );
                    checked += 1;
                }
            }
            _ => {}
        }
    }
    checked
}

#[test]
fn matches_recorded_redis_verdicts() {
    let n = check(include_str!("glob_redis_vectors.txt"));
    assert!(n > 100_000, "only {n} pairs checked");
}

#[test]
fn matches_external_recording() {
    if let Ok(path) = std::env::var("VIATOR_GLOB_VECTORS") {
        let text = std::fs::read_to_string(path).expect("read vectors");
        check(&text);
    }
}
