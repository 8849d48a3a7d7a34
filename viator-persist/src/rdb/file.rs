//! Reading a whole RDB stream (a snapshot file, an AOF preamble) record by
//! record, as Redis's `rdbLoadRio` walks it: opcodes that describe the
//! next key (expire time, LRU idle time, LFU frequency) are folded into the
//! key's [`Record::Key`]; the checksum at the end is verified.

use std::io::{self, Read, Write};

use super::value::{Value, read_value};
use super::{Error, RDB_VERSION, Reader, Writer, opcode};

/// One item of an RDB stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// An auxiliary field (`redis-ver`, `ctime`, `used-mem`, `aof-base`...).
    Aux {
        /// The field's name.
        name: Vec<u8>,
        /// Its value.
        value: Vec<u8>,
    },
    /// The database the following keys belong to.
    SelectDb(u64),
    /// How many keys, and keys with an expire time, the database holds.
    ResizeDb {
        /// Keys.
        keys: u64,
        /// Keys with an expire time.
        expires: u64,
    },
    /// How many keys of the database are in a cluster slot.
    SlotInfo {
        /// The slot.
        slot: u64,
        /// Keys in it.
        keys: u64,
        /// Keys in it with an expire time.
        expires: u64,
    },
    /// A function library's source code (FUNCTION LOAD).
    Function(Vec<u8>),
    /// A key and its value.
    Key {
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Value,
        /// Expire time, unix milliseconds.
        expire_ms: Option<i64>,
        /// Seconds since the last access, when saved under an LRU policy.
        idle_s: Option<u64>,
        /// The LFU counter, when saved under an LFU policy.
        freq: Option<u8>,
    },
    /// The end: every record was read and the checksum matched (or was 0,
    /// which means the writer did not compute one).
    Eof,
}

/// Reads the records of an RDB stream in order.
#[derive(Debug)]
pub struct FileReader<R: Read> {
    r: Reader<R>,
    version: u32,
    done: bool,
}

impl<R: Read> FileReader<R> {
    /// Reads the header; fails on a wrong signature or a version newer
    /// than Redis 8.4's.
    pub fn new(input: R) -> Result<FileReader<R>, Error> {
        let mut r = Reader::new(input);
        let version = r.header(u32::from(RDB_VERSION))?;
        Ok(FileReader {
            r,
            version,
            done: false,
        })
    }

    /// The file's RDB version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Bytes read so far: where an error was found.
    pub fn offset(&self) -> u64 {
        self.r.offset()
    }

    /// The next record. After [`Record::Eof`], or an error, there are no
    /// more.
    pub fn next_record(&mut self) -> Result<Record, Error> {
        if self.done {
            return Err(Error::UnexpectedEof);
        }
        let result = self.read_record();
        if !matches!(
            result,
            Ok(Record::Aux { .. }
                | Record::SelectDb(_)
                | Record::ResizeDb { .. }
                | Record::SlotInfo { .. }
                | Record::Function(_)
                | Record::Key { .. })
        ) {
            self.done = true;
        }
        result
    }

    fn read_record(&mut self) -> Result<Record, Error> {
        let r = &mut self.r;
        let (mut expire_ms, mut idle_s, mut freq) = (None, None, None);
        loop {
            let op = r.u8()?;
            match op {
                opcode::EXPIRETIME => expire_ms = Some(i64::from(r.u32_le()?) * 1000),
                // Versions before 9 wrote this one big-endian on big-endian
                // machines; every file seen in practice is little-endian.
                opcode::EXPIRETIME_MS => expire_ms = Some(r.u64_le()? as i64),
                opcode::FREQ => freq = Some(r.u8()?),
                opcode::IDLE => idle_s = Some(r.length()?),
                opcode::EOF => {
                    if self.version >= 5 {
                        let computed = r.crc();
                        let stored = r.u64_le()?;
                        if stored != 0 && stored != computed {
                            return Err(Error::BadChecksum { stored, computed });
                        }
                    }
                    return Ok(Record::Eof);
                }
                opcode::SELECTDB => return Ok(Record::SelectDb(r.length()?)),
                opcode::RESIZEDB => {
                    let keys = r.length()?;
                    let expires = r.length()?;
                    return Ok(Record::ResizeDb { keys, expires });
                }
                opcode::SLOT_INFO => {
                    let slot = r.length()?;
                    let keys = r.length()?;
                    let expires = r.length()?;
                    return Ok(Record::SlotInfo {
                        slot,
                        keys,
                        expires,
                    });
                }
                opcode::AUX => {
                    let name = r.bytes()?;
                    let value = r.bytes()?;
                    return Ok(Record::Aux { name, value });
                }
                opcode::MODULE_AUX => return Err(Error::Unsupported("module auxiliary data")),
                opcode::FUNCTION_PRE_GA => {
                    return Err(Error::Unsupported("pre-release function format"));
                }
                opcode::FUNCTION2 => return Ok(Record::Function(r.bytes()?)),
                value_type => {
                    let key = r.bytes()?;
                    let value = read_value(r, value_type)?;
                    return Ok(Record::Key {
                        key,
                        value,
                        expire_ms,
                        idle_s,
                        freq,
                    });
                }
            }
        }
    }
}

