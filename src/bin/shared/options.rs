//! The command-line splitting that sedis-cli and sedis-benchmark share:
//! options first, each paired with its value word, then the command.

use std::ffi::OsString;

/// The options in the order given (a value option with its word), and the
/// index of the first word of the command.
pub type Split<'a> = (Vec<(&'static str, Option<&'a OsString>)>, usize);

/// Which words are options and how the option list ends.
pub struct Grammar {
    /// Options followed by one value word.
    pub value: &'static [&'static str],
    /// Options standing alone.
    pub flag: &'static [&'static str],
    /// Whether `--` ends the options (the command follows it).
    pub double_dash: bool,
}

impl Grammar {
    /// Splits `args` into options and the command. The first word that is
    /// not an option starts the command, so the command's own arguments may
    /// look like options. Each option is paired with its value word as it is
    /// found, so an option's value never passes for an option. An unknown
    /// option, or a value option with no word after it, is returned as the
    /// error.
    pub fn split<'a>(&self, args: &'a [OsString]) -> Result<Split<'a>, String> {
        let mut order = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let word = args[i].to_string_lossy().into_owned();
            let known = |list: &[&'static str]| list.iter().copied().find(|o| *o == word);
            if self.double_dash && word == "--" {
                return Ok((order, i + 1));
            } else if let Some(option) = known(self.value) {
                let value = args.get(i + 1).ok_or_else(|| word.clone())?;
                order.push((option, Some(value)));
                i += 2;
            } else if let Some(option) = known(self.flag) {
                order.push((option, None));
                i += 1;
            } else if word.starts_with('-') {
                return Err(word);
            } else {
                break;
            }
        }
        Ok((order, i))
    }
}

/// The raw bytes of a command-line word.
pub fn os_bytes(s: &OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    s.as_os_str().as_bytes().to_vec()
}

/// sedis-server's default port.
pub const DEFAULT_PORT: u16 = 6380;

/// Where to connect and as whom: the options both programs take alike.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: Option<Vec<u8>>,
    pub password: Option<Vec<u8>>,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            host: "127.0.0.1".to_string(),
            port: DEFAULT_PORT,
            user: None,
            password: None,
        }
    }
}

impl Target {
    /// Applies `key` if it is one of the connection options (`-h`, `-p`,
    /// `-a`, `--pass`, `--user`) and says whether it was. A value that does
    /// not parse is the error, as redis-cli words it.
    pub fn take(&mut self, key: &str, word: Option<&OsString>) -> Result<bool, String> {
        let word = word.cloned().unwrap_or_default();
        match key {
            "-h" => self.host = word.to_string_lossy().into_owned(),
            "-p" => {
                let text = word.to_string_lossy();
                self.port = text
                    .parse()
                    .map_err(|e| format!("failed to parse '{text}': {e}"))?;
            }
            "-a" | "--pass" => self.password = Some(os_bytes(&word)),
            "--user" => self.user = Some(os_bytes(&word)),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The AUTH command to send after connecting, when a password was given
    /// (`AUTH [user] password`).
    pub fn auth(&self) -> Option<Vec<Vec<u8>>> {
        let password = self.password.clone()?;
        let mut argv = vec![b"AUTH".to_vec()];
        argv.extend(self.user.clone());
        argv.push(password);
        Some(argv)
    }
}
