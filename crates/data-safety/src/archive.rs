//! The remote transfer format of a backup: a plain ustar archive (readable by `tar -xf`) of
//! the backup folder's files, `manifest.json` first, then the snapshot. Written and read as a
//! stream, so neither side holds the database in memory. Only plain file names are accepted
//! on the way in (no paths, links or special files): an archive cannot write outside the
//! folder it is unpacked into.

use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::encryption::{self, Keys, Recipients};
use crate::manifest::{Manifest, MANIFEST_FILE};
use crate::{store, BackupError};

const BLOCK: usize = 512;
/// At most this many entries in an uploaded archive (a backup has two or three files).
const MAX_ENTRIES: usize = 8;

fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    field[..width].copy_from_slice(text.as_bytes());
    field[width] = 0;
}

fn header(name: &str, size: u64, mtime: u64) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o600);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    if size < 8u64.pow(11) {
        octal(&mut h[124..136], size);
    } else {
        // GNU base-256 for files of 8 GiB and more.
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    octal(&mut h[136..148], mtime);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u64 = h.iter().map(|b| *b as u64).sum();
    let text = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(text.as_bytes());
    h
}

/// Writes the backup folder `dir` as an archive: the manifest, then the snapshot.
pub fn write_backup(dir: &Path, out: &mut impl Write) -> Result<(), BackupError> {
    let manifest = Manifest::read(dir)?;
    let text = std::fs::read(dir.join(MANIFEST_FILE))
        .map_err(BackupError::io("read", &dir.join(MANIFEST_FILE)))?;
    let path = dir.join(&manifest.snapshot.file);
    let mut file = std::fs::File::open(&path).map_err(BackupError::io("read", &path))?;
    let size = file
        .metadata()
        .map_err(BackupError::io("read", &path))?
        .len();
    write_entries(dir, &manifest, &text, size, &mut file, out)
}

/// [`write_backup`] of the plaintext: an encrypted snapshot is decrypted with `keys` on the
/// way out (twice: once to learn its size and SHA-256 for the manifest, once to send it), so
/// the receiver (the service, which holds no identity) gets a plain backup and no plaintext
/// copy is written here.
pub fn write_backup_opened(
    dir: &Path,
    keys: &Keys,
    out: &mut impl Write,
) -> Result<(), BackupError> {
    let manifest = Manifest::read(dir)?;
    if manifest.snapshot.encryption.is_none() {
        return write_backup(dir, out);
    }
    let snapshot = crate::verify::check_file(dir, &manifest)?;
    let mut first = encryption::open_snapshot(&snapshot, &manifest, keys)?;
    let mut hashing = HashingReader::new(&mut first);
    std::io::copy(&mut hashing, &mut std::io::sink())
        .map_err(|e| encryption::unreadable(&manifest, e))?;
    let (bytes, sha256) = hashing.finish();
    let mut plain = manifest.clone();
    plain.snapshot.file = manifest
        .snapshot
        .file
        .strip_suffix(encryption::SUFFIX)
        .unwrap_or(&manifest.snapshot.file)
        .to_owned();
    plain.snapshot.bytes = bytes;
    plain.snapshot.sha256 = sha256;
    plain.snapshot.encryption = None;
    let text = serde_json::to_vec_pretty(&plain).expect("a manifest serializes");
    let mut second = encryption::open_snapshot(&snapshot, &manifest, keys)?;
    write_entries(dir, &plain, &text, bytes, &mut second, out)
}

