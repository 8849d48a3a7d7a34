//! The checks a request goes through before its command runs (Redis's
//! `processCommand`): resolution, authentication, protected commands,
//! CLIENT PAUSE; then the call and its statistics.

use std::sync::atomic::Ordering;

use viator_protocol::ReplyBuf;
use viator_store::command::flags;
use viator_store::{Client, Command};

use crate::clients::ClientEntry;
use crate::server::Shared;

/// What the connection does after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Go on reading.
    Continue,
    /// Write the replies, then close (QUIT, CLIENT KILL of oneself).
    Close,
    /// The command did not run: a CLIENT PAUSE holds it. The connection
    /// keeps the request, waits for the pause to end and dispatches it
    /// again. Carries the command's flags, which decide when the pause
    /// stops holding it.
    Paused(u64),
    /// The command blocked the client on keys (BLPOP...): its reply comes
    /// later through the client's block slot.
    Blocked,
}

/// What a connection keeps between the requests of one batch.
pub struct Batch<'s> {
    /// Unix microseconds when the batch started: the wall clock is read
    /// once per batch.
    start_us: i64,
    /// The instant the batch started: each command's time is `start_us`
    /// plus the TSC time since then.
    start: quanta::Instant,
    /// The instant the last command ended, where the next one's duration
    /// starts: a command costs one TSC read.
    tsc: quanta::Instant,
    /// The last top-level command resolved: a client mostly repeats one
    /// command, and this skips the table lookup for the repeats.
    pub cached: Option<&'s Command>,
    /// The last command looked up, for CLIENT LIST's `cmd=`: `None` for an
    /// unknown one. Stored in the registry once per batch.
    pub last: Option<Option<&'s Command>>,
}

impl<'s> Batch<'s> {
    /// A batch starting now (`now_us` is the wall clock just read), with
    /// the command cache of the previous one.
    pub fn new(now_us: i64, cached: Option<&'s Command>) -> Batch<'s> {
        let start = quanta::Instant::now();
        Batch {
            start_us: now_us,
            start,
            tsc: start,
            cached,
            last: None,
        }
    }
}

/// The cached command if the request names it (any case) with a valid
/// number of arguments.
fn cached<'s>(batch: &Batch<'s>, args: &[&[u8]]) -> Option<&'s Command> {
    let cmd = batch.cached?;
    let name = args.first()?;
    (name.eq_ignore_ascii_case(cmd.spec.name.as_bytes()) && cmd.spec.arity_ok(args.len()))
        .then_some(cmd)
}

