//! When and how the server keeps its append-only file: reading it at start
//! (it wins over the RDB dump, as in Redis; its commands are replayed by the
//! caller, through the dispatcher), rewriting it (BGREWRITEAOF, when CONFIG
//! SET appendonly yes turns it on, and when it has grown), the `everysec`
//! fsync, and making sure a write is in the file before its reply goes out.
//! The files and bytes are [`crate::persist::aof`]'s; commands decide what
//! is logged.

use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::clock::unix_ms;
use crate::persist::aof::{
    self, AofFile, AofLog, AofPaths, FileKind, FsyncPolicy, Logged, Manifest,
};
use crate::persist::snapshot::{self, SaveOptions};

use super::State;
use super::session::Session;

/// The append-only file's state.
pub struct AofState {
    /// The log commands append to (shared with the keyspace's expiry hook).
    pub log: Arc<AofLog>,
    /// The files currently making up the AOF.
    manifest: Mutex<Option<Manifest>>,
    pub rewrite_in_progress: AtomicBool,
    pub last_rewrite_ok: AtomicBool,
    /// A rewrite is waiting for the saver thread.
    pub rewrite_requested: AtomicBool,
    /// Unix seconds of the last fsync by the `everysec` policy.
    last_fsync: AtomicI64,
    /// Completed rewrites (`aof_rewrites`), and consecutive failures.
    pub rewrites: AtomicU64,
    pub rewrite_failures: AtomicU64,
    /// Seconds the last rewrite took, or -1 (`aof_last_rewrite_time_sec`).
    pub last_rewrite_secs: AtomicI64,
    /// When the running rewrite started (unix ms), or -1.
    pub rewrite_started_ms: AtomicI64,
    /// The AOF's size in bytes after the last rewrite (or at load): what
    /// `auto-aof-rewrite-percentage` measures growth against.
    pub base_size: AtomicU64,
    /// The size on disk at that moment, and the log's byte count then:
    /// the current size is the former plus what was appended since.
    size_at_base: AtomicU64,
    appended_at_base: AtomicU64,
}

impl Default for AofState {
    fn default() -> Self {
        AofState {
            log: Arc::new(AofLog::default()),
            manifest: Mutex::new(None),
            rewrite_in_progress: AtomicBool::new(false),
            last_rewrite_ok: AtomicBool::new(true),
            rewrite_requested: AtomicBool::new(false),
            last_fsync: AtomicI64::new(0),
            rewrites: AtomicU64::new(0),
            rewrite_failures: AtomicU64::new(0),
            last_rewrite_secs: AtomicI64::new(-1),
            rewrite_started_ms: AtomicI64::new(-1),
            base_size: AtomicU64::new(0),
            size_at_base: AtomicU64::new(0),
            appended_at_base: AtomicU64::new(0),
        }
    }
}

impl AofState {
    /// The AOF's current size (base and incr files), as INFO's
    /// `aof_current_size` reports it.
    pub fn current_size(&self) -> u64 {
        let appended = self.log.appended.load(Ordering::Relaxed);
        self.size_at_base.load(Ordering::Relaxed)
            + appended.saturating_sub(self.appended_at_base.load(Ordering::Relaxed))
    }

    /// Takes the files of `manifest` as the new base of growth.
    fn measure_base(&self, paths: &AofPaths, manifest: &Manifest) {
        let size: u64 = manifest
            .files()
            .filter_map(|f| fs::metadata(paths.file(&f.name)).ok())
            .map(|m| m.len())
            .sum();
        self.appended_at_base
            .store(self.log.appended.load(Ordering::Relaxed), Ordering::Relaxed);
        self.size_at_base.store(size, Ordering::Relaxed);
        self.base_size.store(size, Ordering::Relaxed);
    }
}

pub fn paths(state: &State) -> AofPaths {
    let config = state.config();
    AofPaths {
        dir: PathBuf::from(&config.dir).join(&config.appenddirname),
        filename: config.appendfilename.clone(),
    }
}

/// Hooks the keyspace's expiry into the log: an expired key is logged as a
/// DEL, so a replay never resurrects it.
pub fn install_expire_hook(state: &State) {
    let log = state.aof.log.clone();
    state.keyspace().add_expire_hook(Box::new(move |db, key| {
        let argv = vec![b"DEL".to_vec(), key.to_vec()];
        log.append(&[Logged {
            db: Some(db),
            argv: &argv,
        }]);
    }));
}

/// Before a client's replies are sent: its writes must be in the file (and
/// with `appendfsync always`, on disk).
pub fn sync_for_reply(state: &State, client: &Session) -> io::Result<()> {
    let log = &state.aof.log;
    if client.aof_offset > 0 && log.is_enabled() {
        log.sync_for_reply(client.aof_offset)?;
    }
    Ok(())
}

