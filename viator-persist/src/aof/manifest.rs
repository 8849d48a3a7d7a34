//! The multi-part AOF's manifest (Redis 7+'s `appendonly.aof.manifest` in
//! `appenddirname`): one line per file, `file NAME seq N type T`, with `T`
//! `b` for the base (an RDB or AOF snapshot), `h` for history files waiting
//! to be deleted, `i` for the incremental files written since the base.
//! Parsed with Redis's rules and errors (`aofLoadManifestFromFile`) and
//! written as Redis writes it (`getAofManifestAsString`), so that Redis and
//! Viator read each other's directories.

/// Longest line Redis reads (`MANIFEST_MAX_LINE`).
pub const MAX_LINE: usize = 1024;

/// The kind of an AOF file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// The base: the dataset at the last rewrite.
    Base,
    /// A file of an older generation, to be deleted.
    History,
    /// Commands written since the base.
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

/// One file of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofFile {
    /// Its name in `appenddirname`.
    pub name: Vec<u8>,
    /// Its sequence number.
    pub seq: i64,
    /// Its kind.
    pub kind: FileType,
    /// Replication offsets it starts and ends at (-1: not recorded).
    pub start_offset: i64,
    /// See [`AofFile::start_offset`].
    pub end_offset: i64,
}

impl AofFile {
    /// A file with no recorded offsets.
    pub fn new(name: impl Into<Vec<u8>>, seq: i64, kind: FileType) -> AofFile {
        AofFile {
            name: name.into(),
            seq,
            kind,
            start_offset: -1,
            end_offset: -1,
        }
    }
}

/// The files of a multi-part AOF.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if any.
    pub base: Option<AofFile>,
    /// History files, in manifest order.
    pub history: Vec<AofFile>,
    /// Incremental files, by increasing sequence.
    pub incr: Vec<AofFile>,
}

/// C's `atoll`: optional blanks and sign, then digits up to the first other
/// byte; 0 when there are none. Saturates instead of overflowing.
fn atoll(s: &[u8]) -> i64 {
    let s = match s.iter().position(|c| !c.is_ascii_whitespace()) {
        Some(i) => &s[i..],
        None => return 0,
    };
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for &d in digits.iter().take_while(|d| d.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(i64::from(d - b'0'));
    }
    if neg { v.saturating_neg() } else { v }
}

/// Why a manifest was refused, with what Redis's `*** FATAL AOF MANIFEST
/// FILE ERROR ***` report shows besides the reason: the number of the line
/// (counted as Redis's `fgets` reads them, a comment longer than
/// [`MAX_LINE`] counting once per buffer) and, once the line got past the
/// comment and length checks, its trimmed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Redis's message ("Invalid AOF manifest file format"...).
    pub reason: &'static str,
    /// The line being read when the error was found (1-based; 0 for an
    /// empty manifest).
    pub line: usize,
    /// The trimmed line, when Redis prints it (`>>> '...'`).
    pub text: Option<Vec<u8>>,
}

/// Redis's `sdstrim(line, " \t\r\n")`.
fn trim_blanks(line: &[u8]) -> &[u8] {
    let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|c| !blank(c)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|c| !blank(c))
        .map_or(start, |i| i + 1);
    &line[start..end]
}

