//! The remote transfer format of a backup: a plain ustar archive (readable by `tar -xf`) of
//! the backup folder's files, `manifest.json` first, then the snapshot. Written and read as a
//! stream, so neither side holds the database in memory. Only plain file names are accepted
//! on the way in (no paths, links or special files): an archive cannot write outside the
//! folder it is unpacked into.

use std::io::{Read, Write};
use std::path::Path;

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
    let mtime = chrono::Utc::now().timestamp().max(0) as u64;
    let io = |e: std::io::Error| BackupError::Io {
        action: "send",
        path: dir.display().to_string(),
        source: e,
    };
    for name in [MANIFEST_FILE, manifest.snapshot.file.as_str()] {
        let path = dir.join(name);
        let mut file = std::fs::File::open(&path).map_err(BackupError::io("read", &path))?;
        let size = file
            .metadata()
            .map_err(BackupError::io("read", &path))?
            .len();
        out.write_all(&header(name, size, mtime)).map_err(io)?;
        let copied = std::io::copy(&mut (&mut file).take(size), out).map_err(io)?;
        if copied != size {
            return Err(BackupError::Damaged {
                id: manifest.id.clone(),
                what: format!("{name} shrank while it was being sent"),
            });
        }
        let pad = (BLOCK - (size as usize % BLOCK)) % BLOCK;
        out.write_all(&[0u8; BLOCK][..pad]).map_err(io)?;
    }
    out.write_all(&[0u8; 2 * BLOCK]).map_err(io)?;
    out.flush().map_err(io)
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
    let bad = |what: String| {
        BackupError::Refused(format!(
            "the backup archive is not valid: {what}; download it again"
        ))
    };
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
        let stored: u64 =
            parse_octal(&block[148..156]).ok_or_else(|| bad("bad header checksum".into()))?;
        let mut copy = block;
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
        if name.is_empty()
            || name.contains(['/', '\\'])
            || name.starts_with('.')
            || !name.is_ascii()
        {
            return Err(bad(format!("entry `{name}` is not a plain file name")));
        }
        if names.len() >= MAX_ENTRIES || names.contains(&name) {
            return Err(bad("too many or repeated entries".into()));
        }
        let size = parse_octal(&block[124..136])
            .ok_or_else(|| bad(format!("entry `{name}` has a bad size")))?;
        let path = dest.join(&name);
        let mut file = store::create_private_file(&path)?;
        let copied = std::io::copy(&mut (&mut *input).take(size), &mut file)
            .map_err(BackupError::io("write", &path))?;
        if copied != size {
            return Err(bad(format!("{name} ends after {copied} of {size} bytes")));
        }
        file.sync_all().map_err(BackupError::io("fsync", &path))?;
        let pad = (BLOCK - (size as usize % BLOCK)) % BLOCK;
        input
            .read_exact(&mut block[..pad])
            .map_err(|e| bad(format!("it ends early ({e})")))?;
        names.push(name);
    }
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
