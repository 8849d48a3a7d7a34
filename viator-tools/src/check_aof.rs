//! `viator-check-aof`: redis-check-aof for Viator's append-only files (and
//! Redis's: the formats are the same). Checks an old-style single AOF, an
//! AOF with an RDB preamble, or a multi-part AOF through its manifest (the
//! base file, then each incremental file), and prints what redis-check-aof
//! prints, with its exit status; `--fix` truncates the last file after its
//! last whole command (asking first), `--truncate-to-timestamp` cuts it at
//! the first `#TS:` annotation later than a unix time.
//!
//! The checker reads commands with redis-check-aof's own rules, not the AOF
//! loader's ([`viator_persist::aof::commands::CommandReader`]): the tool
//! accepts what the loader refuses (`*0`, `*-1`, a count with no digits,
//! blanks before a number), reports errors with the offset of the line or
//! bulk it was reading, counts lines, and keeps a transaction's commands
//! together (a file cut inside MULTI is valid only up to the MULTI). Its
//! report has to match Redis's to the byte, so it follows those rules here.
//!
//! Two of Redis's behaviours are not copied: a bulk length of many
//! gigabytes makes Redis try to allocate it and crash, while this checker
//! reads what the file holds and reports it short; and where Redis prints a
//! byte from past the end of its line buffer (`Expected \r\n, got: 00..`
//! for a number cut by the end of the file) the byte printed is the one
//! Debian's build shows: what the previous command's count line left in
//! the buffer, 0 for a bulk length.

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;

use viator_persist::aof::manifest::Manifest;

/// C's `PATH_MAX`: redis-check-aof refuses longer paths.
const PATH_MAX: usize = 4096;

/// Redis's `AOF_ANNOTATION_LINE_MAX_LEN`: an annotation is read with a
/// buffer this long; the rest of a longer line is read as a command.
const ANNOTATION_LINE_MAX: usize = 1024;

/// The buffer redis-check-aof reads a `*N` or `$N` line with.
const NUMBER_LINE_MAX: usize = 128;

/// Why checking stopped before the end: an exit status (one of Redis's
/// `exit()` calls), or output that could not be written (there is nowhere
/// left to tell about that: the status says it).
enum Stop {
    Exit(i32),
    Io,
}

impl From<io::Error> for Stop {
    fn from(_: io::Error) -> Stop {
        Stop::Io
    }
}

type Res<T> = Result<T, Stop>;

/// How checking one file ended (redis-check-aof's `AOF_CHECK_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Empty,
    Truncated,
    TimestampTruncated,
}

