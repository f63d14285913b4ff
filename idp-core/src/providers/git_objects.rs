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
use git2::{ObjectType, Oid, Repository, Tree};
use sha1::{Digest, Sha1};

use crate::error::{Error, Result};

const BLOB_MODE: u32 = 0o100644;
const TREE_MODE: u32 = 0o040000;

/// Writes loose objects into one repository's object store.
pub(super) struct ObjectWriter {
    objects: PathBuf,
    /// Blobs and commits: text, compressed fast.
    zlib: Compress,
    /// Trees: mostly object ids, which do not compress; stored as they are (a GitOps repo's
    /// trees list every service, and each commit writes them anew).
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
        let stored = kind == ObjectType::Tree;
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

    /// Writes a tree equal to `base` with `changes` applied (`Some(blob)` to set, `None` to
    /// remove), recursing into folders. Returns `None` for an empty tree.
    pub fn tree(
        &mut self,
        repo: &Repository,
        base: Option<&Tree<'_>>,
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
        // name -> (mode, id), as the tree will hold them.
        let mut entries: BTreeMap<Vec<u8>, (u32, Oid)> = BTreeMap::new();
        if let Some(t) = base {
            for e in t.iter() {
                entries.insert(e.name_bytes().to_vec(), (e.filemode() as u32, e.id()));
            }
        }
        for (name, change) in direct {
            match change {
                Some(oid) => entries.insert(name.as_bytes().to_vec(), (BLOB_MODE, oid)),
                None => entries.remove(name.as_bytes()),
            };
        }
        for (dir, sub) in nested {
            let sub_base = match entries.get(dir.as_bytes()) {
                Some((mode, id)) if *mode == TREE_MODE => Some(repo.find_tree(*id)?),
                _ => None,
            };
            match self.tree(repo, sub_base.as_ref(), &sub)? {
                Some(oid) => entries.insert(dir.as_bytes().to_vec(), (TREE_MODE, oid)),
                None => entries.remove(dir.as_bytes()),
            };
        }
        if entries.is_empty() {
            return Ok(None);
        }
        self.write(ObjectType::Tree, &tree_body(&entries)).map(Some)
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

/// The body of a tree object: entries in git's order, where a folder sorts as if its name ended
/// in `/`.
fn tree_body(entries: &BTreeMap<Vec<u8>, (u32, Oid)>) -> Vec<u8> {
    let mut sorted: Vec<(&Vec<u8>, &(u32, Oid))> = entries.iter().collect();
    let key = |name: &[u8], mode: u32| {
        let mut k = name.to_vec();
        if mode == TREE_MODE {
            k.push(b'/');
        }
        k
    };
    sorted.sort_by_key(|(name, (mode, _))| key(name, *mode));
    let mut out = Vec::with_capacity(entries.len() * 48);
    for (name, (mode, id)) in sorted {
        out.extend_from_slice(format!("{mode:o} ").as_bytes());
        out.extend_from_slice(name);
        out.push(0);
        out.extend_from_slice(id.as_bytes());
    }
    out
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
    }
}
