//! Streams (Redis's `stream.h` and the data-structure half of `t_stream.c`).
//!
//! Entries are kept in *nodes*, as Redis keeps them in listpacks under a
//! radix tree: each node is keyed by its master id (the id of the first
//! entry added to it) and remembers its master fields (the first entry's
//! field names). An entry whose fields are the master's is stored with the
//! `SAMEFIELDS` flag and only its values. Each entry's fields and values
//! are one packed buffer (a varint length before each string), not a
//! vector of strings.
//!
//! Why nodes at all, rather than one ordered map of entries: what Redis
//! replies to approximate trimming (`MAXLEN ~`, `MINID ~`) depends on where
//! its nodes begin and end, and a node closes when its listpack reaches
//! `stream-node-max-bytes` or holds `stream-node-max-entries` entries. So
//! every node here tracks the exact size its listpack would have in Redis
//! ([`Node::listpack_bytes`]), and deletions leave tombstones (the
//! `DELETED` flag) exactly where Redis leaves them. The same structure is
//! what RDB writes (`persist::rdb` turns a node into its listpack and
//! back), so a dump carries the nodes as Redis would.
//!
//! Consumer groups are plain data here (name, last delivered id, entries
//! read, pending entries, consumers) so that dumps holding them load and
//! save intact.

use std::collections::{BTreeMap, BTreeSet};

use crate::num;

/// An entry id: milliseconds and a sequence number, ordered as one 128-bit
/// number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

/// Why an id argument was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidId;

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// The next id (Redis's `streamIncrID`), `None` past the last.
    pub fn next(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            return Some(StreamId::new(self.ms + 1, 0));
        }
        Some(StreamId::new(self.ms, self.seq + 1))
    }

    /// The previous id (Redis's `streamDecrID`), `None` before the first.
    pub fn prev(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            return Some(StreamId::new(self.ms - 1, u64::MAX));
        }
        Some(StreamId::new(self.ms, self.seq - 1))
    }

    /// Parses an id argument as Redis's `streamGenericParseIDOrReply`:
    /// `-` and `+` (unless `strict`), `<ms>` (the sequence then being
    /// `missing_seq`), `<ms>-<seq>`, and with `allow_auto_seq` `<ms>-*`.
    /// Returns the id and whether the sequence was given (false for
    /// `<ms>-*`).
    pub fn parse(
        arg: &[u8],
        missing_seq: u64,
        strict: bool,
        allow_auto_seq: bool,
    ) -> Result<(StreamId, bool), InvalidId> {
        // Redis copies the argument into a 128-byte buffer first.
        if arg.len() > 127 {
            return Err(InvalidId);
        }
        // The C string ends at the first NUL byte.
        let arg = &arg[..arg.iter().position(|&b| b == 0).unwrap_or(arg.len())];
        match arg {
            b"-" if !strict => return Ok((StreamId::MIN, true)),
            b"+" if !strict => return Ok((StreamId::MAX, true)),
            b"-" | b"+" => return Err(InvalidId),
            _ => {}
        }
        let (ms_text, seq_text) = match arg.iter().position(|&b| b == b'-') {
            Some(dash) => (&arg[..dash], Some(&arg[dash + 1..])),
            None => (arg, None),
        };
        let ms = string_to_u64(ms_text).ok_or(InvalidId)?;
        match seq_text {
            None => Ok((StreamId::new(ms, missing_seq), true)),
            Some(b"*") if allow_auto_seq => Ok((StreamId::new(ms, 0), false)),
            Some(seq) => {
                let seq = string_to_u64(seq).ok_or(InvalidId)?;
                Ok((StreamId::new(ms, seq), true))
            }
        }
    }

    /// `<ms>-<seq>`, as replies and the log write ids.
    pub fn to_bytes(self) -> Vec<u8> {
        format!("{}-{}", self.ms, self.seq).into_bytes()
    }

    /// The 16-byte big-endian form: RDB's node keys and pending ids.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }

    pub fn from_be_bytes(bytes: &[u8; 16]) -> Self {
        let (ms, seq) = bytes.split_at(8);
        StreamId::new(
            u64::from_be_bytes(ms.try_into().unwrap_or_default()),
            u64::from_be_bytes(seq.try_into().unwrap_or_default()),
        )
    }
}

