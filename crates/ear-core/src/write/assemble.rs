//! Assembling a zip from the local records of other zips, as `cp` copies a
//! file: each record (local header, name, extra field, data, data
//! descriptor) is copied verbatim, adjacent records of one input in one copy
//! made by the kernel where it can (`copy_file_range`, else `sendfile`, else
//! read and write: what [`std::io::copy`] does between two files on Linux).
//! Local headers hold no offsets, so only the central directory is new: it is
//! written from the inputs' own central records with the offsets relocated,
//! zip64 fields where a size or an offset needs them, the end record (zip64
//! too when needed) and the archive comment.
//!
//! Everything taken from an input is checked first, since an input may be
//! hostile: the local header's signature, each record inside its input and
//! before its central directory, no two records sharing bytes, central
//! records that parse. It never decides which entries go where, nor writes
//! an entry's data itself: [`super::archive`] decides, and the zip writer
//! writes new entries into a temporary zip that is one more input.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use super::COPY_CHUNK;
use crate::error::{Error, Result};
use crate::progress::Meter;
use crate::source::{Bytes, NestedZip, Region};

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const END_SIG: u32 = 0x0605_4b50;
const END64_SIG: u32 = 0x0606_4b50;
const LOCATOR64_SIG: u32 = 0x0706_4b50;
/// A 32-bit size or offset field at this value is in the zip64 extra field.
const MAX32: u64 = 0xFFFF_FFFF;
/// A 16-bit count at this value is in the zip64 end record.
const MAX16: u64 = 0xFFFF;
const ZIP64_EXTRA: u16 = 0x0001;
/// Bytes of the fixed part of a local header and of a central record.
const LOCAL_LEN: u64 = 30;
const CENTRAL_LEN: usize = 46;

/// A zip whose records are copied: its reader, its bytes, its name in messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Input<'a> {
    /// The zip.
    pub zip: &'a NestedZip,
    /// Its bytes.
    pub bytes: &'a Bytes,
    /// `app.ear` or `app.ear!module.war`.
    pub location: &'a str,
}

/// Where one entry's local record lies in its input, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    start: u64,
    end: u64,
    central: u64,
    compressed: u64,
    size: u64,
}

impl Record {
    /// The bytes the record spans in its input.
    pub(crate) fn span(&self) -> (u64, u64) {
        (self.start, self.end)
    }
}

/// Reads the records of one input: headers are small and mostly read in
/// order, so they come through one read-ahead buffer, not a read each.
#[derive(Debug)]
pub(crate) struct Scanner<'a> {
    input: Input<'a>,
    /// Reads local headers (one buffer for them, another for the central records).
    local: Bytes,
    central: Bytes,
}

impl<'a> Scanner<'a> {
    /// Reads the records of `input`.
    pub(crate) fn new(input: Input<'a>) -> Self {
        Scanner {
            input,
            local: input.bytes.clone(),
            central: input.bytes.clone(),
        }
    }

    /// Finds and checks the local record of entry `index`.
    /// `None`: its data descriptor is not one of the four forms of the zip
    /// specification with the central directory's values, or its central
    /// record's extra field does not parse (copy such an entry through the
    /// zip writer, which rewrites its headers).
    pub(crate) fn record(&mut self, index: usize) -> Result<Option<Record>> {
        let input = self.input;
        let entry = input
            .zip
            .by_index_data(index)
            .map_err(|e| Error::zip(input.location, e))?;
        let name = entry.name().map_or_else(
            |_| String::from_utf8_lossy(entry.name_raw()).into_owned(),
            std::borrow::Cow::into_owned,
        );
        let at = format!("{}!{name}", input.location);
        let refuse = |what: &str| {
            Error::refused(
                at.clone(),
                format!("{what}; the archive is damaged or crafted: rebuild it"),
            )
        };
        let bytes = &mut self.local;
        let (start, central) = (entry.header_start(), entry.central_header_start());
        let (compressed, size, crc) = (entry.compressed_size(), entry.size(), entry.crc32());
        let mut local = [0u8; LOCAL_LEN as usize];
        read_at(bytes, start, &mut local)
            .map_err(|_| refuse("its local header lies past the end of the archive"))?;
        if u32_at(&local, 0) != LOCAL_SIG {
            return Err(refuse("its local header has no local header signature"));
        }
        let flags = u16_at(&local, 6);
        let (name_len, extra_len) = (u16_at(&local, 26), u16_at(&local, 28));
        let data = start + LOCAL_LEN + u64::from(name_len) + u64::from(extra_len);
        let data_end = data
            .checked_add(compressed)
            .filter(|end| *end <= bytes.len())
            .ok_or_else(|| refuse("its data runs past the end of the archive"))?;
        let descriptor = if flags & 0x8 == 0 {
            0
        } else {
            let mut extra = vec![0u8; usize::from(extra_len)];
            read_at(bytes, start + LOCAL_LEN + u64::from(name_len), &mut extra)
                .map_err(|_| refuse("its local header lies past the end of the archive"))?;
            let zip64 =
                extra_blocks(&extra).is_some_and(|b| b.iter().any(|(id, _)| *id == ZIP64_EXTRA));
            match descriptor_len(bytes, data_end, (crc, compressed, size), zip64) {
                Some(n) => n,
                None => return Ok(None),
            }
        };
        let end = data_end + descriptor;
        if end > input.zip.central_directory_start() {
            return Err(refuse("its local record runs into the central directory"));
        }
        let raw = central_record(&mut self.central, central).map_err(&refuse)?;
        if u32_at(&raw, 0) != CENTRAL_SIG {
            return Err(refuse("its central directory record has no signature"));
        }
        if relocate(&raw, compressed, size, 0).is_err() {
            return Ok(None);
        }
        Ok(Some(Record {
            start,
            end,
            central,
            compressed,
            size,
        }))
    }
}

