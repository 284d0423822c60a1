//! README's supported-commands table is generated from the command table:
//! this test fails (and prints the right table) whenever they differ, so the
//! README can never claim a command sedis lacks or miss one it has.

use std::collections::BTreeMap;

use sedis::internals::commands::registry;

fn expected_table() -> String {
    let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (_, entry) in registry().top_level() {
        let cmd = entry.command;
        let name = if cmd.subcommands.is_empty() {
            cmd.name.to_uppercase()
        } else {
            let subs: Vec<String> = cmd
                .subcommands
                .iter()
                .map(|s| s.name.to_uppercase())
                .collect();
            format!("{} ({})", cmd.name.to_uppercase(), subs.join(" "))
        };
        groups.entry(cmd.doc.group).or_default().push(name);
    }
    let mut out = String::from("| Group | Commands |\n| --- | --- |\n");
    for (group, mut names) in groups {
        names.sort();
        out.push_str(&format!("| {group} | {} |\n", names.join(", ")));
    }
    out
}

/// The README's text between `<!-- NAME:begin -->` (and its line end)
/// and `<!-- NAME:end -->`.
fn readme_section(name: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let begin = format!("<!-- {name}:begin -->\n");
    let end = format!("<!-- {name}:end -->");
    let start = readme
        .find(&begin)
        .unwrap_or_else(|| panic!("no {begin:?} marker"))
        + begin.len();
    let stop = readme
        .find(&end)
        .unwrap_or_else(|| panic!("no {end:?} marker"));
    readme[start..stop].to_string()
}

#[test]
fn readme_lists_exactly_the_implemented_commands() {
    let expected = expected_table();
    assert!(
        readme_section("commands") == expected,
        "README's command table is out of date; replace it with:\n\n{expected}"
    );
}

/// README's list of directives with no effect, as the parameter table marks
/// them.
fn expected_inert_list() -> String {
    use sedis::config::params::{INERT, PARAMS};
    let names: Vec<String> = PARAMS
        .iter()
        .filter(|p| p.is(INERT))
        .flat_map(|p| std::iter::once(p.name).chain(p.alias))
        .map(|n| format!("`{n}`"))
        .collect();
    format!("{}.\n", names.join(", "))
}

#[test]
fn readme_lists_exactly_the_directives_with_no_effect() {
    let expected = expected_inert_list();
    assert!(
        readme_section("inert") == expected,
        "README's list of directives with no effect is out of date; replace it with:\n\n{expected}"
    );
}