/// Sizes in Redis's listpack encoding (`listpack.c`), backlen included:
/// what each element adds to a node. (The encoder itself is the persistence
/// layer's, which takes the backlen arithmetic from here.)
pub(crate) mod listpack {
    use crate::num;

    /// The bytes the backlen of an element of `l` bytes takes.
    pub fn backlen_size(l: usize) -> usize {
        match l {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2_097_150 => 3,
            2_097_151..=268_435_454 => 4,
            _ => 5,
        }
    }

    /// An integer element (`lpAppendInteger`).
    pub fn int_size(v: i64) -> usize {
        let encoded = if (0..=127).contains(&v) {
            1
        } else if (-4096..=4095).contains(&v) {
            2
        } else if i16::try_from(v).is_ok() {
            3
        } else if (-8_388_608..=8_388_607).contains(&v) {
            4
        } else if i32::try_from(v).is_ok() {
            5
        } else {
            9
        };
        encoded + backlen_size(encoded)
    }

    /// A string element (`lpAppend`): an integer when it is a canonical one.
    pub fn element_size(element: &[u8]) -> usize {
        if let Some(v) = num::parse_i64(element) {
            return int_size(v);
        }
        let len = element.len();
        let encoded = len
            + match len {
                0..64 => 1,
                64..4096 => 2,
                _ => 5,
            };
        encoded + backlen_size(encoded)
    }
}

/// Redis's `string2ull`: a strict decimal `long long` that is not
/// negative, or else whatever C's `strtoull` accepts whole (leading white
/// space, a sign, leading zeros, values past `i64::MAX`; a minus sign
/// wraps, as in C).
fn string_to_u64(text: &[u8]) -> Option<u64> {
    if let Some(n) = num::parse_i64(text) {
        return u64::try_from(n).ok();
    }
    let (negative, digits) = num::c_sign(text);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: u64 = 0;
    for &d in digits {
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if negative { value.wrapping_neg() } else { value })
}

/// The `stream-node-max-*` settings deciding when a node is full.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// `stream-node-max-bytes` (0: no limit but Redis's 1 GB cap).
    pub max_bytes: u64,
    /// `stream-node-max-entries` (0: no limit).
    pub max_entries: i64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

/// Redis's `STREAM_LISTPACK_MAX_SIZE`: no node grows past 1 GB, and no
/// entry bigger than that can be added.
pub const LISTPACK_MAX_SIZE: u64 = 1 << 30;

/// Entry flags, as in the listpack.
pub const FLAG_DELETED: u8 = 1;
pub const FLAG_SAMEFIELDS: u8 = 2;

/// One entry of a node, possibly a tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEntry {
    pub id: StreamId,
    pub flags: u8,
    /// The fields and values, each a varint length and the bytes; only
    /// the values with `FLAG_SAMEFIELDS`.
    data: Box<[u8]>,
}

impl NodeEntry {
    pub fn is_deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }

    /// The strings stored for the entry, in order: fields and values, or
    /// only the values with `FLAG_SAMEFIELDS`.
    pub fn stored(&self) -> impl Iterator<Item = &[u8]> {
        self.strings()
    }

    fn strings(&self) -> Strings<'_> {
        Strings { rest: &self.data }
    }
}

use super::pack_str as pack;

/// The strings of a packed buffer, in order.
struct Strings<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Strings<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let mut len = 0usize;
        let mut shift = 0;
        let mut at = 0;
        loop {
            let byte = *self.rest.get(at)?;
            at += 1;
            len |= usize::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let s = self.rest.get(at..at + len)?;
        self.rest = &self.rest[at + len..];
        Some(s)
    }
}

/// A node: a run of consecutive entries sharing a master entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The master fields, packed.
    master_fields: Box<[u8]>,
    master_field_count: usize,
    /// Entries in id order, tombstones included.
    entries: Vec<NodeEntry>,
    /// Live entries (the master entry's `count`).
    live: u64,
    /// Tombstones (the master entry's `deleted`).
    deleted: u64,
    /// The listpack bytes of the entries (the master entry and header
    /// excluded); a tombstone keeps its size, its flag staying one byte.
    entries_bytes: usize,
}

