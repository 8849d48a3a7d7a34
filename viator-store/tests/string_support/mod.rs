//! A tiny harness for the string command tests: runs commands on a
//! [`Store`] with no network and returns the exact reply bytes.

#![allow(dead_code)]

use bytes::Bytes;
use viator_protocol::ReplyBuf;
use viator_store::{Client, Keyspace, Store, StoreOptions};

/// A store, one client and its output buffer.
pub struct T {
    pub store: Store,
    pub client: Client,
    out: ReplyBuf,
}

impl T {
    /// A RESP2 client on a fresh store.
    pub fn new() -> T {
        T {
            store: Store::new(StoreOptions::default()),
            client: Client::default(),
            out: ReplyBuf::new(),
        }
    }

    /// A RESP3 client on a fresh store.
    pub fn resp3() -> T {
        let mut t = T::new();
        t.client.resp = 3;
        t.out.set_resp3(true);
        t
    }

    /// Runs one command given as raw arguments and returns its reply.
    pub fn run(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        let start = self.out.len();
        self.store.execute(&mut self.client, &args, &mut self.out);
        let reply = self.out.as_bytes()[start..].to_vec();
        self.out.truncate(0);
        reply
    }

    /// Runs a command written as words separated by single spaces; `''`
    /// stands for an empty argument.
    pub fn cmd(&mut self, line: &str) -> Vec<u8> {
        let words: Vec<&[u8]> = line
            .split(' ')
            .map(|w| if w == "''" { &b""[..] } else { w.as_bytes() })
            .collect();
        self.run(&words)
    }

    /// Asserts the exact reply of a command.
    #[track_caller]
    pub fn is(&mut self, line: &str, want: &str) {
        let got = self.cmd(line);
        assert_eq!(String::from_utf8_lossy(&got), want, "reply to `{line}`");
    }

    /// Asserts the exact reply of a command given as raw arguments.
    #[track_caller]
    pub fn is_raw(&mut self, args: &[&[u8]], want: &[u8]) {
        let got = self.run(args);
        assert_eq!(
            got.escape_ascii().to_string(),
            want.escape_ascii().to_string(),
            "reply to {:?}",
            args.iter()
                .map(|a| a.escape_ascii().to_string())
                .collect::<Vec<_>>()
        );
    }

    /// The key's OBJECT ENCODING, `None` if it does not exist.
    pub fn encoding(&self, key: &str) -> Option<&'static str> {
        let ks = Keyspace::lock_keys(&self.store, 0, &[key.as_bytes()], now());
        ks.peek(key.as_bytes())
            .map(|e| e.str_encoding().expect("a string").name())
    }

    /// The key's expire time: `None` if the key does not exist, `Some(None)`
    /// if it has no TTL.
    pub fn expire(&self, key: &str) -> Option<Option<i64>> {
        let ks = Keyspace::lock_keys(&self.store, 0, &[key.as_bytes()], now());
        ks.peek(key.as_bytes()).map(|e| e.expire_ms())
    }

    /// The key's time to live in milliseconds, `None` without one.
    pub fn pttl(&self, key: &str) -> Option<i64> {
        self.expire(key).flatten().map(|t| t - now())
    }

    /// Whether the key exists (and has not expired).
    pub fn exists(&self, key: &str) -> bool {
        self.expire(key).is_some()
    }

    /// Number of keys in database 0, expired ones not yet deleted included.
    pub fn dbsize(&self) -> usize {
        self.store.db_size(0)
    }

    /// Changes since the last save.
    pub fn dirty(&self) -> u64 {
        self.store.dirty.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// (keyspace hits, keyspace misses).
    pub fn hits_misses(&self) -> (u64, u64) {
        (self.store.keyspace_hits(), self.store.keyspace_misses())
    }
}

/// The current unix time in milliseconds.
pub fn now() -> i64 {
    viator_store::clock::now_ms()
}

/// A RESP bulk string.
pub fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}