/// The length of the data descriptor at `at` that holds `crc, compressed,
/// size`: 12 or 20 bytes (4- or 8-byte sizes), 4 more with its optional
/// signature. 8-byte sizes are tried first when the local header has a zip64
/// extra field, as the specification says they are then used.
fn descriptor_len(
    bytes: &mut Bytes,
    at: u64,
    (crc, compressed, size): (u32, u64, u64),
    zip64: bool,
) -> Option<u64> {
    let mut buf = [0u8; 24];
    let avail = usize::try_from(bytes.len().saturating_sub(at).min(24)).ok()?;
    read_at(bytes, at, &mut buf[..avail]).ok()?;
    let buf = &buf[..avail];
    let widths: [usize; 2] = if zip64 { [8, 4] } else { [4, 8] };
    let signed = buf.len() >= 4 && u32_at(buf, 0) == DESCRIPTOR_SIG;
    let skips: &[usize] = if signed { &[4, 0] } else { &[0] };
    for &skip in skips {
        for width in widths {
            let len = skip + 4 + 2 * width;
            if len > buf.len() {
                continue;
            }
            let field = |at: usize| -> u64 {
                if width == 4 {
                    u64::from(u32_at(buf, at))
                } else {
                    u64_at(buf, at)
                }
            };
            if u32_at(buf, skip) == crc
                && field(skip + 4) == compressed
                && field(skip + 4 + width) == size
            {
                return Some(len as u64);
            }
        }
    }
    None
}

/// Reads the central record at `at`: its fixed part, name, extra field and comment.
fn central_record(bytes: &mut Bytes, at: u64) -> std::result::Result<Vec<u8>, &'static str> {
    const PAST: &str = "its central directory record lies past the end of the archive";
    let mut fixed = [0u8; CENTRAL_LEN];
    read_at(bytes, at, &mut fixed).map_err(|_| PAST)?;
    let len = CENTRAL_LEN
        + usize::from(u16_at(&fixed, 28))
        + usize::from(u16_at(&fixed, 30))
        + usize::from(u16_at(&fixed, 32));
    let mut raw = vec![0u8; len];
    read_at(bytes, at, &mut raw).map_err(|_| PAST)?;
    Ok(raw)
}

/// Reads exactly `buf.len()` bytes at `at` (through `bytes`' read-ahead).
fn read_at(bytes: &mut Bytes, at: u64, buf: &mut [u8]) -> io::Result<()> {
    bytes.seek(SeekFrom::Start(at))?;
    bytes.read_exact(buf)
}

/// The blocks of an extra field (`None`: they do not add up to its length).
fn extra_blocks(extra: &[u8]) -> Option<Vec<(u16, &[u8])>> {
    let mut blocks = Vec::new();
    let mut rest = extra;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return None;
        }
        let (id, len) = (u16_at(rest, 0), usize::from(u16_at(rest, 2)));
        let data = rest.get(4..4 + len)?;
        blocks.push((id, data));
        rest = &rest[4 + len..];
    }
    Some(blocks)
}

