//! The crate's layers, as `src/lib.rs` draws them: every `crate::` path in
//! a top-level module's source names a module of a lower layer (or of the
//! same one, in the order listed). This is what keeps the layer diagram
//! true; a path that breaks it fails here with the file and line.

use std::collections::BTreeMap;
use std::path::Path;

/// Bottom to top: each module may use those before it in this list.
const LAYERS: &[&[&str]] = &[
    &[
        "alloc", "clock", "counter", "digest", "error", "glob", "log", "num", "quote", "rng",
    ],
    &["resp", "net", "store"],
    &["persist"],
    &["channels", "config", "process"],
    &["scripting", "state"],
    &["commands"],
    &["server", "client", "embed"],
];

/// Each module's position: its layer, then its place within the layer
/// (a module may use one listed before it in its own layer).
fn ranks() -> BTreeMap<&'static str, (usize, usize)> {
    let mut ranks = BTreeMap::new();
    for (layer, names) in LAYERS.iter().enumerate() {
        for (place, name) in names.iter().enumerate() {
            ranks.insert(*name, (layer, place));
        }
    }
    ranks
}

/// The Rust files of a top-level module (`src/x.rs` or `src/x/**`).
fn files(module: &str) -> Vec<std::path::PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let single = src.join(format!("{module}.rs"));
    if single.is_file() {
        return vec![single];
    }
    let mut out = Vec::new();
    let mut dirs = vec![src.join(module)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// The top-level modules a line of code names through `crate::`.
fn crate_paths(line: &str) -> Vec<&str> {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices("crate::")
        .map(|(at, _)| {
            let rest = &code[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let ranks = ranks();
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    // Every top-level module is placed in a layer: the public ones
    // (`pub mod x;`) and the inner ones, listed in `inner_modules!(...)`.
    let inner = lib
        .split_once("inner_modules!(\n")
        .and_then(|(_, rest)| rest.split_once(");"))
        .map_or("", |(list, _)| list);
    let public = lib.lines().filter_map(|line| {
        line.trim()
            .strip_prefix("pub mod ")
            .and_then(|rest| rest.strip_suffix(';'))
    });
    let declared: Vec<&str> = inner
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|name| !name.is_empty())
        .chain(public)
        .collect();
    assert!(declared.len() > 20, "no modules found in src/lib.rs");
    for name in declared {
        assert!(
            ranks.contains_key(name),
            "src/lib.rs declares `{name}`, which no layer lists"
        );
    }
    let mut violations = Vec::new();
    for (&module, &rank) in &ranks {
        for file in files(module) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (number, line) in text.lines().enumerate() {
                for used in crate_paths(line) {
                    let Some(&used_rank) = ranks.get(used) else {
                        continue; // an item of the crate root (REDIS_VERSION...)
                    };
                    if used != module && used_rank >= rank {
                        violations.push(format!(
                            "{}:{}: `{module}` uses `{used}`, which is not below it",
                            file.strip_prefix(env!("CARGO_MANIFEST_DIR"))
                                .unwrap()
                                .display(),
                            number + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
