//! Redis's glob-style pattern matcher (`stringmatchlen`), used by KEYS,
//! SCAN MATCH, PSUBSCRIBE, PUBSUB CHANNELS, CONFIG GET, COMMAND LIST
//! FILTERBY PATTERN and ACL key/channel patterns.
//!
//! The grammar:
//!
//! | pattern   | matches                                                     |
//! |-----------|-------------------------------------------------------------|
//! | `*`       | any run of bytes (runs of `*` collapse into one)            |
//! | `?`       | exactly one byte                                            |
//! | `[abc]`   | one byte from the set                                       |
//! | `[^abc]`  | one byte not in the set                                     |
//! | `[a-z]`   | one byte in the range; `[z-a]` is the same range            |
//! | `\x`      | the byte `x` literally, outside and inside brackets         |
//!
//! [`glob_match`] reproduces redis-server's behaviour exactly, including the
//! corners that follow from how the C code walks its buffers:
//!
//! * An unterminated bracket (`"[abc"`) is a set that ends with the
//!   pattern; a lone `"["` matches nothing and `"[^"` matches any one byte.
//! * `-` makes a range whenever two more bytes follow it, even `]`: `"[a-]"`
//!   is the range `]`..=`a` and leaves the bracket open.
//! * Ranges compare bytes as C's (signed, on x86-64) `char`: bytes >= 0x80
//!   sort *below* `0x00`, so `"[a-\xff]"` holds `0xff` and `0x00..=b'a'`.
//! * With `nocase`, only ASCII letters fold; a `\`-escaped byte inside a
//!   bracket still compares case-sensitively.
//! * A trailing lone `\` matches a literal backslash.
//! * The empty string matches only the empty pattern: `"*"` does not match
//!   `""`. (KEYS and SCAN special-case the pattern `"*"` before calling the
//!   matcher, which is why `KEYS *` still lists an empty key; `"**"` does
//!   not.)
//! * Matching gives up (no match) past 1000 nested `*`, and stops retrying
//!   longer matches of earlier `*` once a later `*` has failed everywhere
//!   (Redis's `skipLongerMatches`), so abusive patterns such as
//!   `"a*a*a*a*...b"` run in polynomial time.

/// Deepest `*` nesting Redis follows before reporting no match
/// (`stringmatchlen_impl` protects itself against abusive patterns).
const MAX_NESTING: u32 = 1000;

/// Whether `string` matches the glob `pattern`, exactly as Redis's
/// `stringmatchlen(pattern, string, nocase)` decides it.
///
/// `nocase` folds ASCII letters (Redis uses it for CONFIG GET and COMMAND
/// LIST FILTERBY PATTERN; KEYS, SCAN and pub/sub are case-sensitive).
/// See the [module documentation](self) for the grammar and its corners.
///
/// ```
/// use viator_types::glob::glob_match;
///
/// assert!(glob_match(b"user:*", b"user:42", false));
/// assert!(glob_match(b"h[ae]llo", b"hallo", false));
/// assert!(glob_match(b"H?LLO", b"hello", true));
/// assert!(!glob_match(b"h[^e]llo", b"hello", false));
/// assert!(glob_match(br"a\*b", b"a*b", false));
/// ```
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer_matches = false;
    Matcher {
        pat: pattern,
        s: string,
        nocase,
        skip_longer_matches: &mut skip_longer_matches,
    }
    .run(0, 0, 0)
}