impl Node {
    /// An empty node whose master entry has `fields`.
    pub fn new(fields: &[&[u8]]) -> Node {
        let mut master_fields = Vec::new();
        for field in fields {
            pack(&mut master_fields, field);
        }
        Node {
            master_fields: master_fields.into(),
            master_field_count: fields.len(),
            entries: Vec::new(),
            live: 0,
            deleted: 0,
            entries_bytes: 0,
        }
    }

    /// The master entry's fields.
    pub fn master_fields(&self) -> impl Iterator<Item = &[u8]> {
        Strings {
            rest: &self.master_fields,
        }
    }

    pub fn master_field_count(&self) -> usize {
        self.master_field_count
    }

    /// Live entries (the master entry's `count`).
    pub fn live(&self) -> u64 {
        self.live
    }

    /// Tombstones (the master entry's `deleted`).
    pub fn deleted(&self) -> u64 {
        self.deleted
    }

    /// The bytes this node's listpack takes in Redis: header, master entry,
    /// entries, end byte.
    pub fn listpack_bytes(&self) -> usize {
        let master: usize = self.master_fields().map(listpack::element_size).sum();
        6 + listpack::int_size(self.live as i64)
            + listpack::int_size(self.deleted as i64)
            + listpack::int_size(self.master_field_count as i64)
            + master
            + listpack::int_size(0)
            + self.entries_bytes
            + 1
    }

    fn same_fields(&self, pairs: &[&[u8]]) -> bool {
        pairs.len() / 2 == self.master_field_count
            && self
                .master_fields()
                .zip(pairs.chunks_exact(2))
                .all(|(m, pair)| m == pair[0])
    }

    /// Appends an entry, a tombstone if `deleted` (the caller keeps ids
    /// increasing and at least `master`).
    pub fn push(&mut self, master: StreamId, id: StreamId, pairs: &[&[u8]], deleted: bool) {
        let same = self.same_fields(pairs);
        let mut flags = if same { FLAG_SAMEFIELDS } else { 0 };
        if deleted {
            flags |= FLAG_DELETED;
        }
        let mut data = Vec::new();
        let fields = pairs.len() / 2;
        let mut bytes = listpack::int_size(i64::from(flags))
            + listpack::int_size(id.ms.wrapping_sub(master.ms) as i64)
            + listpack::int_size(id.seq.wrapping_sub(master.seq) as i64);
        if !same {
            bytes += listpack::int_size(fields as i64);
        }
        for pair in pairs.chunks_exact(2) {
            if !same {
                pack(&mut data, pair[0]);
                bytes += listpack::element_size(pair[0]);
            }
            pack(&mut data, pair[1]);
            bytes += listpack::element_size(pair[1]);
        }
        let lp_count = if same { fields + 3 } else { 2 * fields + 4 };
        bytes += listpack::int_size(lp_count as i64);
        self.entries_bytes += bytes;
        if deleted {
            self.deleted += 1;
        } else {
            self.live += 1;
        }
        self.entries.push(NodeEntry {
            id,
            flags,
            data: data.into(),
        });
    }

    /// The fields and values of `entry` (a member of this node), in order.
    pub fn pairs<'a>(&'a self, entry: &'a NodeEntry) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
        let same = entry.flags & FLAG_SAMEFIELDS != 0;
        let mut strings = entry.strings();
        let mut master = self.master_fields();
        std::iter::from_fn(move || {
            if same {
                Some((master.next()?, strings.next()?))
            } else {
                Some((strings.next()?, strings.next()?))
            }
        })
    }

    /// How many fields `entry` has.
    pub fn field_count(&self, entry: &NodeEntry) -> usize {
        self.pairs(entry).count()
    }

    pub fn entries(&self) -> &[NodeEntry] {
        &self.entries
    }

    /// Marks the entry at `index` deleted; returns false if it already was.
    fn delete_at(&mut self, index: usize) -> bool {
        let entry = &mut self.entries[index];
        if entry.is_deleted() {
            return false;
        }
        entry.flags |= FLAG_DELETED;
        self.live -= 1;
        self.deleted += 1;
        true
    }

}

