//! Script flags and the first lines that declare them: the `#!lua
//! flags=...` shebang of an EVAL script, the `#!lua name=<lib>` header of a
//! FUNCTION library, and the names `redis.register_function` accepts in its
//! `flags` table. Pure parsing, no Lua: compiled in every build.

use crate::resp::reader::split_args;

/// What a script or function declared about itself (Redis's
/// `SCRIPT_FLAG_*`). The command layer turns these into the command flags
/// it checks before running (`no-writes` makes EVAL read-only, and so on).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot_keys: bool,
    /// An EVAL script without a shebang: Redis 6 semantics, where the
    /// flags above are not applied and the script's commands decide.
    pub eval_compat_mode: bool,
}

/// The flag names, in Redis's order (`scripts_flags_def`): FUNCTION LIST
/// shows them in this order.
pub const FLAG_NAMES: [&str; 5] = [
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];

impl ScriptFlags {
    /// Sets the flag called `name` (exact spelling); false if there is none.
    fn set(&mut self, name: &[u8], case_insensitive: bool) -> bool {
        let Some(at) = FLAG_NAMES.iter().position(|flag| {
            if case_insensitive {
                flag.as_bytes().eq_ignore_ascii_case(name)
            } else {
                flag.as_bytes() == name
            }
        }) else {
            return false;
        };
        *[
            &mut self.no_writes,
            &mut self.allow_oom,
            &mut self.allow_stale,
            &mut self.no_cluster,
            &mut self.allow_cross_slot_keys,
        ][at] = true;
        true
    }

    /// The names of the flags that are set, in [`FLAG_NAMES`] order.
    pub fn names(&self) -> Vec<&'static str> {
        let set = [
            self.no_writes,
            self.allow_oom,
            self.allow_stale,
            self.no_cluster,
            self.allow_cross_slot_keys,
        ];
        FLAG_NAMES
            .iter()
            .zip(set)
            .filter_map(|(name, on)| on.then_some(*name))
            .collect()
    }

    /// Sets a flag named in a `register_function` flags table: there the
    /// names are compared ignoring case (`strcasecmp`), unlike the shebang.
    pub fn set_function_flag(&mut self, name: &[u8]) -> bool {
        self.set(name, true)
    }
}

/// The first line of `body` if it is a shebang (`#!...`), as C reads it:
/// `None` when there is no shebang, `Some(Err)` when it has no line end
/// (before the first NUL byte, where C's `strchr` stops).
fn shebang(body: &[u8]) -> Option<Result<&[u8], ()>> {
    if !body.starts_with(b"#!") {
        return None;
    }
    let c_str = &body[..body.iter().position(|&b| b == 0).unwrap_or(body.len())];
    Some(match c_str.iter().position(|&b| b == b'\n') {
        Some(end) => Ok(&body[..end]),
        None => Err(()),
    })
}

/// An EVAL script's flags and how many bytes its shebang line takes (the
/// line end excluded: the compiler still sees it, so line numbers stay the
/// user's). Errors are Redis's texts, without the `ERR ` code.
pub fn parse_eval_shebang(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    let line = match shebang(body) {
        None => {
            let flags = ScriptFlags {
                eval_compat_mode: true,
                ..ScriptFlags::default()
            };
            return Ok((flags, 0));
        }
        Some(Err(())) => return Err("Invalid script shebang".into()),
        Some(Ok(line)) => line,
    };
    let parts = match split_args(line) {
        Some(parts) if !parts.is_empty() => parts,
        _ => return Err("Invalid engine in script shebang".into()),
    };
    if parts[0] != b"#!lua" {
        return Err(format!(
            "Unexpected engine in script shebang: {}",
            c_text(&parts[0])
        ));
    }
    let mut flags = ScriptFlags::default();
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!("Unknown lua shebang option: {}", c_text(part)));
        };
        // `sdssplitlen` of an empty string yields no parts, and of "a,,b" an
        // empty one in the middle, which is no flag's name.
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&b| b == b',') {
            if !flags.set(name, false) {
                return Err(format!(
                    "Unexpected flag in script shebang: {}",
                    c_text(name)
                ));
            }
        }
    }
    Ok((flags, line.len()))
}

/// A FUNCTION library's header: the engine name and the library name, and
/// the code after the header line (which begins with that line's `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryMeta<'a> {
    pub engine: Vec<u8>,
    pub name: Vec<u8>,
    pub code: &'a [u8],
}