/// Whether `pattern` holds none of the bytes that are special to
/// [`glob_match`] (`*`, `?`, `[`, `\`).
///
/// Such a pattern matches one string only, itself (case-sensitively), so
/// KEYS and SCAN MATCH can look the key up directly instead of scanning.
/// For `nocase` matching the pattern still matches every ASCII case variant.
///
/// ```
/// use viator_types::glob::is_pattern_literal;
///
/// assert!(is_pattern_literal(b"user:42"));
/// assert!(!is_pattern_literal(b"user:*"));
/// assert!(!is_pattern_literal(br"user\:42"));
/// ```
pub fn is_pattern_literal(pattern: &[u8]) -> bool {
    !pattern
        .iter()
        .any(|&b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
}

/// The one string that `pattern` matches case-sensitively, if it matches only
/// one: the pattern with its `\` escapes resolved, when no unescaped `*`,
/// `?` or `[` remains. Borrows `pattern` when it holds no `\` at all.
///
/// `glob_match(pattern, s, false)` is then true exactly when `s` equals the
/// returned bytes, so KEYS `user\*1` can become a single lookup of `user*1`.
///
/// ```
/// use viator_types::glob::pattern_literal;
///
/// assert_eq!(pattern_literal(b"plain").as_deref(), Some(&b"plain"[..]));
/// assert_eq!(pattern_literal(br"a\*b").as_deref(), Some(&b"a*b"[..]));
/// assert_eq!(pattern_literal(br"ends\").as_deref(), Some(&br"ends\"[..]));
/// assert_eq!(pattern_literal(b"a*b"), None);
/// ```
pub fn pattern_literal(pattern: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    if is_pattern_literal(pattern) {
        return Some(std::borrow::Cow::Borrowed(pattern));
    }
    let mut out = Vec::with_capacity(pattern.len());
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'*' | b'?' | b'[' => return None,
            // A backslash escapes the next byte; a trailing one is literal.
            b'\\' if i + 1 < pattern.len() => {
                out.push(pattern[i + 1]);
                i += 2;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(std::borrow::Cow::Owned(out))
}

/// One match in progress. Positions index `pat` and `s`; reading the pattern
/// past its end yields 0, as C reads the terminating NUL of Redis's sds
/// strings (the matcher peeks one byte ahead in a few places).
struct Matcher<'a> {
    pat: &'a [u8],
    s: &'a [u8],
    nocase: bool,
    /// Set once some `*` found no match for the rest of the pattern at any
    /// later position: no earlier `*` can do better by matching more, so the
    /// whole search ends (Redis's `skipLongerMatches`).
    skip_longer_matches: &'a mut bool,
}

impl Matcher<'_> {
    /// The pattern byte at `i`, or 0 past the end.
    #[inline]
    fn pat_at(&self, i: usize) -> u8 {
        self.pat.get(i).copied().unwrap_or(0)
    }

    /// Whether `s[si..]` matches `pat[pi..]`; `nesting` counts enclosing `*`.
    fn run(&mut self, mut pi: usize, mut si: usize, nesting: u32) -> bool {
        if nesting > MAX_NESTING {
            return false;
        }
        let plen = self.pat.len();
        let slen = self.s.len();
        while pi < plen && si < slen {
            match self.pat[pi] {
                b'*' => {
                    while self.pat_at(pi + 1) == b'*' {
                        pi += 1;
                    }
                    if plen - pi == 1 {
                        return true;
                    }
                    while si < slen {
                        if self.run(pi + 1, si, nesting + 1) {
                            return true;
                        }
                        if *self.skip_longer_matches {
                            return false;
                        }
                        si += 1;
                    }
                    *self.skip_longer_matches = true;
                    return false;
                }
                b'?' => si += 1,
                b'[' => {
                    let (end, matched) = self.bracket(pi + 1, self.s[si]);
                    if !matched {
                        return false;
                    }
                    pi = end;
                    si += 1;
                }
                b => {
                    let mut b = b;
                    if b == b'\\' && plen - pi >= 2 {
                        pi += 1;
                        b = self.pat[pi];
                    }
                    if !eq(b, self.s[si], self.nocase) {
                        return false;
                    }
                    si += 1;
                }
            }
            pi += 1;
            if si == slen {
                while self.pat_at(pi) == b'*' {
                    pi += 1;
                }
                break;
            }
        }
        pi == plen && si == slen
    }

    /// Matches the byte `c` against the bracket whose body starts at `pi`
    /// (just after `[`). Returns the index of the bracket's last byte (its
    /// `]`, or the pattern's last byte when unterminated) and the verdict.
    fn bracket(&self, mut pi: usize, c: u8) -> (usize, bool) {
        let plen = self.pat.len();
        let negate = self.pat_at(pi) == b'^';
        if negate {
            pi += 1;
        }
        let mut matched = false;
        // Invariant: pi <= plen.
        loop {
            let rem = plen - pi;
            let b = self.pat_at(pi);
            if b == b'\\' && rem >= 2 {
                pi += 1;
                // Escapes inside brackets compare exactly, even with nocase.
                if self.pat[pi] == c {
                    matched = true;
                }
            } else if b == b']' {
                break;
            } else if rem == 0 {
                // Unterminated: the pattern's last byte closes the set. At
                // least the `[` precedes, so this cannot underflow.
                pi -= 1;
                break;
            } else if rem >= 3 && self.pat[pi + 1] == b'-' {
                // C compares `char`, which is signed on x86-64.
                let mut start = i32::from(self.pat[pi] as i8);
                let mut end = i32::from(self.pat[pi + 2] as i8);
                let mut ch = i32::from(c as i8);
                if start > end {
                    std::mem::swap(&mut start, &mut end);
                }
                if self.nocase {
                    start = lower_signed(start);
                    end = lower_signed(end);
                    ch = lower_signed(ch);
                }
                pi += 2;
                if start <= ch && ch <= end {
                    matched = true;
                }
            } else if eq(b, c, self.nocase) {
                matched = true;
            }
            pi += 1;
        }
        (pi, matched != negate)
    }
}

