//! The argument syntax of the command table, parsed into the argument trees
//! COMMAND DOCS shows (Redis's `redisCommandArg`).
//!
//! Every [`CommandSpec`](crate::command::CommandSpec) describes its
//! arguments in one short string, `args`, instead of a nested literal. The
//! syntax, item by item (items are separated by white space, newlines
//! included):
//!
//! | written | meaning |
//! | --- | --- |
//! | `name:type` | an argument; `type` is `key`, `string`, `integer`, `double`, `pattern`, `unix-time` or `pure-token` |
//! | `TOKEN` | a pure token named after the token in lower case: `NX` is name `nx`, token `NX` |
//! | `TOKEN=name` | a pure token with its own name: `*=auto-id` |
//! | `==name` | the pure token `=` with its name: `==equal` |
//! | `TOKEN=name:type` | an argument introduced by a token: `EX=seconds:integer` |
//! | `name/display:type` | an argument whose display text differs from its name: `addr/ip:port:string` |
//! | `name:( a \| b \| c )` | a `oneof` group: exactly one of the alternatives, each a single item |
//! | `name:{ a b c }` | a `block`: the items in sequence |
//! | `TOKEN=name:( ... )`, `TOKEN=name:{ ... }` | groups introduced by a token |
//! | `[ item ]` | the item is optional (one item; wrap several in a named block) |
//!
//! Suffixes written right after an item (after its type, its closing
//! bracket or its token, with no space), in any order:
//!
//! | suffix | meaning |
//! | --- | --- |
//! | `...` | `multiple`: the item repeats |
//! | `...+` | `multiple` and `multiple_token`: the item repeats with its token each time (`[GET=pattern:pattern...+]`) |
//! | `@6.2.0` | `since`: the version that added the item |
//! | `!7.0.0` | `deprecated_since` |
//! | `#N` | `key_spec_index` N, for a key that is not the next key spec, or for a non-key argument tied to a key spec (SORT's `BY` pattern) |
//! | `'text'` | `summary` (`\'` and `\\` escape a quote and a backslash) |
//!
//! Key arguments without `#N` get the key spec index one above the highest
//! assigned so far in reading order (0 for the first), so commands whose key
//! arguments follow their key specs need no `#N` at all.
//!
//! ```
//! use viator_store::commands::introspection::docs::{parse, ArgKind};
//!
//! let args = parse("key:key value:string [condition:(NX | XX)@2.6.12] [GET@6.2.0]").unwrap();
//! assert_eq!(args[0].kind, ArgKind::Key);
//! assert_eq!(args[0].key_spec_index, Some(0));
//! assert_eq!(args[2].kind, ArgKind::OneOf);
//! assert!(args[2].optional);
//! assert_eq!(args[2].args[1].token.as_deref(), Some("XX"));
//! assert_eq!(args[3].name, "get");
//! assert_eq!(args[3].since.as_deref(), Some("6.2.0"));
//! ```

use std::fmt;

/// The type of an argument (Redis's `redisCommandArgType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// `string`
    String,
    /// `integer`
    Integer,
    /// `double`
    Double,
    /// `key`: a key name.
    Key,
    /// `pattern`: a glob-style pattern.
    Pattern,
    /// `unix-time`: a Unix timestamp.
    UnixTime,
    /// `pure-token`: a keyword alone.
    PureToken,
    /// `oneof`: one of the nested arguments.
    OneOf,
    /// `block`: the nested arguments in sequence.
    Block,
}

impl ArgKind {
    /// The name COMMAND DOCS shows.
    pub fn as_str(self) -> &'static str {
        match self {
            ArgKind::String => "string",
            ArgKind::Integer => "integer",
            ArgKind::Double => "double",
            ArgKind::Key => "key",
            ArgKind::Pattern => "pattern",
            ArgKind::UnixTime => "unix-time",
            ArgKind::PureToken => "pure-token",
            ArgKind::OneOf => "oneof",
            ArgKind::Block => "block",
        }
    }

    /// Whether the argument holds nested arguments (and has no display
    /// text).
    pub fn is_group(self) -> bool {
        matches!(self, ArgKind::OneOf | ArgKind::Block)
    }

    fn from_type_name(s: &str) -> Option<ArgKind> {
        Some(match s {
            "string" => ArgKind::String,
            "integer" => ArgKind::Integer,
            "double" => ArgKind::Double,
            "key" => ArgKind::Key,
            "pattern" => ArgKind::Pattern,
            "unix-time" => ArgKind::UnixTime,
            "pure-token" => ArgKind::PureToken,
            _ => return None,
        })
    }
}

