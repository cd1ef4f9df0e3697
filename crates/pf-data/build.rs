//! Embeds both migration trees (folder name, up.sql, down.sql, metadata.toml) so the binary
//! can migrate and verify checksums where no source tree exists.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut out = String::new();
    for tree in ["sqlite", "postgres"] {
        let dir = root.join(tree);
        writeln!(
            out,
            "pub static {}: &[EmbeddedFile] = &[",
            tree.to_uppercase()
        )
        .unwrap();
        embed_folders(&mut out, &dir);
        writeln!(out, "];").unwrap();
        // Chains replaced by a consolidated baseline, kept where diesel does not look.
        writeln!(
            out,
            "pub static {}_ARCHIVE: &[EmbeddedFile] = &[",
            tree.to_uppercase()
        )
        .unwrap();
        let archive = dir.join(".archive");
        if archive.is_dir() {
            for batch in sorted_dirs(&archive) {
                embed_folders(&mut out, &archive.join(batch));
            }
        }
        writeln!(out, "];").unwrap();
    }
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("embedded_migrations.rs");
    std::fs::write(dest, out).expect("write embedded_migrations.rs");
}

fn sorted_dirs(dir: &Path) -> Vec<String> {
    let mut folders: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    folders
}

fn embed_folders(out: &mut String, dir: &Path) {
    {
        for folder in sorted_dirs(dir) {
            let path = dir.join(&folder);
            let file = |name: &str| {
                let p = path.join(name);
                p.is_file()
                    .then(|| format!("Some(include_str!({:?}))", p.display().to_string()))
            };
            let up = file("up.sql").unwrap_or_else(|| panic!("{} has no up.sql", path.display()));
            let up = up
                .trim_start_matches("Some(")
                .trim_end_matches(')')
                .to_owned()
                + ")";
            writeln!(
                out,
                "    EmbeddedFile {{ folder: {folder:?}, up: {up}, down: {}, metadata: {}, replaces: {} }},",
                file("down.sql").unwrap_or_else(|| "None".into()),
                file("metadata.toml").unwrap_or_else(|| "None".into()),
                file("replaces.txt").unwrap_or_else(|| "None".into()),
            )
            .unwrap();
        }
    }
}
