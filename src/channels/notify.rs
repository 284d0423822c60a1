//! Keyspace notifications: the event classes of `notify-keyspace-events`,
//! their flag letters, and the channels events are published on
//! (`__keyspace@<db>__:<key>` carrying the event name, and
//! `__keyevent@<db>__:<event>` carrying the key), as Redis's `notify.c`.
//!
//! Commands report events through `Ctx::notify(class, event, key)`; the
//! call costs one relaxed atomic load while notifications are off.

/// `K`: publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: generic commands (DEL, EXPIRE, RENAME...).
pub const GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted set commands.
pub const ZSET: u32 = 1 << 7;
/// `x`: a key expired (deleted by lazy or active expiry).
pub const EXPIRED: u32 = 1 << 8;
/// `e`: a key was evicted for maxmemory.
pub const EVICTED: u32 = 1 << 9;
/// `t`: stream commands.
pub const STREAM: u32 = 1 << 10;
/// `m`: a key was looked up and missing (not part of `A`, as in Redis).
pub const KEY_MISS: u32 = 1 << 11;
/// `d`: module key types.
pub const MODULE: u32 = 1 << 13;
/// `n`: a key was created (not part of `A`).
pub const NEW: u32 = 1 << 14;
/// `A`: every class but `m` and `n`.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// An event noted by code that has no command context (a helper shared by
/// several commands, or serving a blocked client), published afterwards in
/// the order noted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub class: u32,
    pub name: &'static str,
    pub key: Vec<u8>,
}

/// Events in the order they happened.
pub type Events = Vec<Event>;

/// Notes an event.
pub fn note(events: &mut Events, class: u32, name: &'static str, key: &[u8]) {
    events.push(Event {
        class,
        name,
        key: key.to_vec(),
    });
}

/// Redis's error for a letter that names no class.
pub const BAD_CLASS: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/// Parses a `notify-keyspace-events` value (Redis's
/// `keyspaceEventsStringToFlags`); `None` if a letter names no class.
pub fn parse_flags(classes: &str) -> Option<u32> {
    let mut flags = 0;
    for c in classes.bytes() {
        flags |= match c {
            b'A' => ALL,
            b'g' => GENERIC,
            b'$' => STRING,
            b'l' => LIST,
            b's' => SET,
            b'h' => HASH,
            b'z' => ZSET,
            b'x' => EXPIRED,
            b'e' => EVICTED,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b't' => STREAM,
            b'm' => KEY_MISS,
            b'd' => MODULE,
            b'n' => NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// The normalised text of `flags`, as CONFIG GET shows it (Redis's
/// `keyspaceEventsFlagsToString`): `A` stands for the whole set, and then
/// hides `n` as Redis does; `K`, `E`, `m` come last.
pub fn format_flags(flags: u32) -> String {
    let mut out = String::new();
    if flags & ALL == ALL {
        out.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & bit != 0 {
                out.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & bit != 0 {
            out.push(c);
        }
    }
    out
}

/// `__keyspace@<db>__:<key>` (or `__keyevent@<db>__:<event>` with
/// `prefix` = `__keyevent@`).
pub fn channel(prefix: &[u8], db: usize, suffix: &[u8]) -> Vec<u8> {
    let mut digits = [0u8; 20];
    let db = crate::num::format_i64(db as i64, &mut digits);
    let mut channel = Vec::with_capacity(prefix.len() + db.len() + 3 + suffix.len());
    channel.extend_from_slice(prefix);
    channel.extend_from_slice(db);
    channel.extend_from_slice(b"__:");
    channel.extend_from_slice(suffix);
    channel
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, what Redis 7.0.15's CONFIG GET shows after CONFIG SET input)
    const RECORDED: &[(&str, &str)] = &[
        ("", ""),
        ("K", "K"),
        ("A", "A"),
        ("KEA", "AKE"),
        ("Kx", "xK"),
        ("xK$", "$xK"),
        ("gg", "g"),
        ("KEAm", "AKEm"),
        ("Em", "Em"),
        ("KEn", "nKE"),
        ("g$lshzxetdn", "A"),
        ("Ag", "A"),
    ];

    #[test]
    fn flags_round_trip_as_redis_shows_them() {
        for (input, shown) in RECORDED {
            let flags = parse_flags(input).unwrap();
            assert_eq!(format_flags(flags), *shown, "for {input:?}");
        }
        assert_eq!(parse_flags("KQ"), None);
        assert_eq!(parse_flags("k"), None);
    }

    #[test]
    fn channels_are_built_like_redis() {
        assert_eq!(channel(b"__keyspace@", 0, b"foo"), b"__keyspace@0__:foo");
        assert_eq!(channel(b"__keyevent@", 15, b"set"), b"__keyevent@15__:set");
    }
}
