// The built-in platform folder is embedded with `include_dir!`, which cargo does not track on
// stable Rust: without this, an edited template would not reach the next build.
fn main() {
    println!("cargo:rerun-if-changed=platform");
}
