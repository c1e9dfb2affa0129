// `sqlx::migrate!` embeds the migrations when this crate compiles; without this, a new file in
// `migrations/` would not make it compile again, and the binary would lack the migration.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
