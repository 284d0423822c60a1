//! Random picks are fair: SRANDMEMBER, SPOP, HRANDFIELD, ZRANDMEMBER and
//! RANDOMKEY give each of ten elements the same chance, in every encoding,
//! with and without repeats, as Redis does.
//!
//! Each test counts how often each element comes up and bounds Pearson's
//! chi-square statistic by [`CHI2_LIMIT`], which a fair draw exceeds once in
//! about a million runs. Nothing is seeded: the server's hash seed and
//! generators are fresh each run, as in production. A bias the size of the
//! one that put elements sharing a hash bucket at half or a third of the
//! others' chance gives statistics in the hundreds at these sample sizes.

mod common;

use std::collections::HashMap;

use common::{Raw, TestServer};
use sedis::Frame;

/// The chi-square value, for nine degrees of freedom (ten elements), that a
/// fair draw exceeds with probability 9.2e-7.
const CHI2_LIMIT: f64 = 44.9;

/// Ten string members: a set of them is a hash table.
const WORDS: [&str; 10] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
];

/// Ten integers: a set of them is an intset.
const NUMBERS: [&str; 10] = [
    "-7", "0", "3", "14", "15", "92", "653", "5897", "93238", "4626433",
];

/// Requests sent before their replies are read: enough to make the draws
/// quick, few enough that neither side's socket buffer fills while the other
/// is still writing.
const PIPELINE: usize = 200;

/// Sends `batch` (requests, each marked whether its reply is a draw to keep
/// or a set-up command's to check and drop) `times` times, pipelined, and
/// returns every element the kept replies held (a bulk string, or an
/// array's bulk strings).
fn drawn(conn: &mut Raw, batch: &[(&[&str], bool)], times: usize) -> Vec<Vec<u8>> {
    let mut elements = Vec::new();
    let mut left = times;
    while left > 0 {
        let n = left.min(PIPELINE);
        left -= n;
        let mut bytes = Vec::new();
        for _ in 0..n {
            for (args, _) in batch {
                Frame::encode_request(args, &mut bytes);
            }
        }
        conn.send(&bytes);
        for _ in 0..n {
            for (args, keep) in batch {
                let reply = conn.read();
                assert!(!reply.is_error(), "{args:?}: {reply:?}");
                if !keep {
                    continue;
                }
                match reply {
                    Frame::Bulk(b) => elements.push(b),
                    Frame::Array(items) => {
                        elements.extend(items.into_iter().map(|item| match item {
                            Frame::Bulk(b) => b,
                            other => panic!("{args:?}: an element {other:?}"),
                        }))
                    }
                    other => panic!("{args:?}: {other:?}"),
                }
            }
        }
    }
    elements
}

/// Asserts that `draws` holds only `members`, each about equally often.
fn assert_fair(what: &str, members: &[&str], draws: &[Vec<u8>]) {
    let mut counts: HashMap<&[u8], u64> = members.iter().map(|m| (m.as_bytes(), 0)).collect();
    for d in draws {
        match counts.get_mut(d.as_slice()) {
            Some(count) => *count += 1,
            None => panic!(
                "{what}: drew {:?}, not a member",
                String::from_utf8_lossy(d)
            ),
        }
    }
    let expected = draws.len() as f64 / members.len() as f64;
    let chi2: f64 = counts
        .values()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    let mut shown: Vec<(String, u64)> = counts
        .iter()
        .map(|(m, c)| (String::from_utf8_lossy(m).into_owned(), *c))
        .collect();
    shown.sort();
    assert!(
        chi2 < CHI2_LIMIT,
        "{what}: chi-square {chi2:.1} over {} draws (limit {CHI2_LIMIT}): {shown:?}",
        draws.len()
    );
}

fn call(conn: &mut Raw, args: &[&str]) -> Vec<u8> {
    conn.call(args)
}

/// `SADD key members...` as one argument list.
fn sadd<'a>(key: &'a str, members: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["SADD", key];
    args.extend_from_slice(members);
    args
}

