//! Active expiry: a background sweep that deletes keys whose time to live
//! ran out even when nobody reads them, in small steps under a time budget
//! so that no command waits long (Redis's `activeExpireCycle`).
//!
//! Each shard keeps the hashes of its keys with a TTL in an
//! [`viator_types::table::ExpireSet`]: the sweep walks that set
//! with a cursor, a few dozen hashes per lock hold, and goes on with a shard
//! while more than a tenth of what it looked at had expired, as Redis does.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use viator_types::entry::Object;
use viator_types::hash::FieldExpireIndex;
use viator_types::table::{ExpireSet, hash_key};

use crate::clock;
use crate::store::{Shard, Store};

/// What one cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CycleReport {
    /// Expire-set entries looked at.
    pub sampled: usize,
    /// Keys deleted.
    pub expired: usize,
    /// Whether the time budget ran out before the sweep was done.
    pub timed_out: bool,
}

/// Looks at up to `n` expire-set slots of `shard` from its cursor and
/// deletes the keys whose time is up, telling `deleted` each key's name.
/// Returns (ids looked at, keys deleted).
fn sweep(
    shard: &mut Shard,
    n: usize,
    now_ms: i64,
    deleted: &mut dyn FnMut(&[u8]),
) -> (usize, usize) {
    let cap = shard.expires.capacity();
    if cap == 0 {
        return (0, 0);
    }
    let mut looked = 0;
    let mut expired = 0;
    let mut slots_seen = 0;
    while looked < n && slots_seen < cap {
        let pos = shard.expire_cursor % cap;
        shard.expire_cursor = (pos + 1) % cap;
        slots_seen += 1;
        let id = shard.expires.slot(pos);
        if id == 0 {
            continue;
        }
        looked += 1;
        let mut dead: Vec<usize> = Vec::new();
        let mut has_ttl = false;
        shard.table.for_each_with_id(id, |slot, e| {
            if let Some(t) = e.expire_ms() {
                has_ttl = true;
                if t < now_ms {
                    dead.push(slot);
                }
            }
        });
        if !has_ttl {
            // A stale id (its key lost its TTL some other way): drop it.
            shard.expires.remove(id);
            continue;
        }
        // Delete from the highest slot down so that backward shifting does
        // not move a later victim into an earlier, already-deleted position.
        dead.sort_unstable_by(|a, b| b.cmp(a));
        for slot in dead {
            if let Some(e) = shard.table.at(slot) {
                let h = hash_key(e.key());
                if ExpireSet::matches(id, h) {
                    deleted(e.key());
                    shard.table.remove_at(slot);
                    shard.expires.remove(h);
                    expired += 1;
                }
            }
        }
        let cap_now = shard.expires.capacity();
        if cap_now != cap {
            // The set shrank; restart the walk on the new layout next time.
            shard.expire_cursor = 0;
            break;
        }
    }
    (looked, expired)
}

/// What hears of each hash field the active cycle deletes: (key, field).
type FieldSink<'a> = dyn FnMut(&[u8], &[u8]) + 'a;

/// Deletes expired hash fields of `shard` (Redis's `hashTypeDbActiveExpire`):
/// takes the hashes whose earliest field expire time has passed from the
/// shard's field-expiry index, deletes their expired fields (at most
/// `quota` in all), deletes a hash left with no field, and files the others
/// under their next expire time. Returns the number of fields deleted.
/// With `on_field`, each field deleted is handed to it (key, field) for
/// propagation, as Redis propagates an HDEL per field.
fn sweep_hash_fields(
    shard: &mut Shard,
    quota: usize,
    now_ms: i64,
    mut on_field: Option<&mut FieldSink<'_>>,
) -> usize {
    let mut done = 0;
    while done < quota {
        let Some((at, h)) = shard.field_expires.pop_due(now_ms) else {
            break;
        };
        let mut slots: Vec<usize> = Vec::new();
        shard.table.for_each_with_id(h.max(1), |slot, e| {
            if hash_key(e.key()) == h
                && let Some(Object::Hash(hv)) = e.as_object()
                && FieldExpireIndex::is_filed_under(hv, at)
            {
                slots.push(slot);
            }
        });
        // Highest slot first, so that deleting one does not move another.
        slots.sort_unstable_by(|a, b| b.cmp(a));
        for slot in slots {
            let Shard {
                table,
                field_expires,
                expires,
                ..
            } = &mut *shard;
            let Some(e) = table.at_mut(slot) else {
                continue;
            };
            let max = quota.saturating_sub(done).max(1);
            let key = if on_field.is_some() {
                e.key().to_vec()
            } else {
                Vec::new()
            };
            let Some(Object::Hash(hv)) = e.as_object_mut() else {
                continue;
            };
            FieldExpireIndex::unfiled(hv);
            if let Some(cb) = on_field.as_mut() {
                // The fields remove_expired would take (earliest first),
                // named so that each can be propagated.
                let mut due: Vec<(i64, Vec<u8>)> = hv
                    .iter()
                    .filter_map(|(f, _, t)| t.filter(|&t| t < now_ms).map(|t| (t, f.to_vec())))
                    .collect();
                due.sort_unstable();
                due.truncate(max);
                for (_, f) in &due {
                    hv.remove(f);
                    cb(&key, f);
                }
                done += due.len();
            } else {
                done += hv.remove_expired(now_ms, max);
            }
            if hv.is_empty() {
                let had_ttl = e.expire_ms().is_some();
                table.remove_at(slot);
                if had_ttl {
                    expires.remove(h);
                }
            } else {
                field_expires.sync(h, hv);
            }
        }
    }
    done
}

