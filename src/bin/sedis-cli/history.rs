//! The prompt's history: the last lines typed, kept in
//! `~/.sedis_cli_history` (or where `SEDISCLI_HISTFILE` says; `/dev/null`
//! turns the file off) and saved after every line, as redis-cli does.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// How many lines are kept (linenoise's default, which redis-cli keeps).
const MAX_LINES: usize = 100;

#[derive(Debug, Default)]
pub struct History {
    entries: Vec<String>,
    file: Option<PathBuf>,
}

impl History {
    /// History kept in memory only.
    pub fn in_memory() -> History {
        History::default()
    }

    /// History loaded from, and saved to, the history file.
    pub fn from_file() -> History {
        let file = history_path();
        let mut history = History {
            entries: Vec::new(),
            file: file.clone(),
        };
        if let Some(text) = file.and_then(|path| fs::read(path).ok()) {
            for line in text.split(|&b| b == b'\n') {
                let line = String::from_utf8_lossy(line);
                let line = line.trim_end_matches('\r');
                if !line.is_empty() {
                    history.remember(line);
                }
            }
        }
        history
    }

    /// Oldest first.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// Adds a line (unless it repeats the last one) and saves the file.
    pub fn add(&mut self, line: &str) {
        self.remember(line);
        self.save();
    }

    fn remember(&mut self, line: &str) {
        if self.entries.last().map(String::as_str) == Some(line) {
            return;
        }
        if self.entries.len() == MAX_LINES {
            self.entries.remove(0);
        }
        self.entries.push(line.to_string());
    }

    /// Writes every line to the file, readable by its owner only (the
    /// history can hold keys and values). Failing to save is not worth
    /// interrupting anyone's session for.
    fn save(&self) {
        let Some(path) = &self.file else {
            return;
        };
        let file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path);
        if let Ok(mut file) = file {
            let mut text = String::new();
            for line in &self.entries {
                text.push_str(line);
                text.push('\n');
            }
            let _ = file.write_all(text.as_bytes());
        }
    }
}

/// `SEDISCLI_HISTFILE` if set (no file at all for `/dev/null`), otherwise
/// `$HOME/.sedis_cli_history`; none without a home directory.
fn history_path() -> Option<PathBuf> {
    match std::env::var_os("SEDISCLI_HISTFILE") {
        Some(path) if path == "/dev/null" => None,
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(".sedis_cli_history")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_without_repeats() {
        let mut history = History::in_memory();
        for i in 0..150 {
            history.add(&format!("cmd {i}"));
            history.add(&format!("cmd {i}"));
        }
        assert_eq!(history.entries().len(), MAX_LINES);
        assert_eq!(history.entries()[0], "cmd 50");
        assert_eq!(history.entries()[99], "cmd 149");
    }
}