/// `raw` (a central record) for an entry of these sizes whose local header
/// is at `offset`: the 32-bit fields hold the values, or `0xFFFFFFFF` and a
/// zip64 extra field holds them; the disk number is 0; everything else is
/// kept. An extra field that does not parse is kept as it is when nothing
/// needs zip64, else the record cannot be relocated (`Err`).
fn relocate(
    raw: &[u8],
    compressed: u64,
    size: u64,
    offset: u64,
) -> std::result::Result<Vec<u8>, ()> {
    let (name_len, extra_len) = (usize::from(u16_at(raw, 28)), usize::from(u16_at(raw, 30)));
    let extra = raw
        .get(CENTRAL_LEN + name_len..CENTRAL_LEN + name_len + extra_len)
        .ok_or(())?;
    let mut zip64 = Vec::new();
    let mut fixed = raw[..CENTRAL_LEN].to_vec();
    for (value, field) in [(size, 24), (compressed, 20), (offset, 42)] {
        if value >= MAX32 {
            zip64.extend_from_slice(&value.to_le_bytes());
            fixed[field..field + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        } else {
            #[allow(clippy::cast_possible_truncation)] // checked just above
            fixed[field..field + 4].copy_from_slice(&(value as u32).to_le_bytes());
        }
    }
    fixed[34..36].copy_from_slice(&0u16.to_le_bytes());
    let mut new_extra = Vec::with_capacity(extra.len() + 28);
    match extra_blocks(extra) {
        Some(blocks) => {
            for (id, data) in blocks.into_iter().filter(|(id, _)| *id != ZIP64_EXTRA) {
                new_extra.extend_from_slice(&id.to_le_bytes());
                new_extra
                    .extend_from_slice(&u16::try_from(data.len()).map_err(|_| ())?.to_le_bytes());
                new_extra.extend_from_slice(data);
            }
        }
        // Unparsed: kept only when it cannot hold zip64 values (the fields
        // did not point there) and none are needed now.
        None if zip64.is_empty()
            && [20, 24, 42]
                .iter()
                .all(|&f| u64::from(u32_at(raw, f)) != MAX32)
            && u64::from(u16_at(raw, 34)) != MAX16 =>
        {
            new_extra.extend_from_slice(extra);
        }
        None => return Err(()),
    }
    if !zip64.is_empty() {
        new_extra.extend_from_slice(&ZIP64_EXTRA.to_le_bytes());
        new_extra.extend_from_slice(&u16::try_from(zip64.len()).map_err(|_| ())?.to_le_bytes());
        new_extra.extend_from_slice(&zip64);
        let needed = u16_at(&fixed, 6).max(45);
        fixed[6..8].copy_from_slice(&needed.to_le_bytes());
    }
    fixed[30..32].copy_from_slice(
        &u16::try_from(new_extra.len())
            .map_err(|_| ())?
            .to_le_bytes(),
    );
    let mut out = fixed;
    out.extend_from_slice(&raw[CENTRAL_LEN..CENTRAL_LEN + name_len]);
    out.extend_from_slice(&new_extra);
    out.extend_from_slice(&raw[CENTRAL_LEN + name_len + extra_len..]);
    Ok(out)
}

/// One entry of the zip being assembled: its input, central record, sizes
/// and new offset (a few words each: the central directory is written from
/// the inputs at the end, not held).
#[derive(Debug, Clone, Copy)]
struct Placed {
    input: usize,
    record: Record,
    offset: u64,
}

/// A run of adjacent records of one input, copied at once.
#[derive(Debug, Clone, Copy)]
struct Run {
    input: usize,
    start: u64,
    end: u64,
}

/// A zip being assembled into a file, written from its start.
pub(crate) struct Assembler<'a> {
    inputs: Vec<Input<'a>>,
    out: File,
    location: String,
    /// Bytes placed so far (copied, pending in `run`, or buffered).
    pos: u64,
    buf: Vec<u8>,
    run: Option<Run>,
    placed: Vec<Placed>,
    /// Told of every run and buffer written.
    meter: Meter,
}

