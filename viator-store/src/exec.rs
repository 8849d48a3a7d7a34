//! Running one command: resolution errors worded as Redis's, the call, and
//! its counters.

use std::sync::atomic::Ordering;

use viator_protocol::ReplyBuf;

use crate::command::{Client, Command, Ctx, Host, LookupError, NoHost};
use crate::errors;
use crate::store::Store;

/// Writes the error Redis gives when a request names no runnable command.
/// Argument bytes are echoed raw, cut as C's `%.*s` cuts them (at a length
/// or at a NUL byte).
pub fn reply_lookup_error<A: AsRef<[u8]>>(
    err: &LookupError,
    cmd: Option<&Command>,
    args: &[A],
    out: &mut ReplyBuf,
) {
    match err {
        LookupError::Unknown => {
            let name = args.first().map(|a| a.as_ref()).unwrap_or(b"");
            let mut rest: Vec<u8> = Vec::new();
            for a in args.iter().skip(1) {
                if rest.len() >= 128 {
                    break;
                }
                rest.push(b'\'');
                rest.extend_from_slice(c_str(a.as_ref(), 128 - rest.len()));
                rest.extend_from_slice(b"' ");
            }
            let mut msg = b"ERR unknown command '".to_vec();
            msg.extend_from_slice(c_str(name, 128));
            msg.extend_from_slice(b"', with args beginning with: ");
            msg.extend_from_slice(&rest);
            out.error_bytes(&msg);
        }
        LookupError::UnknownSub => {
            let container = args
                .first()
                .map(|a| a.as_ref().to_ascii_uppercase())
                .unwrap_or_default();
            let sub = args.get(1).map(|a| a.as_ref()).unwrap_or(b"");
            let mut msg = b"ERR unknown subcommand '".to_vec();
            msg.extend_from_slice(c_str(sub, 128));
            msg.extend_from_slice(b"'. Try ");
            msg.extend_from_slice(c_str(&container, usize::MAX));
            msg.extend_from_slice(b" HELP.");
            out.error_bytes(&msg);
        }
        LookupError::Arity => {
            let name = cmd.map(|c| &*c.full_name).unwrap_or("");
            out.error(&errors::wrong_arity(name));
        }
    }
}

/// What C's `%.*s` prints of `b`: at most `max` bytes, stopping at a NUL.
fn c_str(b: &[u8], max: usize) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len()).min(max);
    &b[..end]
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
    pub fn execute<A: AsRef<[u8]>>(&self, client: &mut Client, args: &[A], out: &mut ReplyBuf) {
        self.execute_with(&NoHost, client, args, out);
        out.take_errors();
    }

    /// Like [`Store::execute`] with a host, for commands bound by higher
    /// crates. Error codes written stay in `out` for the host's error
    /// statistics. Returns the command if one ran.
    pub fn execute_with<'a, A: AsRef<[u8]>>(
        &'a self,
        host: &dyn Host,
        client: &mut Client,
        args: &[A],
        out: &mut ReplyBuf,
    ) -> Option<&'a Command> {
        match self.commands().resolve(args) {
            Ok(cmd) => {
                let argv: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
                if !self.queue_in_multi(cmd, client, &argv, out) {
                    self.call(cmd, host, client, &argv, out);
                }
                Some(cmd)
            }
            Err((err, cmd)) => {
                client.flag_transaction();
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
        args: &[&[u8]],
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
        args: &[&[u8]],
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
        let outermost = crate::blocking::enter_call();
        if self.propagation.is_active() && !crate::propagate::is_suppressed() {
            self.call_propagating(cmd, handler, &mut ctx);
        } else {
            handler(&mut ctx);
        }
        crate::blocking::leave_call();
        if outermost && self.blocking.has_ready() {
            self.serve_ready(host);
        }
        let ended = quanta::Instant::now();
        if ctx.client.blocked {
            // Counted once, when it is served or times out (Redis's
            // "blocking command accounted only once").
            return ended;
        }
        let usec = ended.saturating_duration_since(started).as_micros() as u64;
        cmd.stats.calls.fetch_add(1, Ordering::Relaxed);
        cmd.stats.usec.fetch_add(usec, Ordering::Relaxed);
        if self.settings.latency_tracking.load(Ordering::Relaxed) {
            // Whole microseconds in nanoseconds, as Redis records them.
            cmd.stats.latency.record(usec.saturating_mul(1000));
        }
        if !errors_before && ctx.out.has_errors() {
            cmd.stats.failed_calls.fetch_add(1, Ordering::Relaxed);
        }
        ended
    }

    /// Runs a handler while a sink listens: a unit's first call locks what
    /// the unit needs (see [`crate::propagate`]) and feeds the unit before
    /// letting go.
    fn call_propagating(&self, cmd: &Command, handler: crate::command::Handler, ctx: &mut Ctx<'_>) {
        let starts_unit = crate::propagate::enter();
        let _unwind = crate::propagate::UnwindGuard;
        let locks = if starts_unit {
            self.lock_unit(cmd, ctx.args, ctx.client.db, ctx.now_ms)
        } else {
            Vec::new()
        };
        handler(ctx);
        if let Some(unit) = crate::propagate::leave(cmd, ctx.args, ctx.client.db) {
            self.feed_unit(&unit);
        }
        drop(locks);
    }
}
