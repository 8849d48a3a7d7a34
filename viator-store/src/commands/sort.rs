//! SORT and SORT_RO (Redis's `sort.c`): sort the elements of a list, set or
//! sorted set, numerically or as strings, by themselves or by the values
//! of other keys (`BY weight_*`, `BY obj_*->field`), and return them or
//! other keys' values (`GET #`, `GET name_*`), or store them as a list.

use std::cmp::Ordering;

use viator_types::entry::{Entry, NewValue, Object};
use viator_types::list::{End, List};

use crate::Keyspace;
use crate::command::{CommandSpec, Ctx, KeySpec, acl, flags};
use crate::errors;

const COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";
const BY_GET_NOTES: &str = "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort";
const STORE_NOTES: &str = "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array";

const fn unknown_keys(flags: &'static [&'static str], notes: &'static str) -> KeySpec {
    KeySpec {
        flags,
        begin: crate::command::BeginSearch::Unknown,
        find: crate::command::FindKeys::Unknown,
        notes,
    }
}

/// This family's part of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sort",
        arity: -2,
        flags: flags::WRITE | flags::DENYOOM,
        acl: acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS,
        keys: &[
            KeySpec::single(1, &["RO", "ACCESS"]),
            unknown_keys(&["RO", "ACCESS"], BY_GET_NOTES),
            unknown_keys(&["OW", "UPDATE"], STORE_NOTES),
        ],
        group: "generic",
        summary: "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
        complexity: COMPLEXITY,
        args: "key:key [BY=pattern:pattern#1] [LIMIT=offset_count:{offset:integer count:integer}] [GET=pattern:pattern#1...+] [order:(ASC | DESC)] [ALPHA=sorting] [STORE=destination:key#2]",
        handler: Some(sort),
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "sort_ro",
        arity: -2,
        flags: flags::READONLY,
        acl: acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS,
        keys: &[
            KeySpec::single(1, &["RO", "ACCESS"]),
            unknown_keys(&["RO", "ACCESS"], BY_GET_NOTES),
        ],
        group: "generic",
        summary: "Returns the sorted elements of a list, a set, or a sorted set.",
        since: "7.0.0",
        complexity: COMPLEXITY,
        args: "key:key [BY=pattern:pattern#1] [LIMIT=offset_count:{offset:integer count:integer}] [GET=pattern:pattern#1...+] [order:(ASC | DESC)] [ALPHA=sorting]",
        handler: Some(sort_ro),
        ..CommandSpec::DEFAULT
    },
];

/// The options of one SORT call.
struct SortOptions<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    /// BY pattern; `dontsort` when it has no `*`.
    by: Option<&'a [u8]>,
    dontsort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

/// Parses the options as `sortCommandGeneric` does: left to right, an
/// option missing its arguments is a syntax error, STORE is unknown to
/// SORT_RO. Writes the error and returns `None` on failure.
fn parse_options<'a>(ctx: &mut Ctx<'a>, readonly: bool) -> Option<SortOptions<'a>> {
    let mut o = SortOptions {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        by: None,
        dontsort: false,
        gets: Vec::new(),
        store: None,
    };
    let argc = ctx.argc();
    let mut j = 2;
    while j < argc {
        let left = argc - j - 1;
        if ctx.arg_is(j, "asc") {
            o.desc = false;
        } else if ctx.arg_is(j, "desc") {
            o.desc = true;
        } else if ctx.arg_is(j, "alpha") {
            o.alpha = true;
        } else if ctx.arg_is(j, "limit") && left >= 2 {
            o.limit_start = ctx.int_arg(j + 1)?;
            o.limit_count = ctx.int_arg(j + 2)?;
            j += 2;
        } else if !readonly && ctx.arg_is(j, "store") && left >= 1 {
            o.store = Some(ctx.arg(j + 1));
            j += 1;
        } else if ctx.arg_is(j, "by") && left >= 1 {
            let pattern = ctx.arg(j + 1);
            o.by = Some(pattern);
            o.dontsort = !c_str(pattern).contains(&b'*');
            j += 1;
        } else if ctx.arg_is(j, "get") && left >= 1 {
            o.gets.push(ctx.arg(j + 1));
            j += 1;
        } else {
            ctx.out.error(errors::SYNTAX);
            return None;
        }
        j += 1;
    }
    Some(o)
}

fn sort(ctx: &mut Ctx<'_>) {
    sort_generic(ctx, false);
}

fn sort_ro(ctx: &mut Ctx<'_>) {
    sort_generic(ctx, true);
}

/// The bytes of `s` up to its first NUL: Redis reads patterns as C
/// strings.
fn c_str(s: &[u8]) -> &[u8] {
    s.split(|&b| b == 0).next().unwrap_or(b"")
}