/// A pending entry of a consumer group (Redis's `streamNACK`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// Last delivery, unix ms.
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// The consumer owning it.
    pub consumer: Vec<u8>,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consumer {
    /// Last seen, unix ms.
    pub seen_time: i64,
    /// The ids it has pending (each also in the group's PEL).
    pub pending: BTreeSet<StreamId>,
}

/// A consumer group (Redis's `streamCG`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    pub last_id: StreamId,
    /// Redis's `entries_read` (-1: unknown).
    pub entries_read: i64,
    pub pending: BTreeMap<StreamId, PendingEntry>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    /// A group that has delivered up to `last_id`, having read
    /// `entries_read` entries (-1: unknown).
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            ..Group::default()
        }
    }

    /// Takes `id` out of the group's pending entries and its consumer's
    /// (XACK, and a claim finding the entry deleted); `None` if it was not
    /// pending.
    pub fn remove_pending(&mut self, id: StreamId) -> Option<PendingEntry> {
        let nack = self.pending.remove(&id)?;
        if let Some(consumer) = self.consumers.get_mut(&nack.consumer) {
            consumer.pending.remove(&id);
        }
        Some(nack)
    }

    /// Deletes a consumer and its pending entries (XGROUP DELCONSUMER);
    /// returns how many entries it had pending, `None` if there was no
    /// such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let consumer = self.consumers.remove(name)?;
        for id in &consumer.pending {
            self.pending.remove(id);
        }
        Some(consumer.pending.len())
    }

    /// Makes `consumer` (which must exist) the owner of the pending entry
    /// `id`, creating the entry if there is none (delivery count 0, to be
    /// set by the caller). Returns the entry.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8]) -> &mut PendingEntry {
        let nack = self.pending.entry(id).or_insert_with(|| PendingEntry {
            delivery_time: 0,
            delivery_count: 0,
            consumer: consumer.to_vec(),
        });
        if nack.consumer != consumer {
            if let Some(old) = self.consumers.get_mut(&nack.consumer) {
                old.pending.remove(&id);
            }
            nack.consumer = consumer.to_vec();
        }
        if let Some(owner) = self.consumers.get_mut(consumer) {
            owner.pending.insert(id);
        }
        nack
    }
}

/// An entry XREADGROUP delivered to a consumer (with the group's state
/// right after, which is what Redis propagates for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub id: StreamId,
    /// The group's last delivered id after this entry.
    pub group_last_id: StreamId,
    /// The pending entry's delivery time and count (when acknowledged).
    pub delivery_time: i64,
    pub delivery_count: u64,
}

/// How XADD and XTRIM trim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Drop entries below this id.
    MinId(StreamId),
}

/// A stream value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    /// Nodes by master id.
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    /// Groups by name.
    pub groups: BTreeMap<Vec<u8>, Group>,
}

impl Stream {
    pub fn new() -> Self {
        Self::default()
    }

