//! The index's file format (version 1): [`ContentIndex::encode`] and
//! [`ContentIndex::decode`], text with one NUL-ended record per item and a
//! SHA-256 of everything before the last line. Decoding refuses anything it
//! did not write (a wrong version, a cut, an edited byte); it never trusts
//! a size it reads.

use std::io::{BufRead, Write};

use sha2::{Digest as _, Sha256};

use super::{Content, ContentIndex, Item, MAGIC, MAX_INDEX_BYTES, sorted_items};
use crate::model::inventory::{FileInfo, hex};
use crate::model::{Digest, Form};
use crate::path::EntryPath;
use crate::source::Stamp;

impl ContentIndex {
    /// Writes the index (see [`ContentIndex::decode`] for the format).
    ///
    /// # Errors
    /// Writing fails.
    pub(crate) fn encode(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut w = Hashing {
            inner: out,
            sha: Sha256::new(),
        };
        write!(
            w,
            "{MAGIC}\nform {}\ntaken-at {}\ndigest {}\nitems {}\n",
            self.form,
            self.taken_at_ns,
            self.digest,
            self.items.len()
        )?;
        // Records are formatted into one buffer and written (and hashed) in
        // large pieces: small writes through the hasher cost more than the
        // formatting.
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
        for (path, item) in &self.items {
            let stamp = encode_stamp(&item.stamp);
            match &item.content {
                Content::File { size, sha256 } => {
                    write!(buf, "f {stamp} {size} ")?;
                    push_hex(&mut buf, sha256);
                    write!(buf, " {path}\0")?;
                }
                Content::Module(files) => {
                    write!(buf, "m {stamp} {} {path}\0", files.len())?;
                    for f in files {
                        write!(buf, "{} ", f.size)?;
                        push_hex(&mut buf, &f.sha256);
                        buf.push(b' ');
                        buf.extend_from_slice(f.path.as_str().as_bytes());
                        buf.push(0);
                        if buf.len() >= 1 << 16 {
                            w.write_all(&buf)?;
                            buf.clear();
                        }
                    }
                }
            }
            if buf.len() >= 1 << 16 {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)?;
        let sum = hex(&w.sha.finalize_reset());
        writeln!(w.inner, "end {sum}")
    }

    /// Reads an index written by [`ContentIndex::encode`]:
    ///
    /// ```text
    /// earpatch-index 1
    /// form archive|expanded
    /// taken-at <nanoseconds since the epoch>
    /// digest sha256:<hex>
    /// items <count>
    /// f <stamp> <size> <sha256> <path>NUL              a file
    /// m <stamp> <count> <path>NUL                      a nested module, then
    /// <size> <sha256> <path in module>NUL              <count> times
    /// end <sha256 of every byte before this line>
    /// ```
    ///
    /// A stamp is `e:<crc32>:<compressed>:<size>:<method>:<offset>` (an
    /// archive entry) or `d:<size>:<mtime>:<ctime>:<inode>:<device>` (a file
    /// on disk). Paths end at a NUL, which no path holds.
    ///
    /// # Errors
    /// Why the bytes are not an index earpatch wrote (the caller then reads
    /// the application without it).
    pub(crate) fn decode(input: &mut dyn BufRead) -> std::result::Result<ContentIndex, String> {
        let mut r = Reader {
            inner: input,
            sha: Sha256::new(),
            read: 0,
        };
        let magic = r.line()?;
        if magic != MAGIC {
            return Err(format!(
                "not an index of this version (first line {magic:?})"
            ));
        }
        let form = match r.field("form")?.as_str() {
            "archive" => Form::Archive,
            "expanded" => Form::Expanded,
            other => return Err(format!("unknown form {other:?}")),
        };
        let taken_at_ns = number(&r.field("taken-at")?)?;
        let digest: Digest = r.field("digest")?.parse()?;
        let count: u64 = number(&r.field("items")?)?;
        let mut items = Vec::new();
        for _ in 0..count {
            let record = r.record()?;
            let mut parts = record.splitn(5, ' ');
            let mut next = || parts.next().ok_or("a record is cut short");
            let kind = next()?;
            let stamp = decode_stamp(next()?)?;
            let (path, content) = match kind {
                "f" => {
                    let size = number(next()?)?;
                    let sha256 = sha(next()?)?;
                    (next()?.to_owned(), Content::File { size, sha256 })
                }
                "m" => {
                    let n: u64 = number(next()?)?;
                    let rest = record
                        .splitn(4, ' ')
                        .nth(3)
                        .ok_or("a record is cut short")?;
                    // The count is the file's word: capacity up to a bound,
                    // exact for any module of fewer files.
                    let mut files =
                        Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(1 << 16));
                    for _ in 0..n {
                        let file = r.record()?;
                        let mut parts = file.splitn(3, ' ');
                        let mut next = || parts.next().ok_or("a record is cut short");
                        let size = number(next()?)?;
                        let sha256 = sha(next()?)?;
                        let path = EntryPath::new(next()?).map_err(|p| p.to_string())?;
                        files.push(FileInfo { path, size, sha256 });
                    }
                    files.shrink_to_fit();
                    (rest.to_owned(), Content::Module(files))
                }
                other => return Err(format!("unknown record kind {other:?}")),
            };
            let path = EntryPath::new(&path).map_err(|p| p.to_string())?;
            items.push((path, Item { stamp, content }));
        }
        let expected = hex(&r.sha.finalize_reset());
        let mut end = String::new();
        r.inner
            .read_line(&mut end)
            .map_err(|e| format!("cannot read: {e}"))?;
        if end.trim_end() != format!("end {expected}") {
            return Err("its checksum does not match (truncated or edited)".into());
        }
        Ok(ContentIndex {
            form,
            taken_at_ns,
            digest,
            items: sorted_items(items),
        })
    }
}

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
}