/// Runs one request and writes its reply.
pub fn dispatch<'s>(
    shared: &'s Shared,
    client: &mut Client,
    entry: &ClientEntry,
    args: &[&[u8]],
    out: &mut ReplyBuf,
    batch: &mut Batch<'s>,
) -> After {
    let store = &shared.store;
    let reply_start = out.len();
    let resolved = match cached(batch, args) {
        Some(cmd) => Ok(cmd),
        None => {
            if is_http_header(args) {
                security_warning();
                // No reply: the connection just closes, as in Redis.
                return After::Close;
            }
            store.commands().resolve(args)
        }
    };
    let cmd = match resolved {
        Ok(cmd) => cmd,
        Err((err, cmd)) => {
            // Redis counts a rejected call against a command it found (a
            // wrong number of arguments), not against the container of an
            // unknown subcommand; CLIENT LIST shows that command, or NULL.
            let found = cmd.filter(|_| err == viator_store::command::LookupError::Arity);
            if let Some(c) = found {
                c.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
            }
            batch.last = Some(found);
            client.flag_transaction();
            if let Some(c) = found
                && c.spec.name == "exec"
            {
                let mut msg = ReplyBuf::new();
                viator_store::commands::reply_lookup_error(&err, cmd, args, &mut msg);
                exec_abort(shared, client, out, msg.as_bytes());
                return finish(client, out, reply_start);
            }
            viator_store::commands::reply_lookup_error(&err, cmd, args, out);
            shared.stats.count_errors(out.take_errors());
            return finish(client, out, reply_start);
        }
    };
    // Only top-level commands are cached: a subcommand's own name (`get`
    // of `config|get`) is not what the request starts with.
    if cmd.full_name.len() == cmd.spec.name.len() {
        batch.cached = Some(cmd);
    }
    // Recorded at lookup, before any check and before the call, as Redis
    // does. Other clients see it once the batch ends (as in Redis, which
    // serves one client's whole batch before anyone else); a subcommand
    // (CLIENT LIST or INFO of itself) needs it now, and so does EXEC, whose
    // queued commands may ask for the client's own line.
    batch.last = Some(Some(cmd));
    if cmd.full_name.len() != cmd.spec.name.len()
        || (client.multi.is_some() && cmd.spec.name == "exec")
    {
        set_last_cmd(entry, Some(cmd));
    }
    if let Some(err) = refuse(shared, client, entry, cmd) {
        client.flag_transaction();
        cmd.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
        if cmd.spec.name == "exec" {
            exec_abort(shared, client, out, format!("-{err}\r\n").as_bytes());
            return finish(client, out, reply_start);
        }
        out.error(&err);
        shared.stats.count_errors(out.take_errors());
        return finish(client, out, reply_start);
    }
    // Last of the checks, as in Redis: a paused command waits without
    // running (one atomic load when no pause is set).
    // EXEC carries the flags of the commands it will run.
    let mut pause_flags = cmd.spec.flags;
    if let Some(m) = &client.multi
        && cmd.spec.name == "exec"
    {
        pause_flags |= m.flags;
    }
    if shared.pause.blocks(pause_flags) {
        return After::Paused(pause_flags);
    }
    if client.multi.is_some() && store.queue_in_multi(cmd, client, args, out) {
        shared.stats.count_errors(out.take_errors());
        return finish(client, out, reply_start);
    }
    let elapsed = batch.tsc.saturating_duration_since(batch.start);
    let at = viator_store::CallTime {
        now_us: batch.start_us + elapsed.as_micros() as i64,
        started: batch.tsc,
    };
    batch.tsc = store.call_at(cmd, shared, client, args, out, at);
    if out.has_errors() {
        shared.stats.count_errors(out.take_errors());
    }
    if client.blocked {
        return After::Blocked;
    }
    finish(client, out, reply_start)
}

/// Replies to a refused EXEC as Redis's `execCommandAbort`: the
/// transaction is discarded, and the refusal (`error`, a RESP error line)
/// becomes `EXECABORT Transaction discarded because of: <message>`.
fn exec_abort(shared: &Shared, client: &mut Client, out: &mut ReplyBuf, error: &[u8]) {
    client.multi = None;
    shared.store.watches.unwatch_all(client);
    let line = error.strip_prefix(b"-").unwrap_or(error);
    let line = line.strip_suffix(b"\r\n").unwrap_or(line);
    let message = line.strip_prefix(b"ERR ").unwrap_or(line);
    let mut text = b"EXECABORT Transaction discarded because of: ".to_vec();
    text.extend_from_slice(message);
    out.error_bytes(&text);
    shared.stats.count_errors(out.take_errors());
}

/// Whether a request starts like an HTTP request (`POST`) or header
/// (`Host:`): cross-protocol scripting sends those to reach Redis through a
/// browser, and Redis drops such connections.
fn is_http_header(args: &[&[u8]]) -> bool {
    args.first()
        .is_some_and(|n| n.eq_ignore_ascii_case(b"post") || n.eq_ignore_ascii_case(b"host:"))
}

/// Logs Redis's warning about a cross-protocol scripting attempt, at most
/// once a minute so that an attack cannot flood the log.
fn security_warning() {
    use std::sync::atomic::AtomicI64;
    static LAST_MS: AtomicI64 = AtomicI64::new(i64::MIN);
    let now = viator_store::clock::now_ms();
    let last = LAST_MS.load(Ordering::Relaxed);
    if now.saturating_sub(last) > 60_000
        && LAST_MS
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        crate::log::warning(
            "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted.",
        );
    }
}

