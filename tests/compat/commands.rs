//! The command table as clients see it: COMMAND INFO of every command and
//! subcommand, and COMMAND DOCS as `sedis-cli help` and `redis-cli help`
//! render it, against redis-server's.

use std::io::Write;
use std::process::{Command, Stdio};

use sedis::Frame;

use crate::conn::Conn;
use crate::servers::Servers;

/// What `CLI help NAME` prints for every name, read from stdin.
fn help_output(cli: &str, port: u16, names: &[String]) -> String {
    let mut child = Command::new(cli)
        .args(["-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cli}: {e}"));
    let script: String = names.iter().map(|n| format!("help {n}\n")).collect();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write the help requests");
    let output = child.wait_with_output().expect("help output");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `sedis-cli help NAME` prints, for every name, the synopsis (the line
/// built from COMMAND DOCS "arguments") of each matching command or
/// subcommand: name → synopsis, colours removed.
fn synopses(port: u16, names: &[String]) -> std::collections::BTreeMap<String, String> {
    let text = help_output(env!("CARGO_BIN_EXE_sedis-cli"), port, names).replace("\x1b[0m", "");
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("\x1b[1m"))
        .filter_map(|line| line.split_once(" \x1b[90m"))
        .map(|(name, synopsis)| (name.to_string(), synopsis.to_string()))
        .collect()
}

/// Every command's argument synopsis, as `sedis-cli help` draws it from
/// COMMAND DOCS, is the one redis-server's docs give.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn command_docs_describe_the_arguments_redis_does() {
    let mut servers = Servers::start();
    let (_, list) = servers
        .sedis_admin
        .call(&[b"COMMAND".to_vec(), b"LIST".to_vec()])
        .expect("COMMAND LIST");
    let Frame::Array(names) = list else {
        panic!("COMMAND LIST: {list:?}")
    };
    let names: Vec<String> = names
        .iter()
        .filter_map(|n| n.as_bytes())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let ours = synopses(servers.sedis.addr.port(), &names);
    let theirs = synopses(servers.redis.port, &names);
    // COMMAND LIST names subcommands too, as `client|kill`.
    assert!(ours.len() >= names.len() && names.len() > 200, "{ours:?}");
    assert_eq!(ours["GETEX"].split(' ').next(), Some("key"));
    // CLIENT SETINFO arrived in Redis 7.2.
    let newer = ["CLIENT SETINFO"];
    let mut differ = Vec::new();
    for (name, synopsis) in &ours {
        match theirs.get(name) {
            Some(expected) if expected == synopsis => {}
            None if newer.contains(&name.as_str()) => {}
            other => differ.push(format!("{name}: sedis {synopsis:?}, redis {other:?}")),
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    // redis-cli builds its help from the same reply, and prints it alike.
    let port = servers.sedis.addr.port();
    assert_eq!(
        help_output("redis-cli", port, &names),
        help_output(env!("CARGO_BIN_EXE_sedis-cli"), port, &names)
    );
}

/// COMMAND INFO for every command and subcommand is Redis's, byte for byte
/// and in both protocols: arity, flags, legacy key range, ACL categories,
/// tips and key specs. Only a container's list of subcommands is compared
/// as a set of names (Redis lists them in its hash table's order, and sedis
/// has fewer); each subcommand is compared on its own.
#[test]
#[ignore = "needs redis-server 7.0.15; run with --include-ignored"]
fn command_info_is_what_redis_reports() {
    let servers = Servers::start();
    for protocol in ["2", "3"] {
        let mut sedis = Conn::connect(servers.sedis.addr).expect("connect to sedis");
        let mut redis = Conn::connect(servers.redis.addr()).expect("connect to redis-server");
        for conn in [&mut sedis, &mut redis] {
            conn.call(&[b"HELLO".to_vec(), protocol.as_bytes().to_vec()])
                .expect("HELLO");
        }
        let (_, list) = sedis
            .call(&[b"COMMAND".to_vec(), b"LIST".to_vec()])
            .expect("COMMAND LIST");
        let Frame::Array(names) = list else {
            panic!("COMMAND LIST: {list:?}")
        };
        assert!(names.len() > 200, "{names:?}");
        let mut differ = Vec::new();
        for name in names.iter().filter_map(Frame::as_bytes) {
            let info = |conn: &mut Conn| {
                conn.call(&[b"COMMAND".to_vec(), b"INFO".to_vec(), name.to_vec()])
                    .expect("COMMAND INFO")
            };
            // CLIENT SETINFO arrived in Redis 7.2.
            if name == b"client|setinfo" {
                continue;
            }
            let (ours, theirs) = (info(&mut sedis), info(&mut redis));
            if ours.0 == theirs.0 {
                continue;
            }
            // Redis has subcommands sedis lacks, and 7.0 lacks SETINFO.
            let (our_fields, our_subs) = subcommand_names(&ours.1, &|n| n != b"client|setinfo");
            let (their_fields, their_subs) =
                subcommand_names(&theirs.1, &|n| our_subs.iter().any(|ours| ours == n));
            if our_fields != their_fields || our_subs != their_subs {
                differ.push(format!(
                    "{}:\n  sedis {}\n  redis {}",
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(&ours.0),
                    String::from_utf8_lossy(&theirs.0)
                ));
            }
        }
        assert!(differ.is_empty(), "RESP{protocol}:\n{}", differ.join("\n"));
    }
}

/// A container's COMMAND INFO with its subcommand entries reduced to their
/// sorted names, keeping only `keep` (the names the other server has).
fn subcommand_names(reply: &Frame, keep: &dyn Fn(&[u8]) -> bool) -> (Frame, Vec<Vec<u8>>) {
    let mut reply = reply.clone();
    let mut names = Vec::new();
    if let Frame::Array(commands) = &mut reply
        && let Some(Frame::Array(fields)) = commands.first_mut()
        && let Some(Frame::Array(subs) | Frame::Set(subs)) = fields.get_mut(9)
    {
        names = subs
            .iter()
            .filter_map(|sub| match sub {
                Frame::Array(entry) => entry.first().and_then(Frame::as_bytes),
                _ => None,
            })
            .filter(|name| keep(name))
            .map(<[u8]>::to_vec)
            .collect();
        names.sort();
        subs.clear();
    }
    (reply, names)
}
