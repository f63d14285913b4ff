//! The tutorial of docs/golden-paths.md ("author a golden path end to end"), run as written:
//! every file it shows with `file=PATH` is written, every command of its `sh` blocks runs in a
//! fresh folder with this build's `idp` first on the PATH and must exit 0 (or the code its
//! `# exits N` comment gives), and every line of a `text output` block must appear in what the
//! `sh` block before it printed.

use std::path::Path;
use std::process::Command;

/// One fenced block: its info string and its text.
struct Block {
    info: String,
    text: String,
}

fn blocks(doc: &str) -> Vec<Block> {
    let start = doc
        .find("<!-- tutorial:start -->")
        .expect("the tutorial's start marker");
    let end = doc
        .find("<!-- tutorial:end -->")
        .expect("the tutorial's end marker");
    let mut out = Vec::new();
    let mut lines = doc[start..end].lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut text = String::new();
        for l in lines.by_ref() {
            if l == "```" {
                break;
            }
            text.push_str(l);
            text.push('\n');
        }
        out.push(Block {
            info: info.trim().to_string(),
            text,
        });
    }
    out
}

#[test]
fn the_golden_path_tutorial_runs_as_written() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/golden-paths.md"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_idp")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut last_output = String::new();
    let mut commands = 0;
    for b in blocks(&doc) {
        if let Some(file) = b
            .info
            .split_whitespace()
            .find_map(|w| w.strip_prefix("file="))
        {
            let p = dir.path().join(file);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &b.text).unwrap();
        } else if b.info == "sh" {
            last_output.clear();
            for line in b.text.lines().filter(|l| !l.trim().is_empty()) {
                let (cmd, expect) = match line.split_once("# exits ") {
                    Some((cmd, code)) => (cmd.trim(), code.trim().parse::<i32>().unwrap()),
                    None => (line.trim(), 0),
                };
                let out = Command::new("sh")
                    .args(["-c", cmd])
                    .current_dir(dir.path())
                    .env("PATH", &path)
                    .env_remove("IDP_FAILPOINT")
                    .env_remove("IDP_PLATFORM")
                    .output()
                    .unwrap();
                let printed = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                assert_eq!(
                    out.status.code(),
                    Some(expect),
                    "`{cmd}` exited {:?}, the tutorial says {expect}:\n{printed}",
                    out.status.code()
                );
                last_output.push_str(&printed);
                commands += 1;
            }
        } else if b.info == "text output" {
            for want in b.text.lines().filter(|l| !l.trim().is_empty()) {
                assert!(
                    last_output.contains(want),
                    "the tutorial shows {want:?}, the commands printed:\n{last_output}"
                );
            }
        }
    }
    assert!(commands >= 10, "the tutorial ran only {commands} commands");
}
