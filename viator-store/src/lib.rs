//! Viator's engine: numbered databases split into locked shards, lazy and
//! active expiry, the command table, and the command families. It runs a
//! command with no network at all: give it arguments, a [`Client`] and a
//! [`viator_protocol::ReplyBuf`], and it writes the reply.
//!
//! ```
//! use bytes::Bytes;
//! use viator_protocol::ReplyBuf;
//! use viator_store::{Client, Store, StoreOptions};
//!
//! let store = Store::new(StoreOptions::default());
//! let mut client = Client::default();
//! let mut out = ReplyBuf::new();
//! let set: Vec<Bytes> = ["SET", "greeting", "hello"].map(Bytes::from).to_vec();
//! store.execute(&mut client, &set, &mut out);
//! let get: Vec<Bytes> = ["GET", "greeting"].map(Bytes::from).to_vec();
//! store.execute(&mut client, &get, &mut out);
//! assert_eq!(out.as_bytes(), b"+OK\r\n$5\r\nhello\r\n");
//! ```

#![warn(missing_docs)]

pub mod blocking;
pub mod clock;
pub mod command;
pub mod commands;
pub mod errors;
mod exec;
pub mod expire;
mod keyspace;
pub mod latency;
pub mod propagate;
pub mod snapshot;
mod store;
pub mod watch;

pub use command::{Client, Command, CommandSpec, CommandTable, Ctx, Host, NoHost};
pub use exec::CallTime;
pub use keyspace::{Keyspace, Lookup};
pub use store::{Db, EvictionPolicy, Settings, Shard, ShardCounters, Stats, Store, StoreOptions};
