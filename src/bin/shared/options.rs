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