/// One argument of a command, as COMMAND DOCS shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The name (an identifier, unique among siblings).
    pub name: String,
    /// The type.
    pub kind: ArgKind,
    /// The display text when it differs from the name; COMMAND DOCS shows
    /// the name when there is none (and nothing for groups).
    pub display_text: Option<String>,
    /// The key spec this argument belongs to.
    pub key_spec_index: Option<u32>,
    /// The token that introduces the argument.
    pub token: Option<String>,
    /// A short description.
    pub summary: Option<String>,
    /// The version that added the argument.
    pub since: Option<String>,
    /// The version that deprecated the argument.
    pub deprecated_since: Option<String>,
    /// The argument may be left out.
    pub optional: bool,
    /// The argument may repeat.
    pub multiple: bool,
    /// The token repeats with each repetition.
    pub multiple_token: bool,
    /// Nested arguments of a `oneof` or `block`.
    pub args: Vec<Arg>,
}

impl Arg {
    fn new(name: String, kind: ArgKind) -> Arg {
        Arg {
            name,
            kind,
            display_text: None,
            key_spec_index: None,
            token: None,
            summary: None,
            since: None,
            deprecated_since: None,
            optional: false,
            multiple: false,
            multiple_token: false,
            args: Vec::new(),
        }
    }

    /// The display text COMMAND DOCS shows: the explicit one or the name;
    /// `None` for groups, which have none.
    pub fn shown_display_text(&self) -> Option<&str> {
        if self.kind.is_group() {
            None
        } else {
            Some(self.display_text.as_deref().unwrap_or(&self.name))
        }
    }

    /// The argument flags COMMAND DOCS shows, in Redis's order.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.optional {
            v.push("optional");
        }
        if self.multiple {
            v.push("multiple");
        }
        if self.multiple_token {
            v.push("multiple_token");
        }
        v
    }
}

/// A syntax error in an `args` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the string where the problem was found.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for ParseError {}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        offset,
        message: message.into(),
    })
}

/// Parses an `args` string into its argument trees. The empty string (or
/// white space) is no arguments.
pub fn parse(src: &str) -> Result<Vec<Arg>, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser { toks, pos: 0, src };
    let mut args = Vec::new();
    while p.pos < p.toks.len() {
        args.push(p.item()?);
    }
    let mut next = 0;
    assign_key_specs(&mut args, &mut next);
    Ok(args)
}

/// Gives key arguments without an explicit index the one above the highest
/// so far, in reading order.
fn assign_key_specs(args: &mut [Arg], next: &mut u32) {
    for a in args {
        match a.key_spec_index {
            Some(i) => *next = (*next).max(i.saturating_add(1)),
            None if a.kind == ArgKind::Key => {
                a.key_spec_index = Some(*next);
                *next = next.saturating_add(1);
            }
            None => {}
        }
        assign_key_specs(&mut a.args, next);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Open(u8),
    Close(u8),
    Bar,
    Word,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    lex: Lex,
    start: usize,
    end: usize,
    /// White space (or the start of the string) comes right before it.
    spaced: bool,
}

fn lex(src: &str) -> Result<Vec<Tok>, ParseError> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut spaced = true;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            spaced = true;
            i += 1;
            continue;
        }
        let lex = match c {
            b'[' | b'(' | b'{' => Some(Lex::Open(c)),
            b']' | b')' | b'}' => Some(Lex::Close(c)),
            b'|' => Some(Lex::Bar),
            _ => None,
        };
        if let Some(lex) = lex {
            toks.push(Tok {
                lex,
                start: i,
                end: i + 1,
                spaced,
            });
            spaced = false;
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() || b"[](){}|".contains(&c) {
                break;
            }
            if c == b'\'' {
                // A summary: runs to the closing quote, spaces included.
                i += 1;
                loop {
                    match b.get(i) {
                        None => return err(start, "unterminated summary quote"),
                        Some(b'\\') => i += 2,
                        Some(b'\'') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                continue;
            }
            i += 1;
        }
        toks.push(Tok {
            lex: Lex::Word,
            start,
            end: i.min(b.len()),
            spaced,
        });
        spaced = false;
    }
    Ok(toks)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    src: &'a str,
}

