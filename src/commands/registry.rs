//! The registry: every family's commands gathered into one lookup table,
//! built once. Each command and subcommand gets an id, which indexes the
//! per-command statistics (INFO commandstats).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use crate::error::{self, CommandError};

use super::table::Command;
use crate::state::Renames;

/// All top-level commands, family by family.
fn families() -> impl Iterator<Item = &'static Command> {
    [
        super::connection::COMMANDS,
        super::strings::COMMANDS,
        super::bitmaps::COMMANDS,
        super::hyperloglog::COMMANDS,
        super::keys::COMMANDS,
        super::sort::COMMANDS,
        super::dump::COMMANDS,
        super::migrate::COMMANDS,
        super::observe::COMMANDS,
        super::admin::COMMANDS,
        super::tx::COMMANDS,
        super::lists::COMMANDS,
        super::zsets::COMMANDS,
        super::geo::COMMANDS,
        super::hashes::COMMANDS,
        super::sets::COMMANDS,
        super::streams::COMMANDS,
        super::stream_groups::COMMANDS,
        super::pubsub::COMMANDS,
        super::info::COMMANDS,
        super::replication::COMMANDS,
        super::introspection::COMMANDS,
        super::debug::COMMANDS,
        super::lolwut::COMMANDS,
        super::memory::COMMANDS,
        super::scripting::COMMANDS,
    ]
    .into_iter()
    .flatten()
}

/// A command found for a request.
#[derive(Clone, Copy)]
pub struct Resolved {
    pub command: &'static Command,
    /// Index into the statistics.
    pub id: usize,
    /// `get`, or `config|get` for a subcommand.
    pub full_name: &'static str,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.full_name)
    }
}

/// One registered command or subcommand.
pub struct Registered {
    pub command: &'static Command,
    pub full_name: &'static str,
    /// The container's entry index, for subcommands.
    pub parent: Option<usize>,
}

/// FNV-1a: command names are short and the tables are fixed at start-up
/// (clients can only look names up, never insert), so a simple fast hash is
/// enough where SipHash would cost more than the rest of the lookup.
#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type NameMap<K> = HashMap<K, usize, BuildHasherDefault<NameHasher>>;

pub struct Registry {
    entries: Vec<Registered>,
    /// Top-level name → entry index.
    by_name: NameMap<&'static str>,
    /// (container entry index, subcommand name) → entry index.
    subs: NameMap<(usize, &'static str)>,
}

/// The registry (built on first use).
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::build)
}

impl Registry {
    fn build() -> Registry {
        let mut registry = Registry {
            entries: Vec::new(),
            by_name: NameMap::default(),
            subs: NameMap::default(),
        };
        for command in families() {
            let id = registry.entries.len();
            registry.entries.push(Registered {
                command,
                full_name: command.name,
                parent: None,
            });
            let previous = registry.by_name.insert(command.name, id);
            assert!(
                previous.is_none(),
                "command {} declared twice",
                command.name
            );
            for sub in command.subcommands {
                let sub_id = registry.entries.len();
                let full_name: &'static str =
                    Box::leak(format!("{}|{}", command.name, sub.name).into_boxed_str());
                registry.entries.push(Registered {
                    command: sub,
                    full_name,
                    parent: Some(id),
                });
                registry.subs.insert((id, sub.name), sub_id);
            }
        }
        registry
    }

    /// Number of commands and subcommands (the size of the statistics table).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[Registered] {
        &self.entries
    }

    /// Top-level commands only.
    pub fn top_level(&self) -> impl Iterator<Item = (usize, &Registered)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.parent.is_none())
    }

    /// Finds a top-level command by name, in any case.
    pub fn find(&self, name: &[u8]) -> Option<Resolved> {
        let mut buf = [0u8; MAX_NAME];
        let lower = lowercase(name, &mut buf)?;
        let &id = self.by_name.get(lower)?;
        Some(self.resolved(id))
    }

    /// Finds a command or `container|sub` by full name, in any case.
    pub fn find_full(&self, full_name: &[u8]) -> Option<Resolved> {
        let mut buf = [0u8; MAX_NAME];
        let lower = lowercase(full_name, &mut buf)?;
        match lower.split_once('|') {
            None => self.find(full_name),
            Some((parent, sub)) => {
                let &pid = self.by_name.get(parent)?;
                let &id = self.subs.get(&(pid, sub))?;
                Some(self.resolved(id))
            }
        }
    }

    /// The command with registry id `id` (a queued MULTI command's).
    pub fn resolved(&self, id: usize) -> Resolved {
        let entry = &self.entries[id];
        Resolved {
            command: entry.command,
            id,
            full_name: entry.full_name,
        }
    }

    /// The (sub)command a request names, or Redis's unknown command /
    /// unknown subcommand error.
    pub fn resolve(&self, args: &[Vec<u8>]) -> Result<Resolved, CommandError> {
        self.resolve_renamed(args, &Renames::default())
    }

    /// [`Registry::resolve`] for a server whose commands were renamed.
    pub fn resolve_renamed(
        &self,
        args: &[Vec<u8>],
        renames: &Renames,
    ) -> Result<Resolved, CommandError> {
        let top = if renames.is_empty() {
            self.find(&args[0])
        } else {
            let mut buf = [0u8; MAX_NAME];
            match lowercase(&args[0], &mut buf) {
                Some(name) => match renames.aliases.get(name) {
                    Some(&id) => Some(self.resolved(id)),
                    None => self
                        .find(&args[0])
                        .filter(|r| !renames.hidden.contains(&r.id)),
                },
                None => None,
            }
        };
        let Some(top) = top else {
            return Err(unknown_command(args));
        };
        if !top.command.is_container() || args.len() < 2 {
            // A container called without a subcommand fails the arity check.
            return Ok(top);
        }
        let mut buf = [0u8; MAX_NAME];
        let sub = lowercase(&args[1], &mut buf).and_then(|s| self.subs.get(&(top.id, s)).copied());
        match sub {
            Some(id) => Ok(self.resolved(id)),
            None => Err(error::unknown_subcommand(top.command.name, &args[1])),
        }
    }
}

