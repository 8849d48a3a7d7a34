//! Running one command: resolution errors worded as Redis's, the call, and
//! its counters.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use viator_protocol::ReplyBuf;

use crate::command::{Client, Command, Ctx, Host, LookupError, NoHost};
use crate::errors;
use crate::store::Store;

/// Writes the error Redis gives when a request names no runnable command.
pub fn reply_lookup_error(
    err: &LookupError,
    cmd: Option<&Command>,
    args: &[Bytes],
    out: &mut ReplyBuf,
) {
    match err {
        LookupError::Unknown => {
            let name = args.first().map(|a| &a[..]).unwrap_or(b"");
            let mut rest = String::new();
            for a in args.iter().skip(1) {
                if rest.len() >= 128 {
                    break;
                }
                let room = 128 - rest.len();
                let text = String::from_utf8_lossy(a);
                let cut: String = truncate_bytes(&text, room);
                rest.push('\'');
                rest.push_str(&cut);
                rest.push_str("' ");
            }
            let name = String::from_utf8_lossy(name);
            out.error(&format!(
                "ERR unknown command '{}', with args beginning with: {}",
                truncate_bytes(&name, 128),
                rest
            ));
        }
        LookupError::UnknownSub => {
            let container = args
                .first()
                .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase())
                .unwrap_or_default();
            let sub = args
                .get(1)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .unwrap_or_default();
            out.error(&format!(
                "ERR unknown subcommand '{}'. Try {} HELP.",
                truncate_bytes(&sub, 128),
                container
            ));
        }
        LookupError::Arity => {
            let name = cmd.map(|c| &*c.full_name).unwrap_or("");
            out.error(&errors::wrong_arity(name));
        }
    }
}

/// At most `max` bytes of `s`, cut on a character boundary.
fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// When a command runs, for [`Store::call_at`].
#[derive(Debug, Clone, Copy)]
pub struct CallTime {
    /// The command's time in unix microseconds: expiry compares against it.
    pub now_us: i64,
    /// The instant its duration is counted from.
    pub started: quanta::Instant,
}

impl Store {
    /// Runs one request with no host behind the store: resolves the
    /// command, checks arity, runs it, and writes its reply (or the error)
    /// into `out`.
    pub fn execute(&self, client: &mut Client, args: &[Bytes], out: &mut ReplyBuf) {
        self.execute_with(&NoHost, client, args, out);
        out.take_errors();
    }

    /// Like [`Store::execute`] with a host, for commands bound by higher
    /// crates. Error codes written stay in `out` for the host's error
    /// statistics. Returns the command if one ran.
    pub fn execute_with<'a>(
        &'a self,
        host: &dyn Host,
        client: &mut Client,
        args: &[Bytes],
        out: &mut ReplyBuf,
    ) -> Option<&'a Command> {
        match self.commands().resolve(args) {
            Ok(cmd) => {
                self.call(cmd, host, client, args, out);
                Some(cmd)
            }
            Err((err, cmd)) => {
                if let Some(c) = cmd {
                    c.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
                }
                reply_lookup_error(&err, cmd, args, out);
                None
            }
        }
    }

    /// Runs a resolved command and updates its counters. The caller has
    /// done every check (arity included).
    pub fn call(
        &self,
        cmd: &Command,
        host: &dyn Host,
        client: &mut Client,
        args: &[Bytes],
        out: &mut ReplyBuf,
    ) {
        let at = CallTime {
            now_us: crate::clock::now_us(),
            started: quanta::Instant::now(),
        };
        self.call_at(cmd, host, client, args, out, at);
    }

    /// [`Store::call`] for a caller that keeps the time itself (see
    /// [`CallTime`]). Returns the
    /// instant it finished, which a connection running a pipeline passes
    /// as the next command's start: one cheap TSC read per command, and the
    /// wall clock read once per batch.
    pub fn call_at(
        &self,
        cmd: &Command,
        host: &dyn Host,
        client: &mut Client,
        args: &[Bytes],
        out: &mut ReplyBuf,
        at: CallTime,
    ) -> quanta::Instant {
        let CallTime { now_us, started } = at;
        let Some(handler) = cmd.handler else {
            out.error(&format!(
                "ERR unknown command '{}', with args beginning with: ",
                cmd.full_name
            ));
            return started;
        };
        let errors_before = out.has_errors();
        let mut ctx = Ctx {
            store: self,
            client,
            args,
            out,
            host,
            now_ms: now_us / 1000,
        };
        handler(&mut ctx);
        let ended = quanta::Instant::now();
        let usec = ended.saturating_duration_since(started).as_micros() as u64;
        cmd.stats.calls.fetch_add(1, Ordering::Relaxed);
        cmd.stats.usec.fetch_add(usec, Ordering::Relaxed);
        if !errors_before && ctx.out.has_errors() {
            cmd.stats.failed_calls.fetch_add(1, Ordering::Relaxed);
        }
        ended
    }
}