    /// Live entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    /// A stream with no entries is still a stream (Redis keeps it).
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    pub fn encoding_name(&self) -> &'static str {
        "stream"
    }

    /// The nodes, by master id (RDB).
    pub fn nodes(&self) -> impl Iterator<Item = (&StreamId, &Node)> {
        self.nodes.iter()
    }

    /// Adds a node read from a dump; false if it does not follow the last
    /// one (ids must keep increasing).
    pub fn push_node(&mut self, master: StreamId, node: Node) -> bool {
        if let Some((_, last)) = self.nodes.iter().next_back()
            && last.entries.last().is_some_and(|e| e.id >= master)
        {
            return false;
        }
        if node.entries.first().is_none_or(|e| e.id != master) {
            return false;
        }
        self.length += node.live;
        self.nodes.insert(master, node);
        true
    }

    /// The id XADD gives an entry: `given` (with `seq_given` false for
    /// `<ms>-*`), or for `None` the next one after the last at `now_ms`.
    /// `None` if it would not be greater than the last id.
    pub fn next_id(&self, given: Option<(StreamId, bool)>, now_ms: u64) -> Option<StreamId> {
        let id = match given {
            Some((id, true)) => id,
            Some((id, false)) if id.ms == self.last_id.ms => {
                if self.last_id.seq == u64::MAX {
                    return None;
                }
                StreamId::new(id.ms, self.last_id.seq + 1)
            }
            Some((id, false)) => id,
            None if now_ms > self.last_id.ms => StreamId::new(now_ms, 0),
            None => self.last_id.next()?,
        };
        (id > self.last_id).then_some(id)
    }

    /// Appends an entry with `id` (greater than the last, see
    /// [`Stream::next_id`]); `pairs` alternates fields and values.
    pub fn append(&mut self, id: StreamId, pairs: &[&[u8]], limits: StreamLimits) {
        let total: u64 = pairs.iter().map(|s| s.len() as u64).sum();
        let max_bytes = if limits.max_bytes == 0 || limits.max_bytes > LISTPACK_MAX_SIZE {
            LISTPACK_MAX_SIZE
        } else {
            limits.max_bytes
        };
        let fits = self.nodes.iter().next_back().is_some_and(|(_, node)| {
            node.listpack_bytes() as u64 + total < max_bytes
                && (limits.max_entries == 0
                    || ((node.live + node.deleted) as i64) < limits.max_entries)
        });
        if !fits {
            let fields: Vec<&[u8]> = pairs.iter().step_by(2).copied().collect();
            self.nodes.insert(id, Node::new(&fields));
        }
        let Some((&master, node)) = self.nodes.iter_mut().next_back() else {
            return;
        };
        node.push(master, id, pairs, false);
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// Live entries with ids in `start..=end`, in order (or reversed), with
    /// the node each belongs to.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (&Node, &NodeEntry)> + '_> {
        if start > end {
            return Box::new(std::iter::empty());
        }
        // The node holding `start` may begin before it.
        let from = self
            .nodes
            .range(..=start)
            .next_back()
            .map_or(start, |(k, _)| *k);
        let nodes = self.nodes.range(from..=end);
        let in_range = move |(_, entry): &(&Node, &NodeEntry)| {
            !entry.is_deleted() && entry.id >= start && entry.id <= end
        };
        if rev {
            Box::new(
                nodes
                    .rev()
                    .flat_map(|(_, n)| n.entries.iter().rev().map(move |e| (n, e)))
                    .filter(in_range),
            )
        } else {
            Box::new(
                nodes
                    .flat_map(|(_, n)| n.entries.iter().map(move |e| (n, e)))
                    .filter(in_range),
            )
        }
    }

    /// The first or last entry's id, tombstones counted or not (Redis's
    /// `streamGetEdgeID`): for an empty stream the maximal id as first,
    /// 0-0 as last.
    pub fn edge_id(&self, first: bool, skip_tombstones: bool) -> StreamId {
        let mut all = self
            .nodes
            .values()
            .flat_map(|n| n.entries.iter())
            .filter(|e| !skip_tombstones || !e.is_deleted());
        let found = if first {
            all.next()
        } else {
            // Walk from the end instead of through the whole stream.
            self.nodes
                .values()
                .rev()
                .flat_map(|n| n.entries.iter().rev())
                .find(|e| !skip_tombstones || !e.is_deleted())
        };
        match found {
            Some(e) => e.id,
            None if first => StreamId::MAX,
            None => StreamId::MIN,
        }
    }

    /// The last live entry's id (Redis's `streamLastValidID`).
    pub fn last_valid_id(&self) -> StreamId {
        self.edge_id(false, true)
    }

    /// Deletes the entry `id` (XDEL); false if there is no such live entry.
    /// Updates the length and the maximal deleted id, not the first id.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let Ok(index) = node.entries.binary_search_by(|e| e.id.cmp(&id)) else {
            return false;
        };
        if !node.delete_at(index) {
            return false;
        }
        if node.live == 0 {
            self.nodes.remove(&master);
        }
        self.length -= 1;
        true
    }

    /// Trims as Redis's `streamTrim` does: whole nodes first; with
    /// `approx`, nothing inside a node; at most `limit` entries when
    /// `limit` is not 0 (whole nodes only). Returns how many entries went.
    pub fn trim(&mut self, trim: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some((&master, node)) = self.nodes.iter_mut().next() {
            if let Trim::MaxLen(max) = trim
                && self.length <= max
            {
                break;
            }
            let entries = node.live;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match trim {
                Trim::MaxLen(max) => self.length - entries >= max,
                // The node's last entry, tombstone or not.
                Trim::MinId(min) => node.entries.last().is_some_and(|e| e.id < min),
            };
            if remove_node {
                self.nodes.remove(&master);
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            for index in 0..node.entries.len() {
                let stop = match trim {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => node.entries[index].id >= min,
                };
                if stop {
                    break;
                }
                if node.delete_at(index) {
                    self.length -= 1;
                    deleted += 1;
                }
            }
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(true, true);
        }
        deleted
    }

    /// How many entries a group that read up to `id` has read, where that
    /// can be told (Redis's `streamEstimateDistanceFromFirstEverEntry`);
    /// -1 where not. Dumps older than type 19 do not carry the counter.
    pub fn estimate_entries_read(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return added;
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return added,
            std::cmp::Ordering::Greater => return -1,
            std::cmp::Ordering::Less => {}
        }
        if self.max_deleted_id == StreamId::MIN || self.max_deleted_id < self.first_id {
            match id.cmp(&self.first_id) {
                std::cmp::Ordering::Less => return added - self.length as i64,
                std::cmp::Ordering::Equal => return added - self.length as i64 + 1,
                std::cmp::Ordering::Greater => {}
            }
        }
        -1
    }

    /// True if `id` is a live entry (Redis's `streamEntryExists`).
    pub fn entry_exists(&self, id: StreamId) -> bool {
        self.entry(id).is_some()
    }

    /// The live entry `id`, with its node.
    pub fn entry(&self, id: StreamId) -> Option<(&Node, &NodeEntry)> {
        self.range(id, id, false).next()
    }

    /// True if a tombstone may lie at or after `start` (Redis's
    /// `streamRangeHasTombstones` with no end): the greatest deleted id
    /// is there and not before the first entry.
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        self.length != 0
            && self.max_deleted_id != StreamId::MIN
            && self.first_id <= self.max_deleted_id
            && start <= self.max_deleted_id
    }

    /// How many entries a group has yet to be delivered (Redis's
    /// `streamReplyWithCGLag`), `None` where that cannot be told.
    pub fn group_lag(&self, group: &Group) -> Option<i64> {
        let added = self.entries_added as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if group.entries_read != -1 && !self.has_tombstones_from(group.last_id) {
            return Some(added - group.entries_read);
        }
        match self.estimate_entries_read(group.last_id) {
            -1 => None,
            read => Some(added - read),
        }
    }

    /// Creates a group; false if the name is taken.
    pub fn create_group(&mut self, name: &[u8], last_id: StreamId, entries_read: i64) -> bool {
        if self.groups.contains_key(name) {
            return false;
        }
        self.groups
            .insert(name.to_vec(), Group::new(last_id, entries_read));
        true
    }

    /// Delivers the entries from `start` on (at most `count`, 0: all) to
    /// `consumer` of `group`, both existing, as Redis's
    /// `streamReplyWithRange` does for a group: the group's last delivered
    /// id and read counter advance, and unless `noack` each entry becomes
    /// pending for the consumer (taken from another consumer if an admin
    /// moved the group back). Returns what was delivered, in order.
    pub fn deliver(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        start: StreamId,
        count: usize,
        noack: bool,
        now_ms: i64,
    ) -> Vec<Delivered> {
        let ids: Vec<StreamId> = {
            let all = self.range(start, StreamId::MAX, false).map(|(_, e)| e.id);
            if count == 0 {
                all.collect()
            } else {
                all.take(count).collect()
            }
        };
        let Some(mut g) = self.groups.remove(group) else {
            return Vec::new();
        };
        let mut delivered = Vec::with_capacity(ids.len());
        for id in ids {
            if id > g.last_id {
                if g.entries_read != -1 && !self.has_tombstones_from(id) {
                    g.entries_read += 1;
                } else if self.entries_added != 0 {
                    g.entries_read = self.estimate_entries_read(id);
                }
                g.last_id = id;
            }
            let (mut delivery_time, mut delivery_count) = (now_ms, 1);
            if !noack {
                let nack = g.assign(id, consumer);
                nack.delivery_time = now_ms;
                nack.delivery_count = 1;
                (delivery_time, delivery_count) = (nack.delivery_time, nack.delivery_count);
            }
            delivered.push(Delivered {
                id,
                group_last_id: g.last_id,
                delivery_time,
                delivery_count,
            });
        }
        self.groups.insert(group.to_vec(), g);
        delivered
    }

    /// The radix tree's node count Redis reports (`radix-tree-nodes`):
    /// the nodes of a compressed trie over the nodes' 16-byte master ids,
    /// where a run of bytes without a branch is one node.
    pub fn radix_tree_nodes(&self) -> u64 {
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(|id| id.to_be_bytes()).collect();
        if keys.is_empty() {
            return 1;
        }
        trie_nodes(&keys, 0)
    }

    /// Approximate heap bytes (memory accounting).
    pub fn heap_size(&self) -> usize {
        let nodes: usize = self
            .nodes
            .values()
            .map(|n| {
                std::mem::size_of::<Node>()
                    + n.master_fields.len()
                    + n.entries.capacity() * std::mem::size_of::<NodeEntry>()
                    + n.entries.iter().map(|e| e.data.len()).sum::<usize>()
                    + 16
            })
            .sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, g)| {
                name.len()
                    + std::mem::size_of::<Group>()
                    + g.pending
                        .values()
                        .map(|p| 16 + std::mem::size_of::<PendingEntry>() + p.consumer.len())
                        .sum::<usize>()
                    + g.consumers
                        .iter()
                        .map(|(n, c)| n.len() + std::mem::size_of::<Consumer>() + 16 * c.pending.len())
                        .sum::<usize>()
            })
            .sum();
        nodes + groups
    }
}