/// Applies `rename-command old new` lines in order, with Redis's errors.
pub fn renames(lines: &[(String, String)]) -> Result<Renames, String> {
    let registry = registry();
    let mut renames = Renames::default();
    for (old, new) in lines {
        let old = old.to_ascii_lowercase();
        let id = match renames.aliases.remove(&old) {
            Some(id) => id,
            None => match registry.by_name.get(old.as_str()) {
                Some(&id) if !renames.hidden.contains(&id) => {
                    renames.hidden.push(id);
                    id
                }
                _ => return Err(format!("No such command in rename-command: '{old}'")),
            },
        };
        if new.is_empty() {
            continue;
        }
        let new = new.to_ascii_lowercase();
        let taken = renames.aliases.contains_key(&new)
            || registry
                .by_name
                .get(new.as_str())
                .is_some_and(|id| !renames.hidden.contains(id));
        if taken {
            return Err(format!("Target command name already exists: '{new}'"));
        }
        renames.aliases.insert(new, id);
    }
    Ok(renames)
}

/// No command name (with its subcommand) is longer than this.
const MAX_NAME: usize = 64;

/// ASCII-lowercases a command name into `buf` (no allocation: this runs for
/// every request); `None` for names too long or not UTF-8 to be any command.
fn lowercase<'b>(name: &[u8], buf: &'b mut [u8; MAX_NAME]) -> Option<&'b str> {
    let out = buf.get_mut(..name.len())?;
    for (o, c) in out.iter_mut().zip(name) {
        *o = c.to_ascii_lowercase();
    }
    std::str::from_utf8(out).ok()
}

/// `ERR unknown command '<name>', with args beginning with: '<a1>' '<a2>' `,
/// exactly as Redis builds it: the name cut at 128 bytes, then quoted
/// arguments while the list is under 128 bytes, each cut to what is left.
pub fn unknown_command(args: &[Vec<u8>]) -> CommandError {
    let mut list = Vec::new();
    for arg in &args[1..] {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        list.push(b'\'');
        list.extend_from_slice(error::c_str_prefix(arg, room));
        list.extend_from_slice(b"' ");
    }
    let mut text = b"ERR unknown command '".to_vec();
    text.extend_from_slice(error::c_str_prefix(&args[0], 128));
    text.extend_from_slice(b"', with args beginning with: ");
    text.extend_from_slice(&list);
    CommandError::from_bytes(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::commands::test_argv as argv;

    #[test]
    fn unknown_command_text_matches_redis() {
        let err = unknown_command(&argv(&["foo", "a", "b\r\nc"]));
        assert_eq!(
            err.text(),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b  c' "
        );
        let err = unknown_command(&argv(&["foo"]));
        assert_eq!(
            err.text(),
            "ERR unknown command 'foo', with args beginning with: "
        );
    }

    #[test]
    fn renamed_commands_answer_to_their_new_name_only() {
        let r = registry();
        let lines = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let config_gone = renames(&lines(&[("CONFIG", "cfg"), ("flushall", "")])).unwrap();
        let name = |args: &[&str]| {
            r.resolve_renamed(&argv(args), &config_gone)
                .map(|c| c.full_name)
                .map_err(|e| e.text().to_string())
        };
        assert_eq!(name(&["CFG", "get", "x"]), Ok("config|get"));
        assert!(
            name(&["config", "get", "x"])
                .unwrap_err()
                .starts_with("ERR unknown command 'config'")
        );
        assert!(name(&["flushall"]).is_err());
        assert_eq!(name(&["get", "k"]), Ok("get"));
        assert!(renames(&lines(&[("nosuch", "x")])).is_err());
        assert!(renames(&lines(&[("get", "set")])).is_err());
        // Renamed twice: the second line renames the new name.
        let twice = renames(&lines(&[("get", "g1"), ("g1", "g2")])).unwrap();
        assert!(r.resolve_renamed(&argv(&["g1", "k"]), &twice).is_err());
        assert_eq!(
            r.resolve_renamed(&argv(&["g2", "k"]), &twice)
                .unwrap()
                .full_name,
            "get"
        );
    }

    #[test]
    fn lookups_ignore_case() {
        let r = registry();
        assert_eq!(r.find(b"GeT").map(|c| c.full_name), Some("get"));
        assert!(r.find(b"nosuchcommand").is_none());
    }
}
