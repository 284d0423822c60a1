//! Saving the keyspace to an RDB file and loading it back.
//!
//! A save marks a point-in-time snapshot (see `Keyspace::begin_snapshot`:
//! shards copy themselves before their first change after the mark), then
//! streams it shard by shard into a temporary file in the target directory,
//! fsyncs it, renames it over the dump and fsyncs the directory: at every
//! moment the dump on disk is either the old one or the new one, whole.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::rdb::{AuxValue, Decoder, Encoder, Encodings, Item, RdbError};
use crate::store::keyspace::SHARDS;
use crate::store::{Detached, Keyspace, LockPlan, LockSet, Mode};

/// Where and how to write a dump.
#[derive(Debug, Clone)]
pub struct SaveOptions {
    pub path: PathBuf,
    /// `rdbcompression`
    pub compress: bool,
    /// `rdbchecksum`
    pub checksum: bool,
    /// Reported in the `used-mem` aux field.
    pub used_memory: u64,
    /// The FUNCTION libraries' code, saved ahead of the keys as in Redis.
    pub functions: Vec<Vec<u8>>,
    /// For a full sync: the database the replication stream has selected
    /// at the snapshot point (the `repl-stream-db` aux field), where the
    /// replica applies the stream until it selects another.
    pub stream_db: Option<usize>,
}

/// What a save wrote.
#[derive(Debug, Clone, Copy)]
pub struct SaveReport {
    pub keys: usize,
    pub bytes: u64,
}

/// Takes a snapshot and writes it to `opts.path` atomically. Only one
/// snapshot may be in progress at a time (the caller serializes saves).
pub fn save(ks: &Keyspace, opts: &SaveOptions) -> io::Result<SaveReport> {
    save_with(ks, opts, || {})
}

/// [`save`], running `at_mark` at the snapshot point with every shard locked
/// (see `Keyspace::begin_snapshot_with`).
pub fn save_with(
    ks: &Keyspace,
    opts: &SaveOptions,
    at_mark: impl FnOnce(),
) -> io::Result<SaveReport> {
    let counts = ks.begin_snapshot_with(at_mark);
    let temp = temp_path(&opts.path);
    let result = write_file(ks, &counts, opts, &temp);
    if result.is_err() {
        ks.cancel_snapshot();
        let _ = fs::remove_file(&temp);
        return result;
    }
    if let Err(err) = fs::rename(&temp, &opts.path) {
        let _ = fs::remove_file(&temp);
        return Err(err);
    }
    sync_dir(&opts.path);
    result
}

fn temp_path(target: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = format!("temp-{}-{n}.rdb", std::process::id());
    match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(name),
        _ => PathBuf::from(name),
    }
}

fn write_file(
    ks: &Keyspace,
    counts: &[(usize, usize)],
    opts: &SaveOptions,
    temp: &Path,
) -> io::Result<SaveReport> {
    let file = OpenOptions::new().write(true).create_new(true).open(temp)?;
    let (out, keys) = write_snapshot(ks, Some(counts), opts, BufWriter::with_capacity(1 << 20, file))?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    let bytes = file.metadata()?.len();
    Ok(SaveReport { keys, bytes })
}

/// A snapshot as RDB bytes in memory: what a replica asking for the RDB
/// alone receives (`REPLCONF rdb-only`, `redis-cli --rdb`). Without
/// `with_data` only the header and the functions are written (Redis's
/// `rdb-filter-only functions`). Takes the snapshot point itself; the
/// caller serializes snapshots, as for [`save`].
pub fn save_to_bytes(ks: &Keyspace, opts: &SaveOptions, with_data: bool) -> io::Result<Vec<u8>> {
    if !with_data {
        return Ok(write_snapshot(ks, None, opts, Vec::new())?.0);
    }
    let counts = ks.begin_snapshot_with(|| {});
    let result = write_snapshot(ks, Some(&counts), opts, Vec::new());
    if result.is_err() {
        ks.cancel_snapshot();
    }
    Ok(result?.0)
}

/// A snapshot marked and not written yet: a replica's full sync marks it
/// (registering the replica at that point, so that it receives every write
/// after it), then streams it wherever the transfer goes. Dropped unwritten,
/// it is cancelled.
pub struct Marked<'a> {
    ks: &'a Keyspace,
    counts: Vec<(usize, usize)>,
    written: bool,
}

