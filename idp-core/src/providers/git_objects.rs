//! Writes git objects (blobs, trees, commits) as loose objects, the way git stores them, for the
//! local-git provider. libgit2 writes each loose object with a fresh zlib stream (a quarter of a
//! megabyte allocated and cleared per object) and hashes it with collision-detecting SHA-1; for
//! the many small files of a golden path that was a fifth of the run. Here one compressor is
//! reset between objects and SHA-1 uses the CPU's instructions. The bytes on disk are exactly
//! git's: libgit2, git and `git fsck` read them as their own.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use flate2::{Compress, Compression, FlushCompress};
use git2::{ObjectType, Oid, Repository};
use sha1::{Digest, Sha1};

use crate::error::{Error, Result};

/// Objects smaller than this are stored without compression (git's `core.looseCompression=0`):
/// a golden path's files are a few kilobytes each, where deflating them and inflating them on
/// every read cost more than the bytes they save. Larger ones are compressed fast.
const STORE_BELOW: usize = 16 * 1024;

/// Writes loose objects into one repository's object store.
pub(super) struct ObjectWriter {
    objects: PathBuf,
    /// Blobs and commits of [`STORE_BELOW`] or more: compressed fast.
    zlib: Compress,
    /// Small objects, and trees: these are mostly object ids, which do not compress (a GitOps
    /// repo's trees list every service, and each commit writes them anew).
    zlib_stored: Compress,
    buf: Vec<u8>,
    /// A name for temporary files unique to this writer (process id and a counter).
    tmp: String,
    written: u64,
}

impl ObjectWriter {
    pub fn new(repo: &Repository) -> ObjectWriter {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ObjectWriter {
            objects: repo.path().join("objects"),
            zlib: Compress::new(Compression::fast(), true),
            zlib_stored: Compress::new(Compression::none(), true),
            buf: Vec::with_capacity(16 * 1024),
            tmp: format!("idp-tmp-{}-{n}", std::process::id()),
            written: 0,
        }
    }

    /// Writes an object of `kind` with `body` (without git's header); returns its id.
    pub fn write(&mut self, kind: ObjectType, body: &[u8]) -> Result<Oid> {
        let header = format!("{} {}\0", kind.str(), body.len());
        let mut h = Sha1::new();
        h.update(header.as_bytes());
        h.update(body);
        let oid = Oid::from_bytes(&h.finalize())?;
        let hex = oid.to_string();
        let dir = self.objects.join(&hex[..2]);
        let path = dir.join(&hex[2..]);
        if path.exists() {
            return Ok(oid);
        }
        self.buf.clear();
        let stored = kind == ObjectType::Tree || body.len() < STORE_BELOW;
        self.deflate(stored, header.as_bytes(), FlushCompress::None)?;
        self.deflate(stored, body, FlushCompress::Finish)?;
        if !dir.exists() {
            std::fs::create_dir_all(&dir)?;
        }
        // Written aside and renamed into place, so a reader never sees half an object.
        self.written += 1;
        let tmp = self.objects.join(format!("{}-{}", self.tmp, self.written));
        let placed = (|| -> std::io::Result<()> {
            let mut f = File::create_new(&tmp)?;
            f.write_all(&self.buf)?;
            drop(f);
            std::fs::rename(&tmp, &path)
        })();
        if placed.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        placed.map_err(|e| Error::provider(format!("cannot write object {hex}")).with_source(e))?;
        Ok(oid)
    }

    /// Compresses `input` onto the buffer; `Finish` ends the stream and resets the compressor
    /// for the next object.
    fn deflate(&mut self, stored: bool, mut input: &[u8], flush: FlushCompress) -> Result<()> {
        let zlib = if stored {
            &mut self.zlib_stored
        } else {
            &mut self.zlib
        };
        loop {
            if self.buf.capacity() - self.buf.len() < 1024 {
                self.buf.reserve(input.len().max(4096));
            }
            let before = zlib.total_in();
            let status = zlib
                .compress_vec(input, &mut self.buf, flush)
                .map_err(|e| Error::internal(format!("zlib: {e}")))?;
            input = &input[(zlib.total_in() - before) as usize..];
            match (flush, status) {
                (FlushCompress::Finish, flate2::Status::StreamEnd) => {
                    zlib.reset();
                    return Ok(());
                }
                (FlushCompress::None, _) if input.is_empty() => return Ok(()),
                _ => {}
            }
        }
    }

