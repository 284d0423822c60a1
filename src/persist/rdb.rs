//! The RDB file format (version 10, what Redis 7.0 writes): an encoder and a
//! decoder. This module is only the format; taking a consistent snapshot,
//! writing files atomically and loading at start-up live in the callers.
//!
//! ```text
//! "REDIS0010"  AUX fields (0xFA key value)...
//! per database: SELECTDB (0xFE) n, RESIZEDB (0xFB) size expires,
//!   per key: [EXPIRETIME_MS (0xFC) u64-le] type-byte key value
//! EOF (0xFF)  CRC-64 of everything before it (u64-le)
//! ```
//!
//! Lengths use Redis's variable encoding (6, 14, 32 or 64 bits). Strings
//! are stored raw, as small integers (8/16/32 bits) when they are canonical
//! integers, or LZF-compressed when longer than 20 bytes and compressible.
//! The decoder never trusts a length before the bytes arrive: buffers grow
//! with the data actually read, so a corrupt or hostile file cannot make it
//! allocate more than the file holds.
//!
//! Streams (type 19, types 15 and 19 read) are their nodes' listpacks keyed
//! by 16-byte big-endian master ids, then the counters and the consumer
//! groups; see [`crate::store::types::stream`].

use std::fmt;
use std::io::{self, Read, Write};

use super::{crc64, listpack, lzf, ziplist};
use crate::num;
use crate::store::key::Key;
use crate::store::types::hash::{Hash, HashLimits};
use crate::store::types::list::{End, List};
use crate::store::types::set::Set;
use crate::store::types::stream::{
    Consumer, FLAG_DELETED, FLAG_SAMEFIELDS, Group, Node, PendingEntry, Stream, StreamId,
};
use crate::store::types::zset::{AddFlags, ZSet, ZSetLimits};
use crate::store::{StrValue, Value};

pub const RDB_VERSION: u32 = 10;

const OPCODE_FUNCTION2: u8 = 245;
const OPCODE_FUNCTION: u8 = 246;
const OPCODE_MODULE_AUX: u8 = 247;
const OPCODE_IDLE: u8 = 248;
const OPCODE_FREQ: u8 = 249;
const OPCODE_AUX: u8 = 250;
const OPCODE_RESIZEDB: u8 = 251;
const OPCODE_EXPIRETIME_MS: u8 = 252;
const OPCODE_EXPIRETIME: u8 = 253;
const OPCODE_SELECTDB: u8 = 254;
const OPCODE_EOF: u8 = 255;

/// Value types (the byte before each key).
pub mod types {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// What can go wrong reading a dump.
#[derive(Debug)]
pub enum RdbError {
    Io(io::Error),
    /// The file ended before the structure did.
    Truncated,
    /// The bytes do not form a valid dump.
    Corrupt(String),
    /// Valid, but uses something sedis does not support (modules...).
    Unsupported(String),
    /// The stored checksum does not match the content.
    Checksum {
        stored: u64,
        computed: u64,
    },
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RdbError::Io(e) => write!(f, "I/O error: {e}"),
            RdbError::Truncated => f.write_str("unexpected end of file"),
            RdbError::Corrupt(what) => write!(f, "corrupt dump: {what}"),
            RdbError::Unsupported(what) => write!(f, "unsupported in this dump: {what}"),
            RdbError::Checksum { stored, computed } => write!(
                f,
                "wrong checksum: stored {stored:016x}, computed {computed:016x}"
            ),
        }
    }
}

impl std::error::Error for RdbError {}

impl From<io::Error> for RdbError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            RdbError::Truncated
        } else {
            RdbError::Io(e)
        }
    }
}

fn corrupt(what: impl Into<String>) -> RdbError {
    RdbError::Corrupt(what.into())
}

/// Writes a dump, checksumming as it goes.
pub struct Encoder<W: Write> {
    out: W,
    crc: u64,
    /// Checksum the file (`rdbchecksum yes`); otherwise the trailer is 0.
    checksum: bool,
    /// LZF-compress long strings (`rdbcompression yes`).
    compress: bool,
}

impl<W: Write> Encoder<W> {
    pub fn new(out: W, compress: bool, checksum: bool) -> Self {
        Encoder {
            out,
            crc: 0,
            checksum,
            compress,
        }
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.checksum {
            self.crc = crc64::crc64(self.crc, bytes);
        }
        self.out.write_all(bytes)
    }

    fn byte(&mut self, b: u8) -> io::Result<()> {
        self.raw(&[b])
    }

    /// Redis's length encoding.
    pub fn length(&mut self, n: u64) -> io::Result<()> {
        if n < 1 << 6 {
            self.byte(n as u8)
        } else if n < 1 << 14 {
            self.raw(&[0x40 | (n >> 8) as u8, n as u8])
        } else if n <= u64::from(u32::MAX) {
            self.byte(0x80)?;
            self.raw(&(n as u32).to_be_bytes())
        } else {
            self.byte(0x81)?;
            self.raw(&n.to_be_bytes())
        }
    }

    /// A string, as `rdbSaveRawString` stores it.
    pub fn string(&mut self, s: &[u8]) -> io::Result<()> {
        if s.len() <= 11
            && let Some(n) = num::parse_i64(s)
            && self.integer_encoded(n)?
        {
            return Ok(());
        }
        if self.compress
            && s.len() > 20
            && let Some(packed) = lzf::compress(s, s.len() - 4)
        {
            self.byte(0xC0 | ENC_LZF)?;
            self.length(packed.len() as u64)?;
            self.length(s.len() as u64)?;
            return self.raw(&packed);
        }
        self.length(s.len() as u64)?;
        self.raw(s)
    }

    /// A FUNCTION library (Redis's `rdbSaveFunctions`: the opcode, then
    /// the library's code).
    pub fn function(&mut self, code: &[u8]) -> io::Result<()> {
        self.byte(OPCODE_FUNCTION2)?;
        self.string(code)
    }

    /// An integer, as `rdbSaveLongLongAsStringObject` stores it.
    pub fn integer_string(&mut self, n: i64) -> io::Result<()> {
        if self.integer_encoded(n)? {
            return Ok(());
        }
        let mut buf = [0u8; 20];
        let digits = num::format_i64(n, &mut buf);
        self.length(digits.len() as u64)?;
        self.raw(digits)
    }