/// Loads the AOF at start-up when `appendonly yes`, handing the commands of
/// each file to `replay`. Returns false when the AOF is off (the caller then
/// loads the RDB dump instead).
pub fn load_at_startup(
    state: &State,
    mut replay: impl FnMut(Vec<Vec<Vec<u8>>>) -> io::Result<()>,
) -> io::Result<bool> {
    if !state.config().appendonly {
        return Ok(false);
    }
    let paths = paths(state);
    let started = unix_ms();
    let Some(manifest) = paths.read_manifest()? else {
        // No AOF yet: start one from the (empty) dataset.
        rewrite(state)?;
        return Ok(true);
    };
    let last_incr = manifest.incrs.last().map(|f| f.name.clone());
    let mut commands = 0;
    for file in manifest.files() {
        let path = paths.file(&file.name);
        if file.kind == FileKind::Base && file.name.ends_with(".rdb") {
            let report = snapshot::load(
                state.keyspace(),
                &path,
                super::saving::load_encodings(state),
            )
            .map_err(|e| io::Error::other(format!("can't load '{}': {e}", path.display())))?;
            if let Some(report) = report {
                super::saving::restore_functions(state, &report.functions)?;
            }
            continue;
        }
        let read = aof::read_commands(&path)
            .map_err(|e| io::Error::other(format!("can't load '{}': {e}", path.display())))?;
        if let Some(valid) = read.truncated_at {
            let is_last = Some(&file.name) == last_incr.as_ref();
            if !is_last || !state.config().aof_load_truncated {
                return Err(io::Error::other(format!(
                    "Bad file format reading the append only file '{}': truncated at {valid} bytes \
                     (set aof-load-truncated yes to load what is complete)",
                    path.display()
                )));
            }
            state.log.warning(&format!(
                "!!! Warning: short read while loading the AOF file {}!!!",
                file.name
            ));
            state.log.warning(&format!(
                "AOF {} loaded anyway because aof-load-truncated is enabled; truncating it to {valid} bytes",
                file.name
            ));
            fs::OpenOptions::new()
                .write(true)
                .open(&path)?
                .set_len(valid)?;
        }
        commands += read.commands.len();
        replay(read.commands)?;
    }
    // Keep appending to the last incr file.
    let incr = match manifest.incrs.last() {
        Some(incr) => incr.clone(),
        None => AofFile {
            name: paths.incr_name(1),
            seq: 1,
            kind: FileKind::Incr,
        },
    };
    let mut manifest = manifest;
    if manifest.incrs.is_empty() {
        manifest.incrs.push(incr.clone());
        paths.write_manifest(&manifest)?;
    }
    let file = aof::open_incr(&paths.file(&incr.name))?;
    state.aof.log.start(file, state.config().appendfsync);
    state.aof.measure_base(&paths, &manifest);
    *state.aof.manifest.lock() = Some(manifest);
    state.log.notice(&format!(
        "DB loaded from append only file: {:.3} seconds ({commands} commands)",
        (unix_ms() - started) as f64 / 1000.0
    ));
    Ok(true)
}

/// Rewrites the AOF: a snapshot becomes the new base (RDB format), and from
/// the snapshot point on, writes go to a new incr file. The manifest switches
/// to the new files only once the base is safely on disk; old files are then
/// removed. Starts logging if `appendonly yes` and it was not on yet (start-up
/// without an AOF, CONFIG SET appendonly yes).
pub fn rewrite(state: &State) -> io::Result<()> {
    let aof = &state.aof;
    // In progress before no longer requested: an observer never sees a
    // moment where neither is set.
    aof.rewrite_in_progress.store(true, Ordering::Release);
    aof.rewrite_requested.store(false, Ordering::Release);
    let started = unix_ms();
    aof.rewrite_started_ms.store(started, Ordering::Relaxed);
    // no-appendfsync-on-rewrite: the rewrite's own writes would make
    // fsyncs of the log slow; leave them to the operating system meanwhile.
    let pause = state.config().no_appendfsync_on_rewrite;
    aof.log.fsync_paused.store(pause, Ordering::Release);
    let result = rewrite_locked(state);
    aof.log.fsync_paused.store(false, Ordering::Release);
    aof.last_rewrite_secs
        .store((unix_ms() - started) / 1000, Ordering::Relaxed);
    aof.rewrite_started_ms.store(-1, Ordering::Relaxed);
    if result.is_ok() {
        aof.rewrites.fetch_add(1, Ordering::Relaxed);
        aof.rewrite_failures.store(0, Ordering::Relaxed);
    } else {
        aof.rewrite_failures.fetch_add(1, Ordering::Relaxed);
    }
    aof.last_rewrite_ok.store(result.is_ok(), Ordering::Release);
    aof.rewrite_in_progress.store(false, Ordering::Release);
    match &result {
        Ok(()) => state
            .log
            .notice("Background AOF rewrite finished successfully"),
        Err(err) => state.log.warning(&format!("AOF rewrite failed: {err}")),
    }
    result
}