    /// Writes a tree equal to the tree `base` with `changes` applied (`Some(blob)` to set, `None`
    /// to remove), recursing into folders. Returns `None` for an empty tree. The base's entries
    /// are spliced from its raw bytes: a GitOps repo's folders list every service, and each
    /// commit rewrites them, so nothing here is allocated per entry.
    pub fn tree(
        &mut self,
        repo: &Repository,
        base: Option<Oid>,
        changes: &BTreeMap<&str, Option<Oid>>,
    ) -> Result<Option<Oid>> {
        let mut direct: Vec<(&str, Option<Oid>)> = Vec::new();
        let mut nested: BTreeMap<&str, BTreeMap<&str, Option<Oid>>> = BTreeMap::new();
        for (path, change) in changes {
            match path.split_once('/') {
                None => direct.push((path, *change)),
                Some((dir, rest)) => {
                    nested.entry(dir).or_default().insert(rest, *change);
                }
            }
        }
        let odb = repo.odb()?;
        let raw = match base {
            Some(id) => Some(odb.read(id)?),
            None => None,
        };
        let mut entries = match &raw {
            Some(obj) => parse_tree(obj.data())
                .ok_or_else(|| Error::internal(format!("tree {} is malformed", obj.id())))?,
            None => Vec::new(),
        };
        let mut sorted = true;
        for (name, change) in direct {
            sorted &= !set_entry(&mut entries, name.as_bytes(), BLOB_MODE_TEXT, change);
        }
        for (dir, sub) in nested {
            let sub_base = entries
                .iter()
                .find(|e| e.name == dir.as_bytes() && e.mode == TREE_MODE_TEXT)
                .map(|e| Oid::from_bytes(&e.id))
                .transpose()?;
            let id = self.tree(repo, sub_base, &sub)?;
            sorted &= !set_entry(&mut entries, dir.as_bytes(), TREE_MODE_TEXT, id);
        }
        if entries.is_empty() {
            return Ok(None);
        }
        if !sorted {
            entries.sort_by(git_order);
        }
        let mut body = Vec::with_capacity(entries.len() * 48);
        for e in &entries {
            body.extend_from_slice(e.mode);
            body.push(b' ');
            body.extend_from_slice(e.name);
            body.push(0);
            body.extend_from_slice(&e.id);
        }
        self.write(ObjectType::Tree, &body).map(Some)
    }

    /// Writes the empty tree.
    pub fn empty_tree(&mut self) -> Result<Oid> {
        self.write(ObjectType::Tree, &[])
    }

    /// Writes a commit of `tree` on `parents`.
    pub fn commit(
        &mut self,
        tree: Oid,
        parents: &[Oid],
        author: &git2::Signature<'_>,
        committer: &git2::Signature<'_>,
        message: &str,
    ) -> Result<Oid> {
        let mut body = format!("tree {tree}\n");
        for p in parents {
            body.push_str(&format!("parent {p}\n"));
        }
        body.push_str(&format!("author {}\n", signature(author)));
        body.push_str(&format!("committer {}\n\n", signature(committer)));
        body.push_str(message);
        self.write(ObjectType::Commit, body.as_bytes())
    }
}

/// One entry of a tree, borrowed from the raw tree or from the change being applied.
struct Entry<'a> {
    /// Octal, as the tree spells it (`100644`, `40000`, ...).
    mode: &'a [u8],
    name: &'a [u8],
    id: [u8; 20],
}

const BLOB_MODE_TEXT: &[u8] = b"100644";
const TREE_MODE_TEXT: &[u8] = b"40000";