impl std::fmt::Debug for Assembler<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assembler")
            .field("location", &self.location)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl<'a> Assembler<'a> {
    /// Assembles into `out` (empty, at its start) from `inputs`; `location`
    /// names `out` in errors.
    pub(crate) fn new(inputs: Vec<Input<'a>>, out: File, location: &str) -> Self {
        Assembler {
            inputs,
            out,
            location: location.to_owned(),
            pos: 0,
            buf: Vec::with_capacity(64 * 1024),
            run: None,
            placed: Vec::new(),
            meter: Meter::default(),
        }
    }

    /// Reports the bytes written to `meter`, a run of records
    /// ([`COPY_CHUNK`] at most) at a time; a cancel stops the assembly.
    pub(crate) fn metered(mut self, meter: &Meter) -> Self {
        self.meter = meter.clone();
        self
    }

    /// Copies the first `len` bytes of input `input` as they are (what
    /// precedes a zip's first entry, as in a self-extracting archive).
    pub(crate) fn prefix(&mut self, input: usize, len: u64) -> Result<()> {
        if len > 0 {
            self.extend(Run {
                input,
                start: 0,
                end: len,
            })?;
        }
        Ok(())
    }

    /// Places the local record `record` of input `input` next.
    pub(crate) fn record(&mut self, input: usize, record: Record) -> Result<()> {
        self.placed.push(Placed {
            input,
            record,
            offset: self.pos,
        });
        self.extend(Run {
            input,
            start: record.start,
            end: record.end,
        })
    }

    fn extend(&mut self, next: Run) -> Result<()> {
        self.pos += next.end - next.start;
        match &mut self.run {
            Some(run) if run.input == next.input && run.end == next.start => {
                run.end = next.end;
                Ok(())
            }
            _ => {
                self.flush_run()?;
                self.run = Some(next);
                Ok(())
            }
        }
    }

    fn flush_run(&mut self) -> Result<()> {
        let Some(run) = self.run.take() else {
            return Ok(());
        };
        self.flush_buf()?;
        let input = self.inputs[run.input];
        let mut start = run.start;
        while start < run.end {
            let len = (run.end - start).min(COPY_CHUNK);
            copy_range(input.bytes, start, len, &mut self.out).map_err(|e| {
                if e.kind() == io::ErrorKind::UnexpectedEof {
                    Error::io("cannot read", input.location, e)
                } else {
                    Error::io("cannot write", &self.location, e)
                }
            })?;
            self.meter.wrote(len, 0)?;
            start += len;
        }
        Ok(())
    }

    fn flush_buf(&mut self) -> Result<()> {
        self.out
            .write_all(&self.buf)
            .map_err(|e| Error::io("cannot write", &self.location, e))?;
        self.meter.wrote(self.buf.len() as u64, 0)?;
        self.buf.clear();
        Ok(())
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.pos += bytes.len() as u64;
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= 256 * 1024 {
            self.flush_buf()?;
        }
        Ok(())
    }

    /// Writes the central directory and its end records with `comment`, and
    /// returns the file.
    pub(crate) fn finish(mut self, comment: &[u8]) -> Result<File> {
        self.flush_run()?;
        let start = self.pos;
        let placed = std::mem::take(&mut self.placed);
        let mut readers: Vec<Bytes> = self.inputs.iter().map(|i| i.bytes.clone()).collect();
        for p in &placed {
            let input = self.inputs[p.input];
            let raw = central_record(&mut readers[p.input], p.record.central)
                .map_err(|what| Error::refused(input.location, what))?;
            let record = relocate(&raw, p.record.compressed, p.record.size, p.offset).map_err(|()| {
                Error::refused(
                    input.location,
                    "a central directory record cannot be relocated (its extra field does not parse); \
                     rebuild the archive",
                )
            })?;
            self.put(&record)?;
        }
        let (count, size, end64_at) = (placed.len() as u64, self.pos - start, self.pos);
        if count >= MAX16 || size >= MAX32 || start >= MAX32 {
            let mut end64 = Vec::with_capacity(76);
            end64.extend_from_slice(&END64_SIG.to_le_bytes());
            end64.extend_from_slice(&44u64.to_le_bytes()); // size of the rest of this record
            end64.extend_from_slice(&45u16.to_le_bytes()); // made by
            end64.extend_from_slice(&45u16.to_le_bytes()); // needed
            end64.extend_from_slice(&[0u8; 8]); // this disk, the central directory's disk
            end64.extend_from_slice(&count.to_le_bytes());
            end64.extend_from_slice(&count.to_le_bytes());
            end64.extend_from_slice(&size.to_le_bytes());
            end64.extend_from_slice(&start.to_le_bytes());
            end64.extend_from_slice(&LOCATOR64_SIG.to_le_bytes());
            end64.extend_from_slice(&0u32.to_le_bytes());
            end64.extend_from_slice(&end64_at.to_le_bytes());
            end64.extend_from_slice(&1u32.to_le_bytes());
            self.put(&end64)?;
        }
        let comment_len = u16::try_from(comment.len()).map_err(|_| {
            Error::refused(
                &self.location,
                "internal error: archive comment over 65535 bytes",
            )
        })?;
        #[allow(clippy::cast_possible_truncation)] // each checked against its maximum
        let (count16, size32, start32) = (
            count.min(MAX16) as u16,
            size.min(MAX32) as u32,
            start.min(MAX32) as u32,
        );
        let mut end = Vec::with_capacity(22 + comment.len());
        end.extend_from_slice(&END_SIG.to_le_bytes());
        end.extend_from_slice(&[0u8; 4]); // this disk, the central directory's disk
        end.extend_from_slice(&count16.to_le_bytes());
        end.extend_from_slice(&count16.to_le_bytes());
        end.extend_from_slice(&size32.to_le_bytes());
        end.extend_from_slice(&start32.to_le_bytes());
        end.extend_from_slice(&comment_len.to_le_bytes());
        end.extend_from_slice(comment);
        self.put(&end)?;
        self.flush_buf()?;
        Ok(self.out)
    }
}

