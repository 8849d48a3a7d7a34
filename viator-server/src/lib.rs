//! viator-server: a Redis 8.4-compatible server built on the Viator crates.
//!
//! The binary's `main` parses the command line and configuration
//! ([`config`]), sets up logging ([`log`]) and starts a [`Server`]. Tests and
//! embedding programs start a server in-process with [`Server::start`] on
//! port 0 and stop it through the returned handle.

#![warn(missing_docs)]

pub mod alloc;
pub mod aof;
pub mod config;
pub mod log;

mod clients;
pub mod cmds;
mod conn;
mod dispatch;
pub mod persistence;
mod server;

pub use clients::{ClientEntry, ClientInfo, Registry};
pub use server::{Hot, Pause, Server, ServerStats, Shared, StartError, ThreadStats};

pub use config::{REDIS_VERSION, VIATOR_VERSION};
