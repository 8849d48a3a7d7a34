//! Error replies shared by many commands, worded exactly as Redis's
//! `shared.*` objects and common `addReplyError` calls.

/// Wrong type of value at a key.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
/// Generic syntax error.
pub const SYNTAX: &str = "ERR syntax error";
/// An argument that should be an integer is not.
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
/// An argument that should be a float is not.
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
/// The key does not exist (RENAME and friends).
pub const NO_SUCH_KEY: &str = "ERR no such key";
/// SELECT or MOVE to a database that does not exist.
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
/// INCR and friends would overflow.
pub const INCR_OVERFLOW: &str = "ERR increment or decrement would overflow";
/// A string would grow past proto-max-bulk-len.
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
/// An offset argument is out of range.
pub const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";

/// A count that must not be negative (LPOP/SPOP/ZPOPMIN count...).
pub const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
/// A number out of its allowed range, without more detail.
pub const OUT_OF_RANGE: &str = "ERR value is out of range";
/// LMPOP, ZMPOP, SINTERCARD, ZINTERCARD... with `numkeys` below 1.
pub const NUMKEYS_POSITIVE: &str = "ERR numkeys should be greater than 0";
/// LMPOP/ZMPOP with COUNT below 1.
pub const COUNT_POSITIVE: &str = "ERR count should be greater than 0";
/// SINTERCARD/ZINTERCARD with a negative LIMIT.
pub const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
/// SCAN and friends with a cursor that does not parse.
pub const INVALID_CURSOR: &str = "ERR invalid cursor";

/// `ERR wrong number of arguments for '<name>' command`.
pub fn wrong_arity(full_name: &str) -> String {
    format!("ERR wrong number of arguments for '{full_name}' command")
}

/// `ERR invalid expire time in '<name>' command`.
pub fn invalid_expire(name: &str) -> String {
    format!("ERR invalid expire time in '{name}' command")
}

/// A stream ID argument that does not parse.
pub const INVALID_STREAM_ID: &str = "ERR Invalid stream ID specified as stream command argument";