/// The manifest entry (`text`), then the snapshot entry of `size` bytes read from `snapshot`.
fn write_entries(
    dir: &Path,
    manifest: &Manifest,
    text: &[u8],
    size: u64,
    snapshot: &mut dyn Read,
    out: &mut impl Write,
) -> Result<(), BackupError> {
    let mtime = chrono::Utc::now().timestamp().max(0) as u64;
    let io = |e: std::io::Error| BackupError::Io {
        action: "send",
        path: dir.display().to_string(),
        source: e,
    };
    out.write_all(&header(MANIFEST_FILE, text.len() as u64, mtime))
        .map_err(io)?;
    out.write_all(text).map_err(io)?;
    out.write_all(&[0u8; BLOCK][..pad(text.len() as u64)])
        .map_err(io)?;
    let name = manifest.snapshot.file.as_str();
    out.write_all(&header(name, size, mtime)).map_err(io)?;
    let copied = std::io::copy(&mut snapshot.take(size), out).map_err(io)?;
    if copied != size {
        return Err(BackupError::Damaged {
            id: manifest.id.clone(),
            what: format!("{name} shrank while it was being sent"),
        });
    }
    out.write_all(&[0u8; BLOCK][..pad(size)]).map_err(io)?;
    out.write_all(&[0u8; 2 * BLOCK]).map_err(io)?;
    out.flush().map_err(io)
}

fn pad(size: u64) -> usize {
    (BLOCK - (size as usize % BLOCK)) % BLOCK
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v = 0u64;
        for b in &field[field.len() - 8..] {
            v = (v << 8) | *b as u64;
        }
        return Some(v);
    }
    let text: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| *b as char)
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// Unpacks an archive from `input` into `dest` (created 0700, files 0600); returns the file
/// names. Fails on a truncated or malformed archive.
pub fn unpack(input: &mut impl Read, dest: &Path) -> Result<Vec<String>, BackupError> {
    unpack_each(input, dest, |name, entry| plain_entry(dest, name, entry))
}

/// [`unpack`], encrypting the snapshot to `recipients` as it is written (no plaintext copy
/// reaches the disk): its plaintext is checked against the manifest's size and SHA-256 on the
/// way, and the manifest, written last, then describes the encrypted file. A backup that
/// arrives already encrypted is kept as it is.
pub fn unpack_sealed(
    input: &mut impl Read,
    dest: &Path,
    recipients: &Recipients,
) -> Result<Manifest, BackupError> {
    let mut manifest: Option<Manifest> = None;
    let mut sealed = None;
    unpack_each(input, dest, |name, entry| {
        if name == MANIFEST_FILE {
            let mut text = Vec::new();
            entry
                .read_to_end(&mut text)
                .map_err(BackupError::io("read", dest))?;
            let m: Manifest = serde_json::from_slice(&text)
                .map_err(|e| bad(format!("its manifest is not a backup manifest: {e}")))?;
            manifest = Some(m);
            return Ok(());
        }
        let m = match &manifest {
            Some(m) if m.snapshot.encryption.is_none() && m.snapshot.file == name => m,
            _ => return plain_entry(dest, name, entry),
        };
        let file = format!("{name}{}", encryption::SUFFIX);
        let path = dest.join(&file);
        let mut hashing = HashingReader::new(entry);
        encryption::write_file(&path, recipients, |out| {
            std::io::copy(&mut hashing, out)
                .map(drop)
                .map_err(BackupError::io("write", &path))
        })?;
        let (bytes, sha) = hashing.finish();
        if bytes != m.snapshot.bytes || sha != m.snapshot.sha256 {
            return Err(bad(format!(
                "{name} arrived as {bytes} bytes with SHA-256 {}, the manifest records {} bytes and {}",
                crate::hash::short(&sha),
                m.snapshot.bytes,
                crate::hash::short(&m.snapshot.sha256)
            )));
        }
        sealed = Some(file);
        Ok(())
    })?;
    let mut manifest = manifest.ok_or_else(|| bad("it holds no manifest.json".into()))?;
    if let Some(file) = sealed {
        let path = dest.join(&file);
        let (bytes, sha256) =
            crate::hash::file_sha256(&path).map_err(BackupError::io("read", &path))?;
        manifest.snapshot.file = file;
        manifest.snapshot.bytes = bytes;
        manifest.snapshot.sha256 = sha256;
        manifest.snapshot.encryption = Some(encryption::description(recipients));
    }
    let text = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    store::write_atomic(&dest.join(MANIFEST_FILE), &text)?;
    Ok(manifest)
}