impl Manifest {
    /// Parses a manifest, with Redis's error messages.
    pub fn parse(text: &[u8]) -> Result<Manifest, &'static str> {
        Manifest::parse_detailed(text).map_err(|e| e.reason)
    }

    /// [`Manifest::parse`], telling where an error is as Redis's report
    /// does (used by `viator-check-aof`, which prints that report).
    pub fn parse_detailed(text: &[u8]) -> Result<Manifest, ParseError> {
        let mut m = Manifest::default();
        let mut maxseq = 0;
        let mut rest = text;
        let mut lines = 0;
        while !rest.is_empty() {
            // fgets with a buffer of MAX_LINE + 1: a longer line, or a last
            // line with no newline, is "too long".
            let (line, more) = match rest.iter().take(MAX_LINE).position(|&c| c == b'\n') {
                Some(i) => (&rest[..i + 1], &rest[i + 1..]),
                // A comment is skipped before the length check, one
                // buffer at a time, as Redis's loop does.
                None if rest[0] == b'#' => rest.split_at(rest.len().min(MAX_LINE)),
                None => {
                    return Err(ParseError {
                        reason: "The AOF manifest file contains too long line",
                        line: lines + 1,
                        text: None,
                    });
                }
            };
            rest = more;
            lines += 1;
            if line[0] == b'#' {
                continue;
            }
            // Redis trims " \t\r\n" only.
            let trimmed = trim_blanks(line);
            let err = |reason| ParseError {
                reason,
                line: lines,
                text: Some(trimmed.to_vec()),
            };
            if trimmed.is_empty() {
                return Err(err("Invalid AOF manifest file format"));
            }
            let argv = viator_protocol::split_line(trimmed)
                .ok_or_else(|| err("Invalid AOF manifest file format"))?;
            if argv.len() < 6 || argv.len() % 2 != 0 {
                return Err(err("Invalid AOF manifest file format"));
            }
            let (mut name, mut seq, mut kind, mut start, mut end) = (None, 0, 0u8, -1, -1);
            for pair in argv.chunks_exact(2) {
                let (k, v) = (&pair[0], &pair[1]);
                if k.eq_ignore_ascii_case(b"file") {
                    // Redis's pathIsBaseName: neither kind of slash.
                    if v.contains(&b'/') || v.contains(&b'\\') {
                        return Err(err("File can't be a path, just a filename"));
                    }
                    name = Some(v.clone());
                } else if k.eq_ignore_ascii_case(b"seq") {
                    seq = atoll(v);
                } else if k.eq_ignore_ascii_case(b"type") {
                    kind = v.first().copied().unwrap_or(0);
                } else if k.eq_ignore_ascii_case(b"startoffset") {
                    start = atoll(v);
                } else if k.eq_ignore_ascii_case(b"endoffset") {
                    end = atoll(v);
                }
            }
            let Some(name) = name.filter(|_| seq != 0 && kind != 0) else {
                return Err(err("Invalid AOF manifest file format"));
            };
            let file = |kind| AofFile {
                name,
                seq,
                kind,
                start_offset: start,
                end_offset: end,
            };
            match kind {
                b'b' => {
                    if m.base.is_some() {
                        return Err(err("Found duplicate base file information"));
                    }
                    m.base = Some(file(FileType::Base));
                }
                b'h' => m.history.push(file(FileType::History)),
                b'i' => {
                    if seq <= maxseq {
                        return Err(err("Found a non-monotonic sequence number"));
                    }
                    maxseq = seq;
                    m.incr.push(file(FileType::Incr));
                }
                _ => return Err(err("Unknown AOF file type")),
            }
        }
        if lines == 0 {
            return Err(ParseError {
                reason: "Found an empty AOF manifest",
                line: 0,
                text: None,
            });
        }
        Ok(m)
    }

    /// The manifest's text: the base, then history, then incremental files.
    pub fn format(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incr) {
            out.extend_from_slice(b"file ");
            // Redis's sdsneedsrepr: quote names with blanks, quotes,
            // backslashes or bytes that are not printable.
            let needs_repr = f.name.is_empty()
                || f.name
                    .iter()
                    .any(|&c| !(0x21..=0x7e).contains(&c) || matches!(c, b'"' | b'\'' | b'\\'));
            if needs_repr {
                viator_protocol::cat_repr(&mut out, &f.name);
            } else {
                out.extend_from_slice(&f.name);
            }
            out.extend_from_slice(format!(" seq {} type {}", f.seq, f.kind.letter()).as_bytes());
            if f.start_offset != -1 {
                out.extend_from_slice(format!(" startoffset {}", f.start_offset).as_bytes());
                if f.end_offset != -1 {
                    out.extend_from_slice(format!(" endoffset {}", f.end_offset).as_bytes());
                }
            }
            out.push(b'\n');
        }
        out
    }
}

/// Redis's file names for `appendfilename` (default `appendonly.aof`): the
/// base `NAME.SEQ.base.rdb` (or `.aof` without an RDB preamble), the
/// incremental `NAME.SEQ.incr.aof`, the manifest `NAME.manifest`.
pub fn base_name(appendfilename: &[u8], seq: i64, rdb_preamble: bool) -> Vec<u8> {
    let ext: &[u8] = if rdb_preamble { b".rdb" } else { b".aof" };
    [appendfilename, format!(".{seq}.base").as_bytes(), ext].concat()
}

