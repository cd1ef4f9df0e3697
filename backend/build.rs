// The migrations are embedded with `embed_migrations!`, which only sees the folders that
// existed at the last build: rebuild when either tree changes.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
