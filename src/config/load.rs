//! Reading a configuration: `redis.conf`-style text (one directive per line,
//! `#` comments, values quoted as redis-cli quotes them), `include`d files,
//! `rename-command`, `user` lines, and the command line, which Redis turns
//! into more lines appended to the file's. Errors are Redis's, with the line
//! they were found on.

use std::fmt;
use std::io::Read;
use std::path::Path;

use super::Config;
use super::params::{MULTI_ARG, lookup};
use super::units::repr;
use crate::resp::reader::split_args;

/// A configuration that cannot be used, worded as Redis words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The line number (from 1) and text of the offending line, if one is.
    pub line: Option<(usize, String)>,
    /// What is wrong, in Redis's words.
    pub message: String,
}

impl ConfigError {
    fn at(number: usize, line: &str, message: impl Into<String>) -> Self {
        ConfigError {
            line: Some((number, line.to_string())),
            message: message.into(),
        }
    }

    fn plain(message: impl Into<String>) -> Self {
        ConfigError {
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "\n*** FATAL CONFIG FILE ERROR (Redis {}) ***",
            crate::REDIS_VERSION
        )?;
        if let Some((number, line)) = &self.line {
            writeln!(f, "Reading the configuration file, at line {number}")?;
            writeln!(f, ">>> '{line}'")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Directives Redis ignores (with their exact word count), kept so that old
/// files still load.
const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// How deep `include`s may nest: deeper is a loop.
const MAX_INCLUDE_DEPTH: usize = 32;

/// What one load has seen so far: `save` lines add up within a load (the
/// first one replaces the defaults), and `user` lines are checked once the
/// whole configuration is known.
#[derive(Default)]
struct Loader {
    save_seen: bool,
    depth: usize,
    /// (line number, line, rules) of each `user` line.
    users: Vec<(usize, String, Vec<String>)>,
}

impl Config {
    /// The configuration `sedis-server` is started with, from its arguments
    /// exactly as redis-server reads them: an optional file first (any
    /// argument not starting with `-`), `-` to read more from standard
    /// input, then `--name value...` options, which Redis turns into lines
    /// appended after the file's (so they override it).
    pub fn from_command_line(args: &[String]) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let mut text = String::new();
        let mut rest = args;
        if let Some(first) = args.first()
            && !first.starts_with('-')
        {
            text = read_file(first)?;
            // Kept absolute, as Redis keeps it, so CONFIG REWRITE finds the
            // file whatever the working directory becomes.
            let path = std::path::absolute(first).map_err(|e| {
                ConfigError::plain(format!("Can't resolve the config file path '{first}': {e}"))
            })?;
            config.config_file = Some(path);
            rest = &args[1..];
        }
        let (options, from_stdin) = options_text(rest);
        if from_stdin {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .map_err(|e| ConfigError::plain(format!("Reading config from stdin: {e}")))?;
            text.push_str(&input);
        }
        if !options.is_empty() {
            text.push('\n');
            text.push_str(&options);
        }
        config.apply_file_text(&text)?;
        // Redis checks the log file can be opened before it starts: the
        // server could not say later why it cannot log.
        if !config.logfile.is_empty()
            && let Err(err) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&config.logfile)
        {
            return Err(ConfigError::plain(format!(
                "Can't open the log file: {}",
                crate::error::strerror(&err)
            )));
        }
        Ok(config)
    }

    /// Applies a configuration text, as from a file, then checks the whole.
    pub fn apply_file_text(&mut self, text: &str) -> Result<(), ConfigError> {
        let mut loader = Loader::default();
        loader.apply_text(self, text)?;
        loader.finish(self)
    }

    /// Applies `--name value [value...]` options as redis-server reads them
    /// (the part of its command line after the file).
    pub fn apply_flags(&mut self, flags: &[String]) -> Result<(), ConfigError> {
        let (options, _) = options_text(flags);
        self.apply_file_text(&options)
    }
}

/// Redis's `main`: each `--name` starts a line, the words after it are
/// quoted onto that line. A word starting with `--` is a value when the
/// option before it has none yet (`--requirepass --x`), except after
/// `--save`, where it means "no save points". Also returns whether `-`
/// asked for standard input.
fn options_text(args: &[String]) -> (String, bool) {
    let mut options = String::new();
    let mut from_stdin = false;
    let mut has_value = true;
    for (j, arg) in args.iter().enumerate() {
        let last = j + 1 == args.len();
        if arg == "-" && (j == 0 || last) {
            from_stdin = true;
        } else if has_value && arg.starts_with("--") {
            if !options.is_empty() {
                options.push('\n');
            }
            options.push_str(&arg[2..]);
            options.push(' ');
            let words = split_args(arg.as_bytes()).map_or(0, |w| w.len());
            if words == 1 {
                has_value = false;
                if arg.eq_ignore_ascii_case("--save") && (last || args[j + 1].starts_with("--")) {
                    options.push_str("\"\"");
                    has_value = true;
                }
            } else {
                has_value = true;
            }
        } else {
            options.push_str(&repr(arg));
            options.push(' ');
            has_value = true;
        }
    }
    (options, from_stdin)
}

fn read_file(path: &str) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| {
        ConfigError::plain(format!(
            "Fatal error, can't open config file '{path}': {}",
            crate::error::strerror(&e)
        ))
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

impl Loader {
    fn apply_text(&mut self, config: &mut Config, text: &str) -> Result<(), ConfigError> {
        for (index, raw) in text.split('\n').enumerate() {
            let number = index + 1;
            let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some(words) = split_args(line.as_bytes()) else {
                return Err(ConfigError::at(
                    number,
                    line,
                    "Unbalanced quotes in configuration line",
                ));
            };
            let words: Vec<String> = words
                .into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect();
            let Some((name, values)) = words.split_first() else {
                continue;
            };
            let name = name.to_ascii_lowercase();
            self.apply_line(config, &name, values)
                .map_err(|message| match message {
                    Failure::Line(message) => ConfigError::at(number, line, message),
                    Failure::Whole(err) => err,
                })?;
            if name == "user" {
                self.users.push((number, line.to_string(), values.to_vec()));
            }
        }
        Ok(())
    }

    fn apply_line(
        &mut self,
        config: &mut Config,
        name: &str,
        values: &[String],
    ) -> Result<(), Failure> {
        if let Some(param) = lookup(name) {
            if !param.is(MULTI_ARG) && values.len() != 1 {
                return Err(Failure::Line("wrong number of arguments".into()));
            }
            // One non-empty word for a multi-word parameter is split again:
            // `--save "60 1 300 10"`.
            let split;
            let args: Vec<&str> = match values {
                [one] if param.is(MULTI_ARG) && !one.is_empty() => {
                    split = split_args(one.as_bytes()).ok_or_else(|| {
                        Failure::Line("Unbalanced quotes in configuration line".into())
                    })?;
                    split
                        .iter()
                        .map(|w| std::str::from_utf8(w).unwrap_or(""))
                        .collect()
                }
                _ => values.iter().map(String::as_str).collect(),
            };
            let kept = if param.name == "save" && self.save_seen {
                config.save.clone()
            } else {
                Vec::new()
            };
            param.set(config, &args).map_err(Failure::Line)?;
            if param.name == "save" {
                // Within one load, save lines add up; the first replaces
                // the defaults.
                let mut all = kept;
                all.append(&mut config.save);
                config.save = all;
                self.save_seen = true;
            }
            return Ok(());
        }
        if DEPRECATED.contains(&name) && values.len() == 1 {
            return Ok(());
        }
        match (name, values) {
            ("include", [path]) => self.include(config, path),
            ("rename-command", [old, new]) => {
                config
                    .renamed_commands
                    .push((old.to_ascii_lowercase(), new.clone()));
                Ok(())
            }
            ("user", [_, ..]) => Ok(()),
            ("loadmodule", [_, ..]) => Err(Failure::Line(
                "Module loading is not supported: sedis has no modules".into(),
            )),
            ("sentinel", _) => Err(Failure::Line(
                "sentinel directive while not in sentinel mode".into(),
            )),
            _ if name.contains('.') => Err(Failure::Line(if values.is_empty() {
                "Module config specified without value".into()
            } else {
                "Module Configuration detected without loadmodule directive or no ApplyConfig \
                 call: aborting"
                    .into()
            })),
            _ => Err(Failure::Line(
                "Bad directive or wrong number of arguments".into(),
            )),
        }
    }

    /// `include path`: the file's lines are applied where the directive
    /// stands. A path with glob characters includes every match, in order,
    /// and no match is not an error (an empty `conf.d` directory).
    fn include(&mut self, config: &mut Config, path: &str) -> Result<(), Failure> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(Failure::Line(format!(
                "include nested more than {MAX_INCLUDE_DEPTH} deep (a loop?)"
            )));
        }
        let files = if path.contains(['*', '?', '[']) {
            glob_files(path)
        } else {
            vec![path.to_string()]
        };
        self.depth += 1;
        for file in files {
            let text = read_file(&file).map_err(Failure::Whole)?;
            self.apply_text(config, &text).map_err(Failure::Whole)?;
        }
        self.depth -= 1;
        Ok(())
    }

