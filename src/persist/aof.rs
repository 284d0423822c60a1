//! The append-only file, in Redis 7.0's multi-part layout:
//!
//! ```text
//! <dir>/appendonlydir/
//!     appendonly.aof.1.base.rdb     a snapshot (RDB format) ...
//!     appendonly.aof.1.incr.aof     ... then every write since, as RESP
//!     appendonly.aof.manifest       which files make up the AOF, in order
//! ```
//!
//! This module owns the files and the bytes: [`Manifest`] (reading and
//! writing Redis's manifest format), [`AofLog`] (the append buffer and the
//! current incr file, with group-committed writes and the three fsync
//! policies) and [`read_commands`] (parsing a file back into commands,
//! tolerating a truncated last command as `aof-load-truncated yes` does).
//! What gets logged, and when, is decided by the command layer.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex};

use crate::resp::{Frame, Limits, RequestParser};

/// `appendfsync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// fsync before acknowledging each write.
    Always,
    /// fsync once a second from a background thread.
    EverySec,
    /// Leave it to the operating system.
    No,
}

impl FsyncPolicy {
    /// The names in Redis's order, with the policy's discriminant.
    pub const NAMES: &'static [(&'static str, u32)] = &[
        ("everysec", FsyncPolicy::EverySec as u32),
        ("always", FsyncPolicy::Always as u32),
        ("no", FsyncPolicy::No as u32),
    ];

    /// Every policy, in discriminant order.
    pub const ALL: [FsyncPolicy; 3] = [FsyncPolicy::Always, FsyncPolicy::EverySec, FsyncPolicy::No];

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, p)| *p == self as u32)
            .map_or("everysec", |(n, _)| n)
    }
}

/// A file listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: u64,
    pub kind: FileKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Base,
    History,
    Incr,
}

/// The manifest: which files make up the AOF, base first, then incr files
/// in the order they were written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub incrs: Vec<AofFile>,
}

impl Manifest {
    /// Parses Redis's format: `file <name> seq <n> type <b|h|i>` per line.
    pub fn parse(text: &str) -> io::Result<Manifest> {
        let bad = |line: &str| io::Error::other(format!("invalid AOF manifest line: {line:?}"));
        let mut manifest = Manifest::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in words.chunks(2) {
                match pair {
                    ["file", v] => name = Some(v.to_string()),
                    ["seq", v] => seq = v.parse::<u64>().ok(),
                    ["type", "b"] => kind = Some(FileKind::Base),
                    ["type", "h"] => kind = Some(FileKind::History),
                    ["type", "i"] => kind = Some(FileKind::Incr),
                    _ => {} // unknown keys are ignored, as Redis does
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(bad(line));
            };
            if name.contains('/') {
                return Err(bad(line));
            }
            let file = AofFile { name, seq, kind };
            match kind {
                FileKind::Base => manifest.base = Some(file),
                FileKind::Incr => manifest.incrs.push(file),
                FileKind::History => {} // already superseded; nothing to load
            }
        }
        Ok(manifest)
    }

    pub fn format(&self) -> String {
        let mut out = String::new();
        let mut line = |f: &AofFile| {
            let kind = match f.kind {
                FileKind::Base => "b",
                FileKind::History => "h",
                FileKind::Incr => "i",
            };
            out.push_str(&format!("file {} seq {} type {kind}\n", f.name, f.seq));
        };
        if let Some(base) = &self.base {
            line(base);
        }
        for incr in &self.incrs {
            line(incr);
        }
        out
    }

    /// Every file, base first.
    pub fn files(&self) -> impl Iterator<Item = &AofFile> {
        self.base.iter().chain(self.incrs.iter())
    }

    fn next_seq(&self, kind: FileKind) -> u64 {
        self.files()
            .filter(|f| f.kind == kind)
            .map(|f| f.seq)
            .max()
            .unwrap_or(0)
            + 1
    }
}