/// The entries of a raw tree object, in the order it stores them; `None` when it is malformed.
fn parse_tree(mut data: &[u8]) -> Option<Vec<Entry<'_>>> {
    let mut out = Vec::with_capacity(data.len() / 40);
    while !data.is_empty() {
        let sp = data.iter().position(|b| *b == b' ')?;
        let nul = sp + data[sp..].iter().position(|b| *b == 0)?;
        let id = data.get(nul + 1..nul + 21)?;
        let mut e = Entry {
            mode: &data[..sp],
            name: &data[sp + 1..nul],
            id: [0; 20],
        };
        e.id.copy_from_slice(id);
        out.push(e);
        data = &data[nul + 21..];
    }
    Some(out)
}

/// Sets (`Some`) or removes (`None`) the entry called `name`; true when the entries need sorting
/// again: a new entry went at the end, or a file became a folder or back (a folder sorts as if
/// its name ended in `/`).
fn set_entry<'a>(
    entries: &mut Vec<Entry<'a>>,
    name: &'a [u8],
    mode: &'a [u8],
    id: Option<Oid>,
) -> bool {
    let at = entries.iter().position(|e| e.name == name);
    match (at, id) {
        (Some(i), Some(id)) => {
            let moved = (entries[i].mode == TREE_MODE_TEXT) != (mode == TREE_MODE_TEXT);
            entries[i].mode = mode;
            entries[i].id.copy_from_slice(id.as_bytes());
            moved
        }
        (Some(i), None) => {
            entries.remove(i);
            false
        }
        (None, Some(id)) => {
            let mut e = Entry {
                mode,
                name,
                id: [0; 20],
            };
            e.id.copy_from_slice(id.as_bytes());
            entries.push(e);
            true
        }
        (None, None) => false,
    }
}

/// Git's order of tree entries: by name, where a folder sorts as if its name ended in `/`.
fn git_order(a: &Entry<'_>, b: &Entry<'_>) -> std::cmp::Ordering {
    let n = a.name.len().min(b.name.len());
    a.name[..n].cmp(&b.name[..n]).then_with(|| {
        let next = |e: &Entry<'_>| match e.name.get(n) {
            Some(c) => *c,
            None if e.mode == TREE_MODE_TEXT => b'/',
            None => 0,
        };
        next(a).cmp(&next(b))
    })
}