/// C's `strtol(s, &end, 10)` over `s` (which stands for a C string: it
/// ends at the first byte that is not part of a number): the value, how
/// many bytes it used (0 when there are no digits, as C leaves `end` at the
/// start then), and whether it overflowed (`ERANGE`; the value saturates).
fn strtol(s: &[u8]) -> (i64, usize, bool) {
    let mut i = s
        .iter()
        .position(|&c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .unwrap_or(s.len());
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut magnitude: u128 = 0;
    while let Some(d) = s.get(i).filter(|c| c.is_ascii_digit()) {
        magnitude = (magnitude * 10 + u128::from(d - b'0')).min(1 << 64);
        i += 1;
    }
    if i == start {
        return (0, 0, false);
    }
    if neg {
        match i64::try_from(magnitude) {
            Ok(v) => (-v, i, false),
            Err(_) if magnitude == 1 << 63 => (i64::MIN, i, false),
            Err(_) => (i64::MIN, i, true),
        }
    } else {
        match i64::try_from(magnitude) {
            Ok(v) => (v, i, false),
            Err(_) => (i64::MAX, i, true),
        }
    }
}

/// C's `printf("%02x", c)` of a `char`: signed, so bytes from 0x80 print
/// as a negative int's eight hex digits.
fn hex(c: u8) -> String {
    format!("{:02x}", c as i8 as i32 as u32)
}

/// C's `strerror` text of an I/O error (Rust adds " (os error N)").
fn strerror(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// POSIX `dirname`: the directory part of a path, `.` when there is none.
fn dirname(path: &[u8]) -> Vec<u8> {
    let trimmed = match path.iter().rposition(|&c| c != b'/') {
        Some(i) => &path[..=i],
        None if path.is_empty() => return b".".to_vec(),
        None => return b"/".to_vec(),
    };
    let Some(slash) = trimmed.iter().rposition(|&c| c == b'/') else {
        return b".".to_vec();
    };
    match trimmed[..slash].iter().rposition(|&c| c != b'/') {
        Some(i) => trimmed[..=i].to_vec(),
        None => b"/".to_vec(),
    }
}

/// The days since 1970-01-01 as a (year, month 1-12, day) date.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Redis's log time stamp (`%d %b %Y %H:%M:%S.mmm`), in UTC.
fn log_time(now_ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = now_ms.div_euclid(1000);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{day:02} {} {year} {:02}:{:02}:{:02}.{:03}",
        MONTHS[(month as usize - 1) % 12],
        s / 3600,
        s / 60 % 60,
        s % 60,
        now_ms.rem_euclid(1000)
    )
}

/// An open AOF, read the way redis-check-aof reads its `FILE *`: the
/// offset of the next byte and C's end-of-file flag (set when a read
/// wanted more than the file had).
struct Input {
    r: BufReader<File>,
    pos: u64,
    eof: bool,
}

impl Input {
    /// The next byte without consuming it (redis-check-aof's one-byte
    /// `fgets` and `fseek` back).
    fn peek(&mut self) -> io::Result<Option<u8>> {
        let next = self.r.fill_buf()?.first().copied();
        self.eof |= next.is_none();
        Ok(next)
    }

    /// C's `fgets` with a buffer of `size` bytes: up to and including a
    /// newline, at most `size - 1` bytes. False when nothing was left. A
    /// read error ends the line as the end of the file would.
    fn fgets(&mut self, size: usize, line: &mut Vec<u8>) -> bool {
        line.clear();
        while line.len() < size - 1 {
            let buf = match self.r.fill_buf() {
                Ok(b) if !b.is_empty() => b,
                _ => {
                    self.eof = true;
                    break;
                }
            };
            let want = (size - 1 - line.len()).min(buf.len());
            let (take, done) = match buf[..want].iter().position(|&c| c == b'\n') {
                Some(i) => (i + 1, true),
                None => (want, false),
            };
            line.extend_from_slice(&buf[..take]);
            self.r.consume(take);
            self.pos += take as u64;
            if done {
                break;
            }
        }
        !line.is_empty()
    }

    /// C's `fread` of `n` bytes, keeping only the first `head.capacity()`
    /// bytes (a command's name) and the last two (its CRLF): how many it
    /// read and those last two.
    fn fread(&mut self, n: u64, head: &mut Vec<u8>, head_max: usize) -> (u64, [u8; 2]) {
        let mut got = 0u64;
        let mut last = [0u8; 2];
        while got < n {
            let buf = match self.r.fill_buf() {
                Ok(b) if !b.is_empty() => b,
                _ => {
                    self.eof = true;
                    break;
                }
            };
            let take = usize::try_from(n - got).map_or(buf.len(), |left| left.min(buf.len()));
            let chunk = &buf[..take];
            if head.len() < head_max {
                let room = head_max - head.len();
                head.extend_from_slice(&chunk[..take.min(room)]);
            }
            last = match chunk {
                [.., a, b] => [*a, *b],
                [b] => [last[1], *b],
                [] => last,
            };
            self.r.consume(take);
            self.pos += take as u64;
            got += take as u64;
        }
        (got, last)
    }
}

/// The RDB checker reads the preamble through this, keeping the offset.
impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.r.read(buf)?;
        self.pos += n as u64;
        if n == 0 && !buf.is_empty() {
            self.eof = true;
        }
        Ok(n)
    }
}

/// The state redis-check-aof keeps in globals: the error message, where
/// the item being read started, the line count (which runs on across the
/// files of a multi-part AOF, as Redis's does).
struct Checker<'a, W: Write, I: BufRead> {
    out: &'a mut W,
    stdin: &'a mut I,
    fix: bool,
    to_timestamp: i64,
    now_ms: i64,
    error: Vec<u8>,
    epos: u64,
    line: i64,
    /// The buffer `*N` lines are read into: a count cut by the end of the
    /// file shows a byte the previous count line left there.
    argc_buf: [u8; NUMBER_LINE_MAX],
    scratch: Vec<u8>,
}