/// Checks that no two of `spans` (the local records of entries of `input`,
/// by index, and what precedes the first: `None`) share a byte: copying
/// records that overlap would copy the same bytes twice, and entries that
/// share bytes are how zip bombs multiply them.
pub(crate) fn check_disjoint(
    mut spans: Vec<((u64, u64), Option<usize>)>,
    input: Input<'_>,
) -> Result<()> {
    spans.sort_unstable();
    let Some(pair) = spans.windows(2).find(|w| w[0].0.1 > w[1].0.0) else {
        return Ok(());
    };
    let name = |index: Option<usize>| {
        index
            .and_then(|i| input.zip.by_index_data(i).ok())
            .map_or_else(
                || "(the bytes before the first entry)".to_owned(),
                |e| String::from_utf8_lossy(e.name_raw()).into_owned(),
            )
    };
    Err(Error::refused(
        format!("{}!{}", input.location, name(pair[0].1)),
        format!(
            "its local record overlaps that of {} (entries that share bytes are a zip bomb); the archive is \
             damaged or crafted: rebuild it",
            name(pair[1].1)
        ),
    ))
}

/// Copies bytes `start..start + len` of `from` to the end of `out`: by the
/// kernel when both are files ([`std::io::copy`] from a file to a file uses
/// `copy_file_range`, falling back to `sendfile` and then to a read and
/// write where the kernel or the file systems refuse, as across devices).
fn copy_range(from: &Bytes, start: u64, len: u64, out: &mut File) -> io::Result<()> {
    let short = || {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the file is shorter than its zip directory says",
        )
    };
    if start.checked_add(len).is_none_or(|end| end > from.len()) {
        return Err(short());
    }
    from.with_region(|region| match region {
        Region::Memory(bytes) => {
            let range = usize::try_from(start).map_err(|_| short())?
                ..usize::try_from(start + len).map_err(|_| short())?;
            out.write_all(bytes.get(range).ok_or_else(short)?)
        }
        Region::File { file, base } => {
            let mut file = file;
            file.seek(SeekFrom::Start(base + start))?;
            let copied = io::copy(&mut file.take(len), out)?;
            if copied == len { Ok(()) } else { Err(short()) }
        }
    })
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use zip::write::SimpleFileOptions;

    type TestResult<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

    /// A zip of one entry `a.txt` and its central record.
    fn one_entry(large: bool) -> TestResult<(Vec<u8>, Vec<u8>)> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default().large_file(large);
        w.start_file("a.txt", opts)?;
        w.write_all(b"hello, hello, hello")?;
        let zip = w.finish()?.into_inner();
        let archive = zip::ZipArchive::new(Cursor::new(&zip[..]))?;
        let central = archive.by_index_data(0)?.central_header_start();
        let raw = central_record(&mut Bytes::memory(zip.clone()), central)?;
        Ok((zip, raw))
    }

    fn zip64_block(record: &[u8]) -> TestResult<Option<Vec<u8>>> {
        let (n, m) = (
            usize::from(u16_at(record, 28)),
            usize::from(u16_at(record, 30)),
        );
        let blocks = extra_blocks(&record[CENTRAL_LEN + n..CENTRAL_LEN + n + m]).ok_or("blocks")?;
        Ok(blocks
            .into_iter()
            .find(|(id, _)| *id == ZIP64_EXTRA)
            .map(|(_, data)| data.to_vec()))
    }

    #[test]
    fn an_offset_past_4_gib_moves_to_a_zip64_field() -> TestResult {
        let (_, raw) = one_entry(false)?;
        let offset = 5u64 << 30;
        let out = relocate(&raw, 10, 19, offset).map_err(|()| "relocate")?;
        assert_eq!(u32_at(&out, 42), u32::MAX);
        assert_eq!(zip64_block(&out)?, Some(offset.to_le_bytes().to_vec()));
        assert!(u16_at(&out, 6) >= 45, "version needed to extract: zip64");
        assert_eq!(u32_at(&out, 20), 10);
        assert_eq!(u32_at(&out, 24), 19);
        assert_eq!(&out[CENTRAL_LEN..CENTRAL_LEN + 5], b"a.txt");
        Ok(())
    }

    #[test]
    fn sizes_past_4_gib_come_before_the_offset_in_the_zip64_field() -> TestResult {
        let (_, raw) = one_entry(false)?;
        let (packed, size) = (5u64 << 30, 6u64 << 30);
        let out = relocate(&raw, packed, size, 7).map_err(|()| "relocate")?;
        let mut expected = size.to_le_bytes().to_vec();
        expected.extend_from_slice(&packed.to_le_bytes());
        assert_eq!(zip64_block(&out)?, Some(expected));
        assert_eq!(u32_at(&out, 42), 7);
        Ok(())
    }

    #[test]
    fn a_zip64_field_that_is_no_longer_needed_is_dropped() -> TestResult {
        let (zip, raw) = one_entry(true)?;
        assert!(zip64_block(&raw)?.is_some(), "the premise: a zip64 field");
        let archive = zip::ZipArchive::new(Cursor::new(&zip[..]))?;
        let entry = archive.by_index_data(0)?;
        let out =
            relocate(&raw, entry.compressed_size(), entry.size(), 1234).map_err(|()| "relocate")?;
        assert_eq!(zip64_block(&out)?, None);
        assert_eq!(u32_at(&out, 42), 1234);
        assert_eq!(u64::from(u32_at(&out, 20)), entry.compressed_size());
        assert_eq!(u64::from(u32_at(&out, 24)), entry.size());
        Ok(())
    }

    #[test]
    fn an_extra_field_that_does_not_parse_is_kept_only_when_nothing_needs_zip64() -> TestResult {
        let (_, raw) = one_entry(false)?;
        // Give the record a 3-byte extra field (no block fits in 3 bytes).
        let mut broken = raw[..CENTRAL_LEN + 5].to_vec();
        broken[30..32].copy_from_slice(&3u16.to_le_bytes());
        broken.extend_from_slice(&[1, 2, 3]);
        let kept = relocate(&broken, 10, 19, 99).map_err(|()| "relocate")?;
        assert_eq!(&kept[CENTRAL_LEN + 5..], &[1, 2, 3]);
        assert!(relocate(&broken, 10, 19, 5 << 30).is_err());
        Ok(())
    }

    #[test]
    fn data_descriptors_are_recognised_in_their_four_forms() -> TestResult {
        let (crc, packed, size) = (0xDEAD_BEEFu32, 300u32, 500u32);
        let forms: [(bool, bool); 4] = [(true, false), (false, false), (true, true), (false, true)];
        for (signed, wide) in forms {
            let mut dd = Vec::new();
            if signed {
                dd.extend_from_slice(&DESCRIPTOR_SIG.to_le_bytes());
            }
            dd.extend_from_slice(&crc.to_le_bytes());
            if wide {
                dd.extend_from_slice(&u64::from(packed).to_le_bytes());
                dd.extend_from_slice(&u64::from(size).to_le_bytes());
            } else {
                dd.extend_from_slice(&packed.to_le_bytes());
                dd.extend_from_slice(&size.to_le_bytes());
            }
            let len = dd.len() as u64;
            dd.extend_from_slice(b"PK\x03\x04 the next record");
            let mut bytes = Bytes::memory(dd);
            let values = (crc, u64::from(packed), u64::from(size));
            assert_eq!(
                descriptor_len(&mut bytes, 0, values, wide),
                Some(len),
                "{signed} {wide}"
            );
            let wrong = (crc ^ 1, u64::from(packed), u64::from(size));
            assert_eq!(descriptor_len(&mut bytes, 0, wrong, wide), None);
        }
        Ok(())
    }
}