    /// Writes `n` in the smallest integer encoding, if one fits.
    fn integer_encoded(&mut self, n: i64) -> io::Result<bool> {
        if let Ok(v) = i8::try_from(n) {
            self.raw(&[0xC0 | ENC_INT8, v as u8])?;
        } else if let Ok(v) = i16::try_from(n) {
            self.byte(0xC0 | ENC_INT16)?;
            self.raw(&v.to_le_bytes())?;
        } else if let Ok(v) = i32::try_from(n) {
            self.byte(0xC0 | ENC_INT32)?;
            self.raw(&v.to_le_bytes())?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// The magic and version, then the aux fields Redis writes.
    pub fn header(&mut self, aux: &[(&str, AuxValue)]) -> io::Result<()> {
        self.raw(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
        for (key, value) in aux {
            self.byte(OPCODE_AUX)?;
            self.string(key.as_bytes())?;
            match value {
                AuxValue::Str(s) => self.string(s.as_bytes())?,
                AuxValue::Int(n) => self.integer_string(*n)?,
            }
        }
        Ok(())
    }

    /// Starts a database's section.
    pub fn select_db(&mut self, db: usize, size: usize, expires: usize) -> io::Result<()> {
        self.byte(OPCODE_SELECTDB)?;
        self.length(db as u64)?;
        self.byte(OPCODE_RESIZEDB)?;
        self.length(size as u64)?;
        self.length(expires as u64)
    }

    /// One key with its value and optional absolute expiry (unix ms).
    pub fn key_value(
        &mut self,
        key: &[u8],
        value: &Value,
        expire_at: Option<i64>,
    ) -> io::Result<()> {
        if let Some(at) = expire_at {
            self.byte(OPCODE_EXPIRETIME_MS)?;
            self.raw(&at.to_le_bytes())?;
        }
        self.object(Some(key), value)
    }

    /// A value's type byte, the key if there is one (a DUMP payload has
    /// none), then the value (Redis's `rdbSaveObjectType`, the key,
    /// `rdbSaveObject`).
    fn object(&mut self, key: Option<&[u8]>, value: &Value) -> io::Result<()> {
        match value {
            Value::Str(s) => {
                self.object_type(types::STRING, key)?;
                match s {
                    StrValue::Int(n) => self.integer_string(*n),
                    other => self.string(&other.bytes()),
                }
            }
            Value::List(list) => {
                self.object_type(types::LIST_QUICKLIST_2, key)?;
                self.list(list)
            }
            Value::Hash(hash) if hash.is_listpack() => {
                self.object_type(types::HASH_LISTPACK, key)?;
                let mut lp = listpack::Writer::new();
                for (field, value) in hash.iter() {
                    lp.push(field);
                    lp.push(value);
                }
                self.string(&lp.finish())
            }
            Value::Hash(hash) => {
                self.object_type(types::HASH, key)?;
                self.length(hash.len() as u64)?;
                for (field, value) in hash.iter() {
                    self.string(field)?;
                    self.string(value)?;
                }
                Ok(())
            }
            Value::Set(set) if set.is_intset() => {
                self.object_type(types::SET_INTSET, key)?;
                self.string(&intset_blob(set))
            }
            Value::Set(set) => {
                self.object_type(types::SET, key)?;
                self.length(set.len() as u64)?;
                for member in set.iter() {
                    self.string(&member)?;
                }
                Ok(())
            }
            Value::ZSet(zset) if zset.is_listpack() => {
                self.object_type(types::ZSET_LISTPACK, key)?;
                let mut lp = listpack::Writer::new();
                for (member, score) in zset.iter() {
                    lp.push(member);
                    lp.push(&listpack_score_text(score));
                }
                self.string(&lp.finish())
            }
            Value::ZSet(zset) => {
                self.object_type(types::ZSET_2, key)?;
                self.length(zset.len() as u64)?;
                // Highest first, as Redis writes it (loading then inserts
                // at the head of the index, its cheapest position).
                for (member, score) in zset.iter_from(zset.len() - 1, true) {
                    self.string(member)?;
                    self.raw(&score.to_le_bytes())?;
                }
                Ok(())
            }
            Value::Stream(stream) => {
                self.object_type(types::STREAM_LISTPACKS_2, key)?;
                self.stream(stream)
            }
        }
    }

    fn object_type(&mut self, value_type: u8, key: Option<&[u8]>) -> io::Result<()> {
        self.byte(value_type)?;
        match key {
            Some(key) => self.string(key),
            None => Ok(()),
        }
    }

    /// A stream as Redis 7.0 writes one (type 19): its nodes (master id as
    /// 16 big-endian bytes, then the listpack), its counters, then its
    /// groups with their pending entries and consumers.
    fn stream(&mut self, stream: &Stream) -> io::Result<()> {
        self.length(stream.nodes().count() as u64)?;
        for (master, node) in stream.nodes() {
            self.string(&master.to_be_bytes())?;
            self.string(&node_listpack(*master, node))?;
        }
        self.length(stream.len())?;
        for id in [stream.last_id, stream.first_id, stream.max_deleted_id] {
            self.length(id.ms)?;
            self.length(id.seq)?;
        }
        self.length(stream.entries_added)?;
        self.length(stream.groups.len() as u64)?;
        for (name, group) in &stream.groups {
            self.string(name)?;
            self.length(group.last_id.ms)?;
            self.length(group.last_id.seq)?;
            // Redis writes the signed counter as an unsigned length.
            self.length(group.entries_read as u64)?;
            self.length(group.pending.len() as u64)?;
            for (id, pending) in &group.pending {
                self.raw(&id.to_be_bytes())?;
                self.raw(&pending.delivery_time.to_le_bytes())?;
                self.length(pending.delivery_count)?;
            }
            self.length(group.consumers.len() as u64)?;
            for (name, consumer) in &group.consumers {
                self.string(name)?;
                self.raw(&consumer.seen_time.to_le_bytes())?;
                self.length(consumer.pending.len() as u64)?;
                for id in &consumer.pending {
                    self.raw(&id.to_be_bytes())?;
                }
            }
        }
        Ok(())
    }

    /// A list as Redis 7.0 writes one: quicklist nodes, each a listpack of
    /// at most 8 KB (`list-max-listpack-size -2`).
    fn list(&mut self, list: &List) -> io::Result<()> {
        const NODE_BYTES: usize = 8 * 1024;
        const PACKED: u64 = 2;
        let mut nodes = Vec::new();
        let mut node = listpack::Writer::new();
        for element in list.iter() {
            if node.count() > 0 && node.size() + element.len() + 11 > NODE_BYTES {
                nodes.push(std::mem::take(&mut node).finish());
                node = listpack::Writer::new();
            }
            node.push(element);
        }
        if node.count() > 0 {
            nodes.push(node.finish());
        }
        self.length(nodes.len() as u64)?;
        for blob in nodes {
            self.length(PACKED)?;
            self.string(&blob)?;
        }
        Ok(())
    }

    /// The EOF marker and the checksum; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.byte(OPCODE_EOF)?;
        let crc = if self.checksum { self.crc } else { 0 };
        self.out.write_all(&crc.to_le_bytes())?;
        Ok(self.out)
    }
}

/// An aux field's value.
#[derive(Debug, Clone)]
pub enum AuxValue {
    Str(String),
    Int(i64),
}

/// One thing read from a dump.
#[derive(Debug)]
pub enum Item {
    Aux {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    /// The keys that follow belong to this database.
    SelectDb(usize),
    /// Size hints for the current database.
    ResizeDb {
        size: u64,
        expires: u64,
    },
    Key {
        key: Vec<u8>,
        value: Value,
        /// Absolute unix ms.
        expire_at: Option<i64>,
    },
    /// A FUNCTION library: its whole code, header line included.
    Function(Vec<u8>),
}

/// Reads a dump item by item, checksumming as it goes.
pub struct Decoder<R: Read> {
    input: R,
    crc: u64,
    version: u32,
    finished: bool,
    encodings: Encodings,
}

/// The encoding limits values are loaded under: as Redis does, a dump's
/// compact values are converted if the configuration in force says so.
#[derive(Debug, Clone, Copy)]
pub struct Encodings {
    pub hash: HashLimits,
    pub zset: ZSetLimits,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
}

impl Default for Encodings {
    /// Redis's defaults.
    fn default() -> Self {
        Encodings {
            hash: HashLimits::default(),
            zset: ZSetLimits::default(),
            set_max_intset_entries: 512,
        }
    }
}

/// Largest chunk read into a buffer at once while a length is unverified.
const READ_CHUNK: usize = 1 << 20;

impl<R: Read> Decoder<R> {
    /// Reads and checks the magic and version.
    pub fn new(input: R) -> Result<Self, RdbError> {
        let mut decoder = Decoder {
            input,
            crc: 0,
            version: 0,
            finished: false,
            encodings: Encodings::default(),
        };
        let mut magic = [0u8; 9];
        decoder.read_exact(&mut magic)?;
        if &magic[..5] != b"REDIS" {
            return Err(corrupt("wrong signature (not an RDB file)"));
        }
        let version = std::str::from_utf8(&magic[5..])
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .ok_or_else(|| corrupt("bad version"))?;
        if !(1..=RDB_VERSION).contains(&version) {
            return Err(RdbError::Unsupported(format!("RDB version {version}")));
        }
        decoder.version = version;
        Ok(decoder)
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// A decoder for items without the file's header (a DUMP payload's).
    fn headerless(input: R) -> Self {
        Decoder {
            input,
            crc: 0,
            version: RDB_VERSION,
            finished: false,
            encodings: Encodings::default(),
        }
    }

    /// Loads values under `encodings` instead of Redis's default limits.
    pub fn with_encodings(mut self, encodings: Encodings) -> Self {
        self.encodings = encodings;
        self
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), RdbError> {
        self.input.read_exact(buf)?;
        self.crc = crc64::crc64(self.crc, buf);
        Ok(())
    }

    fn byte(&mut self) -> Result<u8, RdbError> {
        let mut b = [0u8; 1];
        self.read_exact(&mut b)?;
        Ok(b[0])
    }

    /// Reads `len` bytes, growing the buffer only as data arrives.
    fn bytes(&mut self, len: u64) -> Result<Vec<u8>, RdbError> {
        let len = usize::try_from(len).map_err(|_| corrupt("length overflows"))?;
        let mut out = Vec::with_capacity(len.min(READ_CHUNK));
        while out.len() < len {
            let start = out.len();
            let step = (len - start).min(READ_CHUNK);
            out.resize(start + step, 0);
            let (_, tail) = out.split_at_mut(start);
            self.read_exact(tail)?;
        }
        Ok(out)
    }

    /// A length, or (for strings) an encoding marker: `(value, encoded)`.
    fn len_or_encoding(&mut self) -> Result<(u64, bool), RdbError> {
        let first = self.byte()?;
        match first >> 6 {
            0 => Ok((u64::from(first & 0x3f), false)),
            1 => {
                let second = self.byte()?;
                Ok(((u64::from(first & 0x3f) << 8) | u64::from(second), false))
            }
            2 => match first {
                0x80 => {
                    let mut b = [0u8; 4];
                    self.read_exact(&mut b)?;
                    Ok((u64::from(u32::from_be_bytes(b)), false))
                }
                0x81 => {
                    let mut b = [0u8; 8];
                    self.read_exact(&mut b)?;
                    Ok((u64::from_be_bytes(b), false))
                }
                other => Err(corrupt(format!("unknown length encoding {other:#x}"))),
            },
            _ => Ok((u64::from(first & 0x3f), true)),
        }
    }

    pub fn length(&mut self) -> Result<u64, RdbError> {
        match self.len_or_encoding()? {
            (n, false) => Ok(n),
            (_, true) => Err(corrupt("encoded value where a length was expected")),
        }
    }

    /// A string in any of its encodings.
    pub fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        let (n, encoded) = self.len_or_encoding()?;
        if !encoded {
            return self.bytes(n);
        }
        let int = match n as u8 {
            ENC_INT8 => i64::from(self.byte()? as i8),
            ENC_INT16 => {
                let mut b = [0u8; 2];
                self.read_exact(&mut b)?;
                i64::from(i16::from_le_bytes(b))
            }
            ENC_INT32 => {
                let mut b = [0u8; 4];
                self.read_exact(&mut b)?;
                i64::from(i32::from_le_bytes(b))
            }
            ENC_LZF => {
                let packed_len = self.length()?;
                let len = self.length()?;
                let packed = self.bytes(packed_len)?;
                // The expanded size is bounded by what LZF can produce from
                // the bytes we actually read (at most ~264x), not by trust.
                let plausible = (packed.len() as u64).saturating_mul(264);
                if len > plausible {
                    return Err(corrupt("LZF length larger than its data allows"));
                }
                return lzf::decompress(&packed, len as usize)
                    .ok_or_else(|| corrupt("invalid LZF data"));
            }
            other => return Err(corrupt(format!("unknown string encoding {other}"))),
        };
        Ok(int.to_string().into_bytes())
    }

    fn millis(&mut self) -> Result<i64, RdbError> {
        let mut b = [0u8; 8];
        self.read_exact(&mut b)?;
        Ok(i64::from_le_bytes(b))
    }

    /// The next item, or `None` after EOF (whose checksum has been verified
    /// unless the file was written without one).
    pub fn next_item(&mut self) -> Result<Option<Item>, RdbError> {
        if self.finished {
            return Ok(None);
        }
        let mut expire_at = None;
        loop {
            let opcode = self.byte()?;
            match opcode {
                OPCODE_EOF => {
                    self.finished = true;
                    if self.version >= 5 {
                        let computed = self.crc;
                        let mut b = [0u8; 8];
                        self.input.read_exact(&mut b)?;
                        let stored = u64::from_le_bytes(b);
                        if stored != 0 && stored != computed {
                            return Err(RdbError::Checksum { stored, computed });
                        }
                    }
                    return Ok(None);
                }
                OPCODE_SELECTDB => {
                    let db = self.length()?;
                    let db = usize::try_from(db).map_err(|_| corrupt("database number"))?;
                    return Ok(Some(Item::SelectDb(db)));
                }
                OPCODE_RESIZEDB => {
                    let size = self.length()?;
                    let expires = self.length()?;
                    return Ok(Some(Item::ResizeDb { size, expires }));
                }
                OPCODE_AUX => {
                    let key = self.string()?;
                    let value = self.string()?;
                    return Ok(Some(Item::Aux { key, value }));
                }
                OPCODE_EXPIRETIME_MS => expire_at = Some(self.millis()?),
                OPCODE_EXPIRETIME => {
                    let mut b = [0u8; 4];
                    self.read_exact(&mut b)?;
                    expire_at = Some(i64::from(i32::from_le_bytes(b)) * 1000);
                }
                // LRU idle time and LFU counter: eviction hints we re-derive.
                OPCODE_IDLE => {
                    self.length()?;
                }
                OPCODE_FREQ => {
                    self.byte()?;
                }
                OPCODE_MODULE_AUX => return Err(RdbError::Unsupported("module data".into())),
                OPCODE_FUNCTION2 => return Ok(Some(Item::Function(self.string()?))),
                // Written only by Redis 7.0's release candidates.
                OPCODE_FUNCTION => {
                    return Err(RdbError::Unsupported("pre-GA function format".into()));
                }
                value_type => {
                    let key = self.string()?;
                    // Redis skips (with a warning) keys saved empty.
                    let Some(value) = self.value(value_type)? else {
                        expire_at = None;
                        continue;
                    };
                    return Ok(Some(Item::Key {
                        key,
                        value,
                        expire_at,
                    }));
                }
            }
        }
    }

    /// A value of type `value_type`; `None` for an empty aggregate.
    fn value(&mut self, value_type: u8) -> Result<Option<Value>, RdbError> {
        let value = match value_type {
            types::STRING => Value::Str(StrValue::from_bytes(self.string()?)),
            types::LIST => {
                let len = self.length()?;
                let mut list = List::new();
                for _ in 0..len {
                    list.push_key(End::Right, Key::from(self.string()?));
                }
                Value::List(Box::new(list))
            }
            types::LIST_QUICKLIST_2 => Value::List(Box::new(self.quicklist()?)),
            // Redis 3.2 to 6.2: quicklist nodes are ziplists.
            types::LIST_QUICKLIST => {
                let nodes = self.length()?;
                let mut list = List::new();
                for _ in 0..nodes {
                    list_extend(&mut list, self.packed(ziplist::decode, "list ziplist")?);
                }
                Value::List(Box::new(list))
            }
            // Before 3.2: a small list is one ziplist.
            types::LIST_ZIPLIST => {
                let mut list = List::new();
                list_extend(&mut list, self.packed(ziplist::decode, "list ziplist")?);
                Value::List(Box::new(list))
            }
            types::SET => {
                let len = self.length()?;
                // As Redis loads one: an intset while the members allow.
                let mut set = Set::new_intset();
                for _ in 0..len {
                    if !set.add(&self.string()?, self.encodings.set_max_intset_entries) {
                        return Err(corrupt("duplicate set member"));
                    }
                }
                Value::Set(Box::new(set))
            }
            types::SET_INTSET => {
                let blob = self.string()?;
                let members = intset_members(&blob).ok_or_else(|| corrupt("invalid intset"))?;
                let mut set = Set::new_intset();
                for n in members {
                    let added = set.add(
                        n.to_string().as_bytes(),
                        self.encodings.set_max_intset_entries,
                    );
                    if !added {
                        return Err(corrupt("duplicate intset member"));
                    }
                }
                Value::Set(Box::new(set))
            }
            types::HASH => {
                let len = self.length()?;
                let mut hash = Hash::new();
                for _ in 0..len {
                    let field = self.string()?;
                    let value = self.string()?;
                    if !hash.set(&field, &value, self.encodings.hash) {
                        return Err(corrupt("duplicate hash field"));
                    }
                }
                Value::Hash(Box::new(hash))
            }
            // Small hashes: a listpack of alternating fields and values, a
            // ziplist up to 6.2, a zipmap before 2.6.
            types::HASH_LISTPACK | types::HASH_ZIPLIST | types::HASH_ZIPMAP => {
                let elements = match value_type {
                    types::HASH_LISTPACK => self.packed(listpack::decode, "hash listpack")?,
                    types::HASH_ZIPLIST => self.packed(ziplist::decode, "hash ziplist")?,
                    _ => self.packed(ziplist::decode_zipmap, "zipmap")?,
                };
                Value::Hash(Box::new(hash_from_pairs(elements, self.encodings.hash)?))
            }
            types::ZSET | types::ZSET_2 => {
                let len = self.length()?;
                let mut pairs = Vec::new();
                for _ in 0..len {
                    let member = self.string()?;
                    let score = if value_type == types::ZSET_2 {
                        let mut b = [0u8; 8];
                        self.read_exact(&mut b)?;
                        f64::from_le_bytes(b)
                    } else {
                        self.string_double()?
                    };
                    pairs.push((member, score));
                }
                Value::ZSet(Box::new(zset_from_pairs(pairs, self.encodings.zset)?))
            }
            // Small sorted sets: alternating members and scores in a
            // listpack, or a ziplist up to 6.2.
            types::ZSET_LISTPACK | types::ZSET_ZIPLIST => {
                let elements = if value_type == types::ZSET_LISTPACK {
                    self.packed(listpack::decode, "zset listpack")?
                } else {
                    self.packed(ziplist::decode, "zset ziplist")?
                };
                Value::ZSet(Box::new(zset_from_flat(elements, self.encodings.zset)?))
            }
            types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 => {
                Value::Stream(Box::new(self.stream(value_type == types::STREAM_LISTPACKS_2)?))
            }
            other => return Err(RdbError::Unsupported(format!("value type {other}"))),
        };
        let empty = match &value {
            // Redis keeps streams without entries.
            Value::Stream(_) => false,
            Value::List(l) => l.is_empty(),
            Value::Hash(h) => h.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            Value::Str(_) => false,
        };
        Ok((!empty).then_some(value))
    }

    /// A stream id written as two lengths.
    fn stream_id(&mut self) -> Result<StreamId, RdbError> {
        let ms = self.length()?;
        Ok(StreamId::new(ms, self.length()?))
    }

    /// A stream id written as 16 raw big-endian bytes.
    fn raw_stream_id(&mut self) -> Result<StreamId, RdbError> {
        let mut b = [0u8; 16];
        self.read_exact(&mut b)?;
        Ok(StreamId::from_be_bytes(&b))
    }

    /// A stream (types 15 and 19; `v2` for 19, which adds the first id,
    /// the maximal deleted id and the counters of entries added and read).
    /// Every count is read as the items arrive, never allocated ahead.
    fn stream(&mut self, v2: bool) -> Result<Stream, RdbError> {
        let mut stream = Stream::new();
        let nodes = self.length()?;
        for _ in 0..nodes {
            let key = self.string()?;
            let key: [u8; 16] = key
                .as_slice()
                .try_into()
                .map_err(|_| corrupt("stream node key is not a stream ID"))?;
            let master = StreamId::from_be_bytes(&key);
            let elements = self.packed(listpack::decode, "stream listpack")?;
            if elements.is_empty() {
                return Err(corrupt("empty listpack inside stream"));
            }
            let node = node_from_elements(master, &elements)
                .ok_or_else(|| corrupt("invalid stream node"))?;
            if !stream.push_node(master, node) {
                return Err(corrupt("stream nodes out of order"));
            }
        }
        let length = self.length()?;
        if length != stream.len() {
            return Err(corrupt("stream length does not match its entries"));
        }
        stream.last_id = self.stream_id()?;
        if v2 {
            stream.first_id = self.stream_id()?;
            stream.max_deleted_id = self.stream_id()?;
            stream.entries_added = self.length()?;
        } else {
            stream.first_id = stream.edge_id(true, true);
            stream.entries_added = length;
        }
        let groups = self.length()?;
        for _ in 0..groups {
            let name = self.string()?;
            let last_id = self.stream_id()?;
            let entries_read = if v2 {
                self.length()? as i64
            } else {
                stream.estimate_entries_read(last_id)
            };
            let mut group = Group {
                last_id,
                entries_read,
                ..Group::default()
            };
            let pending = self.length()?;
            for _ in 0..pending {
                let id = self.raw_stream_id()?;
                let delivery_time = self.millis()?;
                let delivery_count = self.length()?;
                let entry = PendingEntry {
                    delivery_time,
                    delivery_count,
                    consumer: Vec::new(),
                };
                if group.pending.insert(id, entry).is_some() {
                    return Err(corrupt("duplicated stream group PEL entry"));
                }
            }
            let consumers = self.length()?;
            for _ in 0..consumers {
                let consumer_name = self.string()?;
                let mut consumer = Consumer {
                    seen_time: self.millis()?,
                    ..Consumer::default()
                };
                let owned = self.length()?;
                for _ in 0..owned {
                    let id = self.raw_stream_id()?;
                    let entry = group
                        .pending
                        .get_mut(&id)
                        .ok_or_else(|| corrupt("consumer PEL entry not in the group PEL"))?;
                    entry.consumer = consumer_name.clone();
                    consumer.pending.insert(id);
                }
                if group.consumers.insert(consumer_name, consumer).is_some() {
                    return Err(corrupt("duplicated stream consumer"));
                }
            }
            if stream.groups.insert(name, group).is_some() {
                return Err(corrupt("duplicated stream consumer group"));
            }
        }
        Ok(stream)
    }

    /// The elements of a compact blob (listpack, ziplist, zipmap) read as a
    /// string; `what` names it in the corruption error.
    fn packed(
        &mut self,
        decode: fn(&[u8]) -> Option<Vec<Vec<u8>>>,
        what: &str,
    ) -> Result<Vec<Vec<u8>>, RdbError> {
        let blob = self.string()?;
        decode(&blob).ok_or_else(|| corrupt(format!("invalid {what}")))
    }

    /// A list saved as quicklist nodes (type 18): packed nodes hold a
    /// listpack, plain nodes a single element.
    fn quicklist(&mut self) -> Result<List, RdbError> {
        const PLAIN: u64 = 1;
        const PACKED: u64 = 2;
        let nodes = self.length()?;
        let mut list = List::new();
        for _ in 0..nodes {
            let container = self.length()?;
            let data = self.string()?;
            match container {
                PLAIN => list.push_key(End::Right, Key::from(data)),
                PACKED => {
                    let elements =
                        listpack::decode(&data).ok_or_else(|| corrupt("invalid list listpack"))?;
                    list_extend(&mut list, elements);
                }
                _ => return Err(corrupt("unknown quicklist container")),
            }
        }
        Ok(list)
    }

    /// A double saved as text (type 3 sorted sets): a length byte, or 253,
    /// 254, 255 for NaN, +inf, -inf.
    fn string_double(&mut self) -> Result<f64, RdbError> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            len => {
                let text = self.bytes(u64::from(len))?;
                std::str::from_utf8(&text)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .ok_or_else(|| corrupt("invalid double"))
            }
        }
    }
}

/// A set of integers in Redis's intset layout: the width of every element
/// (2, 4 or 8 bytes, the smallest that fits them all), the count, then the
/// elements ascending, all little-endian.
/// A stream node as the listpack Redis stores: the master entry (`count`,
/// `deleted`, the fields, a 0 terminator), then each entry as `flags`,
/// the id's deltas from `master`, the fields unless `SAMEFIELDS`, the
/// values, and `lp-count` (how many elements the entry took).
fn node_listpack(master: StreamId, node: &Node) -> Vec<u8> {
    let mut lp = listpack::Writer::new();
    lp.push_int(node.live() as i64);
    lp.push_int(node.deleted() as i64);
    lp.push_int(node.master_field_count() as i64);
    for field in node.master_fields() {
        lp.push(field);
    }
    lp.push_int(0);
    for entry in node.entries() {
        let same = entry.flags & FLAG_SAMEFIELDS != 0;
        let stored = entry.stored().count();
        lp.push_int(i64::from(entry.flags));
        // Deltas wrap as Redis's unsigned subtraction does.
        lp.push_int(entry.id.ms.wrapping_sub(master.ms) as i64);
        lp.push_int(entry.id.seq.wrapping_sub(master.seq) as i64);
        if !same {
            lp.push_int((stored / 2) as i64);
        }
        for s in entry.stored() {
            lp.push(s);
        }
        let lp_count = if same { stored + 3 } else { stored + 4 };
        lp.push_int(lp_count as i64);
    }
    lp.finish()
}

/// A stream node rebuilt from its listpack's elements (integers as decimal
/// text, as [`listpack::decode`] gives them); `None` where they do not form
/// a valid node: counts that disagree, ids out of order or below the
/// master, flags Redis never writes.
fn node_from_elements(master: StreamId, elements: &[Vec<u8>]) -> Option<Node> {
    let int = |e: &Vec<u8>| num::parse_i64(e);
    let mut at = elements.iter();
    let live = int(at.next()?)?;
    let deleted = int(at.next()?)?;
    let field_count = usize::try_from(int(at.next()?)?).ok()?;
    if live < 0 || deleted < 0 || field_count > elements.len() {
        return None;
    }
    let mut master_fields = Vec::new();
    for _ in 0..field_count {
        master_fields.push(at.next()?.as_slice());
    }
    if int(at.next()?)? != 0 {
        return None;
    }
    let mut node = Node::new(&master_fields);
    let mut previous: Option<StreamId> = None;
    while let Some(flags) = at.next() {
        let flags = u8::try_from(int(flags)?).ok()?;
        if flags & !(FLAG_DELETED | FLAG_SAMEFIELDS) != 0 {
            return None;
        }
        let ms = master.ms.wrapping_add(int(at.next()?)? as u64);
        let seq = master.seq.wrapping_add(int(at.next()?)? as u64);
        let id = StreamId::new(ms, seq);
        if id < master || previous.is_some_and(|p| p >= id) {
            return None;
        }
        previous = Some(id);
        let same = flags & FLAG_SAMEFIELDS != 0;
        let fields = if same {
            field_count
        } else {
            usize::try_from(int(at.next()?)?).ok()?
        };
        if fields > elements.len() {
            return None;
        }
        let mut pairs: Vec<&[u8]> = Vec::new();
        let mut master_names = master_fields.iter();
        for _ in 0..fields {
            if same {
                pairs.push(master_names.next()?);
            } else {
                pairs.push(at.next()?);
            }
            pairs.push(at.next()?);
        }
        let lp_count = int(at.next()?)?;
        let expected = if same { fields + 3 } else { 2 * fields + 4 };
        if lp_count != expected as i64 {
            return None;
        }
        node.push(master, id, &pairs, flags & FLAG_DELETED != 0);
        // Redis sets SAMEFIELDS exactly when the fields are the master's;
        // an entry that says otherwise is corrupt.
        if node.entries().last()?.flags != flags {
            return None;
        }
    }
    if node.live() != live as u64 || node.deleted() != deleted as u64 || node.entries().is_empty()
    {
        return None;
    }
    Some(node)
}

fn intset_blob(set: &Set) -> Vec<u8> {
    let members: Vec<i64> = set.iter().filter_map(|m| num::parse_i64(&m)).collect();
    let width: usize = if members.iter().all(|n| i16::try_from(*n).is_ok()) {
        2
    } else if members.iter().all(|n| i32::try_from(*n).is_ok()) {
        4
    } else {
        8
    };
    let mut blob = Vec::with_capacity(8 + members.len() * width);
    blob.extend_from_slice(&(width as u32).to_le_bytes());
    blob.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for n in members {
        blob.extend_from_slice(&n.to_le_bytes()[..width]);
    }
    blob
}

/// The elements of an intset blob; `None` if it is malformed.
fn intset_members(blob: &[u8]) -> Option<Vec<i64>> {
    let header = blob.get(..8)?;
    let width = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let count = u32::from_le_bytes(header[4..8].try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8) || blob.len() != 8 + count.checked_mul(width)? {
        return None;
    }
    Some(
        blob[8..]
            .chunks_exact(width)
            .map(|c| match width {
                2 => i64::from(i16::from_le_bytes([c[0], c[1]])),
                4 => i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                _ => i64::from_le_bytes(c.try_into().expect("8 bytes")),
            })
            .collect(),
    )
}

fn listpack_score_text(score: f64) -> Vec<u8> {
    const HALF: f64 = (i64::MAX / 2) as f64;
    if (-HALF..=HALF).contains(&score) && (score as i64) as f64 == score {
        let mut buf = [0u8; 20];
        return num::format_i64(score as i64, &mut buf).to_vec();
    }
    num::format_g17(score).into_bytes()
}

/// Builds a hash from alternating fields and values (a listpack, ziplist or
/// zipmap), refusing an odd count or a repeated field as Redis does.
fn hash_from_pairs(elements: Vec<Vec<u8>>, limits: HashLimits) -> Result<Hash, RdbError> {
    if !elements.len().is_multiple_of(2) {
        return Err(corrupt("hash with an odd number of entries"));
    }
    let mut hash = Hash::new();
    let mut it = elements.into_iter();
    while let (Some(field), Some(value)) = (it.next(), it.next()) {
        if hash.get(&field).is_some() {
            return Err(corrupt("duplicate hash field"));
        }
        hash.set(&field, &value, limits);
    }
    Ok(hash)
}

/// Builds a sorted set from alternating members and scores (text or
/// integers, as a listpack or ziplist holds them).
fn zset_from_flat(elements: Vec<Vec<u8>>, limits: ZSetLimits) -> Result<ZSet, RdbError> {
    if !elements.len().is_multiple_of(2) {
        return Err(corrupt("zset with an odd number of entries"));
    }
    let mut pairs = Vec::with_capacity(elements.len() / 2);
    let mut it = elements.into_iter();
    while let (Some(member), Some(score)) = (it.next(), it.next()) {
        let score = std::str::from_utf8(&score)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .ok_or_else(|| corrupt("invalid zset score"))?;
        pairs.push((member, score));
    }
    zset_from_pairs(pairs, limits)
}

fn list_extend(list: &mut List, elements: Vec<Vec<u8>>) {
    for element in elements {
        list.push_key(End::Right, Key::from(element));
    }
}

/// Builds a sorted set from loaded pairs, refusing NaN scores and repeated
/// members as Redis does. The encoding follows the default limits, as
/// Redis converts on load (listpack when small, skiplist otherwise).
fn zset_from_pairs(pairs: Vec<(Vec<u8>, f64)>, limits: ZSetLimits) -> Result<ZSet, RdbError> {
    let mut zset = ZSet::new_skiplist();
    for (member, score) in pairs {
        if score.is_nan() {
            return Err(corrupt("zset with a NaN score"));
        }
        if zset.score(&member).is_some() {
            return Err(corrupt("duplicate zset member"));
        }
        zset.add(&member, score, AddFlags::default(), limits);
    }
    zset.shrink_if_small(limits);
    Ok(zset)
}

/// What RESTORE and FUNCTION RESTORE answer a payload whose footer does not
/// check out.
pub const WRONG_PAYLOAD: &str = "DUMP payload version or checksum are wrong";

/// Ends a DUMP-style payload as Redis does (`createDumpPayload`): the RDB
/// version (two bytes, little-endian), then a CRC-64 of everything before
/// the checksum.
fn seal(mut payload: Vec<u8>) -> Vec<u8> {
    payload.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = crc64::crc64(0, &payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    payload
}

/// The body of a DUMP-style payload whose version and checksum check out
/// (Redis's `verifyDumpPayload`), else [`WRONG_PAYLOAD`].
fn verify(payload: &[u8]) -> Result<&[u8], &'static str> {
    let body_len = payload.len().checked_sub(10).ok_or(WRONG_PAYLOAD)?;
    let footer = &payload[body_len..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let stored = u64::from_le_bytes(footer[2..].try_into().map_err(|_| WRONG_PAYLOAD)?);
    if u32::from(version) > RDB_VERSION || crc64::crc64(0, &payload[..body_len + 2]) != stored {
        return Err(WRONG_PAYLOAD);
    }
    Ok(&payload[..body_len])
}

/// DUMP's payload for `value` (Redis's `dumpCommand`): the value as the
/// RDB file stores it, without its key, then the version and checksum.
pub fn dump_payload(value: &Value, compress: bool) -> Vec<u8> {
    let mut encoder = Encoder::new(Vec::new(), compress, false);
    // Writing to memory cannot fail.
    let _ = encoder.object(None, value);
    seal(encoder.out)
}

/// The value in a RESTORE payload, loaded under `encodings`, with Redis's
/// errors: [`WRONG_PAYLOAD`] for the footer, `Bad data format` for a body
/// that does not hold one whole value (an empty aggregate included, as
/// Redis refuses to create empty keys).
pub fn read_dump_payload(payload: &[u8], encodings: Encodings) -> Result<Value, &'static str> {
    const BAD: &str = "Bad data format";
    verify(payload)?;
    // The value is read from the whole payload, as Redis reads it: one
    // that claims more bytes than the body has runs into the footer.
    let mut decoder = Decoder::headerless(payload).with_encodings(encodings);
    let value_type = decoder.byte().map_err(|_| BAD)?;
    match decoder.value(value_type) {
        Ok(Some(value)) => Ok(value),
        _ => Err(BAD),
    }
}

/// FUNCTION DUMP's payload (Redis's `functionDumpCommand`): each
/// library as the RDB file stores it, then the version and checksum.
pub fn function_payload(codes: &[&[u8]], compress: bool) -> Vec<u8> {
    let mut encoder = Encoder::new(Vec::new(), compress, false);
    for code in codes {
        // Writing to memory cannot fail.
        let _ = encoder.function(code);
    }
    seal(encoder.out)
}

/// The libraries' code in a FUNCTION RESTORE payload, with Redis's errors
/// (`verifyDumpPayload`, then `functionRestoreCommand`'s reading loop).
pub fn read_function_payload(payload: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    let mut decoder = Decoder::headerless(verify(payload)?);
    let mut codes = Vec::new();
    while !decoder.input.is_empty() {
        match decoder.byte() {
            Ok(OPCODE_FUNCTION2) => {}
            Ok(OPCODE_FUNCTION) => return Err("Pre-GA function format not supported"),
            Ok(_) => return Err("given type is not a function"),
            Err(_) => return Err("can not read data type"),
        }
        codes.push(
            decoder
                .string()
                .map_err(|_| "Failed loading library payload")?,
        );
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Result<Vec<Item>, RdbError> {
        let mut d = Decoder::new(bytes)?;
        let mut items = Vec::new();
        while let Some(item) = d.next_item()? {
            items.push(item);
        }
        Ok(items)
    }

    fn keys(items: &[Item]) -> Vec<(Vec<u8>, Vec<u8>, Option<i64>)> {
        items
            .iter()
            .filter_map(|item| match item {
                Item::Key {
                    key,
                    value: Value::Str(s),
                    expire_at,
                } => Some((key.clone(), s.bytes().to_vec(), *expire_at)),
                _ => None,
            })
            .collect()
    }

    /// A dump redis-server wrote with two streams: one of two nodes with a
    /// tombstone and two consumer groups, one emptied by XDEL.
    const STREAM_DUMP: &[u8] = include_bytes!("../../tests/data/redis-7.0.15-stream-groups.rdb");

    #[test]
    fn streams_load_and_save_as_redis_wrote_them() {
        let items = decode_all(STREAM_DUMP).expect("valid dump");
        let stream = |name: &[u8]| {
            items
                .iter()
                .find_map(|item| match item {
                    Item::Key {
                        key,
                        value: Value::Stream(s),
                        ..
                    } if key == name => Some(s.clone()),
                    _ => None,
                })
                .expect("the stream")
        };
        let s = stream(b"s");
        assert_eq!(s.len(), 7);
        assert_eq!(s.nodes().count(), 2);
        assert_eq!(s.last_id, StreamId::new(8, 0));
        assert_eq!(s.max_deleted_id, StreamId::new(2, 1));
        assert_eq!(s.entries_added, 8);
        let g1 = &s.groups[&b"g1".to_vec()];
        assert_eq!(g1.pending.len(), 2);
        assert_eq!(g1.consumers.len(), 2);
        assert_eq!(g1.pending[&StreamId::new(4, 1)].consumer, b"bob");
        let empty = stream(b"empty");
        assert!(empty.is_empty());
        assert_eq!(empty.last_id, StreamId::new(1, 1));
        // Written back, a stream reads as the same nodes, tombstones and
        // groups; a stream too small for compression is the very bytes
        // Redis wrote (larger ones differ only in LZF's choice of matches).
        let encode = |name: &[u8], stream: &Stream| {
            let mut encoder = Encoder::new(Vec::new(), true, false);
            encoder
                .key_value(name, &Value::Stream(Box::new(stream.clone())), None)
                .unwrap();
            encoder.out
        };
        let written = encode(b"empty", &empty);
        assert!(STREAM_DUMP.windows(written.len()).any(|w| w == written));
        let written = encode(b"s", &s);
        let mut decoder = Decoder::headerless(&written[..]);
        match decoder.next_item() {
            Ok(Some(Item::Key {
                value: Value::Stream(back),
                ..
            })) => assert_eq!(back, s),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stream_nodes_round_trip_through_listpacks() {
        use crate::store::types::stream::StreamLimits;
        let mut s = Stream::new();
        let limits = StreamLimits::default();
        let long = "x".repeat(70);
        s.append(StreamId::new(1, 0), &[b"a", b"1", b"b", b"hello"], limits);
        s.append(StreamId::new(1, 1), &[b"a", b"-70000", b"b", long.as_bytes()], limits);
        s.append(StreamId::new(5, 0), &[b"other", b"-7"], limits);
        assert!(s.delete(StreamId::new(1, 1)));
        let (&master, node) = s.nodes().next().unwrap();
        let blob = node_listpack(master, node);
        // The size the store computes is the encoder's.
        assert_eq!(blob.len(), node.listpack_bytes());
        let elements = listpack::decode(&blob).unwrap();
        assert_eq!(node_from_elements(master, &elements).as_ref(), Some(node));
        assert!(node_from_elements(master, &elements[..elements.len() - 1]).is_none());
        let mut wrong_flag = elements.clone();
        // The first entry's flags (after count, deleted, the field count,
        // the two fields and the terminator) without SAMEFIELDS.
        wrong_flag[6] = b"0".to_vec();
        assert!(node_from_elements(master, &wrong_flag).is_none());
    }

    #[test]
    fn damaged_stream_dumps_are_errors_not_panics() {
        for cut in 0..STREAM_DUMP.len() {
            let _ = decode_all(&STREAM_DUMP[..cut]);
        }
        let mut bad = STREAM_DUMP.to_vec();
        for i in 0..bad.len() {
            for bit in 0..8 {
                bad[i] ^= 1 << bit;
                let _ = decode_all(&bad);
                bad[i] ^= 1 << bit;
            }
        }
    }

    #[test]
    fn reads_a_dump_written_by_redis() {
        let dump = include_bytes!("../../tests/data/redis-7.0.15-two-strings.rdb");
        let items = decode_all(dump).expect("valid dump");
        let mut got = keys(&items);
        got.sort();
        assert_eq!(
            got,
            vec![
                (b"greeting".to_vec(), b"hello".to_vec(), None),
                (b"n".to_vec(), b"12345".to_vec(), None),
            ]
        );
        assert!(items.iter().any(
            |i| matches!(i, Item::Aux { key, value } if key == b"redis-ver" && value == b"7.0.15")
        ));
    }

    #[test]
    fn round_trips_every_string_encoding() {
        let values: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"0".to_vec(),
            b"-128".to_vec(),
            b"127".to_vec(),
            b"-32768".to_vec(),
            b"2147483647".to_vec(),
            b"-2147483649".to_vec(),
            b"9223372036854775807".to_vec(),
            b"007".to_vec(),
            vec![b'x'; 63],
            vec![b'y'; 64],
            vec![b'z'; 16_384],
            (0..100_000u32).map(|i| (i % 7) as u8).collect(),
            b"a\0b\r\n".to_vec(),
        ];
        for (compress, checksum) in [(true, true), (false, true), (true, false)] {
            let mut enc = Encoder::new(Vec::new(), compress, checksum);
            enc.header(&[
                ("redis-ver", AuxValue::Str("7.0.15".into())),
                ("ctime", AuxValue::Int(1_700_000_000)),
            ])
            .unwrap();
            enc.select_db(3, values.len(), 1).unwrap();
            for (i, v) in values.iter().enumerate() {
                let expire = (i == 2).then_some(1_800_000_000_123);
                enc.key_value(
                    format!("k{i}").as_bytes(),
                    &Value::Str(StrValue::from_slice(v)),
                    expire,
                )
                .unwrap();
            }
            let bytes = enc.finish().unwrap();
            let items = decode_all(&bytes).expect("round trip");
            assert!(matches!(
                items.iter().find(|i| matches!(i, Item::SelectDb(_))),
                Some(Item::SelectDb(3))
            ));
            let got = keys(&items);
            assert_eq!(got.len(), values.len());
            for (i, v) in values.iter().enumerate() {
                assert_eq!(got[i].0, format!("k{i}").into_bytes());
                assert_eq!(&got[i].1, v, "value {i}");
                assert_eq!(got[i].2, (i == 2).then_some(1_800_000_000_123));
            }
        }
    }

    /// A length-prefixed RDB string, as any version writes it.
    fn rdb_string(out: &mut Vec<u8>, bytes: &[u8]) {
        match bytes.len() {
            n if n < 64 => out.push(n as u8),
            n if n < 16_384 => out.extend([0x40 | (n >> 8) as u8, n as u8]),
            n => {
                out.push(0x80);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            }
        }
        out.extend_from_slice(bytes);
    }

    #[test]
    fn reads_the_encodings_of_older_versions() {
        use crate::persist::ziplist::tests::{encode, encode_zipmap};
        let many: Vec<Vec<u8>> = (0..600).map(|i| format!("f{i}").into_bytes()).collect();
        let mut big_hash: Vec<&[u8]> = Vec::new();
        for f in &many {
            big_hash.extend([f.as_slice(), b"v"]);
        }
        let mut dump = b"REDIS0009".to_vec();
        let key = |dump: &mut Vec<u8>, kind: u8, name: &str, blob: &[u8]| {
            dump.push(kind);
            rdb_string(dump, name.as_bytes());
            rdb_string(dump, blob);
        };
        key(
            &mut dump,
            types::HASH_ZIPLIST,
            "h",
            &encode(&[b"a", b"1", b"b", b"two"]),
        );
        key(&mut dump, types::HASH_ZIPLIST, "hbig", &encode(&big_hash));
        key(
            &mut dump,
            types::HASH_ZIPMAP,
            "hz",
            &encode_zipmap(&[(b"k", b"v")], 4),
        );
        key(
            &mut dump,
            types::ZSET_ZIPLIST,
            "z",
            &encode(&[b"m", b"1.5", b"n", b"-3", b"o", b"inf"]),
        );
        key(
            &mut dump,
            types::LIST_ZIPLIST,
            "l",
            &encode(&[b"x", b"7", b"y"]),
        );
        // A quicklist of two ziplist nodes.
        dump.push(types::LIST_QUICKLIST);
        rdb_string(&mut dump, b"q");
        dump.push(2);
        rdb_string(&mut dump, &encode(&[b"1", b"2"]));
        rdb_string(&mut dump, &encode(&[b"three"]));
        dump.push(OPCODE_EOF);
        dump.extend_from_slice(&[0; 8]);

        let items = decode_all(&dump).expect("an older dump loads");
        let value = |name: &[u8]| {
            items
                .iter()
                .find_map(|i| match i {
                    Item::Key { key, value, .. } if key == name => Some(value),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(name)))
        };
        let Value::Hash(h) = value(b"h") else {
            panic!("h")
        };
        assert_eq!(
            (h.get(b"a"), h.get(b"b")),
            (Some(&b"1"[..]), Some(&b"two"[..]))
        );
        assert!(h.is_listpack());
        let Value::Hash(h) = value(b"hbig") else {
            panic!("hbig")
        };
        // Past hash-max-listpack-entries it loads as a table, as in Redis.
        assert_eq!((h.len(), h.is_listpack()), (600, false));
        let Value::Hash(h) = value(b"hz") else {
            panic!("hz")
        };
        assert_eq!(h.get(b"k"), Some(&b"v"[..]));
        let Value::ZSet(z) = value(b"z") else {
            panic!("z")
        };
        assert_eq!(
            (z.score(b"m"), z.score(b"n"), z.score(b"o")),
            (Some(1.5), Some(-3.0), Some(f64::INFINITY))
        );
        let list = |name: &[u8]| match value(name) {
            Value::List(l) => l.iter().map(|e| e.to_vec()).collect::<Vec<_>>(),
            _ => panic!("list"),
        };
        assert_eq!(list(b"l"), [b"x".to_vec(), b"7".to_vec(), b"y".to_vec()]);
        assert_eq!(
            list(b"q"),
            [b"1".to_vec(), b"2".to_vec(), b"three".to_vec()]
        );

        // A repeated field, or a truncated ziplist, is a corrupt dump.
        let mut bad = b"REDIS0009".to_vec();
        key(
            &mut bad,
            types::HASH_ZIPLIST,
            "h",
            &encode(&[b"a", b"1", b"a", b"2"]),
        );
        bad.push(OPCODE_EOF);
        bad.extend_from_slice(&[0; 8]);
        assert!(matches!(decode_all(&bad), Err(RdbError::Corrupt(_))));
    }

    #[test]
    fn corruption_is_detected_and_never_panics() {
        let dump = include_bytes!("../../tests/data/redis-7.0.15-two-strings.rdb");
        // Every truncation fails cleanly.
        for cut in 0..dump.len() - 1 {
            assert!(decode_all(&dump[..cut]).is_err(), "cut at {cut}");
        }
        // Every single-bit flip is caught (by structure or by checksum).
        for i in 0..dump.len() {
            for bit in 0..8 {
                let mut bad = dump.to_vec();
                bad[i] ^= 1 << bit;
                assert!(decode_all(&bad).is_err(), "flip at {i}:{bit}");
            }
        }
        // A huge claimed length with no data behind it does not allocate it.
        let mut evil = b"REDIS0010".to_vec();
        evil.extend_from_slice(&[0x00, 0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert!(matches!(
            decode_all(&evil),
            Err(RdbError::Truncated | RdbError::Corrupt(_))
        ));
    }
}