/// Asserts that `key` has `encoding` and that `command` (SRANDMEMBER,
/// HRANDFIELD, ZRANDMEMBER) draws each of `members` alike in its three
/// forms: a negative count (repeats allowed), no count, and a count of 3
/// (distinct members).
fn assert_draws_fair(c: &mut Raw, command: &str, key: &str, encoding: &str, members: &[&str]) {
    assert_eq!(
        call(c, &["OBJECT", "ENCODING", key]),
        format!("${}\r\n{encoding}\r\n", encoding.len()).into_bytes()
    );
    let with_repeats = drawn(c, &[(&[command, key, "-10000"], true)], 1);
    assert_eq!(with_repeats.len(), 10_000);
    assert_fair(
        &format!("{command} -10000 ({encoding})"),
        members,
        &with_repeats,
    );
    let one = drawn(c, &[(&[command, key], true)], 5000);
    assert_fair(&format!("{command} ({encoding})"), members, &one);
    let distinct = drawn(c, &[(&[command, key, "3"], true)], 3000);
    assert_eq!(distinct.len(), 9000);
    assert_fair(&format!("{command} 3 ({encoding})"), members, &distinct);
}

#[test]
fn srandmember_is_fair_in_every_encoding() {
    let server = TestServer::start();
    let mut c = server.raw();
    for (members, encoding) in [(&WORDS, "hashtable"), (&NUMBERS, "intset")] {
        call(&mut c, &["DEL", "s"]);
        call(&mut c, &sadd("s", members));
        assert_draws_fair(&mut c, "SRANDMEMBER", "s", encoding, members);
    }
}

#[test]
fn spop_is_fair_in_every_encoding() {
    let server = TestServer::start();
    let mut c = server.raw();
    for (members, encoding) in [(&WORDS, "hashtable"), (&NUMBERS, "intset")] {
        let fill = sadd("s", members);
        // Each round pops from a fresh set of all ten.
        let one = drawn(
            &mut c,
            &[
                (&["DEL", "s"], false),
                (&fill, false),
                (&["SPOP", "s"], true),
            ],
            5000,
        );
        assert_fair(&format!("SPOP ({encoding})"), members, &one);
        let three = drawn(
            &mut c,
            &[
                (&["DEL", "s"], false),
                (&fill, false),
                (&["SPOP", "s", "3"], true),
            ],
            3000,
        );
        assert_eq!(three.len(), 9000);
        assert_fair(&format!("SPOP 3 ({encoding})"), members, &three);
        assert_eq!(
            call(&mut c, &["OBJECT", "ENCODING", "s"]),
            format!("${}\r\n{encoding}\r\n", encoding.len()).into_bytes()
        );
    }
}

#[test]
fn hrandfield_is_fair_in_every_encoding() {
    let server = TestServer::start();
    let mut c = server.raw();
    for (entries, encoding) in [("128", "listpack"), ("0", "hashtable")] {
        call(
            &mut c,
            &["CONFIG", "SET", "hash-max-listpack-entries", entries],
        );
        call(&mut c, &["DEL", "h"]);
        for field in WORDS {
            call(&mut c, &["HSET", "h", field, "v"]);
        }
        assert_draws_fair(&mut c, "HRANDFIELD", "h", encoding, &WORDS);
    }
}

#[test]
fn zrandmember_is_fair_in_every_encoding() {
    let server = TestServer::start();
    let mut c = server.raw();
    for (entries, encoding) in [("128", "listpack"), ("0", "skiplist")] {
        call(
            &mut c,
            &["CONFIG", "SET", "zset-max-listpack-entries", entries],
        );
        call(&mut c, &["DEL", "z"]);
        for (score, member) in WORDS.iter().enumerate() {
            call(&mut c, &["ZADD", "z", &score.to_string(), member]);
        }
        assert_draws_fair(&mut c, "ZRANDMEMBER", "z", encoding, &WORDS);
    }
}

#[test]
fn randomkey_is_fair() {
    let server = TestServer::start();
    let mut c = server.raw();
    for key in WORDS {
        call(&mut c, &["SET", key, "v"]);
    }
    let keys = drawn(&mut c, &[(&["RANDOMKEY"], true)], 5000);
    assert_fair("RANDOMKEY", &WORDS, &keys);
}
