//! One database's keys, read and written from the embedding program in one
//! line each, so a test can arrange state and assert on it without a
//! client. Each call runs the matching command for the server's internal
//! client: types, TTLs, keyspace events and WRONGTYPE errors are exactly
//! what a client would get, and nothing goes through a socket.

use std::time::Duration;

use super::Embedded;
use crate::resp::Frame;

/// An error reply from the server (`WRONGTYPE ...`, `ERR ...`), or a reply
/// of a shape the call did not expect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyError(pub String);

impl std::fmt::Display for ReplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReplyError {}

impl From<ReplyError> for std::io::Error {
    fn from(err: ReplyError) -> Self {
        std::io::Error::other(err)
    }
}

/// What a data call returns.
pub type Result<T> = std::result::Result<T, ReplyError>;

/// Database `index` of an [`Embedded`] server ([`Embedded::db`]).
///
/// ```
/// use std::time::Duration;
///
/// // A manual clock, so that a TTL read back is exactly what was set.
/// let server = sedis::Embedded::builder().manual_clock().start()?;
/// let db = server.db(1);
/// db.set("name", "sedis")?;
/// db.hset("user:1", "email", "a@example.com")?;
/// db.push("jobs", ["a", "b"])?;
/// db.sadd("tags", ["x", "y"])?;
/// db.zadd("scores", 2.5, "alice")?;
/// db.expire("name", Duration::from_secs(10))?;
///
/// assert_eq!(db.hget("user:1", "email")?, Some(b"a@example.com".to_vec()));
/// assert_eq!(db.members("tags")?, vec![b"x".to_vec(), b"y".to_vec()]);
/// assert_eq!(db.zscore("scores", "alice")?, Some(2.5));
/// assert_eq!(db.key_type("jobs")?.as_deref(), Some("list"));
/// assert_eq!(db.ttl("name")?, Some(Duration::from_secs(10)));
/// assert_eq!(db.keys("*")?.len(), 5);
/// assert_eq!(server.db(0).dbsize()?, 0, "databases are apart");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Db<'a> {
    server: &'a Embedded,
    index: usize,
}

impl<'a> Db<'a> {
    pub(super) fn new(server: &'a Embedded, index: usize) -> Self {
        Db { server, index }
    }

    /// Runs any command in this database and returns its reply.
    pub fn command<A: AsRef<[u8]>>(&self, args: &[A]) -> Frame {
        let args: Vec<&[u8]> = args.iter().map(AsRef::as_ref).collect();
        self.server.run(self.index, &args)
    }

    fn run(&self, args: &[&[u8]]) -> Result<Frame> {
        match self.server.run(self.index, args) {
            Frame::Error(text) => Err(ReplyError(String::from_utf8_lossy(&text).into_owned())),
            reply => Ok(reply),
        }
    }