fn plain_entry(dest: &Path, name: &str, entry: &mut dyn Read) -> Result<(), BackupError> {
    let path = dest.join(name);
    let mut file = store::create_private_file(&path)?;
    std::io::copy(entry, &mut file).map_err(BackupError::io("write", &path))?;
    file.sync_all().map_err(BackupError::io("fsync", &path))
}

/// SHA-256 and size of what passes through.
struct HashingReader<'a> {
    inner: &'a mut dyn Read,
    sha: Sha256,
    bytes: u64,
}

impl<'a> HashingReader<'a> {
    fn new(inner: &'a mut dyn Read) -> Self {
        Self {
            inner,
            sha: Sha256::new(),
            bytes: 0,
        }
    }

    fn finish(self) -> (u64, String) {
        (self.bytes, format!("{:x}", self.sha.finalize()))
    }
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

fn bad(what: String) -> BackupError {
    BackupError::Refused(format!(
        "the backup archive is not valid: {what}; download it again"
    ))
}

/// Reads the archive's entries, checking each header, and hands each plain file name with a
/// reader of exactly its content to `each`.
fn unpack_each(
    input: &mut impl Read,
    dest: &Path,
    mut each: impl FnMut(&str, &mut dyn Read) -> Result<(), BackupError>,
) -> Result<Vec<String>, BackupError> {
    store::create_private_dir(dest)?;
    let mut names = Vec::new();
    let mut block = [0u8; BLOCK];
    loop {
        input
            .read_exact(&mut block)
            .map_err(|e| bad(format!("it ends early ({e})")))?;
        if block.iter().all(|b| *b == 0) {
            return Ok(names);
        }
        let (name, size) = entry_header(&block, &names)?;
        let mut entry = CountingReader {
            inner: (&mut *input).take(size),
            read: 0,
        };
        each(&name, &mut entry)?;
        // Whatever `each` left unread, then check that the entry was whole.
        std::io::copy(&mut entry, &mut std::io::sink()).map_err(|e| bad(e.to_string()))?;
        if entry.read != size {
            return Err(bad(format!(
                "{name} ends after {} of {size} bytes",
                entry.read
            )));
        }
        input
            .read_exact(&mut block[..pad(size)])
            .map_err(|e| bad(format!("it ends early ({e})")))?;
        names.push(name);
    }
}

struct CountingReader<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// The checked name and size of the entry whose header is `block`.
fn entry_header(block: &[u8; BLOCK], seen: &[String]) -> Result<(String, u64), BackupError> {
    let stored: u64 =
        parse_octal(&block[148..156]).ok_or_else(|| bad("bad header checksum".into()))?;
    let mut copy = *block;
    copy[148..156].copy_from_slice(b"        ");
    if copy.iter().map(|b| *b as u64).sum::<u64>() != stored {
        return Err(bad("a header checksum does not match".into()));
    }
    let name: String = block[..100]
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| *b as char)
        .collect();
    let kind = block[156];
    if !(kind == b'0' || kind == 0) {
        return Err(bad(format!("entry `{name}` is not a plain file")));
    }
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') || !name.is_ascii() {
        return Err(bad(format!("entry `{name}` is not a plain file name")));
    }
    if seen.len() >= MAX_ENTRIES || seen.contains(&name) {
        return Err(bad("too many or repeated entries".into()));
    }
    let size = parse_octal(&block[124..136])
        .ok_or_else(|| bad(format!("entry `{name}` has a bad size")))?;
    Ok((name, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_tar_reads_them() {
        let h = header("manifest.json", 1234, 1_700_000_000);
        assert_eq!(parse_octal(&h[124..136]), Some(1234));
        let big = header("snapshot.db", 9 * (1 << 30), 0);
        assert_eq!(parse_octal(&big[124..136]), Some(9 * (1 << 30)));
        let mut copy = h;
        copy[148..156].copy_from_slice(b"        ");
        assert_eq!(
            parse_octal(&h[148..156]),
            Some(copy.iter().map(|b| *b as u64).sum())
        );
    }
}
