//! The commands of an AOF file: RESP arrays of bulk strings, one per write,
//! with `#` annotation lines between them (Redis's `#TS:` timestamps), as
//! Redis's `loadSingleAppendOnlyFile` and redis-check-aof read them.
//!
//! The reader reports where the last complete command ended, so that a
//! file cut short by a crash can be truncated there (`aof-load-truncated`,
//! `viator-check-aof --fix`). Lengths come from the file: buffers grow as
//! bytes arrive, never by what a length claims.

use std::io::{BufRead, Read};

/// The most arguments or bytes a single argument may claim before the file
/// is called corrupt rather than read (Redis's own limits: 512 MB bulks,
/// `INT_MAX` arguments).
const MAX_BULK: u64 = 512 * 1024 * 1024;
const MAX_ARGS: u64 = i32::MAX as u64;

/// What is wrong with an AOF.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AofError {
    /// The file ends inside a command: everything before `valid_up_to` is
    /// whole commands.
    #[error("Unexpected end of file reading the append only file")]
    Truncated {
        /// Bytes of whole commands.
        valid_up_to: u64,
    },
    /// A command is malformed.
    #[error("Bad file format reading the append only file: {reason}")]
    Format {
        /// Where the bad command starts.
        at: u64,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Reads the commands of an AOF, one at a time.
#[derive(Debug)]
pub struct CommandReader<R: BufRead> {
    input: R,
    offset: u64,
}

impl<R: BufRead> CommandReader<R> {
    /// A reader positioned at `offset` bytes into its file (after an RDB
    /// preamble, for instance).
    pub fn new(input: R, offset: u64) -> CommandReader<R> {
        CommandReader { input, offset }
    }

    /// Bytes of whole commands read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn line(&mut self, pos: &mut u64, start: u64) -> Result<Option<Vec<u8>>, AofError> {
        let mut line = Vec::new();
        let n = self
            .input
            .by_ref()
            .take(64 * 1024)
            .read_until(b'\n', &mut line)
            .map_err(|_| AofError::Truncated { valid_up_to: start })?;
        if n == 0 {
            return Ok(None);
        }
        *pos += n as u64;
        if line.last() != Some(&b'\n') {
            return Err(AofError::Truncated { valid_up_to: start });
        }
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(line))
    }

    fn number(text: &[u8], at: u64, reason: &'static str) -> Result<u64, AofError> {
        std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.parse::<u64>().ok())
            .ok_or(AofError::Format { at, reason })
    }

    /// The next command, `None` at a clean end of file.
    pub fn next_command(&mut self) -> Result<Option<Vec<Vec<u8>>>, AofError> {
        loop {
            let start = self.offset;
            let mut pos = start;
            let Some(header) = self.line(&mut pos, start)? else {
                return Ok(None);
            };
            if header.first() == Some(&b'#') {
                self.offset = pos;
                continue;
            }
            let Some(count) = header.strip_prefix(b"*") else {
                return Err(AofError::Format {
                    at: start,
                    reason: "expected a multi bulk count",
                });
            };
            let argc = Self::number(count, start, "invalid multi bulk count")?;
            if argc == 0 || argc > MAX_ARGS {
                return Err(AofError::Format {
                    at: start,
                    reason: "invalid multi bulk count",
                });
            }
            let mut args = Vec::new();
            for _ in 0..argc {
                let Some(len_line) = self.line(&mut pos, start)? else {
                    return Err(AofError::Truncated { valid_up_to: start });
                };
                let Some(len) = len_line.strip_prefix(b"$") else {
                    return Err(AofError::Format {
                        at: start,
                        reason: "expected a bulk length",
                    });
                };
                let len = Self::number(len, start, "invalid bulk length")?;
                if len > MAX_BULK {
                    return Err(AofError::Format {
                        at: start,
                        reason: "invalid bulk length",
                    });
                }
                let mut arg = Vec::new();
                let got = self
                    .input
                    .by_ref()
                    .take(len + 2)
                    .read_to_end(&mut arg)
                    .map_err(|_| AofError::Truncated { valid_up_to: start })?;
                pos += got as u64;
                if (got as u64) < len + 2 {
                    return Err(AofError::Truncated { valid_up_to: start });
                }
                if !arg.ends_with(b"\r\n") {
                    return Err(AofError::Format {
                        at: start,
                        reason: "a bulk string does not end with CRLF",
                    });
                }
                arg.truncate(len as usize);
                args.push(arg);
            }
            self.offset = pos;
            return Ok(Some(args));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(args: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    fn read_all(data: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, AofError> {
        let mut r = CommandReader::new(data, 0);
        let mut out = Vec::new();
        while let Some(c) = r.next_command()? {
            out.push(c);
        }
        Ok(out)
    }

    #[test]
    fn commands_and_annotations() {
        let mut file = b"#TS:1700000000\r\n".to_vec();
        file.extend(resp(&[b"SELECT", b"0"]));
        file.extend(resp(&[b"SET", b"k", b"a\r\nb"]));
        file.extend(resp(&[b"SET", b"empty", b""]));
        let cmds = read_all(&file).unwrap();
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[1][2], b"a\r\nb");
        assert_eq!(cmds[2][2], b"");
    }

    #[test]
    fn truncation_reports_the_last_whole_command() {
        let one = resp(&[b"SET", b"k", b"v"]);
        let mut file = one.clone();
        file.extend(resp(&[b"RPUSH", b"l", b"x"]));
        for cut in one.len() + 1..file.len() {
            assert_eq!(
                read_all(&file[..cut]),
                Err(AofError::Truncated {
                    valid_up_to: one.len() as u64
                }),
                "cut at {cut}"
            );
        }
        assert_eq!(read_all(&file[..one.len()]).unwrap().len(), 1);
    }

    #[test]
    fn malformed_commands_and_forged_lengths() {
        assert!(matches!(
            read_all(b"SET k v\r\n"),
            Err(AofError::Format { at: 0, .. })
        ));
        assert!(matches!(read_all(b"*0\r\n"), Err(AofError::Format { .. })));
        assert!(matches!(
            read_all(b"*1\r\n+OK\r\n"),
            Err(AofError::Format { .. })
        ));
        assert!(matches!(
            read_all(b"*1\r\n$3\r\nabcXY"),
            Err(AofError::Format { .. })
        ));
        // A bulk claiming far more than the file holds: truncated, no
        // allocation of the claimed size.
        assert_eq!(
            read_all(b"*1\r\n$536870912\r\nabc"),
            Err(AofError::Truncated { valid_up_to: 0 })
        );
        assert!(matches!(
            read_all(b"*1\r\n$99999999999\r\n"),
            Err(AofError::Format { .. })
        ));
        assert!(matches!(
            read_all(b"*99999999999\r\n"),
            Err(AofError::Format { .. })
        ));
    }
}
