//! Paths as the kernel resolves them, so "is this file on the volume" is answered truly.

use std::path::{Component, Path, PathBuf};

/// The path as the kernel will resolve it: absolute, `.` and `..` folded, and symbolic links
/// of its longest existing ancestor followed. `/vol/../etc/pf.db` is not on a volume at
/// `/vol`, and neither is a symbolic link inside the volume that points elsewhere.
pub fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut folded = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                folded.pop();
            }
            other => folded.push(other),
        }
    }
    // Follow links on the part that exists; the rest is appended as written.
    let mut existing = folded.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            out.extend(rest.iter().rev());
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return folded,
        }
    }
}