fn encode_stamp(stamp: &Stamp) -> String {
    match *stamp {
        Stamp::Entry {
            crc32,
            packed,
            size,
            method,
            offset,
        } => format!("e:{crc32}:{packed}:{size}:{method}:{offset}"),
        Stamp::Disk {
            size,
            mtime_ns,
            ctime_ns,
            inode,
            device,
        } => format!("d:{size}:{mtime_ns}:{ctime_ns}:{inode}:{device}"),
        Stamp::None => "n".into(),
    }
}

fn decode_stamp(text: &str) -> std::result::Result<Stamp, String> {
    let mut parts = text.split(':');
    let kind = parts.next().unwrap_or_default();
    let fields: Vec<&str> = parts.collect();
    match (kind, fields.as_slice()) {
        ("e", [crc, packed, size, method, offset]) => Ok(Stamp::Entry {
            crc32: number(crc)?,
            packed: number(packed)?,
            size: number(size)?,
            method: number(method)?,
            offset: number(offset)?,
        }),
        ("d", [size, mtime, ctime, inode, device]) => Ok(Stamp::Disk {
            size: number(size)?,
            mtime_ns: number(mtime)?,
            ctime_ns: number(ctime)?,
            inode: number(inode)?,
            device: number(device)?,
        }),
        ("n", []) => Ok(Stamp::None),
        _ => Err(format!("malformed stamp {text:?}")),
    }
}

fn number<T: std::str::FromStr>(text: &str) -> std::result::Result<T, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number"))
}

fn sha(text: &str) -> std::result::Result<[u8; 32], String> {
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    let mut out = [0u8; 32];
    if bytes.len() != 64 {
        return Err(format!("{text:?} is not a SHA-256"));
    }
    for (i, byte) in out.iter_mut().enumerate() {
        match (digit(bytes[2 * i]), digit(bytes[2 * i + 1])) {
            (Some(hi), Some(lo)) => *byte = hi << 4 | lo,
            _ => return Err(format!("{text:?} is not a SHA-256")),
        }
    }
    Ok(out)
}

/// A writer that hashes what it writes (the index's trailing checksum).
struct Hashing<'a> {
    inner: &'a mut dyn Write,
    sha: Sha256,
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Reads lines and NUL-ended records, hashing them, within the size cap.
struct Reader<'a> {
    inner: &'a mut dyn BufRead,
    sha: Sha256,
    read: u64,
}

impl Reader<'_> {
    fn until(&mut self, end: u8) -> std::result::Result<String, String> {
        let mut buf = Vec::new();
        // At most what is left of the cap: a record never grows past it.
        let left = MAX_INDEX_BYTES.saturating_sub(self.read);
        let n = std::io::Read::take(&mut self.inner, left)
            .read_until(end, &mut buf)
            .map_err(|e| format!("cannot read: {e}"))?;
        self.read += n as u64;
        if buf.pop() != Some(end) {
            return Err("it ends early (truncated)".into());
        }
        self.sha.update(&buf);
        self.sha.update([end]);
        String::from_utf8(buf).map_err(|_| "it is not UTF-8".into())
    }

    fn line(&mut self) -> std::result::Result<String, String> {
        self.until(b'\n')
    }

    fn record(&mut self) -> std::result::Result<String, String> {
        self.until(0)
    }

    fn field(&mut self, name: &str) -> std::result::Result<String, String> {
        let line = self.line()?;
        line.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(' '))
            .map(str::to_owned)
            .ok_or_else(|| format!("expected a {name} line, found {line:?}"))
    }
}