/// See [`base_name`].
pub fn incr_name(appendfilename: &[u8], seq: i64) -> Vec<u8> {
    [appendfilename, format!(".{seq}.incr.aof").as_bytes()].concat()
}

/// See [`base_name`].
pub fn manifest_name(appendfilename: &[u8]) -> Vec<u8> {
    [appendfilename, b".manifest".as_slice()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_manifests_parse_and_format_back() {
        let text = b"file appendonly.aof.1.base.rdb seq 1 type b\n\
file appendonly.aof.1.incr.aof seq 1 type h\n\
file appendonly.aof.2.incr.aof seq 2 type i\n\
file appendonly.aof.3.incr.aof seq 3 type i startoffset 100 endoffset 200\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, b"appendonly.aof.1.base.rdb");
        assert_eq!(m.history.len(), 1);
        assert_eq!(m.incr.iter().map(|f| f.seq).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(m.incr[1].start_offset, 100);
        assert_eq!(m.format(), text.to_vec());
        assert_eq!(
            base_name(b"appendonly.aof", 1, true),
            b"appendonly.aof.1.base.rdb"
        );
        assert_eq!(
            incr_name(b"appendonly.aof", 2),
            b"appendonly.aof.2.incr.aof"
        );
        assert_eq!(manifest_name(b"appendonly.aof"), b"appendonly.aof.manifest");
    }

    #[test]
    fn quoting_comments_and_key_order() {
        let m =
            Manifest::parse(b"# a comment\nTYPE i SEQ 5 FILE \"my file.aof\" extra x\n").unwrap();
        assert_eq!(m.incr[0].name, b"my file.aof");
        assert_eq!(m.format(), b"file \"my file.aof\" seq 5 type i\n");
    }

    #[test]
    fn errors_are_redis_words() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "Found an empty AOF manifest"),
            (
                b"file a seq 1 type b",
                "The AOF manifest file contains too long line",
            ),
            (b"\n", "Invalid AOF manifest file format"),
            (b"file a seq 1\n", "Invalid AOF manifest file format"),
            (b"file a seq 0 type i\n", "Invalid AOF manifest file format"),
            (
                b"file dir/a seq 1 type i\n",
                "File can't be a path, just a filename",
            ),
            (
                b"file dir\\a seq 1 type i\n",
                "File can't be a path, just a filename",
            ),
            (
                b"file a seq 1 type b\nfile b seq 2 type b\n",
                "Found duplicate base file information",
            ),
            (
                b"file a seq 2 type i\nfile b seq 2 type i\n",
                "Found a non-monotonic sequence number",
            ),
            (b"file a seq 1 type x\n", "Unknown AOF file type"),
            (
                b"file \"a seq 1 type i\n",
                "Invalid AOF manifest file format",
            ),
        ];
        for (text, err) in cases {
            assert_eq!(
                Manifest::parse(text),
                Err(*err),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
        let long = [b"file ".as_slice(), &[b'a'; 1100], b" seq 1 type i\n"].concat();
        assert_eq!(
            Manifest::parse(&long),
            Err("The AOF manifest file contains too long line")
        );
        // A comment too long for one buffer leaves its tail as a line.
        let comment = [b"#".as_slice(), &[b'c'; 1100], b"\nfile a seq 1 type i\n"].concat();
        assert_eq!(
            Manifest::parse(&comment),
            Err("Invalid AOF manifest file format")
        );
        assert!(Manifest::parse(b"file a seq 1 type i\n# no newline").is_ok());
    }

    #[test]
    fn errors_tell_the_line_as_redis_reports_it() {
        let err = Manifest::parse_detailed(b"# c\nfile a seq 1 type b\n  file b seq 1 type q \r\n")
            .unwrap_err();
        assert_eq!(
            err,
            ParseError {
                reason: "Unknown AOF file type",
                line: 3,
                text: Some(b"file b seq 1 type q".to_vec()),
            }
        );
        // A blank line is shown empty; a too-long line and an empty
        // manifest have no text.
        let err = Manifest::parse_detailed(b"file a seq 1 type b\n \t\n").unwrap_err();
        assert_eq!((err.line, err.text), (2, Some(Vec::new())));
        let err = Manifest::parse_detailed(b"file a seq 1 type b\nfile").unwrap_err();
        assert_eq!((err.line, err.text), (2, None));
        let err = Manifest::parse_detailed(b"").unwrap_err();
        assert_eq!((err.line, err.text), (0, None));
    }
}