/// Reads a library's `#!<engine> name=<lib>` header (Redis's
/// `functionExtractLibMetaData`). Errors are Redis's texts.
pub fn parse_library_meta(payload: &[u8]) -> Result<LibraryMeta<'_>, String> {
    let line = match shebang(payload) {
        None => return Err("Missing library metadata".into()),
        Some(Err(())) => return Err("Invalid library metadata".into()),
        Some(Ok(line)) => line,
    };
    let parts = match split_args(line) {
        Some(parts) if !parts.is_empty() => parts,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = parts[0][2.min(parts[0].len())..].to_vec();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(format!("Invalid metadata value given: {}", c_text(part)));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    Ok(LibraryMeta {
        engine,
        name,
        code: &payload[line.len()..],
    })
}

/// True for a valid library or function name: one or more of
/// `[a-zA-Z0-9_]` (Redis's `functionsVerifyName`).
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Redis's error for a name [`valid_name`] refuses (the same text for
/// libraries and functions).
pub const BAD_NAME: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// Bytes as `%s` prints them: up to the first NUL, lossy UTF-8 for the rest.
fn c_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every error text below was recorded from Redis 7.0.15 (`EVAL` and
    // `FUNCTION LOAD` with the same first line).

    #[test]
    fn eval_without_shebang_is_compat_mode() {
        let (flags, len) = parse_eval_shebang(b"return 1").unwrap();
        assert!(flags.eval_compat_mode);
        assert_eq!(len, 0);
    }

    #[test]
    fn eval_shebang_flags() {
        let (flags, len) =
            parse_eval_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
        assert_eq!(len, 31);
        assert!(flags.no_writes && flags.allow_oom && !flags.eval_compat_mode);
        assert_eq!(flags.names(), ["no-writes", "allow-oom"]);
        let (flags, _) = parse_eval_shebang(b"#!lua\nreturn 1").unwrap();
        assert_eq!(flags, ScriptFlags::default());
        let (flags, _) = parse_eval_shebang(b"#!lua flags=\nreturn 1").unwrap();
        assert_eq!(flags, ScriptFlags::default());
        let (flags, _) = parse_eval_shebang(b"#!lua \"flags=no-writes\"\nreturn 1").unwrap();
        assert!(flags.no_writes);
        let all = b"#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\n";
        assert_eq!(parse_eval_shebang(all).unwrap().0.names(), FLAG_NAMES);
    }

    #[test]
    fn eval_shebang_errors() {
        let err = |body: &[u8]| parse_eval_shebang(body).unwrap_err();
        assert_eq!(
            err(b"#!lua flags=no-writes,bad\n"),
            "Unexpected flag in script shebang: bad"
        );
        assert_eq!(
            err(b"#!lua flags=NO-WRITES\n"),
            "Unexpected flag in script shebang: NO-WRITES"
        );
        assert_eq!(
            err(b"#!lua flags=no-writes,,allow-oom\n"),
            "Unexpected flag in script shebang: "
        );
        assert_eq!(err(b"#!lua x\n"), "Unknown lua shebang option: x");
        assert_eq!(
            err(b"#!luax\n"),
            "Unexpected engine in script shebang: #!luax"
        );
        assert_eq!(err(b"#! \n"), "Unexpected engine in script shebang: #!");
        assert_eq!(err(b"#!lua return 1"), "Invalid script shebang");
        assert_eq!(err(b"#!lua \"\n"), "Invalid engine in script shebang");
        assert_eq!(err(b"#!lua\0\n"), "Invalid script shebang");
    }

    #[test]
    fn library_meta() {
        let meta = parse_library_meta(b"#!lua name=lib1\nlocal a = 1").unwrap();
        assert_eq!(meta.engine, b"lua");
        assert_eq!(meta.name, b"lib1");
        assert_eq!(meta.code, b"\nlocal a = 1");
        let meta = parse_library_meta(b"#!LUA NAME=x\n").unwrap();
        assert_eq!(
            (meta.engine.as_slice(), meta.name.as_slice()),
            (&b"LUA"[..], &b"x"[..])
        );
        let err = |body: &[u8]| parse_library_meta(body).unwrap_err();
        assert_eq!(err(b"local a = 1"), "Missing library metadata");
        assert_eq!(err(b"#!lua name=lib6"), "Invalid library metadata");
        assert_eq!(
            err(b"#!lua name=lib6 foo=bar\n"),
            "Invalid metadata value given: foo=bar"
        );
        assert_eq!(err(b"#!lua\n"), "Library name was not given");
        assert_eq!(
            err(b"#!lua name=a name=b\n"),
            "Invalid metadata value, name argument was given multiple times"
        );
    }

    #[test]
    fn names() {
        assert!(valid_name(b"lib_1"));
        assert!(!valid_name(b""));
        assert!(!valid_name(b"l-b"));
        assert!(!valid_name(b"f 8"));
    }

    #[test]
    fn function_flags_ignore_case() {
        let mut flags = ScriptFlags::default();
        assert!(flags.set_function_flag(b"No-Writes"));
        assert!(!flags.set_function_flag(b"bad"));
        assert!(flags.no_writes);
    }
}