/// Where suffixes start in a word: the first `@`, `!`, `#`, `'` or `...`.
fn suffix_start(word: &str) -> usize {
    let b = word.as_bytes();
    for i in 0..b.len() {
        match b[i] {
            b'@' | b'!' | b'#' | b'\'' => return i,
            b'.' if b[i..].starts_with(b"...") => return i,
            _ => {}
        }
    }
    b.len()
}

impl<'a> Parser<'a> {
    fn text(&self, t: Tok) -> &'a str {
        &self.src[t.start..t.end]
    }

    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.pos).copied()
    }

    fn end_offset(&self) -> usize {
        self.src.len()
    }

    /// One item: a bracketed optional item or a word (with its group).
    fn item(&mut self) -> Result<Arg, ParseError> {
        let Some(t) = self.peek() else {
            return err(self.end_offset(), "expected an argument");
        };
        match t.lex {
            Lex::Open(b'[') => {
                self.pos += 1;
                let mut inner = Vec::new();
                loop {
                    match self.peek() {
                        None => return err(t.start, "unclosed '['"),
                        Some(Tok {
                            lex: Lex::Close(b']'),
                            ..
                        }) => {
                            self.pos += 1;
                            break;
                        }
                        Some(_) => inner.push(self.item()?),
                    }
                }
                let close = self.toks[self.pos - 1];
                let mut arg = match inner.len() {
                    0 => return err(t.start, "empty '[ ]'"),
                    1 => inner
                        .pop()
                        .unwrap_or_else(|| Arg::new(String::new(), ArgKind::String)),
                    _ => {
                        return err(
                            t.start,
                            "several items in '[ ]': wrap them in a named block, [name:{ ... }]",
                        );
                    }
                };
                if arg.optional {
                    return err(t.start, "an item made optional twice");
                }
                arg.optional = true;
                self.group_suffixes(close, &mut arg)?;
                Ok(arg)
            }
            Lex::Word => {
                self.pos += 1;
                self.word(t)
            }
            Lex::Open(c) => err(
                t.start,
                format!(
                    "'{}' must follow a name and ':' (name:{})",
                    c as char, c as char
                ),
            ),
            Lex::Close(c) => err(t.start, format!("unexpected '{}'", c as char)),
            Lex::Bar => err(t.start, "'|' outside of a oneof group"),
        }
    }

    /// Suffixes glued to a closing bracket.
    fn group_suffixes(&mut self, close: Tok, arg: &mut Arg) -> Result<(), ParseError> {
        let Some(next) = self.peek() else {
            return Ok(());
        };
        if next.spaced || next.lex != Lex::Word {
            return Ok(());
        }
        let text = self.text(next);
        if suffix_start(text) != 0 {
            return err(
                next.start,
                format!("expected a space after '{}'", self.text(close)),
            );
        }
        self.pos += 1;
        apply_suffixes(text, next.start, arg)
    }

    fn word(&mut self, t: Tok) -> Result<Arg, ParseError> {
        let word = self.text(t);
        let cut = suffix_start(word);
        let (core, suffixes) = word.split_at(cut);
        if core.is_empty() {
            return err(t.start, "a suffix with no item before it");
        }
        // `==name` is the token `=` itself (XADD's and XTRIM's `= | ~`).
        let (token, rest) = match core
            .strip_prefix("==")
            .map(|r| ("=", r))
            .or_else(|| core.split_once('='))
        {
            Some((tok, rest)) => {
                if tok.is_empty() {
                    return err(t.start, "empty token before '='");
                }
                (Some(tok), rest)
            }
            None => (None, core),
        };
        let mut arg = match rest.rsplit_once(':') {
            None => {
                // A pure token, alone (named after it) or with its own name.
                let mut a = match token {
                    None => Arg::new(core.to_ascii_lowercase(), ArgKind::PureToken),
                    Some(_) => {
                        let (name, display) = split_display(rest);
                        if name.is_empty() {
                            return err(t.start, "empty name after '='");
                        }
                        let mut a = Arg::new(name.to_string(), ArgKind::PureToken);
                        a.display_text = display.map(str::to_string);
                        a
                    }
                };
                a.token = Some(token.unwrap_or(core).to_string());
                a
            }
            Some((name_part, ty)) => {
                let (name, display) = split_display(name_part);
                if name.is_empty() {
                    return err(t.start, "empty argument name");
                }
                if ty.is_empty() {
                    // A group: the next token opens it.
                    if display.is_some() {
                        return err(t.start, "a group has no display text");
                    }
                    if !suffixes.is_empty() {
                        return err(
                            t.start + cut,
                            "suffixes of a group go after its closing bracket",
                        );
                    }
                    let mut a = self.group(t, name)?;
                    a.token = token.map(str::to_string);
                    return Ok(a);
                }
                let Some(kind) = ArgKind::from_type_name(ty) else {
                    return err(t.start, format!("unknown type '{ty}'"));
                };
                if kind == ArgKind::PureToken && token.is_none() {
                    return err(t.start, "a pure-token argument needs a token (TOKEN=name)");
                }
                let mut a = Arg::new(name.to_string(), kind);
                a.token = token.map(str::to_string);
                a.display_text = display.map(str::to_string);
                a
            }
        };
        apply_suffixes(suffixes, t.start + cut, &mut arg)?;
        Ok(arg)
    }

    /// The bracketed body of `name:( ... )` or `name:{ ... }`.
    fn group(&mut self, word: Tok, name: &str) -> Result<Arg, ParseError> {
        let Some(open) = self.peek() else {
            return err(word.end, "expected '(' or '{' after ':'");
        };
        let kind = match open.lex {
            Lex::Open(b'(') => ArgKind::OneOf,
            Lex::Open(b'{') => ArgKind::Block,
            _ => return err(open.start, "expected a type, '(' or '{' after ':'"),
        };
        self.pos += 1;
        let mut arg = Arg::new(name.to_string(), kind);
        let close_char = if kind == ArgKind::OneOf { b')' } else { b'}' };
        if kind == ArgKind::OneOf {
            loop {
                let alt_start = self.peek().map(|t| t.start).unwrap_or(self.end_offset());
                let mut alt = Vec::new();
                loop {
                    match self.peek() {
                        None => return err(open.start, "unclosed '('"),
                        Some(Tok { lex: Lex::Bar, .. })
                        | Some(Tok {
                            lex: Lex::Close(b')'),
                            ..
                        }) => break,
                        Some(_) => alt.push(self.item()?),
                    }
                }
                match alt.len() {
                    0 => return err(alt_start, "empty alternative in a oneof"),
                    1 => arg.args.append(&mut alt),
                    _ => {
                        return err(
                            alt_start,
                            "an alternative of several items: wrap them in a named block, name:{ ... }",
                        );
                    }
                }
                let Some(t) = self.peek() else {
                    return err(open.start, "unclosed '('");
                };
                self.pos += 1;
                if t.lex == Lex::Close(b')') {
                    break;
                }
            }
        } else {
            loop {
                match self.peek() {
                    None => return err(open.start, "unclosed '{'"),
                    Some(Tok {
                        lex: Lex::Close(c), ..
                    }) if c == close_char => {
                        self.pos += 1;
                        break;
                    }
                    Some(_) => arg.args.push(self.item()?),
                }
            }
            if arg.args.is_empty() {
                return err(open.start, "empty block");
            }
        }
        let close = self.toks[self.pos - 1];
        self.group_suffixes(close, &mut arg)?;
        Ok(arg)
    }
}

