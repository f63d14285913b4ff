//! Where a platform definition comes from: a folder on disk, or the built-in default embedded in
//! the crate. Both become the same map of relative path -> text, so loading has one code path.

use std::collections::BTreeMap;
use std::path::Path;

use include_dir::{Dir, include_dir};

use crate::error::{Error, Result};

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/platform");

/// Largest file accepted in a platform folder.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The files of a platform definition: `/`-separated relative path -> UTF-8 text.
#[derive(Debug, Clone, Default)]
pub struct PlatformFiles {
    pub files: BTreeMap<String, String>,
    /// Where they came from, for messages: a folder path or `built-in`.
    pub origin: String,
}

impl PlatformFiles {
    /// The built-in default platform.
    pub fn builtin() -> PlatformFiles {
        let mut files = BTreeMap::new();
        collect_embedded(&BUILTIN, &mut files);
        PlatformFiles {
            files,
            origin: "built-in".into(),
        }
    }

    /// Every file under `dir` (hidden files and folders skipped, except in `policies/`, where
    /// they are refused; symlinks are refused).
    pub fn from_dir(dir: &Path) -> Result<PlatformFiles> {
        if !dir.join("idp.yaml").is_file() {
            return Err(Error::invalid(format!(
                "{} is not a platform folder: it has no idp.yaml (create one with `idp init {}`)",
                dir.display(),
                dir.display()
            ))
            .with("file", dir.join("idp.yaml").display().to_string()));
        }
        let mut files = BTreeMap::new();
        walk(dir, dir, &mut files)?;
        Ok(PlatformFiles {
            files,
            origin: dir.display().to_string(),
        })
    }

    /// Writes the files under `dir` (for `idp init`). `dir` must be new or an empty folder: a
    /// non-empty one could hold files the platform would overwrite, or symlinks that lead the
    /// writes out of it. Files are created, never overwritten.
    pub fn write_to(&self, dir: &Path) -> Result<usize> {
        if dir.join("idp.yaml").exists() {
            return Err(Error::conflict(format!(
                "{} already holds a platform (idp.yaml exists); choose an empty folder",
                dir.display()
            )));
        }
        match std::fs::symlink_metadata(dir) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::conflict(format!(
                    "{} exists and is not a folder; choose a new or empty folder",
                    dir.display()
                )));
            }
            Ok(_) if std::fs::read_dir(dir)?.next().is_some() => {
                return Err(Error::conflict(format!(
                    "{} is not empty; choose a new or empty folder",
                    dir.display()
                )));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir_all(dir)?,
            Err(e) => return Err(e.into()),
        }
        for (rel, text) in &self.files {
            let p = dir.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            use std::io::Write as _;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&p)?
                .write_all(text.as_bytes())?;
        }
        Ok(self.files.len())
    }

    /// Files whose path starts with `prefix`, with the prefix removed.
    pub fn under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.files
            .range(prefix.to_string()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(move |(k, v)| (&k[prefix.len()..], v.as_str()))
    }
}

fn collect_embedded(dir: &Dir<'static>, out: &mut BTreeMap<String, String>) {
    for f in dir.files() {
        let rel = f.path().to_string_lossy().replace('\\', "/");
        let text = f
            .contents_utf8()
            .expect("built-in platform files are UTF-8");
        out.insert(rel, text.to_string());
    }
    for d in dir.dirs() {
        collect_embedded(d, out);
    }
}

/// Reads every regular file under `dir`. Hidden files and folders (`.git`, `.github`) are
/// skipped, except under `policies/`, where a skipped file could silently drop a `forbid`: there
/// they are refused, as are symlinks and special files anywhere.
fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::invalid(format!("cannot read {}: {e}", dir.display())))?
        .collect::<std::result::Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        let refuse = |why: &str| {
            Err(Error::invalid(format!(
                "platform folder: {} is {why}",
                crate::naming::shown(&rel)
            ))
            .with("file", rel.clone()))
        };
        if entry.file_name().to_string_lossy().starts_with('.') {
            if rel.starts_with("policies/") {
                return refuse(
                    "a hidden file in policies/: idp would not load it; rename it or move it out",
                );
            }
            continue;
        }
        let ft = entry.file_type()?;
        if ft.is_symlink() {
            return refuse(
                "a symbolic link: idp reads only regular files from the platform folder, so that \
                 what is reviewed there is what runs; copy the file in",
            );
        } else if ft.is_dir() {
            walk(root, &path, out)?;
        } else if ft.is_file() {
            if entry.metadata()?.len() > MAX_FILE_BYTES {
                return Err(
                    Error::invalid(format!("{rel} is larger than {MAX_FILE_BYTES} bytes"))
                        .with("file", rel),
                );
            }
            let bytes = std::fs::read(&path)?;
            let text = String::from_utf8(bytes).map_err(|_| {
                Error::invalid(format!("{rel} is not UTF-8 text")).with("file", rel.clone())
            })?;
            out.insert(rel, text);
        } else {
            return refuse("not a regular file or folder");
        }
    }
    Ok(())
}
