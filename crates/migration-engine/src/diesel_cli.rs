//! Where the plain diesel CLI is, for the checks that compare this engine with it.

/// The diesel CLI, when installed: on PATH, in `$CARGO_HOME/bin` (where `cargo install` puts
/// it, even when that folder is not on PATH) or in `~/.cargo/bin`.
pub fn find() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let cargo_homes = [
        std::env::var_os("CARGO_HOME").map(std::path::PathBuf::from),
        std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")),
    ];
    on_path
        .into_iter()
        .chain(cargo_homes.into_iter().flatten().map(|h| h.join("bin")))
        .map(|d| d.join("diesel"))
        .find(|p| p.is_file())
}
