//! `help`, `help COMMAND` and `help @group`, built from the server's own
//! `COMMAND DOCS` reply (so the help always describes the server we talk to)
//! and printed the way redis-cli prints it.

use sedis::Frame;

/// One command or subcommand's help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The words that name it, upper-cased: `["CONFIG", "GET"]`.
    words: Vec<String>,
    /// The argument synopsis: `key value [NX|XX] ...`.
    params: String,
    summary: String,
    since: Option<String>,
    group: String,
}

impl Entry {
    fn full_name(&self) -> String {
        self.words.join(" ")
    }
}

/// The help table of one server.
#[derive(Debug, Default)]
pub struct Help {
    entries: Vec<Entry>,
}

impl Help {
    /// Builds the table from a `COMMAND DOCS` reply: a map (RESP3) or a flat
    /// array (RESP2) of command name → docs, where docs is itself a map or
    /// flat array of fields.
    pub fn from_docs(reply: &Frame) -> Help {
        let mut entries = Vec::new();
        for (name, docs) in pairs(reply) {
            if let Some(name) = text(name) {
                add_entries(&name, None, docs, &mut entries);
            }
        }
        entries.sort_by_key(Entry::full_name);
        Help { entries }
    }

    /// The text `help ARGS...` prints (ARGS non-empty): every command whose
    /// name starts with the given words, or every command of `@group`.
    pub fn render(&self, args: &[Vec<u8>]) -> String {
        let args: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let mut out = String::new();
        let group = args.first().and_then(|a| a.strip_prefix('@'));
        for entry in &self.entries {
            match group {
                Some(group) if entry.group.eq_ignore_ascii_case(group) => {
                    render_entry(entry, false, &mut out);
                }
                Some(_) => {}
                None => {
                    let matches = args.len() <= entry.words.len()
                        && args
                            .iter()
                            .zip(&entry.words)
                            .all(|(a, w)| a.eq_ignore_ascii_case(w));
                    if matches {
                        render_entry(entry, true, &mut out);
                    }
                }
            }
        }
        out.push_str("\r\n");
        out
    }
}

/// What plain `help` prints.
pub fn generic() -> String {
    format!(
        "sedis-cli {}\n\
         To get help about commands type:\n      \
         \"help @<group>\" to get a list of commands in <group>\n      \
         \"help <command>\" for help on <command>\n      \
         \"quit\" to exit\n",
        sedis::SEDIS_VERSION
    )
}

/// The bold name, grey synopsis and yellow labels redis-cli uses.
fn render_entry(entry: &Entry, with_group: bool, out: &mut String) {
    out.push_str(&format!(
        "\r\n  \x1b[1m{}\x1b[0m \x1b[90m{}\x1b[0m\r\n",
        entry.full_name(),
        entry.params
    ));
    out.push_str(&format!("  \x1b[33msummary:\x1b[0m {}\r\n", entry.summary));
    if let Some(since) = &entry.since {
        out.push_str(&format!("  \x1b[33msince:\x1b[0m {since}\r\n"));
    }
    if with_group {
        out.push_str(&format!("  \x1b[33mgroup:\x1b[0m {}\r\n", entry.group));
    }
}

/// The key/value pairs of a map, or of a flat array of alternating keys
/// and values.
fn pairs(frame: &Frame) -> Vec<(&Frame, &Frame)> {
    match frame {
        Frame::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        Frame::Array(items) => items
            .chunks_exact(2)
            .map(|pair| (&pair[0], &pair[1]))
            .collect(),
        _ => Vec::new(),
    }
}