/// Where the AOF lives: `dir/dirname/` and the files' common prefix.
#[derive(Debug, Clone)]
pub struct AofPaths {
    pub dir: PathBuf,
    /// `appendfilename`, the prefix of every file name.
    pub filename: String,
}

impl AofPaths {
    pub fn manifest(&self) -> PathBuf {
        self.dir.join(format!("{}.manifest", self.filename))
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A new base file's name.
    pub fn base_name(&self, seq: u64) -> String {
        format!("{}.{seq}.base.rdb", self.filename)
    }

    /// A new incr file's name.
    pub fn incr_name(&self, seq: u64) -> String {
        format!("{}.{seq}.incr.aof", self.filename)
    }

    /// Reads the manifest, or `None` if there is no AOF yet.
    pub fn read_manifest(&self) -> io::Result<Option<Manifest>> {
        match fs::read_to_string(self.manifest()) {
            Ok(text) => Manifest::parse(&text).map(Some),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Writes the manifest atomically (temp file, fsync, rename, fsync dir).
    pub fn write_manifest(&self, manifest: &Manifest) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let temp = self.dir.join(format!("temp-{}.manifest", self.filename));
        let mut file = File::create(&temp)?;
        file.write_all(manifest.format().as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, self.manifest())?;
        sync_dir(&self.dir);
        Ok(())
    }

    /// The next base and incr sequence numbers after `manifest`.
    pub fn next_names(&self, manifest: &Manifest) -> (AofFile, AofFile) {
        let base_seq = manifest.next_seq(FileKind::Base);
        let incr_seq = manifest.next_seq(FileKind::Incr);
        (
            AofFile {
                name: self.base_name(base_seq),
                seq: base_seq,
                kind: FileKind::Base,
            },
            AofFile {
                name: self.incr_name(incr_seq),
                seq: incr_seq,
                kind: FileKind::Incr,
            },
        )
    }
}

pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// One command to log, and the database it ran in (`None` for commands that
/// are not tied to one, such as FLUSHALL).
pub struct Logged<'a> {
    pub db: Option<usize>,
    pub argv: &'a [Vec<u8>],
}

/// The log: commands are appended to a buffer while the writer still holds
/// its shard locks (so the file orders commands on one key exactly as they
/// ran); the buffer reaches the file before the writer acknowledges
/// anything ([`AofLog::sync_for_reply`]), one writer writing for all that
/// wait (group commit).
pub struct AofLog {
    state: Mutex<LogState>,
    written: Condvar,
    /// Fast check for "logging is on" on every write command.
    enabled: AtomicBool,
    /// The last write to the file failed (MISCONF).
    pub write_failed: AtomicBool,
    /// Why it failed, as `strerror` words it (MISCONF's text).
    last_write_error: Mutex<String>,
    /// Bytes appended since start (`aof_current_size` grows with it).
    pub appended: AtomicU64,
    /// Fsyncs are left to the operating system for now
    /// (`no-appendfsync-on-rewrite` while a rewrite runs).
    pub fsync_paused: AtomicBool,
    /// Writes fail as on a full disk (an embedding program's injected
    /// fault), until cleared.
    pub disk_full: AtomicBool,
    /// The replication stream: everything appended here is fed to it too,
    /// in the same call, so both see one key's writes in the same order.
    pub replication: super::replication::Replication,
}

struct LogState {
    /// Encoded commands not yet written to the file.
    buffer: Vec<u8>,
    /// The database the last logged command ran in.
    db: Option<usize>,
    /// The incr file being appended to.
    file: Option<File>,
    /// Offsets (bytes since start): appended to the buffer, written to the
    /// file, and fsynced.
    appended: u64,
    written: u64,
    synced: u64,
    /// A writer is writing the buffer out right now.
    writing: bool,
    policy: FsyncPolicy,
}

impl Default for AofLog {
    fn default() -> Self {
        AofLog {
            state: Mutex::new(LogState {
                buffer: Vec::new(),
                db: None,
                file: None,
                appended: 0,
                written: 0,
                synced: 0,
                writing: false,
                policy: FsyncPolicy::EverySec,
            }),
            written: Condvar::new(),
            enabled: AtomicBool::new(false),
            write_failed: AtomicBool::new(false),
            last_write_error: Mutex::new(String::new()),
            appended: AtomicU64::new(0),
            fsync_paused: AtomicBool::new(false),
            disk_full: AtomicBool::new(false),
            replication: Default::default(),
        }
    }
}

impl AofLog {
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// True if writes must be propagated at all: to the file, or to the
    /// replication stream.
    #[inline]
    pub fn is_wanted(&self) -> bool {
        self.is_enabled() || self.replication.is_active()
    }