/// Marks a point-in-time snapshot, running `at_mark` at that point with
/// every shard locked. The caller serializes snapshots, as for [`save`].
pub fn mark<'a>(ks: &'a Keyspace, at_mark: impl FnOnce()) -> Marked<'a> {
    let counts = ks.begin_snapshot_with(at_mark);
    Marked {
        ks,
        counts,
        written: false,
    }
}

impl Marked<'_> {
    /// Writes the snapshot as RDB to `out`; returns it flushed, with the
    /// number of keys written.
    /// Without `with_data`, only the header and the functions are written
    /// (a replica's `rdb-filter-only`).
    pub fn write_to<W: io::Write>(
        mut self,
        opts: &SaveOptions,
        out: W,
        with_data: bool,
    ) -> io::Result<(W, usize)> {
        if !with_data {
            // Dropping the mark cancels the snapshot.
            return write_snapshot(self.ks, None, opts, out);
        }
        self.written = true;
        let result = write_snapshot(self.ks, Some(&self.counts), opts, out);
        if result.is_err() {
            self.ks.cancel_snapshot();
        }
        result
    }
}

impl Drop for Marked<'_> {
    fn drop(&mut self) {
        if !self.written {
            self.ks.cancel_snapshot();
        }
    }
}

/// Writes the header, the functions and (given the marked snapshot's
/// per-database counts) every key to `out`; returns it flushed, with the
/// number of keys written.
fn write_snapshot<W: io::Write>(
    ks: &Keyspace,
    counts: Option<&[(usize, usize)]>,
    opts: &SaveOptions,
    out: W,
) -> io::Result<(W, usize)> {
    let mut enc = Encoder::new(out, opts.compress, opts.checksum);
    let ctime = crate::clock::unix_ms() / 1000;
    let mut aux = vec![
        ("redis-ver", AuxValue::Str(crate::REDIS_VERSION.to_string())),
        ("redis-bits", AuxValue::Int(64)),
        ("ctime", AuxValue::Int(ctime)),
        ("used-mem", AuxValue::Int(opts.used_memory as i64)),
    ];
    if let Some(db) = opts.stream_db {
        aux.push(("repl-stream-db", AuxValue::Int(db as i64)));
    }
    aux.push(("aof-base", AuxValue::Int(0)));
    enc.header(&aux)?;
    for code in &opts.functions {
        enc.function(code)?;
    }
    let mut keys = 0;
    for (db, &(size, volatile)) in counts.unwrap_or_default().iter().enumerate() {
        let slots = db * SHARDS..(db + 1) * SHARDS;
        if size == 0 {
            // Nothing to write, but the shards still leave the snapshot.
            for slot in slots {
                ks.take_snapshot(slot);
            }
            continue;
        }
        enc.select_db(db, size, volatile)?;
        for slot in slots {
            for (key, entry) in ks.take_snapshot(slot) {
                enc.key_value(key.as_bytes(), &entry.value, entry.expire_at)?;
                keys += 1;
            }
        }
    }
    let mut out = enc.finish()?;
    out.flush()?;
    Ok((out, keys))
}

/// Makes a rename durable: fsync the directory holding the file.
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// What a load read.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub keys: usize,
    /// Keys skipped because they had already expired.
    pub expired: usize,
    /// The FUNCTION libraries' code, for the caller to load.
    pub functions: Vec<Vec<u8>>,
    /// The `repl-stream-db` aux field, if the dump has one.
    pub stream_db: Option<usize>,
}

/// Loads a dump into an empty keyspace. `Ok(None)` if the file does not
/// exist (a fresh start); any error means the file is unusable and the
/// server must not start over it.
pub fn load(
    ks: &Keyspace,
    path: &Path,
    encodings: Encodings,
) -> Result<Option<LoadReport>, RdbError> {
    let mut plan = LockPlan::new();
    plan.add_all(ks, Mode::Write);
    let mut locks = ks.lock(&plan);
    load_locked(&mut locks, path, encodings)
}

/// [`load`] with every shard already write-locked by the caller (DEBUG
/// RELOAD empties the keyspace and loads under one set of locks, so no
/// client sees it half loaded). Keys already present are replaced.
pub fn load_locked(
    locks: &mut LockSet<'_>,
    path: &Path,
    encodings: Encodings,
) -> Result<Option<LoadReport>, RdbError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(RdbError::Io(err)),
    };
    load_from(locks, BufReader::with_capacity(1 << 20, file), encodings).map(Some)
}

