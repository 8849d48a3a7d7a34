//! Runs Redis commands against an in-process store, with no network.
//!
//! `cargo run -p viator-examples --example embed_store`

use bytes::Bytes;
use viator_protocol::ReplyBuf;
use viator_store::{Client, Store, StoreOptions};

fn run(store: &Store, client: &mut Client, words: &[&str]) -> String {
    let args: Vec<Bytes> = words
        .iter()
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect();
    let mut out = ReplyBuf::new();
    store.execute(client, &args, &mut out);
    String::from_utf8_lossy(out.as_bytes()).into_owned()
}

fn main() {
    let store = Store::new(StoreOptions::default());
    let mut client = Client::default();
    for cmd in [
        &["SET", "counter", "10"][..],
        &["INCR", "counter"],
        &["GET", "counter"],
        &["EXPIRE", "counter", "60"],
        &["TTL", "counter"],
        &["NOSUCH", "command"],
    ] {
        print!("{:<24} -> {}", cmd.join(" "), run(&store, &mut client, cmd));
    }
}
