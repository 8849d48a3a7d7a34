//! Blocking commands on a store with no server: a client given a
//! `BlockSlot` blocks, and another client's push leaves its reply there
//! and calls its waker; a client without one replies at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use viator_protocol::ReplyBuf;
use viator_store::blocking::BlockSlot;
use viator_store::{Client, Store, StoreOptions};

fn run(store: &Store, client: &mut Client, args: &[&str]) -> Vec<u8> {
    let mut out = ReplyBuf::new();
    store.execute(client, args, &mut out);
    out.as_bytes().to_vec()
}

#[test]
fn a_push_serves_a_blocked_client_through_its_slot() {
    let store = Store::new(StoreOptions::default());
    let woken = Arc::new(AtomicUsize::new(0));
    let w = woken.clone();
    let slot = Arc::new(BlockSlot::new(move || {
        w.fetch_add(1, Ordering::SeqCst);
    }));
    let mut waiter = Client {
        id: 1,
        block_slot: Some(slot.clone()),
        ..Client::default()
    };
    let mut pusher = Client {
        id: 2,
        ..Client::default()
    };
    assert_eq!(run(&store, &mut waiter, &["BLPOP", "q", "0"]), b"");
    assert!(waiter.blocked);
    assert_eq!(store.blocking.blocked_clients(), 1);
    assert_eq!(
        run(&store, &mut pusher, &["RPUSH", "q", "a", "b"]),
        b":2\r\n"
    );
    assert_eq!(woken.load(Ordering::SeqCst), 1);
    assert_eq!(
        slot.take().map(|d| d.reply).as_deref(),
        Some(&b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"[..])
    );
    assert_eq!(store.blocking.blocked_clients(), 0);
    assert_eq!(run(&store, &mut pusher, &["LLEN", "q"]), b":1\r\n");
}

#[test]
fn a_client_without_a_slot_replies_at_once() {
    let store = Store::new(StoreOptions::default());
    let mut c = Client::default();
    assert_eq!(run(&store, &mut c, &["BLPOP", "q", "0"]), b"*-1\r\n");
    assert_eq!(
        run(&store, &mut c, &["BRPOPLPUSH", "q", "d", "0"]),
        b"$-1\r\n"
    );
    assert!(!c.blocked);
}
