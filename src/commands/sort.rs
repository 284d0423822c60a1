//! SORT and SORT_RO (Redis's `sort.c`): the elements of a list, set or
//! sorted set, ordered numerically or as strings, by themselves or by the
//! values of other keys named after them (`BY weight_*`, `BY h_*->field`),
//! replied with or replaced by other keys' values (`GET`), or stored as a
//! list (`STORE`).
//!
//! Which keys a pattern reaches depends on the data, so a SORT with BY or
//! GET locks its whole database; one without them locks only its key and
//! its destination.
//!
//! Order follows Redis's comparator exactly: numeric ties fall back to the
//! elements' bytes, so the output is deterministic; `ALPHA` compares the
//! bytes up to the first NUL as C's `strcoll` does in the C and C.UTF-8
//! locales (sedis does not read the locale), and plain bytes when storing.
//! Equal keys keep the order the elements were read in, as glibc's
//! merge-sorting `qsort` keeps them.

use std::cmp::Ordering;

use crate::channels::notify;
use crate::error::{self, CommandError, CommandResult};
use crate::store::types::list::{End, List};
use crate::store::types::set::Set;
use crate::store::types::zset::ZSet;
use crate::store::{Db, LockPlan, Mode, Value};

use super::table::{BeginSearch, Command, FindKeys, KeySpecInfo, LockContext, Locks, acl, flags::*};
use super::{Ctx, args};

/// SORT's options, as parsed.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    /// LIMIT's offset and count (count -1: to the end).
    limit: (i64, i64),
    by: Option<&'a [u8]>,
    /// True when BY names a constant (no `*`): the elements keep their
    /// order.
    dont_sort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

