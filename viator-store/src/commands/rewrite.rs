//! Helpers for what handlers propagate instead of themselves (see
//! [`crate::propagate`]): Redis rewrites a command whose replay would not
//! be deterministic (a relative time, a random pick, a generated ID) into
//! one that is, and these build the pieces.

use std::sync::atomic::Ordering;

use crate::command::Client;
use crate::store::Store;

/// The id of the client that replays an AOF (Redis's `CLIENT_ID_AOF`).
/// Commands obey it as Redis's `mustObeyClient` does: it may send forms
/// that only propagation produces (XADD/XTRIM `=` with LIMIT).
pub const AOF_CLIENT_ID: u64 = u64::MAX;

/// Whether `client` replays what a primary or the AOF propagated, so that
/// forms only propagation produces are accepted (Redis's `mustObeyClient`).
pub fn must_obey(client: &Client) -> bool {
    client.id == AOF_CLIENT_ID
}

/// The decimal text of `n`, for a rewritten argument.
pub(crate) fn int_text(n: i64) -> Vec<u8> {
    n.to_string().into_bytes()
}

/// The decimal text of `n`, for a rewritten argument.
pub(crate) fn uint_text(n: u64) -> Vec<u8> {
    n.to_string().into_bytes()
}

/// How a key deleted because the time a command gave is already past
/// propagates: `UNLINK` with `lazyfree-lazy-expire`, else `DEL` (Redis's
/// `expireGenericCommand` and `getexCommand`).
pub(crate) fn expired_del(store: &Store) -> &'static [u8] {
    if store.settings.lazyfree_lazy_expire.load(Ordering::Relaxed) {
        b"UNLINK"
    } else {
        b"DEL"
    }
}

/// How a key a command empties as a side effect propagates: `UNLINK` with
/// `lazyfree-lazy-server-del`, else `DEL` (Redis's SPOP with a count that
/// takes the whole set).
pub(crate) fn server_del(store: &Store) -> &'static [u8] {
    if store
        .settings
        .lazyfree_lazy_server_del
        .load(Ordering::Relaxed)
    {
        b"UNLINK"
    } else {
        b"DEL"
    }
}
