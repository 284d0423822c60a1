//! DEBUG DIGEST and DEBUG DIGEST-VALUE: a SHA-1 based fingerprint of the
//! dataset, or of single values, computed exactly as Redis's `debug.c`
//! does, so that the same data gives the same hex string in sedis and in
//! redis-server (test suites compare a master's digest with its replica's,
//! or a dataset's before and after a reload).
//!
//! Two ways of adding bytes to a 20-byte digest build everything:
//!
//! - *xor*: the digest is xored with SHA-1(bytes). Order does not matter,
//!   so unordered collections (keys of a database, set members, hash
//!   fields) add their elements this way.
//! - *mix*: xor, then the digest becomes SHA-1(digest). Order matters, so
//!   sequences (list elements, a member then its score) add this way.

use crate::digest::sha1;
use crate::num::format_g17;
use crate::store::types::stream::StreamId;
use crate::store::{Entry, Value};

/// Redis's type numbers (`OBJ_STRING`...), which a value's digest starts
/// with.
fn type_code(value: &Value) -> u32 {
    match value {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// A 20-byte digest under construction.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Digest([u8; 20]);

impl Digest {
    /// Adds `bytes` without regard to order.
    pub fn xor(&mut self, bytes: &[u8]) {
        for (d, h) in self.0.iter_mut().zip(sha1(bytes)) {
            *d ^= h;
        }
    }

    /// Adds `bytes` after what was added before.
    pub fn mix(&mut self, bytes: &[u8]) {
        self.xor(bytes);
        self.0 = sha1(&self.0);
    }

    /// Lowercase hex, as DEBUG replies with it.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The digest of one member and its score: the member, then the score
    /// as `%.17g`, mixed into a fresh digest.
    fn member_score(member: &[u8], score: f64) -> Digest {
        let mut d = Digest::default();
        d.mix(member);
        d.mix(format_g17(score).as_bytes());
        d
    }

    /// The digest of a hash field and its value.
    fn field_value(field: &[u8], value: &[u8]) -> Digest {
        let mut d = Digest::default();
        d.mix(field);
        d.mix(value);
        d
    }
}

/// Adds a key's value to `digest` (Redis's `xorObjectDigest`): the type,
/// the contents by the type's rule, and a marker if the key has a TTL (its
/// deadline itself is left out, so that a reloaded or replicated dataset
/// digests the same).
pub fn add_value(digest: &mut Digest, entry: &Entry) {
    digest.mix(&type_code(&entry.value).to_be_bytes());
    match &entry.value {
        Value::Str(s) => digest.mix(&s.bytes()),
        Value::List(list) => {
            for element in list.iter() {
                digest.mix(element);
            }
        }
        Value::Set(set) => {
            for member in set.iter() {
                digest.xor(&member);
            }
        }
        Value::ZSet(zset) => {
            for (member, score) in zset.iter() {
                digest.xor(&Digest::member_score(member, score).0);
            }
        }
        Value::Hash(hash) => {
            for (field, value) in hash.iter() {
                digest.xor(&Digest::field_value(field, value).0);
            }
        }
        Value::Stream(stream) => {
            // Only the entries: consumer groups and the last id are not
            // part of the digest.
            for (node, entry) in stream.range(StreamId::MIN, StreamId::MAX, false) {
                digest.mix(format!("{}.{}", entry.id.ms, entry.id.seq).as_bytes());
                for (field, value) in node.pairs(entry) {
                    digest.mix(field);
                    digest.mix(value);
                }
            }
        }
    }
    if entry.is_volatile() {
        digest.xor(b"!!expire!!");
    }
}

/// The digest of one key and its value, as the dataset digest xors it in.
pub fn key_value(key: &[u8], entry: &Entry) -> Digest {
    let mut digest = Digest::default();
    digest.mix(key);
    add_value(&mut digest, entry);
    digest
}

/// The digest of a database's keys: the database number is mixed in
/// first (so the same data in another database digests differently), then
/// every key's digest xored.
pub fn add_database(digest: &mut Digest, db: usize, keys: impl IntoIterator<Item = Digest>) {
    digest.mix(&(db as u32).to_be_bytes());
    for key in keys {
        digest.xor(&key.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StrValue;

    #[test]
    fn empty_is_zeros() {
        assert_eq!(Digest::default().hex(), "0".repeat(40));
    }

    #[test]
    fn xor_is_unordered_mix_is_not() {
        let (mut a, mut b) = (Digest::default(), Digest::default());
        a.xor(b"x");
        a.xor(b"y");
        b.xor(b"y");
        b.xor(b"x");
        assert_eq!(a, b);
        let (mut a, mut b) = (Digest::default(), Digest::default());
        a.mix(b"x");
        a.mix(b"y");
        b.mix(b"y");
        b.mix(b"x");
        assert_ne!(a, b);
    }

    /// Values redis-server 7.0.15 gave for `SET foo bar` and
    /// `ZADD z 1.5 a` (DEBUG DIGEST-VALUE, then DEBUG DIGEST with only foo).
    #[test]
    fn digests_match_redis() {
        use crate::store::types::zset::ZSet;
        let foo = Entry::new(Value::Str(StrValue::from_slice(b"bar")));
        let mut d = Digest::default();
        add_value(&mut d, &foo);
        assert_eq!(d.hex(), "68467c70ae30376e7ce005bcc8827f5ba7fd67dc");
        let mut total = Digest::default();
        add_database(&mut total, 0, [key_value(b"foo", &foo)]);
        assert_eq!(total.hex(), "d2ab4820c1be0580ea28efbfe8bfa1dc05bb802a");
        let mut zset = ZSet::new_listpack();
        zset.add(b"a", 1.5, Default::default(), Default::default());
        let z = Entry::new(Value::ZSet(Box::new(zset)));
        let mut d = Digest::default();
        add_value(&mut d, &z);
        assert_eq!(d.hex(), "4abede9eeefb1bae2bf5394291a39b9e34b5b2b6");
    }
}
