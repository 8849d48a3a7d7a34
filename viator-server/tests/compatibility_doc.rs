//! Keeps `docs/COMPATIBILITY.md` honest: the command table of a real
//! in-process server and the document's tables must agree both ways.
//!
//! - Every command in the table, and every subcommand of a container
//!   (`CLIENT LIST`), is listed as `implemented` or `partial`.
//! - Every row listed as `implemented` or `partial` names a command or
//!   subcommand that is in the table with an implementation bound.
//!
//! A container's own row (`CLIENT`) may be left out; its subcommands may
//! not. Rows marked `planned` or `out of scope` must not be in the table:
//! once a command lands, its row changes with it.
//!
//! The parser is strict on purpose: a table line it cannot read fails the
//! test instead of being skipped. The format, as the document's
//! introduction states it:
//!
//! - every table has the header `| Command | Status | Notes |` and then the
//!   separator `| --- | --- | --- |`;
//! - every row has exactly three cells (write `\|` for a `|` inside one);
//! - the command cell is the upper-case name in backticks, with one space
//!   between a container and its subcommand: `` `CLIENT LIST` ``;
//! - the status is one of `implemented`, `partial`, `planned`,
//!   `out of scope`; `partial`, `planned` and `out of scope` rows say why in
//!   their notes;
//! - a command is listed once.

use std::collections::BTreeMap;
use std::path::Path;

/// A row's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Implemented,
    Partial,
    Planned,
    OutOfScope,
}

impl Status {
    fn parse(s: &str) -> Option<Status> {
        match s {
            "implemented" => Some(Status::Implemented),
            "partial" => Some(Status::Partial),
            "planned" => Some(Status::Planned),
            "out of scope" => Some(Status::OutOfScope),
            _ => None,
        }
    }

    /// The status as the document writes it.
    fn as_str(self) -> &'static str {
        match self {
            Status::Implemented => "implemented",
            Status::Partial => "partial",
            Status::Planned => "planned",
            Status::OutOfScope => "out of scope",
        }
    }

    /// Whether the command must be in the command table.
    fn in_table(self) -> bool {
        matches!(self, Status::Implemented | Status::Partial)
    }
}

/// One parsed row.
#[derive(Debug)]
struct Row {
    /// Line number in the document, from 1.
    line: usize,
    status: Status,
}

const HEADER: &str = "| Command | Status | Notes |";
const SEPARATOR: &str = "| --- | --- | --- |";

/// Splits a table line into its cells: the text between unescaped `|`,
/// trimmed, with `\|` turned back into `|`. `None` unless the line starts
/// and ends with `|`.
fn cells(line: &str) -> Option<Vec<String>> {
    let inner = line.strip_prefix('|')?;
    if !inner.ends_with('|') || inner.ends_with("\\|") {
        return None;
    }
    let inner = &inner[..inner.len() - 1];
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    Some(out)
}

/// The command of a command cell: `` `CLIENT LIST` `` gives `client|list`,
/// the table's full name. Upper-case letters, digits, `.`, `_` and `-`;
/// at most one space (container and subcommand).
fn command_name(cell: &str) -> Result<String, String> {
    let name = cell
        .strip_prefix('`')
        .and_then(|c| c.strip_suffix('`'))
        .ok_or_else(|| format!("command cell {cell:?} is not in backticks"))?;
    let words: Vec<&str> = name.split(' ').collect();
    if words.len() > 2 {
        return Err(format!("command {name:?} has more than two words"));
    }
    for w in &words {
        let ok_char = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || "._-".contains(c);
        if w.is_empty()
            || !w.chars().all(ok_char)
            || !w.starts_with(|c: char| c.is_ascii_uppercase())
        {
            return Err(format!(
                "command {name:?}: each word must be upper case (A-Z, 0-9, '.', '_', '-'), separated by one space"
            ));
        }
    }
    Ok(words.join("|").to_ascii_lowercase())
}