/// Records the last command of a client for CLIENT LIST (`cmd=`; `NULL`
/// for an unknown command). A new name is stored only when it changes.
pub fn set_last_cmd(entry: &ClientEntry, cmd: Option<&Command>) {
    record_last_cmd(&mut entry.info.lock(), cmd);
}

/// [`set_last_cmd`] for a caller already holding the client's details.
pub fn record_last_cmd(info: &mut crate::clients::ClientInfo, cmd: Option<&Command>) {
    let same = match cmd {
        Some(c) => std::sync::Arc::ptr_eq(&info.last_cmd, &c.full_name),
        None => &*info.last_cmd == "NULL",
    };
    if !same {
        info.last_cmd = match cmd {
            Some(c) => c.full_name.clone(),
            None => std::sync::Arc::from("NULL"),
        };
    }
}

/// Applies CLIENT REPLY OFF/SKIP and close-after-reply, as Redis's
/// `resetClient` does after each command.
fn finish(client: &mut Client, out: &mut ReplyBuf, reply_start: usize) -> After {
    use viator_store::command::ReplyMode;
    match client.reply_mode {
        ReplyMode::On => {}
        ReplyMode::Off => out.truncate(reply_start),
        ReplyMode::Skip => {
            out.truncate(reply_start);
            client.reply_mode = ReplyMode::On;
        }
        // Set by CLIENT REPLY SKIP, which itself replies nothing: the next
        // command is the one skipped.
        ReplyMode::SkipNext => client.reply_mode = ReplyMode::Skip,
    }
    if client.close_after_reply {
        After::Close
    } else {
        After::Continue
    }
}

/// The error that refuses `cmd` for this client, if any.
fn refuse(shared: &Shared, client: &Client, entry: &ClientEntry, cmd: &Command) -> Option<String> {
    let f = cmd.spec.flags;
    // Protected commands first, then authentication: Redis's
    // processCommand order, so an unauthenticated DEBUG on a server that
    // refuses DEBUG gets the refusal, not NOAUTH.
    if f & flags::PROTECTED != 0 {
        let cfg = shared.config.read();
        let local = entry.addr.ip().is_loopback();
        let allowed = match cmd.full_name.split('|').next() {
            Some("debug") => cfg.enable_debug_command().allows(local),
            Some("module") => cfg.enable_module_command().allows(local),
            _ => true,
        };
        if !allowed {
            let name = cmd
                .full_name
                .split('|')
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            return Some(format!(
                "ERR {name} command not allowed. If the enable-{} option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
                if name == "DEBUG" {
                    "debug-command"
                } else {
                    "module-command"
                }
            ));
        }
    }
    if client.user.is_none() && f & flags::NO_AUTH == 0 {
        return Some("NOAUTH Authentication required.".to_string());
    }
    // After a failed background save (while `stop-writes-on-bgsave-error`
    // says so) or a failed write to the AOF, writes are refused (PING too,
    // and an EXEC whose queue writes), as Redis's processCommand and
    // writeCommandsDeniedByDiskError, the snapshot's error first. Two
    // atomic loads on every command otherwise.
    let disk_error = if crate::persistence::writes_refused(shared) {
        Some(crate::persistence::MISCONF.to_string())
    } else if shared.aof.write_failed() {
        shared.aof.misconf()
    } else {
        None
    };
    if let Some(error) = disk_error
        && (f & flags::WRITE != 0
            || cmd.full_name.as_ref() == "ping"
            || (cmd.spec.name == "exec"
                && client
                    .multi
                    .as_ref()
                    .is_some_and(|m| m.flags & flags::WRITE != 0)))
    {
        return Some(error);
    }
    None
}
