//! The server's command families: those that need the connection or the
//! server around the store (connection handling, CLIENT, CONFIG, INFO,
//! SHUTDOWN...). Each family exports a `COMMANDS` list that [`bind`] adds
//! to the store's command table, so COMMAND INFO/DOCS list them like any
//! other.

use viator_store::CommandTable;

pub mod admin;
pub mod client;
pub mod config;
pub mod connection;
pub mod info;
pub mod persistence;

/// Adds the server's commands to the table.
pub fn bind(table: &mut CommandTable) {
    for list in [
        connection::COMMANDS,
        client::COMMANDS,
        config::COMMANDS,
        info::COMMANDS,
        admin::COMMANDS,
        persistence::COMMANDS,
    ] {
        for spec in list {
            table.add(*spec);
        }
    }
}
