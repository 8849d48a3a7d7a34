//! The checks a request goes through before its command runs (Redis's
//! `processCommand`): resolution, authentication, protected commands,
//! CLIENT PAUSE; then the call and its statistics.

use std::sync::atomic::Ordering;

use bytes::Bytes;
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
    /// again.
    Paused,
}

/// Runs one request and writes its reply.
pub fn dispatch(
    shared: &Shared,
    client: &mut Client,
    entry: &ClientEntry,
    args: &[Bytes],
    out: &mut ReplyBuf,
) -> After {
    let store = &shared.store;
    let reply_start = out.len();
    let cmd = match store.commands().resolve(args) {
        Ok(cmd) => cmd,
        Err((err, cmd)) => {
            // Redis counts a rejected call against a command it found (a
            // wrong number of arguments), not against the container of an
            // unknown subcommand; CLIENT LIST shows that command, or NULL.
            let found = cmd.filter(|_| err == viator_store::command::LookupError::Arity);
            if let Some(c) = found {
                c.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
            }
            set_last_cmd(entry, found.map_or("NULL", |c| &c.full_name), found);
            viator_store::commands::reply_lookup_error(&err, cmd, args, out);
            shared.stats.count_errors(out.take_errors());
            return finish(client, out, reply_start);
        }
    };
    // Set at lookup, before any check and before the call, as Redis does:
    // CLIENT LIST shows itself, a refused command and a paused one.
    set_last_cmd(entry, &cmd.full_name, Some(cmd));
    if let Some(err) = refuse(shared, client, entry, cmd) {
        cmd.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
        out.error(&err);
        shared.stats.count_errors(out.take_errors());
        return finish(client, out, reply_start);
    }
    // Last of the checks, as in Redis: a paused command waits without
    // running (one atomic load when no pause is set).
    if shared.pause.blocks(cmd.spec.flags) {
        return After::Paused;
    }
    store.call(cmd, shared, client, args, out);
    shared.stats.count_errors(out.take_errors());
    finish(client, out, reply_start)
}

/// Records the last command of a client for CLIENT LIST (`cmd=`): one
/// uncontended lock per request, and a new name stored only when it
/// changes.
fn set_last_cmd(entry: &ClientEntry, name: &str, cmd: Option<&Command>) {
    let mut info = entry.info.lock();
    if *info.last_cmd != *name {
        info.last_cmd = match cmd {
            Some(c) => c.full_name.clone(),
            None => std::sync::Arc::from(name),
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
    if client.user.is_none() && f & flags::NO_AUTH == 0 {
        return Some("NOAUTH Authentication required.".to_string());
    }
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
    None
}