fn rewrite_locked(state: &State) -> io::Result<()> {
    let _saving = state.rdb.saving_lock();
    let aof = &state.aof;
    let paths = paths(state);
    fs::create_dir_all(&paths.dir)?;
    let current = aof
        .manifest
        .lock()
        .clone()
        .or(paths.read_manifest()?)
        .unwrap_or_default();
    let (base, incr) = paths.next_names(&current);
    let incr_file = aof::open_incr(&paths.file(&incr.name))?;
    let (policy, wanted) = {
        let config = state.config();
        (config.appendfsync, config.appendonly)
    };
    let mut opts = super::saving::save_options(state);
    opts = SaveOptions {
        path: paths.file(&base.name),
        ..opts
    };
    let log = &aof.log;
    let mut switch_error = None;
    let saved = snapshot::save_with(state.keyspace(), &opts, || {
        // Every shard is locked: from here on, writes go to the new incr file.
        if log.is_enabled() {
            if let Err(err) = log.rotate(incr_file) {
                switch_error = Some(err);
            }
        } else if wanted {
            log.start(incr_file, policy);
        }
        // With appendonly no (BGREWRITEAOF on its own), the files are
        // written but nothing is logged.
    });
    if let Some(err) = switch_error {
        return Err(err);
    }
    let new_manifest = match saved {
        Ok(_) => Manifest {
            base: Some(base),
            incrs: vec![incr],
        },
        Err(err) => {
            // The writes since the snapshot point are in the new incr file:
            // keep it listed after the old files so nothing is lost.
            let mut kept = current;
            kept.incrs.push(incr);
            paths.write_manifest(&kept)?;
            *aof.manifest.lock() = Some(kept);
            return Err(err);
        }
    };
    paths.write_manifest(&new_manifest)?;
    aof.measure_base(&paths, &new_manifest);
    for old in current.files() {
        if !new_manifest.files().any(|f| f.name == old.name) {
            let _ = fs::remove_file(paths.file(&old.name));
        }
    }
    *aof.manifest.lock() = Some(new_manifest);
    Ok(())
}

/// CONFIG SET appendonly no: stop logging (the files stay).
pub fn disable(state: &State) -> io::Result<()> {
    state.aof.log.stop()
}

/// Redis's automatic rewrite: once the AOF is at least
/// `auto-aof-rewrite-min-size` and has grown `auto-aof-rewrite-percentage`
/// percent past its size after the last rewrite, the saver rewrites it.
pub fn rewrite_due(state: &State) -> bool {
    let aof = &state.aof;
    if !aof.log.is_enabled()
        || aof.rewrite_in_progress.load(Ordering::Acquire)
        || aof.rewrite_requested.load(Ordering::Acquire)
    {
        return false;
    }
    let (percentage, min_size) = {
        let config = state.config();
        (
            config.auto_aof_rewrite_percentage,
            config.auto_aof_rewrite_min_size,
        )
    };
    let current = aof.current_size();
    if percentage <= 0 || current <= min_size.max(0) as u64 {
        return false;
    }
    let base = aof.base_size.load(Ordering::Relaxed).max(1);
    let growth = (current * 100 / base) as i64 - 100;
    if growth < percentage {
        return false;
    }
    state.log.notice(&format!(
        "Starting automatic rewriting of AOF on {growth}% growth"
    ));
    true
}

/// The saver thread's tick: the `everysec` fsync.
pub fn tick(state: &State) {
    let now = unix_ms() / 1000;
    let aof = &state.aof;
    if aof.last_fsync.swap(now, Ordering::Relaxed) != now
        && let Err(err) = aof.log.fsync_if_due()
    {
        state.log.warning(&format!("Error syncing the AOF: {err}"));
    }
}

/// At shutdown: everything logged reaches the disk.
pub fn flush_at_exit(state: &State) {
    if state.aof.log.is_enabled()
        && let Err(err) = state.aof.log.sync_all()
    {
        state
            .log
            .warning(&format!("Error flushing the AOF at exit: {err}"));
    }
}

/// The policy name for CONFIG GET.
pub fn policy_name(policy: FsyncPolicy) -> &'static str {
    policy.name()
}