    /// Checks made once the whole configuration is read, as Redis makes
    /// them at the end of its loader.
    fn finish(&mut self, config: &mut Config) -> Result<(), ConfigError> {
        config.normalize();
        for (number, line, rules) in std::mem::take(&mut self.users) {
            apply_default_user(config, &rules).map_err(|m| ConfigError::at(number, &line, m))?;
        }
        Ok(())
    }
}

/// Why a line failed: its own problem (reported with the line), or an
/// error inside an included file (reported as it is).
enum Failure {
    Line(String),
    Whole(ConfigError),
}

/// The files a glob pattern names: only the last path component may hold
/// glob characters; matches come sorted, as glob(3) sorts them.
fn glob_files(pattern: &str) -> Vec<String> {
    let path = Path::new(pattern);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    let Some(file_pattern) = path.file_name().map(|f| f.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let matcher = crate::glob::Pattern::new(file_pattern.as_bytes(), false);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            // glob(3) leaves hidden files out unless asked for a dot.
            (!name.starts_with('.') || file_pattern.starts_with('.'))
                && matcher.matches(name.as_bytes())
        })
        .map(|e| e.path().display().to_string())
        .collect();
    files.sort();
    files
}

/// A `user` line. sedis has one user, the default one, with every
/// permission and `requirepass` as its password; a line that describes
/// exactly that (as CONFIG REWRITE writes it, in Redis and in sedis) is
/// accepted and may set the password, anything else is refused rather than
/// silently granting more than the file says.
fn apply_default_user(config: &mut Config, rules: &[String]) -> Result<(), String> {
    let unsupported = |what: &str| {
        format!(
            "Error in user declaration '{what}': sedis has only the default user, with every \
             permission (ACL users are not supported)"
        )
    };
    let [name, rules @ ..] = rules else {
        return Err("wrong number of arguments".into());
    };
    if name != "default" {
        return Err(unsupported(name));
    }
    // Redis resets a user before it applies the line's rules: off, no
    // password, no keys, no commands, channels as acl-pubsub-default says,
    // and sanitize-payload set.
    let mut enabled = false;
    let (mut all_keys, mut all_commands) = (false, false);
    let mut all_channels = config.inert.acl_pubsub_default != 0;
    let mut nopass = false;
    let mut sanitize = true;
    let mut hashes: Vec<String> = Vec::new();
    let mut plain: Option<String> = None;
    for rule in rules {
        let lower = rule.to_ascii_lowercase();
        match lower.as_str() {
            "" => {}
            "on" => enabled = true,
            "off" => enabled = false,
            "nopass" => {
                nopass = true;
                hashes.clear();
                plain = None;
            }
            "resetpass" => {
                nopass = false;
                hashes.clear();
                plain = None;
            }
            "~*" | "allkeys" => all_keys = true,
            "&*" | "allchannels" => all_channels = true,
            "+@all" | "allcommands" => all_commands = true,
            "resetkeys" => all_keys = false,
            "resetchannels" => all_channels = false,
            "nocommands" | "-@all" => all_commands = false,
            "sanitize-payload" => sanitize = true,
            "skip-sanitize-payload" => sanitize = false,
            _ if rule.starts_with('>') => {
                let password = &rule[1..];
                let hash = crate::digest::sha256_hex(password.as_bytes());
                if !hashes.contains(&hash) {
                    hashes.push(hash);
                }
                plain = Some(password.to_string());
                nopass = false;
            }
            _ if rule.starts_with('#') => {
                let hash = &rule[1..];
                if hash.len() != 64 || !hash.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return Err(format!(
                        "Error in user declaration '{rule}': The password hash must be exactly 64 \
                         characters and contain only lowercase hexadecimal characters"
                    ));
                }
                if !hashes.iter().any(|h| h == hash) {
                    hashes.push(hash.to_string());
                }
                nopass = false;
            }
            _ => return Err(unsupported(rule)),
        }
    }
    if !(enabled && all_keys && all_channels && all_commands) {
        return Err(unsupported("default"));
    }
    // The password: none (nopass), or one whose text sedis knows, from
    // this line or from requirepass.
    let known = plain.or_else(|| Some(config.requirepass.clone()).filter(|p| !p.is_empty()));
    match hashes.as_slice() {
        [] if nopass => config.requirepass.clear(),
        [] => return Err(unsupported("a default user without a password or nopass")),
        [hash] => match known {
            Some(p) if crate::digest::sha256_hex(p.as_bytes()) == *hash => config.requirepass = p,
            _ => {
                return Err(
                    "Error in user declaration: the default user's password is given only as a \
                     hash; set it with requirepass so that sedis knows it"
                        .into(),
                );
            }
        },
        _ => return Err(unsupported("several passwords")),
    }
    config.inert.default_user_sanitize_payload = Some(sanitize);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn files_and_flags_parse() {
        let mut c = Config::default();
        c.apply_file_text("# comment\nport 7000\n  requirepass \"a b\"\nloglevel warning\n")
            .unwrap();
        assert_eq!(c.port, 7000);
        assert_eq!(c.requirepass, "a b");
        c.apply_flags(&strings(&["--port", "7001", "--save", ""]))
            .unwrap();
        assert_eq!(c.port, 7001);
        assert!(c.save.is_empty());
        let err = c.apply_flags(&strings(&["--port", "x"])).unwrap_err();
        assert_eq!(err.line, Some((1, "port \"x\"".into())));
        assert_eq!(err.message, "argument couldn't be parsed into an integer");
        let err = c.apply_flags(&strings(&["--nosuch", "1"])).unwrap_err();
        assert_eq!(err.message, "Bad directive or wrong number of arguments");
    }

    #[test]
    fn the_command_line_reads_as_redis_reads_it() {
        let (text, stdin) =
            options_text(&strings(&["--port", "7", "--save", "--requirepass", "--x"]));
        assert_eq!(text, "port \"7\" \nsave \"\"\nrequirepass \"--x\" ");
        assert!(!stdin);
        let (text, _) = options_text(&strings(&["--save", "60", "1", "--save"]));
        assert_eq!(text, "save \"60\" \"1\" \nsave \"\"");
        let (_, stdin) = options_text(&strings(&["-"]));
        assert!(stdin);
    }

    #[test]
    fn save_lines_add_up_within_a_load() {
        let mut c = Config::default();
        c.apply_file_text("save 10 1\nsave 20 2\n").unwrap();
        assert_eq!(c.save, [(10, 1), (20, 2)]);
        c.apply_file_text("save \"30 3 40 4\"\n").unwrap();
        assert_eq!(c.save, [(30, 3), (40, 4)]);
        c.apply_file_text("save \"\"\n").unwrap();
        assert!(c.save.is_empty());
    }

    #[test]
    fn aliases_deprecated_and_unknown_directives() {
        let mut c = Config::default();
        c.apply_file_text(
            "SLAVE-READ-ONLY no\nlist-max-ziplist-entries 512\nhash-max-ziplist-entries 7\n",
        )
        .unwrap();
        assert_eq!(c.hash_max_listpack_entries, 7);
        let err = c.apply_file_text("\n\ntcp-backlogg 511\n").unwrap_err();
        assert_eq!(err.line, Some((3, "tcp-backlogg 511".into())));
        let err = c.apply_file_text("port 1 2\n").unwrap_err();
        assert_eq!(err.message, "wrong number of arguments");
        let err = c.apply_file_text("foo.bar 1\n").unwrap_err();
        assert!(err.message.starts_with("Module Configuration"));
        assert!(c.apply_file_text("requirepass \"a\n").is_err());
    }

    #[test]
    fn default_user_lines_must_match_what_sedis_does() {
        let mut c = Config::default();
        c.apply_file_text("user default on nopass ~* &* +@all\n")
            .unwrap();
        assert_eq!(c.requirepass, "");
        c.apply_file_text("requirepass foobared\nuser default on #1b58ee375b42e41f0e48ef2ff27d10a5b1f6924a9acdcdba7cae868e7adce6bf ~* &* +@all\n")
            .unwrap();
        assert_eq!(c.requirepass, "foobared");
        let mut c = Config::default();
        c.apply_file_text("user default on >secret ~* &* +@all\n")
            .unwrap();
        assert_eq!(c.requirepass, "secret");
        // Redis resets a user it loads: the line's password replaces
        // requirepass's, and two are more than sedis can have.
        c.apply_file_text("user default on >other ~* &* +@all\n")
            .unwrap();
        assert_eq!(c.requirepass, "other");
        assert!(
            c.apply_file_text("user default on >a >b ~* &* +@all\n")
                .is_err()
        );
        assert!(
            c.apply_file_text("user default on ~* &* +@all\n").is_err(),
            "no way to log in"
        );
        let mut c = Config::default();
        assert!(c.apply_file_text("user bob on nopass ~* +@all\n").is_err());
        assert!(
            c.apply_file_text("user default on nopass ~app:* &* +@all\n")
                .is_err()
        );
        assert!(c.apply_file_text("user default off\n").is_err());
        assert!(c
            .apply_file_text("user default on #1b58ee375b42e41f0e48ef2ff27d10a5b1f6924a9acdcdba7cae868e7adce6bf ~* &* +@all\n")
            .is_err());
    }

    #[test]
    fn includes_apply_in_place_and_globs_may_match_nothing() {
        let dir = std::env::temp_dir().join(format!("sedis-include-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::write(dir.join("conf.d/a.conf"), "port 7100\ntimeout 3\n").unwrap();
        std::fs::write(dir.join("conf.d/b.conf"), "port 7200\n").unwrap();
        let mut c = Config::default();
        let text = format!(
            "port 7000\ninclude {0}/conf.d/*.conf\ninclude {0}/none/*.conf\n",
            dir.display()
        );
        c.apply_file_text(&text).unwrap();
        assert_eq!((c.port, c.timeout), (7200, 3));
        let err = c
            .apply_file_text(&format!("include {}/missing.conf\n", dir.display()))
            .unwrap_err();
        assert!(err.message.contains("can't open config file"), "{err}");
        std::fs::write(
            dir.join("loop.conf"),
            format!("include {}/loop.conf\n", dir.display()),
        )
        .unwrap();
        assert!(
            c.apply_file_text(&format!("include {}/loop.conf\n", dir.display()))
                .is_err()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