fn text(frame: &Frame) -> Option<String> {
    frame
        .as_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

fn items(frame: &Frame) -> &[Frame] {
    match frame {
        Frame::Array(items) | Frame::Set(items) => items,
        _ => &[],
    }
}

/// Adds the entry for `name` (a subcommand when `container` is given: its
/// name is then "container|sub") and, recursively, its subcommands.
fn add_entries(name: &str, container: Option<&str>, docs: &Frame, entries: &mut Vec<Entry>) {
    let words = match container {
        Some(container) => vec![
            container.to_uppercase(),
            name.rsplit('|').next().unwrap_or(name).to_uppercase(),
        ],
        None => vec![name.to_uppercase()],
    };
    let mut entry = Entry {
        words,
        params: String::new(),
        summary: String::new(),
        since: None,
        group: String::new(),
    };
    let mut subcommands = None;
    for (key, value) in pairs(docs) {
        match text(key).as_deref() {
            Some("summary") => entry.summary = text(value).unwrap_or_default(),
            Some("since") => entry.since = text(value),
            Some("group") => entry.group = text(value).unwrap_or_default(),
            Some("arguments") => entry.params = join_arguments(items(value), " "),
            Some("subcommands") => subcommands = Some(value),
            _ => {}
        }
    }
    let container_name = container.unwrap_or(name).to_string();
    entries.push(entry);
    if let Some(subcommands) = subcommands {
        for (sub, sub_docs) in pairs(subcommands) {
            if let Some(sub) = text(sub) {
                add_entries(&sub, Some(&container_name), sub_docs, entries);
            }
        }
    }
}

fn join_arguments(args: &[Frame], separator: &str) -> String {
    args.iter()
        .map(argument)
        .collect::<Vec<_>>()
        .join(separator)
}

/// `""` stands for an empty name or token, so that it can still be seen.
fn or_empty(s: &str) -> &str {
    if s.is_empty() { "\"\"" } else { s }
}

/// One argument's synopsis: `[TOKEN name [TOKEN name ...]]` as its flags
/// (optional, multiple, multiple_token) and type (a plain value, a `oneof`
/// choice, a `block` sequence, a `pure-token`) say.
fn argument(spec: &Frame) -> String {
    let (mut name, mut kind, mut token) = (String::new(), String::new(), String::new());
    let (mut optional, mut multiple, mut multiple_token) = (false, false, false);
    let mut nested: &[Frame] = &[];
    for (key, value) in pairs(spec) {
        match text(key).as_deref() {
            Some("name") => name = text(value).unwrap_or_default(),
            Some("type") => kind = text(value).unwrap_or_default(),
            Some("token") => token = or_empty(&text(value).unwrap_or_default()).to_string(),
            Some("arguments") => nested = items(value),
            Some("flags") => {
                for flag in items(value) {
                    match text(flag).as_deref() {
                        Some("optional") => optional = true,
                        Some("multiple") => multiple = true,
                        Some("multiple_token") => multiple_token = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let repeated = match kind.as_str() {
        "oneof" => join_arguments(nested, "|"),
        "block" => join_arguments(nested, " "),
        "pure-token" => String::new(),
        _ => or_empty(&name).to_string(),
    };
    if !token.is_empty() && kind != "pure-token" {
        token.push(' ');
    }
    let mut out = String::new();
    if optional {
        out.push('[');
    }
    out.push_str(&token);
    out.push_str(&repeated);
    if multiple {
        out.push_str(" [");
        if multiple_token {
            out.push_str(&token);
        }
        out.push_str(&repeated);
        out.push_str(" ...]");
    }
    if optional {
        out.push(']');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(s.as_bytes().to_vec())
    }

    fn arg(fields: &[(&str, Frame)]) -> Frame {
        Frame::Array(
            fields
                .iter()
                .flat_map(|(k, v)| [bulk(k), v.clone()])
                .collect(),
        )
    }

    #[test]
    fn synopsis_follows_flags_and_types() {
        let optional = Frame::Array(vec![Frame::Simple(b"optional".to_vec())]);
        let multiple = Frame::Array(vec![Frame::Simple(b"multiple".to_vec())]);
        let docs = Frame::Map(vec![(
            bulk("getex"),
            arg(&[
                ("summary", bulk("Get and expire")),
                ("since", bulk("6.2.0")),
                ("group", bulk("string")),
                (
                    "arguments",
                    Frame::Array(vec![
                        arg(&[("name", bulk("key")), ("type", bulk("key"))]),
                        arg(&[
                            ("name", bulk("expiration")),
                            ("type", bulk("oneof")),
                            ("flags", optional.clone()),
                            (
                                "arguments",
                                Frame::Array(vec![
                                    arg(&[
                                        ("name", bulk("seconds")),
                                        ("type", bulk("integer")),
                                        ("token", bulk("EX")),
                                    ]),
                                    arg(&[
                                        ("name", bulk("persist")),
                                        ("type", bulk("pure-token")),
                                        ("token", bulk("PERSIST")),
                                    ]),
                                ]),
                            ),
                        ]),
                        arg(&[
                            ("name", bulk("field")),
                            ("type", bulk("string")),
                            ("flags", multiple),
                        ]),
                    ]),
                ),
            ]),
        )]);
        let help = Help::from_docs(&docs);
        assert_eq!(
            help.render(&[b"GETEX".to_vec()]),
            "\r\n  \x1b[1mGETEX\x1b[0m \x1b[90mkey [EX seconds|PERSIST] field [field ...]\x1b[0m\r\n  \
             \x1b[33msummary:\x1b[0m Get and expire\r\n  \x1b[33msince:\x1b[0m 6.2.0\r\n  \
             \x1b[33mgroup:\x1b[0m string\r\n\r\n"
        );
        assert!(help.render(&[b"@string".to_vec()]).contains("GETEX"));
        assert_eq!(help.render(&[b"@list".to_vec()]), "\r\n");
    }
}