/// The rax nodes under a position at `depth` shared by all of `keys`
/// (sorted, distinct, of equal length): a compressed run of bytes when they
/// agree further, then a branching node with one subtree per next byte; a
/// key's end is a node of its own.
fn trie_nodes(keys: &[[u8; 16]], depth: usize) -> u64 {
    if depth == 16 {
        return 1;
    }
    let (first, last) = (&keys[0], &keys[keys.len() - 1]);
    let common = (depth..16).take_while(|&i| first[i] == last[i]).count();
    if common > 0 {
        return 1 + trie_nodes(keys, depth + common);
    }
    let mut nodes = 1;
    let mut rest = keys;
    while let Some(head) = rest.first() {
        let same = rest.iter().take_while(|k| k[depth] == head[depth]).count();
        nodes += trie_nodes(&rest[..same], depth + 1);
        rest = &rest[same..];
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    #[test]
    fn ids_parse_like_redis() {
        let p = |s: &str| StreamId::parse(s.as_bytes(), 0, true, true);
        assert_eq!(p("1-2"), Ok((id(1, 2), true)));
        assert_eq!(p("5"), Ok((id(5, 0), true)));
        assert_eq!(p("5-*"), Ok((id(5, 0), false)));
        assert_eq!(
            p("18446744073709551615-18446744073709551615"),
            Ok((StreamId::MAX, true))
        );
        assert_eq!(p(" 1-+2"), Ok((id(1, 2), true)), "strtoull's leniency");
        assert_eq!(p("01-0"), Ok((id(1, 0), true)));
        for bad in ["-", "+", "", "1-", "-1", "a", "1-2-3", "18446744073709551616", "1-x", "1 "] {
            assert_eq!(p(bad), Err(InvalidId), "{bad}");
        }
        let loose = |s: &str| StreamId::parse(s.as_bytes(), u64::MAX, false, false);
        assert_eq!(loose("-"), Ok((StreamId::MIN, true)));
        assert_eq!(loose("+"), Ok((StreamId::MAX, true)));
        assert_eq!(loose("7"), Ok((id(7, u64::MAX), true)));
        assert_eq!(loose("7-*"), Err(InvalidId));
        assert_eq!(p(&"1".repeat(128)), Err(InvalidId));
        assert_eq!(id(1, u64::MAX).next(), Some(id(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(id(2, 0).prev(), Some(id(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
        assert_eq!(StreamId::from_be_bytes(&id(3, 4).to_be_bytes()), id(3, 4));
    }

    fn pairs(items: &[&'static str]) -> Vec<&'static [u8]> {
        items.iter().map(|s| s.as_bytes()).collect()
    }

    #[test]
    fn radix_tree_nodes_count_as_redis_rax() {
        let mut s = Stream::new();
        assert_eq!(s.radix_tree_nodes(), 1, "an empty rax is its head");
        let one = StreamLimits {
            max_bytes: 4096,
            max_entries: 1,
        };
        s.append(id(1, 0), &pairs(&["f", "v"]), one);
        assert_eq!(s.radix_tree_nodes(), 2, "a compressed key and its leaf");
        // 1-0 and 3-0 part at the ms's last byte: the shared run, the
        // branch, then a run and a leaf for each.
        s.append(id(3, 0), &pairs(&["f", "v"]), one);
        assert_eq!(s.radix_tree_nodes(), 6);
        s.append(id(3, 1), &pairs(&["f", "v"]), one);
        assert_eq!(s.radix_tree_nodes(), 8, "as redis-server counts it");
    }

    #[test]
    fn groups_deliver_and_track_pending_entries() {
        let mut s = Stream::new();
        for i in 1..=5 {
            s.append(id(i, 0), &pairs(&["f", "v"]), StreamLimits::default());
        }
        assert!(s.create_group(b"g", StreamId::MIN, 0));
        assert!(!s.create_group(b"g", StreamId::MIN, 0), "names are unique");
        let g = s.groups.get_mut(&b"g"[..]).unwrap();
        g.consumers.insert(b"a".to_vec(), Consumer::default());
        g.consumers.insert(b"b".to_vec(), Consumer::default());
        let got = s.deliver(b"g", b"a", id(0, 1), 2, false, 1000);
        assert_eq!(got.iter().map(|d| d.id).collect::<Vec<_>>(), [id(1, 0), id(2, 0)]);
        assert_eq!(got[1].group_last_id, id(2, 0));
        let g = &s.groups[&b"g"[..]];
        assert_eq!((g.last_id, g.entries_read), (id(2, 0), 2));
        assert_eq!(s.group_lag(g), Some(3));
        assert_eq!(g.consumers[&b"a"[..]].pending.len(), 2);
        // Moved back, the group hands an entry to its new reader.
        let g = s.groups.get_mut(&b"g"[..]).unwrap();
        g.last_id = StreamId::MIN;
        s.deliver(b"g", b"b", id(0, 1), 1, false, 2000);
        let g = s.groups.get_mut(&b"g"[..]).unwrap();
        assert_eq!(g.pending[&id(1, 0)].consumer, b"b");
        assert_eq!(g.consumers[&b"a"[..]].pending.len(), 1);
        assert!(g.remove_pending(id(2, 0)).is_some());
        assert!(g.remove_pending(id(2, 0)).is_none());
        assert_eq!(g.delete_consumer(b"b"), Some(1));
        assert!(g.pending.is_empty());
        // NOACK reads leave nothing pending.
        s.deliver(b"g", b"a", id(2, 1), 0, true, 3000);
        let g = &s.groups[&b"g"[..]];
        assert_eq!(g.last_id, id(5, 0));
        assert!(g.pending.is_empty());
        // A tombstone after the group's position hides its lag.
        let mut t = s.clone();
        t.groups.get_mut(&b"g"[..]).unwrap().last_id = id(2, 0);
        assert!(t.delete(id(4, 0)));
        t.max_deleted_id = id(4, 0);
        assert!(t.has_tombstones_from(id(3, 0)));
        assert!(!t.has_tombstones_from(id(5, 0)));
        assert_eq!(t.group_lag(&t.groups[&b"g"[..]]), None);
    }

    #[test]
    fn nodes_close_like_redis() {
        let mut s = Stream::new();
        let limits = StreamLimits {
            max_bytes: 4096,
            max_entries: 3,
        };
        for i in 1..=7 {
            s.append(id(i, 0), &pairs(&["f", "v"]), limits);
        }
        assert_eq!(s.nodes().count(), 3);
        // Approximate trimming removes whole nodes only.
        assert_eq!(s.trim(Trim::MaxLen(5), true, 0), 0);
        assert_eq!(s.trim(Trim::MaxLen(4), true, 0), 3);
        assert_eq!(s.first_id, id(4, 0));
        assert_eq!(s.trim(Trim::MinId(id(6, 0)), false, 0), 2);
        assert_eq!(s.len(), 2);
        assert_eq!(s.edge_id(true, false), id(4, 0));
        assert_eq!(s.first_id, id(6, 0));
    }
}