/// Runs one active expiry cycle over every database within `budget`.
pub fn active_expire_cycle(store: &Store, budget: Duration) -> CycleReport {
    let mut report = CycleReport::default();
    if !store.settings.active_expire_enabled.load(Ordering::Relaxed)
        || store.settings.loading.load(Ordering::Relaxed)
    {
        return report;
    }
    let start = Instant::now();
    let effort = store
        .settings
        .active_expire_effort
        .load(Ordering::Relaxed)
        .clamp(1, 10) as usize;
    let per_loop = 20 + 20 / 4 * (effort - 1);
    'dbs: for db in 0..store.db_count() {
        // The cron runs on a thread that also serves clients: a shard held
        // by another thread (a background save copying it, a KEYS) is
        // skipped until the next cycle rather than waited for. And no copy
        // for a background save here: expiry only removes what has
        // expired, which the save leaves out or a load drops anyway.
        for lock in store.db(db).shards() {
            {
                let Some(guard) = lock.try_lock() else {
                    continue;
                };
                let mut shard = guard.borrow_mut();
                if !shard.field_expires.is_empty() {
                    let mut propagate =
                        |key: &[u8], field: &[u8]| store.propagate_field_expired(db, key, field);
                    let on_field: Option<&mut FieldSink<'_>> = if store.propagation.is_active() {
                        Some(&mut propagate)
                    } else {
                        None
                    };
                    let n = sweep_hash_fields(&mut shard, per_loop * 50, clock::now_ms(), on_field);
                    store
                        .stats
                        .expired_subkeys
                        .fetch_add(n as u64, Ordering::Relaxed);
                }
            }
            loop {
                let (looked, expired) = {
                    let Some(guard) = lock.try_lock() else {
                        break;
                    };
                    let mut shard = guard.borrow_mut();
                    if shard.expires.is_empty() {
                        break;
                    }
                    // Propagated under the shard's lock, as commands are.
                    sweep(&mut shard, per_loop, clock::now_ms(), &mut |key| {
                        store.propagate_expired(db, key)
                    })
                };
                report.sampled += looked;
                report.expired += expired;
                if start.elapsed() >= budget {
                    report.timed_out = true;
                    break 'dbs;
                }
                if looked == 0 || expired * 10 <= looked {
                    break;
                }
            }
        }
    }
    let stats = &store.stats;
    stats
        .expired_keys
        .fetch_add(report.expired as u64, Ordering::Relaxed);
    if report.timed_out {
        stats
            .expired_time_cap_reached_count
            .fetch_add(1, Ordering::Relaxed);
    }
    stats
        .expire_cycle_cpu_us
        .fetch_add(start.elapsed().as_micros() as u64, Ordering::Relaxed);
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreOptions;
    use viator_types::entry::{Entry, NewValue};

    #[test]
    fn cycle_deletes_expired_keys_and_keeps_the_rest() {
        let store = Store::new(StoreOptions::default());
        let now = clock::now_ms();
        {
            let mut ks = crate::Keyspace::lock_db(&store, 0, now);
            for i in 0..10_000 {
                let key = format!("k{i}");
                let expire = match i % 3 {
                    0 => Some(now - 1),
                    1 => Some(now + 3_600_000),
                    _ => None,
                };
                ks.set(
                    Entry::new(key.as_bytes(), NewValue::Str(b"v"), expire),
                    false,
                );
            }
        }
        let mut total = 0;
        for _ in 0..1000 {
            total += active_expire_cycle(&store, Duration::from_millis(50)).expired;
            if total == 3334 {
                break;
            }
        }
        assert_eq!(total, 3334);
        assert_eq!(store.db_size(0), 6666);
        assert_eq!(store.db_expires(0), 3333);
    }
}