impl<W: Write, I: BufRead> Checker<'_, W, I> {
    /// Prints the parts and a newline.
    fn say(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        for p in parts {
            self.out.write_all(p)?;
        }
        self.out.write_all(b"\n")
    }

    /// Prints the parts and a newline, then stops with status 1.
    fn fail<T>(&mut self, parts: &[&[u8]]) -> Res<T> {
        self.say(parts)?;
        Err(Stop::Exit(1))
    }

    /// Redis's `serverLog(LL_WARNING, ...)` to standard output, as the
    /// manifest loader reports its errors.
    fn log(&mut self, msg: &[u8]) -> io::Result<()> {
        let msg = &msg[..msg.len().min(1023)];
        let prefix = format!("{}:C {} # ", std::process::id(), log_time(self.now_ms));
        self.say(&[prefix.as_bytes(), msg])
    }

    /// redis-check-aof's `ERROR()`: the message (a C string, so cut at a
    /// NUL byte) after the offset of what was being read.
    fn set_error(&mut self, msg: &[u8]) {
        let msg = &msg[..msg.iter().position(|&c| c == 0).unwrap_or(msg.len())];
        let mut e = format!("0x{:16x}: ", self.epos).into_bytes();
        e.extend_from_slice(&msg[..msg.len().min(1023)]);
        e.truncate(1043);
        self.error = e;
    }

    /// `consumeNewline`: the two bytes must be CRLF; counts a line.
    fn newline(&mut self, a: u8, b: u8) -> bool {
        if [a, b] != *b"\r\n" {
            let msg = format!("Expected \\r\\n, got: {}{}", hex(a), hex(b));
            self.set_error(msg.as_bytes());
            return false;
        }
        self.line += 1;
        true
    }

    /// `readLong`: a `*N` or `$N` line read into `buf`; `None` at the end of
    /// the file (no error) or on a malformed line (error set).
    fn read_long(&mut self, inp: &mut Input, prefix: u8, buf: &mut [u8]) -> Option<i64> {
        self.epos = inp.pos;
        let mut data = std::mem::take(&mut self.scratch);
        let got = inp.fgets(NUMBER_LINE_MAX, &mut data);
        let result = if got {
            let k = data.len();
            buf[..k].copy_from_slice(&data);
            buf[k] = 0;
            if buf[0] != prefix {
                let msg = [
                    b"Expected prefix '".as_slice(),
                    &[prefix],
                    b"', got: '",
                    &[buf[0]],
                    b"'",
                ]
                .concat();
                self.set_error(&msg);
                None
            } else {
                let (value, used, _) = strtol(&data[1..]);
                let end = 1 + used;
                let (a, b) = (buf[end], buf.get(end + 1).copied().unwrap_or(0));
                self.newline(a, b).then_some(value)
            }
        } else {
            None
        };
        self.scratch = data;
        result
    }

    /// `readString`: a bulk string; returns its first bytes, up to a NUL
    /// (enough to tell MULTI and EXEC).
    fn read_string(&mut self, inp: &mut Input) -> Option<Vec<u8>> {
        let mut buf = [0u8; NUMBER_LINE_MAX];
        let len = self.read_long(inp, b'$', &mut buf)?;
        if !(0..=i64::MAX - 2).contains(&len) {
            let msg = format!(
                "Expected to read string of {len} bytes, which is not in the suitable range"
            );
            self.set_error(msg.as_bytes());
            return None;
        }
        let want = len + 2;
        self.epos = inp.pos;
        let mut head = Vec::with_capacity(6);
        let (got, last) = inp.fread(want as u64, &mut head, 6);
        if got != want as u64 {
            let msg = format!("Expected to read {want} bytes, got {got} bytes");
            self.set_error(msg.as_bytes());
            return None;
        }
        if !self.newline(last[0], last[1]) {
            return None;
        }
        head.truncate(usize::try_from(len).unwrap_or(usize::MAX).min(6));
        if let Some(nul) = head.iter().position(|&c| c == 0) {
            head.truncate(nul);
        }
        Some(head)
    }

    /// `processRESP`: one command; tracks MULTI/EXEC nesting in `multi`.
    fn process_resp(&mut self, inp: &mut Input, path: &[u8], multi: &mut i32) -> bool {
        let mut buf = self.argc_buf;
        let argc = self.read_long(inp, b'*', &mut buf);
        self.argc_buf = buf;
        let Some(argc) = argc else {
            return false;
        };
        let mut i = 0;
        while i < argc {
            let Some(name) = self.read_string(inp) else {
                return false;
            };
            if i == 0 {
                if name.eq_ignore_ascii_case(b"multi") {
                    let was = *multi;
                    *multi += 1;
                    if was != 0 {
                        self.set_error(&[b"Unexpected MULTI in AOF ", path].concat());
                        return false;
                    }
                } else if name.eq_ignore_ascii_case(b"exec") {
                    *multi -= 1;
                    if *multi != 0 {
                        self.set_error(&[b"Unexpected EXEC in AOF ", path].concat());
                        return false;
                    }
                }
            }
            i += 1;
        }
        true
    }

    /// `processAnnotations`: skips a `#` line; with a timestamp to cut at,
    /// truncates the file before the first later `#TS:`. False when it
    /// truncated.
    fn process_annotation(&mut self, inp: &mut Input, path: &[u8], last_file: bool) -> Res<bool> {
        self.epos = inp.pos;
        let mut data = Vec::new();
        if !inp.fgets(ANNOTATION_LINE_MAX, &mut data) {
            return self.fail(&[
                b"Failed to read annotations from AOF ",
                path,
                b", aborting...",
            ]);
        }
        let Some(stamp) = data
            .strip_prefix(b"#TS:")
            .filter(|_| self.to_timestamp != 0)
        else {
            return Ok(true);
        };
        let (ts, used, overflow) = strtol(stamp);
        if overflow || stamp.get(used) != Some(&b'\r') {
            return self.fail(&[b"Invalid timestamp annotation"]);
        }
        let to = self.to_timestamp.to_string();
        if ts <= self.to_timestamp {
            return Ok(true);
        }
        if self.epos == 0 {
            return self.fail(&[
                b"AOF ",
                path,
                b" has nothing before timestamp ",
                to.as_bytes(),
                b", aborting...",
            ]);
        }
        let epos = self.epos.to_string();
        if !last_file {
            self.say(&[
                b"Failed to truncate AOF ",
                path,
                b" to timestamp ",
                to.as_bytes(),
                b" to offset ",
                epos.as_bytes(),
                b" because it is not the last file.",
            ])?;
            return self.fail(&[b"If you insist, please delete all files after this file according to the manifest file and delete the corresponding records in manifest file manually. Then re-run redis-check-aof."]);
        }
        if inp.r.get_ref().set_len(self.epos).is_err() {
            return self.fail(&[
                b"Failed to truncate AOF ",
                path,
                b" to timestamp ",
                to.as_bytes(),
            ]);
        }
        Ok(false)
    }

    /// `checkSingleAof`: one file, named `name` in messages and found at
    /// `path`; only the last file of a multi-part AOF may be truncated.
    fn check_single(
        &mut self,
        name: &[u8],
        path: &[u8],
        last_file: bool,
        preamble: bool,
    ) -> Res<Outcome> {
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .open(OsStr::from_bytes(path))
        {
            Ok(f) => f,
            Err(e) => {
                let why = strerror(&e);
                return self.fail(&[
                    b"Cannot open file ",
                    path,
                    b": ",
                    why.as_bytes(),
                    b", aborting...",
                ]);
            }
        };
        let size = match file.metadata() {
            Ok(m) => m.len(),
            Err(_) => return self.fail(&[b"Cannot stat file: ", name, b", aborting..."]),
        };
        if size == 0 {
            return Ok(Outcome::Empty);
        }
        let mut inp = Input {
            r: BufReader::with_capacity(64 * 1024, file),
            pos: 0,
            eof: false,
        };
        if preamble {
            let shown = String::from_utf8_lossy(path).into_owned();
            let status = crate::check_vdb::check(&shown, &mut inp, self.out, self.now_ms)?;
            if status != 0 {
                return self.fail(&[b"RDB preamble of AOF file is not sane, aborting."]);
            }
            self.say(&[b"RDB preamble is OK, proceeding with AOF tail..."])?;
        }
        self.argc_buf = [0; NUMBER_LINE_MAX];
        let mut multi = 0;
        let mut pos = 0;
        loop {
            if multi == 0 {
                pos = inp.pos;
            }
            match inp.peek() {
                Err(_) => {
                    return self.fail(&[b"Failed to read from AOF ", name, b", aborting..."]);
                }
                Ok(None) => break,
                Ok(Some(b'#')) => {
                    if !self.process_annotation(&mut inp, path, last_file)? {
                        return Ok(Outcome::TimestampTruncated);
                    }
                }
                Ok(Some(b'*')) => {
                    if !self.process_resp(&mut inp, path, &mut multi) {
                        break;
                    }
                }
                Ok(Some(_)) => {
                    self.say(&[b"AOF ", name, b" format error"])?;
                    break;
                }
            }
        }
        if inp.eof && multi != 0 && self.error.is_empty() {
            self.set_error(b"Reached EOF before reading EXEC for MULTI");
        }
        if !self.error.is_empty() {
            let e = self.error.clone();
            self.say(&[&e])?;
        }
        let diff = size.saturating_sub(pos);
        if diff == 0 && self.to_timestamp != 0 {
            let to = self.to_timestamp.to_string();
            self.say(&[
                b"Truncate nothing in AOF ",
                name,
                b" to timestamp ",
                to.as_bytes(),
            ])?;
            return Ok(Outcome::Ok);
        }
        let report = format!(
            ", size={size}, ok_up_to={pos}, ok_up_to_line={}, diff={diff}",
            self.line
        );
        self.say(&[b"AOF analyzed: filename=", name, report.as_bytes()])?;
        if diff == 0 {
            return Ok(Outcome::Ok);
        }
        if !self.fix {
            return self.fail(&[
                b"AOF ",
                name,
                b" is not valid. Use the --fix option to try fixing it.",
            ]);
        }
        if !last_file {
            return self.fail(&[
                b"Failed to truncate AOF ",
                name,
                b" because it is not the last file",
            ]);
        }
        let sizes = format!(" from {size} bytes, with {diff} bytes, to {pos} bytes");
        self.say(&[b"This will shrink the AOF ", name, sizes.as_bytes()])?;
        self.out.write_all(b"Continue? [y/N]: ")?;
        self.out.flush()?;
        // fgets(buf, 2, stdin): one byte.
        let answer = match self.stdin.fill_buf() {
            Ok(b) => b.first().copied(),
            Err(_) => None,
        };
        if answer.is_some() {
            self.stdin.consume(1);
        }
        if !matches!(answer, Some(b'y' | b'Y')) {
            return self.fail(&[b"Aborting..."]);
        }
        if inp.r.get_ref().set_len(pos).is_err() {
            return self.fail(&[b"Failed to truncate AOF ", name]);
        }
        Ok(Outcome::Truncated)
    }

    /// `printAofStyle`: the line that closes a file's check.
    fn print_style(&mut self, outcome: Outcome, name: &[u8], kind: &[u8]) -> io::Result<()> {
        match outcome {
            Outcome::Ok => self.say(&[kind, b" ", name, b" is valid"]),
            Outcome::Empty => self.say(&[kind, b" ", name, b" is empty"]),
            Outcome::TimestampTruncated => {
                let to = self.to_timestamp.to_string();
                self.say(&[
                    b"Successfully truncated AOF ",
                    name,
                    b" to timestamp ",
                    to.as_bytes(),
                ])
            }
            Outcome::Truncated => self.say(&[b"Successfully truncated AOF ", name]),
        }
    }

    /// `checkMultiPartAof`: the manifest, the base, then each incremental
    /// file.
    fn check_multi_part(&mut self, dir: &[u8], manifest_path: &[u8]) -> Res<()> {
        self.say(&[b"Start checking Multi Part AOF"])?;
        let text = match std::fs::read(OsStr::from_bytes(manifest_path)) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let msg = [
                    b"Fatal error: can't open the AOF manifest file ".as_slice(),
                    manifest_path,
                    b" for reading: ",
                    strerror(&e).as_bytes(),
                ]
                .concat();
                self.log(&msg)?;
                return Err(Stop::Exit(1));
            }
            Err(_) => {
                self.log(b"\n*** FATAL AOF MANIFEST FILE ERROR ***\n")?;
                self.log(b"Read AOF manifest failed\n")?;
                return Err(Stop::Exit(1));
            }
        };
        let manifest = match Manifest::parse_detailed(&text) {
            Ok(m) => m,
            Err(e) => {
                self.log(b"\n*** FATAL AOF MANIFEST FILE ERROR ***\n")?;
                if let Some(line) = &e.text {
                    let at = format!("Reading the manifest file, at line {}\n", e.line);
                    self.log(at.as_bytes())?;
                    let shown = &line[..line.iter().position(|&c| c == 0).unwrap_or(line.len())];
                    self.log(&[b">>> '", shown, b"'\n"].concat())?;
                }
                self.log(format!("{}\n", e.reason).as_bytes())?;
                return Err(Stop::Exit(1));
            }
        };
        let total = usize::from(manifest.base.is_some()) + manifest.incr.len();
        let mut seen = 0;
        let path_of = |name: &[u8]| [dir, b"/", name].concat();
        if let Some(base) = &manifest.base {
            let path = path_of(&base.name);
            seen += 1;
            let rdb = self.file_is_rdb(&path)?;
            let format: &[u8] = if rdb { b"RDB" } else { b"RESP" };
            self.say(&[b"Start to check BASE AOF (", format, b" format)."])?;
            let outcome = self.check_single(&base.name, &path, seen == total, rdb)?;
            self.print_style(outcome, &base.name, b"BASE AOF")?;
        }
        if !manifest.incr.is_empty() {
            self.say(&[b"Start to check INCR files."])?;
            for incr in &manifest.incr {
                let path = path_of(&incr.name);
                seen += 1;
                let outcome = self.check_single(&incr.name, &path, seen == total, false)?;
                self.print_style(outcome, &incr.name, b"INCR AOF")?;
            }
        }
        self.say(&[b"All AOF files and manifest are valid"])?;
        Ok(())
    }

    /// Opens `path` for a look at its start, as `fileIsRDB` and
    /// `fileIsManifest` do; `None` for an empty file.
    fn open_to_peek(&mut self, path: &[u8]) -> Res<Option<File>> {
        let file = match File::open(OsStr::from_bytes(path)) {
            Ok(f) => f,
            Err(e) => {
                let why = strerror(&e);
                return self.fail(&[b"Cannot open file ", path, b": ", why.as_bytes()]);
            }
        };
        match file.metadata() {
            Ok(m) if m.len() == 0 => Ok(None),
            Ok(_) => Ok(Some(file)),
            Err(_) => self.fail(&[b"Cannot stat file: ", path]),
        }
    }

    /// `fileIsRDB`: at least 8 bytes, starting with `REDIS`.
    fn file_is_rdb(&mut self, path: &[u8]) -> Res<bool> {
        let Some(file) = self.open_to_peek(path)? else {
            return Ok(false);
        };
        if file.metadata().map(|m| m.len()).unwrap_or(0) < 8 {
            return Ok(false);
        }
        let mut sig = [0u8; 5];
        Ok(file.take(5).read_exact(&mut sig).is_ok() && &sig == b"REDIS")
    }

    /// `fileIsManifest`: lines of `file ...` (comments skipped) before any
    /// other line.
    fn file_is_manifest(&mut self, path: &[u8]) -> Res<bool> {
        let Some(file) = self.open_to_peek(path)? else {
            return Ok(false);
        };
        let mut inp = Input {
            r: BufReader::new(file),
            pos: 0,
            eof: false,
        };
        let mut is_manifest = false;
        let mut line = Vec::new();
        // fgets stops short on a read error too: tell it from the end.
        loop {
            match inp.r.fill_buf() {
                Ok([]) => break,
                Ok(_) => {}
                Err(_) => return self.fail(&[b"Cannot read file: ", path]),
            }
            inp.fgets(1025, &mut line);
            if line.first() == Some(&b'#') {
                continue;
            } else if line.starts_with(b"file") {
                is_manifest = true;
            } else {
                break;
            }
        }
        Ok(is_manifest)
    }
}

