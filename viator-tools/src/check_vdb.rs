//! `viator-check-vdb`: redis-check-rdb for Viator's snapshots (and Redis's:
//! the format is the same). Reads the whole file, checks every record and
//! the checksum, and prints what redis-check-rdb prints: `[offset N]` lines
//! as it goes, and on the first error the `--- RDB ERROR DETECTED ---`
//! block with what it was doing, the key and its type.

use std::io::{Read, Write};

use viator_persist::rdb::value::{Value, read_value};
use viator_persist::rdb::{Error, RDB_VERSION, Reader, opcode};

/// What the checker was doing when an error struck (redis-check-rdb's
/// `rdb_check_doing_string`).
#[derive(Debug, Clone, Copy)]
enum Doing {
    Start,
    ReadType,
    ReadExpire,
    ReadKey,
    ReadObjectValue,
    CheckSum,
    ReadLen,
    ReadAux,
    ReadFunctions,
}

impl Doing {
    fn name(self) -> &'static str {
        match self {
            Doing::Start => "start",
            Doing::ReadType => "read-type",
            Doing::ReadExpire => "read-expire",
            Doing::ReadKey => "read-key",
            Doing::ReadObjectValue => "read-object-value",
            Doing::CheckSum => "check-sum",
            Doing::ReadLen => "read-len",
            Doing::ReadAux => "read-aux",
            Doing::ReadFunctions => "read-functions",
        }
    }
}

/// Redis's names of the value types (`rdb_type_string`).
const TYPE_NAMES: [&str; 26] = [
    "string",
    "list-linked",
    "set-hashtable",
    "zset-v1",
    "hash-hashtable",
    "zset-v2",
    "module-pre-release",
    "module-value",
    "",
    "hash-zipmap",
    "list-ziplist",
    "set-intset",
    "zset-ziplist",
    "hash-ziplist",
    "quicklist",
    "stream",
    "hash-listpack",
    "zset-listpack",
    "quicklist-v2",
    "stream-v2",
    "set-listpack",
    "stream-v3",
    "hash-hashtable-md-pre-release",
    "hash-listpack-md-pre-release",
    "hash-hashtable-md",
    "hash-listpack-md",
];

/// Whether `t` is a value type some Redis version writes.
fn is_object_type(t: u8) -> bool {
    t <= 7 || (9..=25).contains(&t)
}

struct Check<'o, R: Read, W: Write> {
    r: Reader<R>,
    out: &'o mut W,
    doing: Doing,
    key: Option<Vec<u8>>,
    /// The type being read; 0 before the first key, as redis-check-rdb's
    /// zeroed state reports it.
    key_type: Option<u8>,
    keys: u64,
    expires: u64,
    already_expired: u64,
    subexpires: u64,
}

