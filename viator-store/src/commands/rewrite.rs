//! Helpers for what handlers propagate instead of themselves (see
//! [`crate::propagate`]): Redis rewrites a command whose replay would not
//! be deterministic (a relative time, a random pick, a generated ID) into
//! one that is, and these build the pieces.

use std::sync::atomic::Ordering;

use crate::store::Store;

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
    if store.settings.lazyfree_lazy_server_del.load(Ordering::Relaxed) {
        b"UNLINK"
    } else {
        b"DEL"
    }
}