/// Byte equality, folding ASCII case when `nocase` (C's `tolower` in the "C"
/// locale, which Redis keeps for `LC_CTYPE`).
#[inline]
fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// `tolower` on a C `char` value widened to `int`.
#[inline]
fn lower_signed(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    fn mi(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), true)
    }

    #[test]
    fn literals() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
        assert!(m("hello", "hello"));
        assert!(!m("hello", "hell"));
        assert!(!m("hell", "hello"));
        assert!(!m("hello", "Hello"));
        assert!(mi("hello", "HeLLo"));
        assert!(m("a\0b", "a\0b"));
    }

    #[test]
    fn stars() {
        assert!(
            !m("*", ""),
            "Redis: the empty string matches only the empty pattern"
        );
        assert!(!m("**", ""));
        assert!(m("*", "a"));
        assert!(m("*", "anything at all"));
        assert!(m("**", "x"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(m("a*", "abc"));
        assert!(m("*c", "abc"));
        assert!(m("*b*", "abc"));
        assert!(m("a*b*c", "abbbbbc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("h*o", "hello"));
        assert!(!m("h*o", "hellp"));
        assert!(m("*world*", "hello world again"));
        assert!(m("*b", "ab"));
        assert!(m("*a*", "a"));
        assert!(!m("*a*", "b"));
        assert!(m("a*?", "ab"));
        assert!(!m("a*?", "a"));
        assert!(m("user:*:name", "user:1:2:name"));
    }

    #[test]
    fn question_marks() {
        assert!(m("?", "a"));
        assert!(!m("?", ""));
        assert!(!m("?", "ab"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "heello"));
        assert!(m("??", "ab"));
        assert!(m("?*", "a"));
        assert!(!m("?*", ""));
    }

    #[test]
    fn brackets() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("[z-a]", "m"), "reversed ranges are swapped");
        assert!(!m("[z-a]", "A"));
        assert!(m("[^a-c]", "d"));
        assert!(!m("[^a-c]", "b"));
        assert!(m("[!]", "!"), "only ^ negates");
        assert!(m("[-]", "-"));
        // "b-]" is a range (']'..='b'), not a trailing literal dash.
        assert!(!m("[ab-]", "-"));
        assert!(m("[ab-]", "_"));
    }

    #[test]
    fn bracket_corners() {
        // "[]" is an empty set: "]" closes it at once.
        assert!(!m("[]", "]"));
        assert!(!m("[]", "a"));
        // "[]]": empty set then a literal "]".
        assert!(!m("[]]", "]"));
        // "[a-]" takes "]" as the range end and runs off the pattern.
        for c in [b']', b'^', b'_', b'`', b'a'] {
            assert!(glob_match(b"[a-]", &[c], false), "{}", c as char);
        }
        assert!(!m("[a-]", "b"));
        assert!(!m("[a-]", "-"));
        // "[a-c-e]": range a-c, then literal "-", then "e".
        assert!(m("[a-c-e]", "-"));
        assert!(m("[a-c-e]", "e"));
        assert!(!m("[a-c-e]", "d"));
        // Unterminated brackets close with the pattern.
        assert!(m("[abc", "b"));
        assert!(!m("[abc", "d"));
        assert!(!m("[abc", "bb"));
        assert!(!m("[", "["));
        assert!(!m("[", ""));
        assert!(m("[^", "x"));
        assert!(m("[^", "^"));
        assert!(!m("[^", "xy"));
        assert!(!m("a[", "a"));
        assert!(m("[a-", "a"));
        assert!(m("[a-", "-"));
        assert!(!m("[a-", "b"));
        // A range needs two bytes after the dash within the pattern.
        assert!(m("[a-b", "b"));
        assert!(!m("[a-b", "-"));
    }

    #[test]
    fn escapes() {
        assert!(m(r"\*", "*"));
        assert!(!m(r"\*", "a"));
        assert!(m(r"a\?b", "a?b"));
        assert!(!m(r"a\?b", "axb"));
        assert!(m(r"\[a]", "[a]"));
        assert!(m(r"\\", r"\"));
        assert!(m(r"\", r"\"), "a trailing backslash is literal");
        assert!(m(r"a\", r"a\"));
        assert!(!m(r"a\", "a"));
        assert!(m(r"\a", "a"));
        // Inside brackets.
        assert!(m(r"[\]]", "]"));
        assert!(m(r"[\^a]", "^"));
        assert!(m(r"[\-]", "-"));
        assert!(m(r"[a\-z]", "-"));
        assert!(!m(r"[a\-z]", "m"));
        assert!(m(r"[\\]", r"\"));
        // A backslash that is the bracket's last pattern byte is literal.
        assert!(m(r"[\", r"\"));
        assert!(!m(r"[\", "x"));
    }

    #[test]
    fn nocase() {
        assert!(mi("HELLO", "hello"));
        assert!(mi("H[A-Z]LLO", "hello"));
        assert!(mi("h[a-z]llo", "HELLO"));
        assert!(mi("[^A]", "b"));
        assert!(!mi("[^A]", "a"));
        assert!(!m("HELLO", "hello"));
        // Escaped bytes inside brackets stay case-sensitive.
        assert!(!mi(r"[\A]", "a"));
        assert!(mi(r"[\A]", "A"));
        // Escaped bytes outside brackets fold.
        assert!(mi(r"\A", "a"));
        // Folding happens after the swap: [Z-a] is 'Z'..='a' (which holds
        // '_'), folded to the empty 'z'..='a'.
        assert!(!mi("[Z-a]", "m"));
        assert!(m("[Z-a]", "_"));
        assert!(!mi("[Z-a]", "_"));
        // Non-ASCII bytes never fold.
        assert!(!glob_match(b"\xc0", b"\xe0", true));
    }

    #[test]
    fn signed_char_ranges() {
        // 0xff is -1 as a C char: [a-\xff] is [-1, 97] after the swap.
        assert!(glob_match(b"[a-\xff]", b"A", false));
        assert!(glob_match(b"[a-\xff]", b"\x00", false));
        assert!(glob_match(b"[a-\xff]", b"\xff", false));
        assert!(!glob_match(b"[a-\xff]", b"b", false));
        assert!(!glob_match(b"[a-\xff]", b"\x80", false));
        assert!(glob_match(b"[\x80-\xff]", b"\x90", false));
        assert!(!glob_match(b"[\x80-\xff]", b"a", false));
        assert!(glob_match(b"[\x00-\x7f]", b"a", false));
        assert!(!glob_match(b"[\x00-\x7f]", b"\x80", false));
    }

    #[test]
    fn abusive_patterns_terminate() {
        // keyspace.tcl: "Regression for pattern matching long nested loops".
        let key = [b'a'; 40];
        assert!(!glob_match(
            b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
            &key,
            false
        ));
        // "... very long nested loops": the nesting limit gives up.
        let key = vec![b'a'; 50_000];
        let pat = b"*?".repeat(50_000);
        assert!(!glob_match(&pat, &key, false));
        // Many stars that do match.
        let pat = b"a*".repeat(500);
        assert!(glob_match(&pat, &vec![b'a'; 600], false));
    }

    #[test]
    fn nesting_limit() {
        // 1000 nested stars are followed, 1001 are not.
        let key = vec![b'a'; 1001];
        let mut pat = b"*a".repeat(1000);
        assert!(glob_match(&pat, &key, false));
        pat.extend_from_slice(b"*a");
        assert!(!glob_match(&pat, &key, false));
    }

    #[test]
    fn literal_helpers() {
        assert!(is_pattern_literal(b""));
        assert!(is_pattern_literal(b"abc:def"));
        for p in [&b"a*"[..], b"?", b"[", b"\\"] {
            assert!(!is_pattern_literal(p));
        }
        assert_eq!(pattern_literal(b"a*"), None);
        assert_eq!(pattern_literal(br"\[x\]").as_deref(), Some(&b"[x]"[..]));
        assert_eq!(pattern_literal(br"\\").as_deref(), Some(&br"\"[..]));
        assert_eq!(pattern_literal(br"a\?\"), Some(br"a?\".to_vec().into()));
        assert_eq!(pattern_literal(br"a\?["), None);
    }

    /// An independent formulation for the property tests: compile the
    /// pattern into tokens, then backtrack naively (no nesting limit, no
    /// skipping), which is exponential but fine for a few stars.
    mod reference {
        pub enum Item {
            Escaped(u8),
            Byte(u8),
            Range(u8, u8),
        }

        pub enum Tok {
            Star,
            Any,
            Lit(u8),
            Class(bool, Vec<Item>),
        }

        pub fn compile(p: &[u8]) -> Vec<Tok> {
            let mut toks = Vec::new();
            let mut i = 0;
            while i < p.len() {
                match p[i] {
                    b'*' => toks.push(Tok::Star),
                    b'?' => toks.push(Tok::Any),
                    b'\\' if i + 1 < p.len() => {
                        i += 1;
                        toks.push(Tok::Lit(p[i]));
                    }
                    b'[' => {
                        i += 1;
                        let negate = p.get(i) == Some(&b'^');
                        if negate {
                            i += 1;
                        }
                        let mut items = Vec::new();
                        loop {
                            let rem = p.len() - i;
                            if rem >= 2 && p[i] == b'\\' {
                                items.push(Item::Escaped(p[i + 1]));
                                i += 2;
                            } else if rem >= 1 && p[i] == b']' {
                                break;
                            } else if rem == 0 {
                                i -= 1;
                                break;
                            } else if rem >= 3 && p[i + 1] == b'-' {
                                items.push(Item::Range(p[i], p[i + 2]));
                                i += 3;
                            } else {
                                items.push(Item::Byte(p[i]));
                                i += 1;
                            }
                        }
                        toks.push(Tok::Class(negate, items));
                    }
                    b => toks.push(Tok::Lit(b)),
                }
                i += 1;
            }
            toks
        }

        fn fold(c: i32, nocase: bool) -> i32 {
            if nocase && (65..=90).contains(&c) {
                c + 32
            } else {
                c
            }
        }

        fn class_has(items: &[Item], c: u8, nocase: bool) -> bool {
            items.iter().any(|it| match *it {
                Item::Escaped(b) => b == c,
                Item::Byte(b) => fold(i32::from(b), nocase) == fold(i32::from(c), nocase),
                Item::Range(a, b) => {
                    let (a, b) = (i32::from(a as i8), i32::from(b as i8));
                    let (lo, hi) = (a.min(b), a.max(b));
                    let c = fold(i32::from(c as i8), nocase);
                    (fold(lo, nocase)..=fold(hi, nocase)).contains(&c)
                }
            })
        }

        fn go(t: &[Tok], s: &[u8], nocase: bool) -> bool {
            let Some(first) = t.first() else {
                return s.is_empty();
            };
            if let Tok::Star = first {
                return (0..=s.len()).any(|k| go(&t[1..], &s[k..], nocase));
            }
            let Some(&c) = s.first() else {
                return false;
            };
            let ok = match first {
                Tok::Any => true,
                Tok::Lit(b) => fold(i32::from(*b), nocase) == fold(i32::from(c), nocase),
                Tok::Class(negate, items) => class_has(items, c, nocase) != *negate,
                Tok::Star => unreachable!(),
            };
            ok && go(&t[1..], &s[1..], nocase)
        }

        pub fn matches(p: &[u8], s: &[u8], nocase: bool) -> bool {
            if s.is_empty() {
                return p.is_empty();
            }
            go(&compile(p), s, nocase)
        }
    }

    use proptest::prelude::*;

    const PATTERN_BYTES: &[u8] = b"aAbz-]^[\\?*\x00\x80\xff";
    const STRING_BYTES: &[u8] = b"aAbBz-]^[\\?*_\x00\x80\xff";

    fn pattern() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(proptest::sample::select(PATTERN_BYTES), 0..12)
            .prop_filter("few stars", |p| {
                p.iter().filter(|&&b| b == b'*').count() <= 4
            })
    }

    fn subject() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(proptest::sample::select(STRING_BYTES), 0..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn agrees_with_reference(p in pattern(), s in subject(), nocase: bool) {
            prop_assert_eq!(glob_match(&p, &s, nocase), reference::matches(&p, &s, nocase));
        }

        #[test]
        fn a_pattern_matches_its_own_literal(p in subject()) {
            if let Some(lit) = pattern_literal(&p) {
                prop_assert!(glob_match(&p, &lit, false));
            }
        }

        #[test]
        fn literal_patterns_match_only_themselves(p in subject(), s in subject()) {
            if let Some(lit) = pattern_literal(&p) {
                prop_assert_eq!(glob_match(&p, &s, false), s == lit.as_ref());
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            p in proptest::collection::vec(any::<u8>(), 0..40),
            s in proptest::collection::vec(any::<u8>(), 0..40),
            nocase: bool,
        ) {
            let _ = glob_match(&p, &s, nocase);
        }
    }
}
