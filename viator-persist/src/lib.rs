//! Viator's persistence formats.
//!
//! This crate will hold snapshots in Redis's RDB format (default file name
//! `dump.vdb`), the multi-part append-only file with its manifest, DUMP and
//! RESTORE payloads, and the CRC64 and LZF codecs they use. Nothing is here
//! yet: the persistence issue brings it.