/// Runs redis-check-aof's `main` on `args` (the program's name first),
/// printing to `out` and reading `--fix`'s answer from `stdin`; returns the
/// exit status. `now_ms` dates the log lines of a manifest error and tells
/// the RDB preamble's expired keys.
pub fn run<W: Write, I: BufRead>(
    args: &[OsString],
    out: &mut W,
    stdin: &mut I,
    now_ms: i64,
) -> i32 {
    let mut c = Checker {
        out,
        stdin,
        fix: false,
        to_timestamp: 0,
        now_ms,
        error: Vec::new(),
        epos: 0,
        line: 1,
        argc_buf: [0; NUMBER_LINE_MAX],
        scratch: Vec::new(),
    };
    let status = match main(&mut c, args) {
        Ok(()) => 0,
        Err(Stop::Exit(code)) => code,
        Err(Stop::Io) => 1,
    };
    if c.out.flush().is_err() {
        return 1;
    }
    status
}

fn main<W: Write, I: BufRead>(c: &mut Checker<'_, W, I>, args: &[OsString]) -> Res<()> {
    let program = args
        .first()
        .map(|a| a.as_bytes())
        .unwrap_or(b"viator-check-aof");
    let usage = |c: &mut Checker<'_, W, I>| -> Res<()> {
        c.fail(&[
            b"Usage: ",
            program,
            b" [--fix|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>",
        ])
    };
    let arg = |i: usize| args[i].as_bytes();
    let path = match args.len() {
        2 if matches!(arg(1), b"-v" | b"--version") => {
            let v = format!(
                "viator-check-aof {} (redis_version {})",
                env!("CARGO_PKG_VERSION"),
                crate::REDIS_VERSION
            );
            c.say(&[v.as_bytes()])?;
            return Ok(());
        }
        2 => arg(1),
        3 if arg(1) == b"--fix" => {
            c.fix = true;
            arg(2)
        }
        4 if arg(1) == b"--truncate-to-timestamp" => {
            let (ts, used, overflow) = strtol(arg(2));
            if overflow || used != arg(2).len() {
                return c.fail(&[b"Invalid timestamp, aborting..."]);
            }
            c.to_timestamp = ts;
            arg(3)
        }
        _ => return usage(c),
    };
    if path.len() > PATH_MAX {
        c.say(&[b"Error: filepath is too long (exceeds PATH_MAX)"])?;
        return usage(c);
    }
    let dir = dirname(path);
    if c.file_is_manifest(path)? {
        return c.check_multi_part(&dir, path);
    }
    let rdb = c.file_is_rdb(path)?;
    c.say(&[b"Start checking Old-Style AOF"])?;
    let outcome = c.check_single(path, path, true, rdb)?;
    c.print_style(outcome, path, b"AOF")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_is_c_strtol() {
        assert_eq!(strtol(b"12\r\n"), (12, 2, false));
        assert_eq!(strtol(b" -3x"), (-3, 3, false));
        assert_eq!(strtol(b"\r\n"), (0, 0, false));
        assert_eq!(strtol(b"+"), (0, 0, false));
        assert_eq!(strtol(b"99999999999999999999"), (i64::MAX, 20, true));
        assert_eq!(strtol(b"-9223372036854775808"), (i64::MIN, 20, false));
        assert_eq!(strtol(b"-9223372036854775809"), (i64::MIN, 20, true));
    }

    #[test]
    fn dirname_is_posix_dirname() {
        for (path, dir) in [
            ("a.manifest", "."),
            ("d/a", "d"),
            ("/a", "/"),
            ("d//a", "d"),
            ("/x/y/", "/x"),
            ("", "."),
            ("//", "/"),
        ] {
            assert_eq!(dirname(path.as_bytes()), dir.as_bytes(), "{path}");
        }
    }

    #[test]
    fn log_time_is_redis_format() {
        // 2026-11-26 20:39:01.954 UTC.
        assert_eq!(log_time(1_795_725_541_954), "26 Nov 2026 20:39:01.954");
        assert_eq!(log_time(0), "01 Jan 1970 00:00:00.000");
        assert_eq!(hex(0xe9), "ffffffe9");
        assert_eq!(hex(0x0d), "0d");
    }
}