/// Writes an RDB stream: the header, then records, then [`FileWriter::finish`]
/// adds the end marker and the checksum.
#[derive(Debug)]
pub struct FileWriter<W: Write> {
    w: Writer<W>,
    checksum: bool,
    version: u16,
}

impl<W: Write> FileWriter<W> {
    /// Starts a stream of RDB `version`; `compress` is `rdbcompression`,
    /// `checksum` is `rdbchecksum` (off: the checksum written is 0).
    pub fn new(out: W, version: u16, compress: bool, checksum: bool) -> io::Result<FileWriter<W>> {
        let mut w = Writer::new(out, compress);
        w.header(version)?;
        Ok(FileWriter {
            w,
            checksum,
            version,
        })
    }

    /// A writer of records alone, with no header (and not to be finished):
    /// key records encoded ahead of time, which [`FileWriter::records`]
    /// later copies into a whole stream.
    pub fn fragment(out: W, version: u16, compress: bool) -> FileWriter<W> {
        FileWriter {
            w: Writer::new(out, compress),
            checksum: false,
            version,
        }
    }

    /// The underlying writer of a [`FileWriter::fragment`].
    pub fn into_inner(self) -> W {
        self.w.into_inner()
    }

    /// Copies records encoded by a [`FileWriter::fragment`] of the same
    /// version into the stream.
    pub fn records(&mut self, encoded: &[u8]) -> io::Result<()> {
        self.w.bytes(encoded)
    }

    /// An auxiliary field.
    pub fn aux(&mut self, name: &[u8], value: &[u8]) -> io::Result<()> {
        self.w.u8(opcode::AUX)?;
        self.w.string(name)?;
        self.w.string(value)
    }

    /// Selects database `db` and announces its size.
    pub fn select_db(&mut self, db: u64, keys: u64, expires: u64) -> io::Result<()> {
        self.w.u8(opcode::SELECTDB)?;
        self.w.length(db)?;
        self.w.u8(opcode::RESIZEDB)?;
        self.w.length(keys)?;
        self.w.length(expires)
    }

    /// A key with its expire time and value.
    pub fn key(&mut self, entry: &viator_types::entry::Entry) -> io::Result<()> {
        crate::objects::write_key(&mut self.w, entry, self.version)
    }

    /// A key preceded by its access information, as Redis saves it under
    /// an LRU policy (`idle_s`, seconds since last access) or an LFU one
    /// (`freq`, the counter).
    pub fn key_with_access(
        &mut self,
        entry: &viator_types::entry::Entry,
        idle_s: Option<u64>,
        freq: Option<u8>,
    ) -> io::Result<()> {
        if let Some(at) = entry.expire_ms() {
            self.w.u8(opcode::EXPIRETIME_MS)?;
            self.w.u64_le(at as u64)?;
        }
        if let Some(idle) = idle_s {
            self.w.u8(opcode::IDLE)?;
            self.w.length(idle)?;
        }
        if let Some(f) = freq {
            self.w.u8(opcode::FREQ)?;
            self.w.u8(f)?;
        }
        crate::objects::write_key_value(&mut self.w, entry, self.version)
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.w.written()
    }

    /// Ends the stream; returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.u8(opcode::EOF)?;
        let crc = if self.checksum { self.w.crc() } else { 0 };
        self.w.u64_le(crc)?;
        Ok(self.w.into_inner())
    }
}