impl<R: Read, W: Write> Check<'_, R, W> {
    fn info(&mut self, msg: &str) -> std::io::Result<()> {
        writeln!(self.out, "[offset {}] {msg}", self.r.offset())
    }

    fn generic_info(&mut self) -> std::io::Result<()> {
        writeln!(self.out, "[info] {} keys read", self.keys)?;
        writeln!(self.out, "[info] {} expires", self.expires)?;
        writeln!(self.out, "[info] {} already expired", self.already_expired)?;
        writeln!(self.out, "[info] {} subexpires", self.subexpires)
    }

    fn error(&mut self, msg: &str) -> std::io::Result<()> {
        writeln!(self.out, "--- RDB ERROR DETECTED ---")?;
        writeln!(self.out, "[offset {}] {msg}", self.r.offset())?;
        writeln!(
            self.out,
            "[additional info] While doing: {}",
            self.doing.name()
        )?;
        if let Some(k) = &self.key {
            writeln!(
                self.out,
                "[additional info] Reading key '{}'",
                String::from_utf8_lossy(k)
            )?;
        }
        if let Some(t) = self.key_type {
            let name = TYPE_NAMES.get(usize::from(t)).copied().unwrap_or("unknown");
            writeln!(self.out, "[additional info] Reading type {t} ({name})")?;
        }
        self.generic_info()
    }

    /// The message of a read error: the end of the file, or what is wrong.
    fn message(e: &Error) -> String {
        match e {
            Error::UnexpectedEof => "Unexpected EOF reading RDB file".to_string(),
            other => {
                format!("Internal error in RDB reading offset 0, function at rdb.c:0 -> {other}")
            }
        }
    }

    /// Checks the whole stream; `Ok(true)` when it is good.
    fn run(&mut self, now_ms: i64) -> std::io::Result<bool> {
        macro_rules! read {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        let msg = Self::message(&e);
                        self.error(&msg)?;
                        return Ok(false);
                    }
                }
            };
        }
        let mut header = [0u8; 9];
        if self.r.exact(&mut header).is_err() {
            self.error("Unexpected EOF reading RDB file")?;
            return Ok(false);
        }
        if &header[..5] != b"REDIS" {
            self.error("Wrong signature trying to load DB from file")?;
            return Ok(false);
        }
        // atoi: leading digits only.
        let version = header[5..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        if version < 1 || version > u32::from(RDB_VERSION) {
            self.error(&format!("Can't handle RDB format version {version}"))?;
            return Ok(false);
        }
        let mut expire: Option<i64> = None;
        loop {
            self.doing = Doing::ReadType;
            let t = read!(self.r.u8());
            match t {
                opcode::EXPIRETIME => {
                    self.doing = Doing::ReadExpire;
                    expire = Some(i64::from(read!(self.r.u32_le())) * 1000);
                }
                opcode::EXPIRETIME_MS => {
                    self.doing = Doing::ReadExpire;
                    expire = Some(read!(self.r.u64_le()) as i64);
                }
                opcode::FREQ => {
                    read!(self.r.u8());
                }
                opcode::IDLE => {
                    read!(self.r.length());
                }
                opcode::EOF => break,
                opcode::SELECTDB => {
                    self.doing = Doing::ReadLen;
                    let db = read!(self.r.length());
                    self.info(&format!("Selecting DB ID {db}"))?;
                }
                opcode::RESIZEDB => {
                    self.doing = Doing::ReadLen;
                    read!(self.r.length());
                    read!(self.r.length());
                }
                opcode::SLOT_INFO => {
                    read!(self.r.length());
                    read!(self.r.length());
                    read!(self.r.length());
                }
                opcode::AUX => {
                    self.doing = Doing::ReadAux;
                    let name = read!(self.r.bytes());
                    let value = read!(self.r.bytes());
                    self.info(&format!(
                        "AUX FIELD {} = '{}'",
                        String::from_utf8_lossy(&name),
                        String::from_utf8_lossy(&value)
                    ))?;
                }
                opcode::MODULE_AUX => {
                    self.error("Module auxiliary data is not supported by this checker")?;
                    return Ok(false);
                }
                opcode::FUNCTION_PRE_GA => {
                    self.error(&format!(
                        "Pre-release function format not supported {version}"
                    ))?;
                    return Ok(false);
                }
                opcode::FUNCTION2 => {
                    self.doing = Doing::ReadFunctions;
                    read!(self.r.bytes());
                }
                t if !is_object_type(t) => {
                    self.error(&format!("Invalid object type: {t}"))?;
                    return Ok(false);
                }
                t => {
                    self.key_type = Some(t);
                    self.doing = Doing::ReadKey;
                    let key = read!(self.r.bytes());
                    self.key = Some(key);
                    self.keys += 1;
                    self.doing = Doing::ReadObjectValue;
                    let value = read!(read_value(&mut self.r, t));
                    if let Value::Hash(fields) = &value
                        && fields.iter().any(|f| f.expire_ms.is_some())
                    {
                        self.subexpires += 1;
                    }
                    if let Some(at) = expire.take() {
                        self.expires += 1;
                        if at < now_ms {
                            self.already_expired += 1;
                        }
                    }
                    self.key = None;
                    self.key_type = None;
                }
            }
        }
        if version >= 5 {
            self.doing = Doing::CheckSum;
            let expected = self.r.crc();
            let stored = read!(self.r.u64_le());
            if stored == 0 {
                self.info("RDB file was saved with checksum disabled: no check performed.")?;
            } else if stored != expected {
                self.error("RDB CRC error")?;
                return Ok(false);
            } else {
                self.info("Checksum OK")?;
            }
        }
        Ok(true)
    }
}

/// Checks the snapshot `input` named `name`, writing redis-check-rdb's
/// report to `out`. Returns the exit status: 0 when the file is good.
pub fn check<R: Read, W: Write>(
    name: &str,
    input: R,
    out: &mut W,
    now_ms: i64,
) -> std::io::Result<i32> {
    let mut c = Check {
        r: Reader::new(input),
        out,
        doing: Doing::Start,
        key: None,
        key_type: Some(0),
        keys: 0,
        expires: 0,
        already_expired: 0,
        subexpires: 0,
    };
    c.info(&format!("Checking RDB file {name}"))?;
    if !c.run(now_ms)? {
        return Ok(1);
    }
    c.info("\\o/ RDB looks OK! \\o/")?;
    c.generic_info()?;
    Ok(0)
}