/// `Name <email> 1764345600 +0000`, as git writes an identity line.
fn signature(s: &git2::Signature<'_>) -> String {
    let t = s.when();
    let off = t.offset_minutes();
    let sign = if off < 0 { '-' } else { '+' };
    format!(
        "{} <{}> {} {sign}{:02}{:02}",
        String::from_utf8_lossy(s.name_bytes()),
        String::from_utf8_lossy(s.email_bytes()),
        t.seconds(),
        off.abs() / 60,
        off.abs() % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_byte_for_byte_what_libgit2_writes() {
        let d = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(d.path()).unwrap();
        let mut w = ObjectWriter::new(&repo);
        for body in [&b""[..], b"hello\n", &vec![b'x'; 200_000]] {
            let ours = w.write(ObjectType::Blob, body).unwrap();
            assert_eq!(ours, repo.blob(body).unwrap());
            assert_eq!(repo.find_blob(ours).unwrap().content(), body);
        }
        let a = repo.blob(b"a").unwrap();
        let changes: BTreeMap<&str, Option<Oid>> = [
            ("z.txt", Some(a)),
            ("dir/x", Some(a)),
            ("dir.txt", Some(a)),
            ("dir-a/y", Some(a)),
        ]
        .into();
        let ours = w.tree(&repo, None, &changes).unwrap().unwrap();
        let mut tb = repo.treebuilder(None).unwrap();
        let mut sub = repo.treebuilder(None).unwrap();
        sub.insert("x", a, 0o100644).unwrap();
        tb.insert("dir", sub.write().unwrap(), 0o040000).unwrap();
        let mut sub = repo.treebuilder(None).unwrap();
        sub.insert("y", a, 0o100644).unwrap();
        tb.insert("dir-a", sub.write().unwrap(), 0o040000).unwrap();
        tb.insert("dir.txt", a, 0o100644).unwrap();
        tb.insert("z.txt", a, 0o100644).unwrap();
        assert_eq!(ours, tb.write().unwrap(), "git's entry order");
        let sig =
            git2::Signature::new("A U Thor", "a@x", &git2::Time::new(1_764_345_600, -90)).unwrap();
        let tree = repo.find_tree(ours).unwrap();
        let theirs = repo
            .commit(None, &sig, &sig, "msg\n\nbody\n", &tree, &[])
            .unwrap();
        assert_eq!(
            w.commit(ours, &[], &sig, &sig, "msg\n\nbody\n").unwrap(),
            theirs
        );
        assert_eq!(
            w.empty_tree().unwrap(),
            repo.treebuilder(None).unwrap().write().unwrap()
        );

        // Changes spliced into an existing tree: replace, remove, add before and after existing
        // names (a file `dir.txt` beside a folder `dir`), a folder emptied away, a new folder.
        let b = repo.blob(b"b").unwrap();
        let changes: BTreeMap<&str, Option<Oid>> = [
            ("z.txt", Some(b)),
            ("dir.txt", None),
            ("dir-a/y", None),
            ("dir/w", Some(b)),
            ("a.txt", Some(b)),
            ("dir0", Some(b)),
            ("new/deep/f", Some(a)),
        ]
        .into();
        let spliced = w.tree(&repo, Some(ours), &changes).unwrap().unwrap();
        let mut tb = repo.treebuilder(None).unwrap();
        let mut sub = repo.treebuilder(None).unwrap();
        sub.insert("w", b, 0o100644).unwrap();
        sub.insert("x", a, 0o100644).unwrap();
        tb.insert("dir", sub.write().unwrap(), 0o040000).unwrap();
        let mut deep = repo.treebuilder(None).unwrap();
        deep.insert("f", a, 0o100644).unwrap();
        let mut new = repo.treebuilder(None).unwrap();
        new.insert("deep", deep.write().unwrap(), 0o040000).unwrap();
        tb.insert("new", new.write().unwrap(), 0o040000).unwrap();
        tb.insert("a.txt", b, 0o100644).unwrap();
        tb.insert("dir0", b, 0o100644).unwrap();
        tb.insert("z.txt", b, 0o100644).unwrap();
        assert_eq!(spliced, tb.write().unwrap(), "spliced tree in git's order");
        // Removing every entry leaves no tree.
        let all: BTreeMap<&str, Option<Oid>> = [("dir/x", None), ("dir/w", None)].into();
        let sub_id = repo
            .find_tree(spliced)
            .unwrap()
            .get_name("dir")
            .unwrap()
            .id();
        assert_eq!(
            w.tree(&repo, Some(sub_id), &[("w", None), ("x", None)].into())
                .unwrap(),
            None
        );
        assert!(w.tree(&repo, Some(spliced), &all).unwrap().is_some());

        // A file that becomes a folder moves past `a.b` (`a/` sorts after `a.`).
        let base: BTreeMap<&str, Option<Oid>> = [("a", Some(a)), ("a.b", Some(a))].into();
        let base = w.tree(&repo, None, &base).unwrap().unwrap();
        let folder: BTreeMap<&str, Option<Oid>> = [("a/x", Some(b))].into();
        let moved = w.tree(&repo, Some(base), &folder).unwrap().unwrap();
        let mut tb = repo.treebuilder(None).unwrap();
        let mut sub = repo.treebuilder(None).unwrap();
        sub.insert("x", b, 0o100644).unwrap();
        tb.insert("a", sub.write().unwrap(), 0o040000).unwrap();
        tb.insert("a.b", a, 0o100644).unwrap();
        assert_eq!(
            moved,
            tb.write().unwrap(),
            "a file turned folder, in git's order"
        );

        // And git itself finds nothing wrong with any of it.
        repo.reference("refs/heads/main", theirs, true, "test")
            .unwrap();
        let fsck = std::process::Command::new("git")
            .args(["fsck", "--full", "--strict", "--no-dangling"])
            .current_dir(d.path())
            .output()
            .expect("git runs");
        assert!(
            fsck.status.success(),
            "git fsck: {}",
            String::from_utf8_lossy(&fsck.stderr)
        );
    }
}