    /// The string at `key`, if any.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        optional_bulk(self.run(&[b"GET", key.as_ref()])?)
    }

    /// Sets `key` to a string (any TTL is cleared, as SET does).
    pub fn set(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
        expect_ok(self.run(&[b"SET", key.as_ref(), value.as_ref()])?)
    }

    /// Sets `key` to a string that expires after `ttl` (millisecond
    /// precision).
    pub fn set_with_ttl(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        ttl: Duration,
    ) -> Result<()> {
        let ms = ttl.as_millis().to_string();
        expect_ok(self.run(&[b"SET", key.as_ref(), value.as_ref(), b"PX", ms.as_bytes()])?)
    }

    /// Deletes `key`; true if it existed.
    pub fn del(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        Ok(integer(self.run(&[b"DEL", key.as_ref()])?)? > 0)
    }

    /// True if `key` exists.
    pub fn exists(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        Ok(integer(self.run(&[b"EXISTS", key.as_ref()])?)? > 0)
    }

    /// The type of `key` (`"string"`, `"list"`, `"hash"`, `"set"`,
    /// `"zset"`, `"stream"`), or `None` if it does not exist.
    pub fn key_type(&self, key: impl AsRef<[u8]>) -> Result<Option<String>> {
        match self.run(&[b"TYPE", key.as_ref()])? {
            Frame::Simple(t) if t == b"none" => Ok(None),
            Frame::Simple(t) => Ok(Some(String::from_utf8_lossy(&t).into_owned())),
            other => Err(unexpected(&other)),
        }
    }

    /// The keys matching a glob `pattern`, sorted.
    pub fn keys(&self, pattern: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        let mut keys = bulks(self.run(&[b"KEYS", pattern.as_ref()])?)?;
        keys.sort();
        Ok(keys)
    }

    /// The number of keys.
    pub fn dbsize(&self) -> Result<u64> {
        Ok(integer(self.run(&[b"DBSIZE"])?)? as u64)
    }

    /// Deletes every key of this database.
    pub fn flush(&self) -> Result<()> {
        expect_ok(self.run(&[b"FLUSHDB"])?)
    }

    /// The time `key` has left to live: `None` if it has no TTL or does not
    /// exist.
    pub fn ttl(&self, key: impl AsRef<[u8]>) -> Result<Option<Duration>> {
        let ms = integer(self.run(&[b"PTTL", key.as_ref()])?)?;
        Ok((ms >= 0).then(|| Duration::from_millis(ms as u64)))
    }

    /// Makes `key` expire after `ttl`; false if it does not exist.
    pub fn expire(&self, key: impl AsRef<[u8]>, ttl: Duration) -> Result<bool> {
        let ms = ttl.as_millis().to_string();
        Ok(integer(self.run(&[b"PEXPIRE", key.as_ref(), ms.as_bytes()])?)? == 1)
    }

    /// Removes `key`'s TTL; false if it had none or does not exist.
    pub fn persist(&self, key: impl AsRef<[u8]>) -> Result<bool> {
        Ok(integer(self.run(&[b"PERSIST", key.as_ref()])?)? == 1)
    }

    /// Sets one field of the hash at `key`.
    pub fn hset(
        &self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<()> {
        integer(self.run(&[b"HSET", key.as_ref(), field.as_ref(), value.as_ref()])?).map(drop)
    }

    /// One field of the hash at `key`.
    pub fn hget(&self, key: impl AsRef<[u8]>, field: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        optional_bulk(self.run(&[b"HGET", key.as_ref(), field.as_ref()])?)
    }

    /// Every field of the hash at `key` with its value, sorted by field.
    pub fn hgetall(&self, key: impl AsRef<[u8]>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let flat = bulks(self.run(&[b"HGETALL", key.as_ref()])?)?;
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = flat
            .chunks_exact(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect();
        pairs.sort();
        Ok(pairs)
    }

    /// Appends `values` to the list at `key` (RPUSH); returns its length.
    pub fn push<V: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        values: impl IntoIterator<Item = V>,
    ) -> Result<u64> {
        self.many(b"RPUSH", key.as_ref(), values)
    }

    /// The whole list at `key`, head first.
    pub fn list(&self, key: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        bulks(self.run(&[b"LRANGE", key.as_ref(), b"0", b"-1"])?)
    }

    /// Adds `members` to the set at `key`; returns how many were new.
    pub fn sadd<V: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        members: impl IntoIterator<Item = V>,
    ) -> Result<u64> {
        self.many(b"SADD", key.as_ref(), members)
    }

    /// The members of the set at `key`, sorted.
    pub fn members(&self, key: impl AsRef<[u8]>) -> Result<Vec<Vec<u8>>> {
        let mut members = bulks(self.run(&[b"SMEMBERS", key.as_ref()])?)?;
        members.sort();
        Ok(members)
    }

    /// Adds `member` with `score` to the sorted set at `key` (or updates
    /// its score); true if it was new.
    pub fn zadd(
        &self,
        key: impl AsRef<[u8]>,
        score: f64,
        member: impl AsRef<[u8]>,
    ) -> Result<bool> {
        let score = score.to_string();
        Ok(integer(self.run(&[b"ZADD", key.as_ref(), score.as_bytes(), member.as_ref()])?)? == 1)
    }

    /// The score of `member` in the sorted set at `key`.
    pub fn zscore(&self, key: impl AsRef<[u8]>, member: impl AsRef<[u8]>) -> Result<Option<f64>> {
        optional_bulk(self.run(&[b"ZSCORE", key.as_ref(), member.as_ref()])?)?
            .map(|text| parse_score(&text))
            .transpose()
    }

    /// The sorted set at `key`, lowest score first, with the scores.
    pub fn zrange(&self, key: impl AsRef<[u8]>) -> Result<Vec<(Vec<u8>, f64)>> {
        let flat = bulks(self.run(&[b"ZRANGE", key.as_ref(), b"0", b"-1", b"WITHSCORES"])?)?;
        flat.chunks_exact(2)
            .map(|pair| Ok((pair[0].clone(), parse_score(&pair[1])?)))
            .collect()
    }

    /// `command key values...`, answered with a count.
    fn many<V: AsRef<[u8]>>(
        &self,
        command: &[u8],
        key: &[u8],
        values: impl IntoIterator<Item = V>,
    ) -> Result<u64> {
        let values: Vec<V> = values.into_iter().collect();
        let mut args: Vec<&[u8]> = vec![command, key];
        args.extend(values.iter().map(AsRef::as_ref));
        Ok(integer(self.run(&args)?)? as u64)
    }
}

/// `+OK`, or the reply as an error.
pub(super) fn expect_ok(reply: Frame) -> Result<()> {
    match reply {
        Frame::Simple(ok) if ok == b"OK" => Ok(()),
        other => Err(unexpected(&other)),
    }
}

fn unexpected(reply: &Frame) -> ReplyError {
    match reply {
        Frame::Error(text) => ReplyError(String::from_utf8_lossy(text).into_owned()),
        other => ReplyError(format!("unexpected reply: {other:?}")),
    }
}

fn integer(reply: Frame) -> Result<i64> {
    match reply {
        Frame::Integer(n) => Ok(n),
        other => Err(unexpected(&other)),
    }
}

fn optional_bulk(reply: Frame) -> Result<Option<Vec<u8>>> {
    match reply {
        Frame::Bulk(bytes) => Ok(Some(bytes)),
        Frame::NullBulk | Frame::Null => Ok(None),
        other => Err(unexpected(&other)),
    }
}

fn bulks(reply: Frame) -> Result<Vec<Vec<u8>>> {
    match reply {
        Frame::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Frame::Bulk(bytes) => Ok(bytes),
                other => Err(unexpected(&other)),
            })
            .collect(),
        other => Err(unexpected(&other)),
    }
}

fn parse_score(text: &[u8]) -> Result<f64> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| match t {
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            t => t.parse().ok(),
        })
        .ok_or_else(|| ReplyError(format!("not a score: {}", String::from_utf8_lossy(text))))
}