    /// Starts logging to `file` (an open incr file); commands from now on
    /// are appended to it. The first command logged selects its database.
    pub fn start(&self, file: File, policy: FsyncPolicy) {
        let mut state = self.state.lock();
        state.file = Some(file);
        state.db = None;
        state.policy = policy;
        self.enabled.store(true, Ordering::Release);
    }

    /// Stops logging (appendonly no). Pending bytes are written first.
    pub fn stop(&self) -> io::Result<()> {
        let result = self.sync_all();
        let mut state = self.state.lock();
        self.enabled.store(false, Ordering::Release);
        state.file = None;
        state.buffer.clear();
        state.written = state.appended;
        state.synced = state.appended;
        result
    }

    pub fn set_policy(&self, policy: FsyncPolicy) {
        self.state.lock().policy = policy;
    }

    /// Switches to a new incr file (a rewrite's snapshot point): everything
    /// appended so far goes to the old file, everything after to `file`.
    /// Called while every shard is locked, so no command straddles the switch.
    pub fn rotate(&self, file: File) -> io::Result<()> {
        self.sync_all()?;
        let mut state = self.state.lock();
        if let Some(old) = state.file.replace(file) {
            old.sync_all()?;
        }
        state.db = None;
        Ok(())
    }

    /// Appends commands as one unit (a transaction's MULTI ... EXEC stays
    /// whole). Returns the offset the caller must see written before it
    /// replies, or `None` when logging is off.
    pub fn append(&self, commands: &[Logged<'_>]) -> Option<u64> {
        if commands.is_empty() {
            return None;
        }
        self.replication.feed(commands);
        if !self.is_enabled() {
            return None;
        }
        let mut state = self.state.lock();
        state.file.as_ref()?;
        let before = state.buffer.len();
        for cmd in commands {
            if let Some(db) = cmd.db
                && state.db != Some(db)
            {
                let db_arg = db.to_string().into_bytes();
                Frame::encode_request(&[b"SELECT".to_vec(), db_arg], &mut state.buffer);
                state.db = Some(db);
            }
            Frame::encode_request(cmd.argv, &mut state.buffer);
        }
        let added = (state.buffer.len() - before) as u64;
        state.appended += added;
        self.appended.fetch_add(added, Ordering::Relaxed);
        Some(state.appended)
    }

    /// Makes sure everything up to `offset` is in the file (and, with
    /// `appendfsync always`, on disk) before the caller acknowledges it.
    pub fn sync_for_reply(&self, offset: u64) -> io::Result<()> {
        let mut state = self.state.lock();
        loop {
            let durable = match state.policy {
                FsyncPolicy::Always if !self.fsync_paused.load(Ordering::Acquire) => state.synced,
                _ => state.written,
            };
            if durable >= offset {
                return Ok(());
            }
            if state.writing {
                // Someone is writing for all of us: wait for them.
                self.written.wait(&mut state);
                continue;
            }
            self.write_out(&mut state)?;
        }
    }

    /// Writes (and fsyncs) everything appended so far.
    pub fn sync_all(&self) -> io::Result<()> {
        let mut state = self.state.lock();
        while state.writing {
            self.written.wait(&mut state);
        }
        if state.file.is_none() {
            return Ok(());
        }
        self.write_out(&mut state)?;
        let synced_to = state.written;
        if let Some(file) = &state.file {
            file.sync_data()?;
        }
        state.synced = state.synced.max(synced_to);
        Ok(())
    }

    /// `appendfsync everysec`: called once a second.
    pub fn fsync_if_due(&self) -> io::Result<()> {
        if self.is_enabled()
            && !self.fsync_paused.load(Ordering::Acquire)
            && self.state.lock().policy == FsyncPolicy::EverySec
        {
            self.sync_all()?;
        }
        Ok(())
    }

    /// Writes the buffer out, releasing the lock during the I/O so others
    /// can keep appending; with `always`, fsyncs too.
    fn write_out(&self, state: &mut parking_lot::MutexGuard<'_, LogState>) -> io::Result<()> {
        let pending = std::mem::take(&mut state.buffer);
        let end = state.appended;
        let always =
            state.policy == FsyncPolicy::Always && !self.fsync_paused.load(Ordering::Acquire);
        let Some(mut file) = state.file.as_ref().map(File::try_clone).transpose()? else {
            return Ok(());
        };
        state.writing = true;
        let mut done = 0;
        let disk_full = self.disk_full.load(Ordering::Acquire);
        let result = parking_lot::MutexGuard::unlocked(state, || {
            if disk_full {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            let start_len = file.metadata()?.len();
            while done < pending.len() {
                match file.write(&pending[done..]) {
                    Ok(0) => {
                        return Err(io::Error::from(io::ErrorKind::WriteZero));
                    }
                    Ok(n) => done += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        // A partial write would leave half a command in the
                        // file, and writing it again later would corrupt
                        // the log: cut the file back, as Redis does. If
                        // even that fails, what reached the file stays and
                        // is not written twice.
                        if done > 0 && file.set_len(start_len).is_ok() {
                            done = 0;
                        }
                        return Err(e);
                    }
                }
            }
            if always {
                file.sync_data()?;
            }
            Ok::<_, io::Error>(())
        });
        state.writing = false;
        match &result {
            Ok(()) => {
                state.written = end;
                if always {
                    state.synced = end;
                }
                self.write_failed.store(false, Ordering::Release);
            }
            Err(err) => {
                // Keep the bytes not in the file: they go out with the next
                // successful write.
                let mut restored = pending[done.min(pending.len())..].to_vec();
                restored.extend_from_slice(&state.buffer);
                state.buffer = restored;
                state.written = end - (pending.len() - done.min(pending.len())) as u64;
                *self.last_write_error.lock() = crate::error::strerror(err);
                self.write_failed.store(true, Ordering::Release);
            }
        }
        self.written.notify_all();
        result
    }

    /// Why the last write failed (e.g. `No space left on device`).
    pub fn last_write_error(&self) -> String {
        self.last_write_error.lock().clone()
    }
}

/// Creates (or opens for appending) an incr file.
pub fn open_incr(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// What reading an AOF file found.
#[derive(Debug)]
pub struct ReadResult {
    pub commands: Vec<Vec<Vec<u8>>>,
    /// A truncated command at the end was dropped; the file is valid up to
    /// this many bytes.
    pub truncated_at: Option<u64>,
}

/// Parses an AOF file (or an AOF-format base) into commands. A command cut
/// off by the end of the file is reported in `truncated_at`; anything else
/// that is not valid RESP is an error.
pub fn read_commands(path: &Path) -> io::Result<ReadResult> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    parse_commands(&bytes)
}

/// [`read_commands`] on bytes already in memory.
pub fn parse_commands(bytes: &[u8]) -> io::Result<ReadResult> {
    let limits = Limits {
        max_bulk_len: i64::MAX,
        max_query_len: u64::MAX,
        unauthenticated: false,
    };
    let mut parser = RequestParser::new();
    let mut commands = Vec::new();
    let mut pos = 0;
    let mut last_complete = 0;
    while pos < bytes.len() {
        if bytes[pos] != b'*' && parser.is_idle() {
            return Err(io::Error::other(format!(
                "bad file format reading the append only file at offset {pos}"
            )));
        }
        let (used, request) = parser
            .advance(&bytes[pos..], &limits)
            .map_err(|e| io::Error::other(format!("bad AOF at offset {pos}: {e}")))?;
        pos += used;
        if let Some(argv) = request {
            last_complete = pos;
            if !argv.is_empty() {
                commands.push(argv);
            }
        }
    }
    let truncated_at = (last_complete < bytes.len()).then_some(last_complete as u64);
    Ok(ReadResult {
        commands,
        truncated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sedis-aof-{name}-{}-{}",
            std::process::id(),
            crate::clock::unix_us()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn manifests_round_trip_in_redis_format() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let manifest = Manifest::parse(text).unwrap();
        assert_eq!(manifest.format(), text);
        let paths = AofPaths {
            dir: PathBuf::from("/x"),
            filename: "appendonly.aof".into(),
        };
        let (base, incr) = paths.next_names(&manifest);
        assert_eq!(base.name, "appendonly.aof.2.base.rdb");
        assert_eq!(incr.name, "appendonly.aof.2.incr.aof");
        assert!(Manifest::parse("file x seq y type b\n").is_err());
        assert!(Manifest::parse("file ../x seq 1 type b\n").is_err());
    }

    #[test]
    fn appended_commands_select_their_database_and_read_back() {
        let dir = temp_dir("append");
        let path = dir.join("a.incr.aof");
        let log = AofLog::default();
        log.start(open_incr(&path).unwrap(), FsyncPolicy::Always);
        let set = vec![b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()];
        let flush = vec![b"FLUSHALL".to_vec()];
        let offset = log
            .append(&[
                Logged {
                    db: Some(0),
                    argv: &set,
                },
                Logged {
                    db: Some(0),
                    argv: &set,
                },
                Logged {
                    db: Some(3),
                    argv: &set,
                },
                Logged {
                    db: None,
                    argv: &flush,
                },
            ])
            .unwrap();
        log.sync_for_reply(offset).unwrap();
        let read = read_commands(&path).unwrap();
        let names: Vec<String> = read
            .commands
            .iter()
            .map(|c| {
                c.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(
            names,
            [
                "SELECT 0", "SET k v", "SET k v", "SELECT 3", "SET k v", "FLUSHALL"
            ]
        );
        assert!(read.truncated_at.is_none());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_truncated_last_command_is_reported_and_garbage_is_an_error() {
        let whole = b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        for cut in 15..whole.len() {
            let read = parse_commands(&whole[..cut]).unwrap();
            assert_eq!(read.commands.len(), 1, "cut {cut}");
            assert_eq!(read.truncated_at, Some(14), "cut {cut}");
        }
        assert!(parse_commands(b"*1\r\n$4\r\nPING\r\nhello\r\n").is_err());
    }

    #[test]
    fn concurrent_writers_group_commit() {
        let dir = temp_dir("group");
        let path = dir.join("g.incr.aof");
        let log = AofLog::default();
        log.start(open_incr(&path).unwrap(), FsyncPolicy::Always);
        std::thread::scope(|s| {
            for t in 0..4 {
                let log = &log;
                s.spawn(move || {
                    for i in 0..250 {
                        let argv = vec![
                            b"SET".to_vec(),
                            format!("k{t}:{i}").into_bytes(),
                            b"v".to_vec(),
                        ];
                        let offset = log
                            .append(&[Logged {
                                db: Some(0),
                                argv: &argv,
                            }])
                            .unwrap();
                        log.sync_for_reply(offset).unwrap();
                    }
                });
            }
        });
        let read = read_commands(&path).unwrap();
        assert_eq!(
            read.commands.len(),
            1000 + 1,
            "every command (and one SELECT)"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