/// Parses SORT's options after the key, in Redis's order of checks.
fn parse_options(args: &[Vec<u8>], read_only: bool) -> CommandResult<Options<'_>> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit: (0, -1),
        by: None,
        dont_sort: false,
        gets: Vec::new(),
        store: None,
    };
    let mut i = 2;
    while i < args.len() {
        let (word, left) = (&args[i], args.len() - i - 1);
        if args::is_option(word, "asc") {
            o.desc = false;
        } else if args::is_option(word, "desc") {
            o.desc = true;
        } else if args::is_option(word, "alpha") {
            o.alpha = true;
        } else if args::is_option(word, "limit") && left >= 2 {
            o.limit = (args::int(&args[i + 1])?, args::int(&args[i + 2])?);
            i += 2;
        } else if !read_only && args::is_option(word, "store") && left >= 1 {
            o.store = Some(&args[i + 1]);
            i += 1;
        } else if args::is_option(word, "by") && left >= 1 {
            let pattern = &args[i + 1];
            o.by = Some(pattern);
            // A pattern without `*` names one key for every element: there
            // is nothing to sort by (`BY nosort`).
            o.dont_sort = !c_str(pattern).contains(&b'*');
            i += 1;
        } else if args::is_option(word, "get") && left >= 1 {
            o.gets.push(&args[i + 1]);
            i += 1;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    Ok(o)
}

/// The bytes C sees: up to the first NUL.
fn c_str(bytes: &[u8]) -> &[u8] {
    error::c_str_prefix(bytes, usize::MAX)
}

/// The value a pattern names for `element` (Redis's `lookupKeyByPattern`):
/// `#` is the element itself; otherwise the first `*` is replaced by the
/// element to name a string key, or with `->field` after the `*`, a field
/// of a hash. `None` for a pattern without `*`, a missing key or field, or
/// a key of another type.
fn lookup_by_pattern(db: &mut Db, pattern: &[u8], element: &[u8]) -> Option<Vec<u8>> {
    let text = c_str(pattern);
    if text == b"#" {
        return Some(element.to_vec());
    }
    let star = text.iter().position(|&b| b == b'*')?;
    // `->` after the `*`, followed by at least one byte, splits off a field.
    let arrow = text[star + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|at| star + 1 + at)
        .filter(|&at| at + 2 < text.len());
    let key_end = arrow.unwrap_or(pattern.len());
    let key = [&pattern[..star], element, &pattern[star + 1..key_end]].concat();
    let value = &db.lookup_read(&key)?.value;
    match (arrow, value) {
        (Some(at), Value::Hash(hash)) => hash.get(&pattern[at + 2..]).map(<[u8]>::to_vec),
        (None, Value::Str(s)) => Some(s.bytes().to_vec()),
        _ => None,
    }
}

/// A double as Redis reads a sort weight with C's `strtod`: leading blanks
/// are allowed, the number must run to the end of the C string, and NaN or
/// a value out of range is refused.
fn parse_weight(text: &[u8]) -> Option<f64> {
    let text = c_str(text);
    let (value, used) = crate::num::strtod::strtod_prefix(text);
    let digits = &text[..used];
    let hex = digits.iter().any(|b| matches!(b, b'x' | b'X'));
    let exponent = |b: &u8| {
        if hex {
            matches!(b, b'p' | b'P')
        } else {
            matches!(b, b'e' | b'E')
        }
    };
    let mantissa = &digits[..digits.iter().position(exponent).unwrap_or(used)];
    let nonzero = mantissa.iter().any(|b| {
        if hex {
            b.is_ascii_hexdigit() && *b != b'0'
        } else {
            (b'1'..=b'9').contains(b)
        }
    });
    let spelled_infinite = !hex && digits.iter().any(|b| b.eq_ignore_ascii_case(&b'i'));
    // C sets ERANGE on overflow, and on underflow to zero or to a
    // subnormal.
    let out_of_range = (value.is_infinite() && !spelled_infinite)
        || (nonzero && value.abs() < f64::MIN_POSITIVE);
    (used == text.len() && !value.is_nan() && !out_of_range).then_some(value)
}

/// The values SORT reads.
enum Sortable<'a> {
    List(&'a List),
    Set(&'a Set),
    ZSet(&'a ZSet),
}

/// One element to sort, with what it sorts by.
struct Item {
    element: Vec<u8>,
    /// Numeric weight (0 when BY finds nothing).
    score: f64,
    /// ALPHA ... BY: the value found (`None` sorts first).
    by: Option<Vec<u8>>,
}

/// How two items compare (Redis's `sortCompare`), before DESC.
fn compare(a: &Item, b: &Item, alpha: bool, by: bool, storing: bool) -> Ordering {
    let strings = |x: &[u8], y: &[u8]| {
        if storing {
            x.cmp(y)
        } else {
            c_str(x).cmp(c_str(y))
        }
    };
    if !alpha {
        return match a.score.partial_cmp(&b.score) {
            Some(Ordering::Equal) | None => a.element.cmp(&b.element),
            Some(order) => order,
        };
    }
    if !by {
        return strings(&a.element, &b.element);
    }
    match (&a.by, &b.by) {
        (Some(x), Some(y)) => strings(x, y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]`
fn sort(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    sort_generic(ctx, args, false)
}

/// `SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]`
fn sort_ro(ctx: &mut Ctx, args: &[Vec<u8>]) -> CommandResult {
    sort_generic(ctx, args, true)
}

fn sort_generic(ctx: &mut Ctx, args: &[Vec<u8>], read_only: bool) -> CommandResult {
    let mut o = parse_options(args, read_only)?;
    let in_script = ctx.client.in_script;
    let mut db = ctx.db();
    let entry = db.lookup_read(&args[1]);
    let value = match entry.map(|e| &mut e.value) {
        None => None,
        Some(Value::List(list)) => Some(Sortable::List(list)),
        Some(Value::Set(set)) => Some(Sortable::Set(set)),
        Some(Value::ZSet(zset)) => {
            // SORT leaves a sorted set in its big encoding, as Redis
            // converts it before reading.
            zset.convert_to_skiplist();
            Some(Sortable::ZSet(zset))
        }
        Some(_) => return Err(error::WRONGTYPE),
    };
    // A set has no order of its own: unsorted, its output would differ
    // between a script's run and its replay, or between a stored list and
    // its copy, so it is sorted as strings there.
    if o.dont_sort && matches!(value, Some(Sortable::Set(_))) && (o.store.is_some() || in_script) {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    let len = match &value {
        Some(Sortable::List(l)) => l.len(),
        Some(Sortable::Set(s)) => s.len(),
        Some(Sortable::ZSet(z)) => z.len(),
        _ => 0,
    } as i64;
    // LIMIT clamped to the length, as Redis does (an empty range is
    // start = len - 1, end = len - 2).
    let mut start = o.limit.0.clamp(0, len);
    let count = o.limit.1.clamp(-1, len);
    let mut end = if count < 0 { len - 1 } else { start + count - 1 };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);

    // Lists and sorted sets keep their own order when nothing is sorted:
    // read only the range wanted, in the direction asked.
    let ranged = o.dont_sort && !matches!(value, Some(Sortable::Set(_)));
    let (from, to) = (start.max(0) as usize, end.max(0) as usize);
    let elements: Vec<Vec<u8>> = match value {
        None => Vec::new(),
        Some(Sortable::List(list)) if ranged && end >= start => {
            let last = list.len() - 1;
            if o.desc {
                list.range(last - to, last - from).rev().map(<[u8]>::to_vec).collect()
            } else {
                list.range(from, to).map(<[u8]>::to_vec).collect()
            }
        }
        Some(Sortable::ZSet(zset)) if ranged && end >= start => {
            let first = if o.desc { zset.len() - 1 - from } else { from };
            zset.iter_from(first, o.desc)
                .take(to - from + 1)
                .map(|(member, _)| member.to_vec())
                .collect()
        }
        _ if ranged => Vec::new(),
        Some(Sortable::List(list)) => list.iter().map(<[u8]>::to_vec).collect(),
        Some(Sortable::Set(set)) => set.iter().map(|m| m.into_owned()).collect(),
        Some(Sortable::ZSet(zset)) => zset.iter().map(|(member, _)| member.to_vec()).collect(),
    };
    if ranged && end >= start {
        end -= start;
        start = 0;
    }

    let mut items: Vec<Item> = elements
        .into_iter()
        .map(|element| Item {
            element,
            score: 0.0,
            by: None,
        })
        .collect();
    let mut not_a_number = false;
    if !o.dont_sort {
        for item in &mut items {
            let weight = match o.by {
                Some(pattern) => match lookup_by_pattern(&mut db, pattern, &item.element) {
                    Some(found) => found,
                    None => continue,
                },
                None => item.element.clone(),
            };
            if !o.alpha {
                match parse_weight(&weight) {
                    Some(score) => item.score = score,
                    None => not_a_number = true,
                }
            } else if o.by.is_some() {
                item.by = Some(weight);
            }
        }
        let (alpha, by, storing) = (o.alpha, o.by.is_some(), o.store.is_some());
        items.sort_by(|a, b| {
            let order = compare(a, b, alpha, by, storing);
            if o.desc { order.reverse() } else { order }
        });
    }

    let selected = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let per_item = o.gets.len().max(1);
    let output_len = selected.len() * per_item;
    if not_a_number {
        return Err(CommandError::err("One or more scores can't be converted into double"));
    }
    // Each element, or what each GET pattern finds for it.
    let mut outputs: Vec<Option<Vec<u8>>> = Vec::with_capacity(output_len);
    for item in selected {
        if o.gets.is_empty() {
            outputs.push(Some(item.element.clone()));
        }
        for pattern in &o.gets {
            outputs.push(lookup_by_pattern(&mut db, pattern, &item.element));
        }
    }
    let Some(destination) = o.store else {
        ctx.out.array(outputs.len());
        for output in &outputs {
            match output {
                Some(bytes) => ctx.out.bulk(bytes),
                None => ctx.out.null(),
            }
        }
        return Ok(());
    };
    let list = (output_len > 0).then(|| {
        let mut list = List::new();
        for output in &outputs {
            list.push(End::Right, output.as_deref().unwrap_or(b""));
        }
        Value::List(Box::new(list))
    });
    super::store_or_delete(ctx, destination, list, output_len as u64, (notify::LIST, "sortstore"));
    ctx.out.int(output_len as i64);
    Ok(())
}

/// Where SORT's keys are (Redis's `sortGetKeys`): the key sorted, and the
/// last STORE's destination. Options are skipped with their arguments
/// (LIMIT's two, BY's and GET's one); any other word is read as an option
/// without arguments, as SORT's parser would meet it.
fn sort_keys(args: &[Vec<u8>]) -> Vec<usize> {
    let mut keys = vec![1];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let word = &args[i];
        if args::is_option(word, "limit") {
            i += 2;
        } else if args::is_option(word, "get") || args::is_option(word, "by") {
            i += 1;
        } else if args::is_option(word, "store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store);
    keys
}

/// COMMAND GETKEYS for SORT: the sorted key read, the destination written.
fn sort_getkeys(args: &[Vec<u8>]) -> Vec<(usize, Vec<&'static str>)> {
    sort_keys(args)
        .into_iter()
        .map(|i| {
            let flags = if i == 1 { vec!["RO", "access"] } else { vec!["OW", "update"] };
            (i, flags)
        })
        .collect()
}

/// COMMAND GETKEYS for SORT_RO (Redis's `sortROGetKeys`): the key alone.
fn sort_ro_getkeys(_args: &[Vec<u8>]) -> Vec<(usize, Vec<&'static str>)> {
    vec![(1, vec!["RO", "access"])]
}

/// SORT's locks: with a BY or GET pattern, any key of the database may be
/// read, so all of it; otherwise the key and the destination.
fn sort_plan(lc: &LockContext<'_>) -> LockPlan {
    let mut plan = LockPlan::new();
    let patterns = lc.args[2..]
        .iter()
        .any(|a| args::is_option(a, "by") || args::is_option(a, "get"));
    if patterns {
        plan.add_db(lc.db, Mode::Write);
    } else {
        for i in sort_keys(lc.args) {
            plan.add_key(lc.keyspace, lc.db, &lc.args[i], Mode::Write);
        }
    }
    plan
}

const PATTERN_KEYS: KeySpecInfo = KeySpecInfo::new(&["RO", "access"], BeginSearch::Unknown, FindKeys::Unknown)
    .notes("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort");

// ---- Command table -----------------------------------------------------------

/// The commands this module serves; [`super::registry()`] gathers every
/// module's.
#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    Command::new("sort", -2, sort).syntax("key [BY pattern:pattern] [LIMIT (offset:integer count:integer)] [(GET pattern:pattern) ...] [ASC|DESC] [ALPHA] [STORE destination:key]").flags(WRITE | DENYOOM).acl(acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS | acl::NOT_GROUP).found_keys(sort_keys).locks(Locks::Custom(sort_plan)).key_specs(&[KeySpecInfo::key(&["RO", "access"], 1), PATTERN_KEYS, KeySpecInfo::new(&["OW", "update"], BeginSearch::Unknown, FindKeys::Unknown).notes("For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array")]).getkeys(sort_getkeys).doc("generic", "1.0.0", "Sort the elements in a list, set or sorted set", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N)."),
    Command::new("sort_ro", -2, sort_ro).syntax("key [BY pattern:pattern] [LIMIT (offset:integer count:integer)] [(GET pattern:pattern) ...] [ASC|DESC] [ALPHA]").flags(READONLY).acl(acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS | acl::NOT_GROUP).keys(1, 1, 1).locks(Locks::Custom(sort_plan)).key_specs(&[KeySpecInfo::key(&["RO", "access"], 1), PATTERN_KEYS]).getkeys(sort_ro_getkeys).doc("generic", "7.0.0", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N)."),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_argv;

    #[test]
    fn weights_are_read_as_strtod_reads_them() {
        assert_eq!(parse_weight(b"1.5"), Some(1.5));
        assert_eq!(parse_weight(b"  -2"), Some(-2.0));
        assert_eq!(parse_weight(b""), Some(0.0));
        assert_eq!(parse_weight(b"3\0junk"), Some(3.0));
        assert_eq!(parse_weight(b"0x10"), Some(16.0));
        assert_eq!(parse_weight(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_weight(b"1e400"), None);
        assert_eq!(parse_weight(b"1e-400"), None);
        assert_eq!(parse_weight(b"1e-310"), None);
        assert_eq!(parse_weight(b"0e-400"), Some(0.0));
        assert_eq!(parse_weight(b"nan"), None);
        assert_eq!(parse_weight(b"1 "), None);
        assert_eq!(parse_weight(b"abc"), None);
    }

    #[test]
    fn numeric_ties_fall_back_to_the_elements() {
        let item = |e: &str, score: f64| Item {
            element: e.as_bytes().to_vec(),
            score,
            by: None,
        };
        assert_eq!(compare(&item("b", 1.0), &item("a", 1.0), false, false, false), Ordering::Greater);
        assert_eq!(compare(&item("b", 1.0), &item("a", 2.0), false, false, false), Ordering::Less);
        // Collation stops at a NUL; storing compares every byte.
        assert_eq!(compare(&item("a\0b", 0.0), &item("a\0c", 0.0), true, false, false), Ordering::Equal);
        assert_eq!(compare(&item("a\0b", 0.0), &item("a\0c", 0.0), true, false, true), Ordering::Less);
    }

    #[test]
    fn store_keys_are_found_past_the_options() {
        let keys = |words: &[&str]| sort_keys(&test_argv(words));
        assert_eq!(keys(&["sort", "k"]), [1]);
        assert_eq!(keys(&["sort", "k", "store", "a", "store", "b"]), [1, 5]);
        assert_eq!(keys(&["sort", "k", "get", "store", "limit", "0", "1"]), [1]);
        assert_eq!(keys(&["sort", "k", "by", "x", "store"]), [1]);
    }
}