/// Whether a pattern makes SORT read other keys (a `*` in BY, or a GET
/// other than `#`): then the whole database is locked.
fn reads_other_keys(o: &SortOptions<'_>) -> bool {
    let by = o.by.is_some_and(|p| !o.dontsort && !p.is_empty());
    by || o.gets.iter().any(|g| !is_hash_sign(g))
}

fn is_hash_sign(pattern: &[u8]) -> bool {
    c_str(pattern) == b"#"
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the
/// first `*` is replaced by the element, and a `->field` suffix reads that
/// field of a hash. `None` when the pattern has no `*`, the key is missing
/// or holds another type.
fn lookup_by_pattern(ks: &mut Keyspace<'_>, pattern: &[u8], element: &[u8]) -> Option<Vec<u8>> {
    let spat = c_str(pattern);
    if spat == b"#" {
        return Some(element.to_vec());
    }
    let star = spat.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let arrow = c_str(after).windows(2).position(|w| w == b"->");
    // `->` at the very end is not a field dereference.
    let (postfix, field) = match arrow {
        Some(a) if a + 2 < c_str(after).len() => (&after[..a], Some(&after[a + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(star + element.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(postfix);
    let now_ms = ks.now_ms();
    let e = ks.read(&key)?;
    match field {
        None => e.as_str().map(|s| s.to_vec()),
        Some(field) => match e.as_object() {
            // A field whose time is up is missing (Redis deletes it lazily).
            Some(Object::Hash(h)) => match h.expire_of(field) {
                Some(Some(t)) if t < now_ms => None,
                _ => h.get(field).map(<[u8]>::to_vec),
            },
            _ => None,
        },
    }
}

/// A weight for numeric sorting, as Redis 8 parses it (`fast_float_strtod`
/// on the C string): the whole text must be a number, with no leading
/// blank or `+`; NaN and out-of-range numbers are refused; the empty
/// string counts as 0.
fn numeric_weight(s: &[u8]) -> Option<f64> {
    let s = c_str(s);
    if s.is_empty() {
        return Some(0.0);
    }
    if matches!(s[0], b'+' | b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let v: f64 = text.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    // Out of range (errno ERANGE): a finite number too big for a double,
    // or one with a nonzero digit that rounds to zero.
    let mantissa = text.split(['e', 'E']).next().unwrap_or("");
    let literal_inf = mantissa.bytes().any(|b| b.is_ascii_alphabetic());
    let nonzero = mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b));
    if (v.is_infinite() && !literal_inf) || (v == 0.0 && nonzero) {
        return None;
    }
    Some(v)
}

/// One element to sort with what it is sorted by.
struct Item {
    element: Vec<u8>,
    score: f64,
    /// The BY value for ALPHA sorting by pattern (`None`: missing).
    by_value: Option<Vec<u8>>,
}

fn sort_generic(ctx: &mut Ctx<'_>, readonly: bool) {
    let Some(mut o) = parse_options(ctx, readonly) else {
        return;
    };
    let key = ctx.arg(1);
    let mut ks = if reads_other_keys(&o) {
        ctx.whole_db()
    } else {
        match o.store {
            Some(dest) => ctx.keys(&[key, dest]),
            None => ctx.key(key),
        }
    };
    // The elements, in the container's own order (a sorted set's in rank
    // order), and whether the container is a set.
    let (mut elements, is_set) = {
        let Some(mut e) = ks.read(key) else {
            // A missing key sorts as an empty list.
            finish(ctx, &mut ks, &o, Vec::new(), 0, -1);
            return;
        };
        match e.as_object_mut() {
            Some(Object::List(l)) => {
                let mut v = Vec::with_capacity(l.len());
                l.for_each(|x| v.push(x.to_vec()));
                (v, false)
            }
            Some(Object::Set(s)) => {
                let mut v = Vec::with_capacity(s.len());
                s.for_each(|x| v.push(x.to_vec()));
                (v, true)
            }
            Some(Object::ZSet(z)) => {
                // Redis converts the sorted set to its skiplist encoding,
                // for good ("Destructively convert encoded sorted sets").
                z.convert_to_skiplist();
                let mut v = Vec::with_capacity(z.len());
                z.for_each(|m, _| v.push(m.to_vec()));
                (v, false)
            }
            _ => {
                drop(e);
                drop(ks);
                ctx.out.error(errors::WRONGTYPE);
                return;
            }
        }
    };
    // A set sorted "by nothing" into a key is sorted as strings, so that
    // the stored result does not depend on the set's internal order.
    if o.dontsort && is_set && o.store.is_some() {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    let len = elements.len() as i64;
    let mut start = o.limit_start.max(0).min(len);
    let count = o.limit_count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    if o.dontsort {
        // Lists and sorted sets keep their order, reversed by DESC (sets
        // are returned as they iterate); LIMIT picks the range directly.
        if !is_set {
            if o.desc {
                elements.reverse();
            }
            if end >= start {
                elements = elements
                    .drain(start as usize..=end as usize)
                    .collect::<Vec<_>>();
                end -= start;
                start = 0;
            }
        }
        let items = elements
            .into_iter()
            .map(|element| Item {
                element,
                score: 0.0,
                by_value: None,
            })
            .collect();
        finish(ctx, &mut ks, &o, items, start, end);
        return;
    }
    let mut items = Vec::with_capacity(elements.len());
    let mut conversion_error = false;
    for element in elements {
        let mut item = Item {
            element,
            score: 0.0,
            by_value: None,
        };
        let by = match o.by {
            Some(pattern) => lookup_by_pattern(&mut ks, pattern, &item.element),
            None => Some(item.element.clone()),
        };
        if let Some(by) = by {
            if o.alpha {
                if o.by.is_some() {
                    item.by_value = Some(by);
                }
            } else {
                match numeric_weight(&by) {
                    Some(v) => item.score = v,
                    None => conversion_error = true,
                }
            }
        }
        items.push(item);
    }
    if conversion_error {
        drop(ks);
        ctx.out
            .error("ERR One or more scores can't be converted into double");
        return;
    }
    let by_pattern = o.by.is_some();
    let alpha = o.alpha;
    // ALPHA compares as C's strcoll (up to a NUL byte, byte order in the C
    // locale) when replying, and as whole binary strings when storing, as
    // Redis's sortCompare does.
    let storing = o.store.is_some();
    let text_cmp = |x: &[u8], y: &[u8]| {
        if storing {
            x.cmp(y)
        } else {
            c_str(x).cmp(c_str(y))
        }
    };
    items.sort_by(|a, b| {
        let cmp = if !alpha {
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.element.cmp(&b.element))
        } else if by_pattern {
            match (&a.by_value, &b.by_value) {
                (Some(x), Some(y)) => text_cmp(x, y),
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
            }
        } else {
            text_cmp(&a.element, &b.element)
        };
        if o.desc { cmp.reverse() } else { cmp }
    });
    finish(ctx, &mut ks, &o, items, start, end);
}

/// Replies with (or stores) the items `start..=end`, each as itself or as
/// its GET values.
fn finish(
    ctx: &mut Ctx<'_>,
    ks: &mut Keyspace<'_>,
    o: &SortOptions<'_>,
    items: Vec<Item>,
    start: i64,
    end: i64,
) {
    let chosen: &[Item] = if end >= start && start >= 0 {
        &items[start as usize..=(end as usize).min(items.len().saturating_sub(1))]
    } else {
        &[]
    };
    let mut out: Vec<Option<Vec<u8>>> = Vec::new();
    for item in chosen {
        if o.gets.is_empty() {
            out.push(Some(item.element.clone()));
        }
        for g in &o.gets {
            out.push(lookup_by_pattern(ks, g, &item.element));
        }
    }
    match o.store {
        None => {
            ctx.out.array(out.len());
            for v in &out {
                match v {
                    Some(b) => ctx.out.bulk(b),
                    None => ctx.out.null(),
                }
            }
        }
        Some(dest) => {
            let n = out.len();
            if n > 0 {
                let items: Vec<Vec<u8>> = out.into_iter().map(Option::unwrap_or_default).collect();
                let list = build_list(&items, ctx.store);
                ks.set(
                    Entry::new(dest, NewValue::Object(Box::new(Object::List(list))), None),
                    false,
                );
                ctx.store.add_dirty(n as u64);
            } else if ks.remove(dest).is_some() {
                ctx.store.add_dirty(1);
            }
            ctx.out.int(n as i64);
        }
    }
}

/// A list of `items`, encoded as Redis encodes a SORT ... STORE result:
/// built whole, then given the encoding its size calls for.
fn build_list(items: &[Vec<u8>], store: &crate::Store) -> List {
    let fill = store
        .settings
        .list_max_listpack_size
        .load(std::sync::atomic::Ordering::Relaxed);
    let depth = store
        .settings
        .list_compress_depth
        .load(std::sync::atomic::Ordering::Relaxed);
    let mut list = List::new();
    let bytes = items.iter().map(Vec::len).sum();
    list.grow_check(fill, depth, bytes, items.len());
    for item in items {
        list.push(item, End::Tail, fill);
    }
    list.auto_convert(fill, depth);
    list
}