/// Loads a dump held in memory, with every shard already write-locked by
/// the caller, as [`load_locked`] loads a file.
pub fn load_bytes_locked(
    locks: &mut LockSet<'_>,
    dump: &[u8],
    encodings: Encodings,
) -> Result<LoadReport, RdbError> {
    load_from(locks, dump, encodings)
}

/// Reads a dump from `input` into the locked keyspace. Keys whose deadline
/// has passed by the server's clock are skipped, as Redis skips them.
fn load_from<R: io::Read>(
    locks: &mut LockSet<'_>,
    input: R,
    encodings: Encodings,
) -> Result<LoadReport, RdbError> {
    let ks = locks.keyspace();
    let mut decoder = Decoder::new(input)?.with_encodings(encodings);
    let now = ks.clock.unix_ms();
    let mut report = LoadReport::default();
    let mut db = 0;
    while let Some(item) = decoder.next_item()? {
        match item {
            Item::SelectDb(n) => {
                if n >= ks.databases() {
                    return Err(RdbError::Corrupt(format!(
                        "the dump uses database {n} but only {} are configured (databases)",
                        ks.databases()
                    )));
                }
                db = n;
            }
            Item::Key {
                key,
                value,
                expire_at,
            } => {
                if expire_at.is_some_and(|at| at <= now) {
                    report.expired += 1;
                    continue;
                }
                locks
                    .db(db, now)
                    .insert_entry(&key, Detached::new(value, expire_at));
                report.keys += 1;
            }
            Item::Function(code) => report.functions.push(code),
            Item::Aux { key, value } if key == b"repl-stream-db" => {
                report.stream_db = std::str::from_utf8(&value)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .filter(|&db: &usize| db < ks.databases());
            }
            Item::Aux { .. } | Item::ResizeDb { .. } => {}
        }
    }
    Ok(report)
}

/// Times a closure, for log lines like Redis's "DB saved on disk".
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{StrValue, Value};

    fn dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sedis-snapshot-{}-{}",
            std::process::id(),
            crate::clock::unix_us()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn save_then_load_restores_keys_databases_and_ttls() {
        let dir = dir();
        let path = dir.join("dump.rdb");
        let ks = Keyspace::new(4);
        {
            let mut plan = LockPlan::new();
            plan.add_all(&ks, Mode::Write);
            let mut locks = ks.lock(&plan);
            let now = crate::clock::unix_ms();
            for i in 0..500 {
                let v = Value::Str(StrValue::from_slice(format!("v{i}").as_bytes()));
                locks.db(i % 4, now).set(format!("k{i}").as_bytes(), v);
            }
            let v = Value::Str(StrValue::from_slice(b"soon"));
            locks
                .db(0, now)
                .set_with_expire(b"ttl", v, Some(now + 60_000));
            let v = Value::Str(StrValue::from_slice(b"gone"));
            locks.db(0, now).set_with_expire(b"past", v, Some(now + 30));
        }
        let opts = SaveOptions {
            path: path.clone(),
            compress: true,
            checksum: true,
            used_memory: 0,
            functions: vec![
                b"#!lua name=lib\nredis.register_function('f', function() end)".to_vec(),
            ],
            stream_db: None,
        };
        let report = save(&ks, &opts).unwrap();
        assert_eq!(report.keys, 502);
        assert!(
            fs::read_dir(&dir).unwrap().count() == 1,
            "no temp file left"
        );
        std::thread::sleep(std::time::Duration::from_millis(40));
        let fresh = Keyspace::new(4);
        let loaded = load(&fresh, &path, Encodings::default()).unwrap().unwrap();
        assert_eq!((loaded.keys, loaded.expired), (501, 1));
        for db in 0..4 {
            assert_eq!(fresh.db_size(db), if db == 0 { 126 } else { 125 });
        }
        assert!(
            load(&Keyspace::new(1), &path, Encodings::default()).is_err(),
            "too few databases"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_dump_is_a_fresh_start_and_a_corrupt_one_an_error() {
        let dir = dir();
        let ks = Keyspace::new(1);
        assert!(
            load(&ks, &dir.join("none.rdb"), Encodings::default())
                .unwrap()
                .is_none()
        );
        fs::write(dir.join("bad.rdb"), b"REDIS0010\xfe\x00garbage").unwrap();
        assert!(load(&ks, &dir.join("bad.rdb"), Encodings::default()).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