/// Parses the document: every command row by full name. Any table line
/// that is not a header, separator or well-formed row is an error.
fn parse(doc: &str) -> Result<BTreeMap<String, Row>, Vec<String>> {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut errors = Vec::new();
    // Where we are: outside a table, after a header, or inside the rows.
    #[derive(PartialEq)]
    enum State {
        Outside,
        Header,
        Rows,
    }
    let mut state = State::Outside;
    for (i, raw) in doc.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim_end();
        if !line.starts_with('|') {
            if state == State::Header {
                errors.push(format!(
                    "line {line_no}: a table header must be followed by {SEPARATOR:?}"
                ));
            }
            state = State::Outside;
            continue;
        }
        match state {
            State::Outside => {
                if line == HEADER {
                    state = State::Header;
                } else {
                    errors.push(format!(
                        "line {line_no}: a table must start with the header {HEADER:?}, found {line:?}"
                    ));
                }
                continue;
            }
            State::Header => {
                if line == SEPARATOR {
                    state = State::Rows;
                } else {
                    errors.push(format!(
                        "line {line_no}: expected the separator {SEPARATOR:?}, found {line:?}"
                    ));
                }
                continue;
            }
            State::Rows => {}
        }
        let Some(c) = cells(line) else {
            errors.push(format!(
                "line {line_no}: a row must start and end with '|': {line:?}"
            ));
            continue;
        };
        if c.len() != 3 {
            errors.push(format!(
                "line {line_no}: a row has 3 cells (Command | Status | Notes), found {}: {line:?} (write \\| for a '|' inside a cell)",
                c.len()
            ));
            continue;
        }
        let name = match command_name(&c[0]) {
            Ok(n) => n,
            Err(e) => {
                errors.push(format!("line {line_no}: {e}"));
                continue;
            }
        };
        let Some(status) = Status::parse(&c[1]) else {
            errors.push(format!(
                "line {line_no}: status {:?} is not one of implemented, partial, planned, out of scope",
                c[1]
            ));
            continue;
        };
        if status != Status::Implemented && c[2].is_empty() {
            errors.push(format!(
                "line {line_no}: a {:?} row says why in its notes (what is missing, or which issue brings it)",
                c[1]
            ));
        }
        if let Some(prev) = rows.get(&name) {
            errors.push(format!(
                "line {line_no}: {} is already listed on line {}",
                c[0], prev.line
            ));
            continue;
        }
        rows.insert(
            name,
            Row {
                line: line_no,
                status,
            },
        );
    }
    if state == State::Header {
        errors.push("the document ends right after a table header".to_string());
    }
    if rows.is_empty() {
        errors.push("no command rows found".to_string());
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// The display form of a full name: `client|list` gives `CLIENT LIST`.
fn display(full: &str) -> String {
    full.replace('|', " ").to_ascii_uppercase()
}

/// One entry of the command table.
struct TableEntry {
    /// Whether an implementation is bound to it.
    bound: bool,
    /// Whether it is a container with subcommands (CLIENT, CONFIG...).
    container: bool,
}

/// The command table of a real in-process server, by full name
/// (`get`, `client|list`): every top-level command and every subcommand.
fn command_table() -> BTreeMap<String, TableEntry> {
    let cfg = viator_server::config::load_isolated("port 0\nbind 127.0.0.1\nloglevel warning\n")
        .expect("config loads");
    let server = viator_server::Server::start(cfg, None).expect("server starts");
    let mut out = BTreeMap::new();
    for cmd in server.shared().store.commands().iter() {
        out.insert(
            cmd.full_name.to_string(),
            TableEntry {
                bound: cmd.handler.is_some(),
                container: !cmd.subs.is_empty(),
            },
        );
        for sub in cmd.subs.values() {
            out.insert(
                sub.full_name.to_string(),
                TableEntry {
                    bound: sub.handler.is_some(),
                    container: false,
                },
            );
        }
    }
    server.shutdown();
    out
}

#[test]
fn parser_is_strict() {
    let ok = format!(
        "# T\n\n{HEADER}\n{SEPARATOR}\n| `GET` | implemented |  |\n| `CLIENT LIST` | partial | no `a\\|b` |\n"
    );
    let rows = parse(&ok).expect("well-formed document parses");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows["client|list"].status, Status::Partial);

    let bad = [
        // Missing separator.
        format!("{HEADER}\n| `GET` | implemented |  |\n"),
        // Row without a header.
        "| `GET` | implemented |  |\n".to_string(),
        // Unknown status.
        format!("{HEADER}\n{SEPARATOR}\n| `GET` | done |  |\n"),
        // Lower-case name.
        format!("{HEADER}\n{SEPARATOR}\n| `get` | implemented |  |\n"),
        // No backticks.
        format!("{HEADER}\n{SEPARATOR}\n| GET | implemented |  |\n"),
        // Four cells (an unescaped '|' in the notes).
        format!("{HEADER}\n{SEPARATOR}\n| `GET` | partial | NX|XX |\n"),
        // Partial without notes.
        format!("{HEADER}\n{SEPARATOR}\n| `GET` | partial |  |\n"),
        // Duplicate.
        format!("{HEADER}\n{SEPARATOR}\n| `GET` | implemented |  |\n| `GET` | implemented |  |\n"),
        // Three words.
        format!("{HEADER}\n{SEPARATOR}\n| `A B C` | planned | x |\n"),
    ];
    for doc in &bad {
        assert!(parse(doc).is_err(), "should be rejected:\n{doc}");
    }
}

#[test]
fn compatibility_doc_matches_command_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate is inside the workspace")
        .join("docs/COMPATIBILITY.md");
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let rows = match parse(&doc) {
        Ok(r) => r,
        Err(errors) => panic!(
            "docs/COMPATIBILITY.md has rows this test cannot read:\n  {}",
            errors.join("\n  ")
        ),
    };
    let table = command_table();

    let mut problems = Vec::new();
    for (name, entry) in &table {
        if !entry.bound && !entry.container {
            problems.push(format!(
                "{} is in the command table without an implementation bound",
                display(name)
            ));
        }
        match rows.get(name) {
            Some(row) if row.status.in_table() => {}
            Some(row) => problems.push(format!(
                "{} is in the command table but line {} of docs/COMPATIBILITY.md lists it as {}: mark it implemented or partial",
                display(name),
                row.line,
                row.status.as_str()
            )),
            // A container's own row may be left out.
            None if entry.container => {}
            None => problems.push(format!(
                "{} is in the command table but not in docs/COMPATIBILITY.md: add a row to its family's table",
                display(name)
            )),
        }
    }
    for (name, row) in &rows {
        if row.status.in_table() && !table.contains_key(name) {
            problems.push(format!(
                "line {} of docs/COMPATIBILITY.md lists {} as {}, but the command table has no such command: mark it planned",
                row.line,
                display(name),
                row.status.as_str()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/COMPATIBILITY.md and the command table disagree ({} problems):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}