/// Splits `name/display`.
fn split_display(s: &str) -> (&str, Option<&str>) {
    match s.split_once('/') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    }
}

/// A version after `@` or `!`: runs to the next suffix.
fn take_version(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !(c.is_ascii_alphanumeric() || c == b'.' || c == b'-') || b[i..].starts_with(b"...") {
            break;
        }
        i += 1;
    }
    s.split_at(i)
}

fn apply_suffixes(mut s: &str, mut offset: usize, arg: &mut Arg) -> Result<(), ParseError> {
    while !s.is_empty() {
        let before = s.len();
        if let Some(rest) = s.strip_prefix("...") {
            if arg.multiple {
                return err(offset, "'...' given twice");
            }
            arg.multiple = true;
            s = rest;
            if let Some(rest) = s.strip_prefix('+') {
                arg.multiple_token = true;
                s = rest;
            }
        } else if let Some(rest) = s.strip_prefix('@') {
            let (v, rest) = take_version(rest);
            if v.is_empty() {
                return err(offset, "'@' needs a version");
            }
            if arg.since.replace(v.to_string()).is_some() {
                return err(offset, "'@' given twice");
            }
            s = rest;
        } else if let Some(rest) = s.strip_prefix('!') {
            let (v, rest) = take_version(rest);
            if v.is_empty() {
                return err(offset, "'!' needs a version");
            }
            if arg.deprecated_since.replace(v.to_string()).is_some() {
                return err(offset, "'!' given twice");
            }
            s = rest;
        } else if let Some(rest) = s.strip_prefix('#') {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            let Ok(idx) = rest[..n].parse::<u32>() else {
                return err(offset, "'#' needs a key spec index");
            };
            if arg.kind.is_group() {
                return err(offset, "a group has no key spec index");
            }
            if arg.key_spec_index.replace(idx).is_some() {
                return err(offset, "'#' given twice");
            }
            s = &rest[n..];
        } else if let Some(rest) = s.strip_prefix('\'') {
            let mut text = String::new();
            let mut chars = rest.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, e)) => text.push(e),
                        None => return err(offset, "unterminated summary quote"),
                    },
                    '\'' => {
                        end = Some(i + 1);
                        break;
                    }
                    _ => text.push(c),
                }
            }
            let Some(end) = end else {
                return err(offset, "unterminated summary quote");
            };
            if arg.summary.replace(text).is_some() {
                return err(offset, "summary given twice");
            }
            s = &rest[end..];
        } else {
            return err(offset, format!("unexpected '{s}' after the item"));
        }
        offset += before - s.len();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::CommandSpec;

    fn names(args: &[Arg]) -> Vec<&str> {
        args.iter().map(|a| a.name.as_str()).collect()
    }

    #[test]
    fn simple_and_tokens() {
        let a = parse("key:key value:string NX EX=seconds:integer *=auto-id").unwrap();
        assert_eq!(names(&a), ["key", "value", "nx", "seconds", "auto-id"]);
        assert_eq!(a[0].key_spec_index, Some(0));
        assert_eq!(a[1].key_spec_index, None);
        assert_eq!(a[2].kind, ArgKind::PureToken);
        assert_eq!(a[2].token.as_deref(), Some("NX"));
        assert_eq!(a[3].token.as_deref(), Some("EX"));
        assert_eq!(a[3].kind, ArgKind::Integer);
        assert_eq!(a[4].token.as_deref(), Some("*"));
        assert_eq!(a[4].kind, ArgKind::PureToken);
        assert!(parse("").unwrap().is_empty());
        assert!(parse("  \n ").unwrap().is_empty());
    }

    #[test]
    fn groups_and_suffixes() {
        let a = parse(
            "key:key [condition:(NX|XX|GT | LT)@7.0.0] data:{ field:string value:string }... \
             [LIMIT=limit:{offset:integer count:integer}] [GET=pattern:pattern#1...+] \
             FILTERBY=filterby:( MODULE=module-name:string | ACLCAT=category:string )",
        )
        .unwrap();
        assert_eq!(
            names(&a),
            ["key", "condition", "data", "limit", "pattern", "filterby"]
        );
        let c = &a[1];
        assert_eq!(c.kind, ArgKind::OneOf);
        assert!(c.optional);
        assert_eq!(c.since.as_deref(), Some("7.0.0"));
        assert_eq!(names(&c.args), ["nx", "xx", "gt", "lt"]);
        assert_eq!(a[2].kind, ArgKind::Block);
        assert!(a[2].multiple && !a[2].optional);
        assert_eq!(a[3].token.as_deref(), Some("LIMIT"));
        assert!(a[3].optional);
        let g = &a[4];
        assert!(g.optional && g.multiple && g.multiple_token);
        assert_eq!(g.key_spec_index, Some(1));
        assert_eq!(g.kind, ArgKind::Pattern);
        assert_eq!(a[5].token.as_deref(), Some("FILTERBY"));
        assert_eq!(a[5].args[1].token.as_deref(), Some("ACLCAT"));
    }

    #[test]
    fn key_spec_numbering() {
        let a = parse("a:key b:key#0 c:key").unwrap();
        assert_eq!(
            a.iter().map(|x| x.key_spec_index).collect::<Vec<_>>(),
            [Some(0), Some(0), Some(1)]
        );
        let a = parse("key:key [BY=p:pattern#1] [STORE=destination:key]").unwrap();
        assert_eq!(a[2].key_spec_index, Some(2));
        let a = parse("numkeys:integer key:key... [WEIGHTS=w:integer...]").unwrap();
        assert_eq!(a[1].key_spec_index, Some(0));
    }

    #[test]
    fn display_summary_deprecated() {
        let a = parse(r"ADDR=addr/ip:port:string old/x:y:string@2.8.12!3.0 x:string'a \'b\' c'")
            .unwrap();
        assert_eq!(a[0].display_text.as_deref(), Some("ip:port"));
        assert_eq!(a[0].shown_display_text(), Some("ip:port"));
        assert_eq!(a[1].name, "old");
        assert_eq!(a[1].display_text.as_deref(), Some("x:y"));
        assert_eq!(a[1].since.as_deref(), Some("2.8.12"));
        assert_eq!(a[1].deprecated_since.as_deref(), Some("3.0"));
        assert_eq!(a[2].summary.as_deref(), Some("a 'b' c"));
        assert_eq!(a[2].shown_display_text(), Some("x"));
        let a = parse("[nx:(NX)]...@1.0").unwrap();
        assert_eq!(a[0].shown_display_text(), None);
        assert!(a[0].optional && a[0].multiple);
    }

    #[test]
    fn errors_not_panics() {
        for bad in [
            "[",
            "]",
            "[]",
            "[a:string b:string]",
            "x:(a:string b:string)",
            "x:(",
            "x:(a|",
            "x:(|a)",
            "x:{}",
            "x:{a:string",
            "x:",
            "x:nosuch",
            "(a)",
            "|",
            ":string",
            "=x:string",
            "a:string@",
            "a:string!",
            "a:string#",
            "a:string#x",
            "a:string'",
            "a:string'abc",
            "a:string.....",
            "a:string@1@2",
            "a:string$",
            "[a:string]x",
            "x:(A|B)y",
            "x:(A)#1",
            "x/y:(A)",
            "x:pure-token",
            "[[a:string]]",
            "...",
            "@1.0",
            "a:string''''",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "[\\[\\](){}|:=@!#'./ a-zA-Z0-9\\\\-]{0,40}") {
            let _ = parse(&s);
        }
    }

    fn check_tree(full: &str, spec: &CommandSpec, problems: &mut Vec<String>) {
        match parse(spec.args) {
            Err(e) => problems.push(format!("{full}: {e} in {:?}", spec.args)),
            Ok(args) => {
                fn walk(args: &[Arg], nkeys: usize, full: &str, problems: &mut Vec<String>) {
                    for a in args {
                        if let Some(i) = a.key_spec_index
                            && i as usize >= nkeys
                        {
                            problems.push(format!(
                                "{full}: argument {} has key spec index {i} but the command has {nkeys} key specs",
                                a.name
                            ));
                        }
                        walk(&a.args, nkeys, full, problems);
                    }
                }
                walk(&args, spec.keys.len(), full, problems);
            }
        }
        for sub in spec.subcommands {
            check_tree(&format!("{full}|{}", sub.name), sub, problems);
        }
    }

    /// Every `args` string of the table parses, and its key spec indexes
    /// name existing key specs.
    #[test]
    fn every_table_entry_parses() {
        let mut problems = Vec::new();
        for spec in crate::commands::all() {
            check_tree(spec.name, spec, &mut problems);
        }
        let store = crate::Store::new(crate::StoreOptions::default());
        for cmd in store.commands().iter() {
            check_tree(&cmd.full_name, &cmd.spec, &mut problems);
        }
        assert!(
            problems.is_empty(),
            "bad args strings:\n{}",
            problems.join("\n")
        );
    }
}
