//! Writes git objects (blobs, trees, commits) as a pack or as loose objects, the way git stores
//! them, for the local-git provider. libgit2 writes each loose object with a fresh zlib stream (a quarter of a
//! megabyte allocated and cleared per object) and hashes it with collision-detecting SHA-1; for
//! the many small files of a golden path that was a fifth of the run. Here one compressor is
//! reset between objects and SHA-1 uses the CPU's instructions. The bytes on disk are exactly
//! git's: libgit2, git, `git verify-pack` and `git fsck` read them as their own.

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

/// A change request's objects at or above this count go into one pack (two files) instead of
/// one file each: creating files is most of the kernel's share of a golden path. Git itself
/// keeps a pushed pack whole above `transfer.unpackLimit` and explodes smaller ones.
const PACK_AT_LEAST: usize = 4;
/// Packs are not consolidated here (that would rewrite a GitOps repo's big trees again and
/// again; `git gc` does it with deltas). Once a repo has this many, its commits go loose: every
/// lookup of a loose object searches each pack's index first, which with 24 packs in a GitOps
/// repo cost a fleet upgrade 8% more CPU (measured), and nothing with 8.
const MAX_PACKS: usize = 8;

/// Writes objects into one repository's object store, each change request's as one pack or as
/// loose objects.
pub(super) struct ObjectWriter {
    objects: PathBuf,
    /// Blobs and commits of [`STORE_BELOW`] or more: compressed fast.
    zlib: Compress,
    /// Small objects, and trees: these are mostly object ids, which do not compress (a GitOps
    /// repo's trees list every service, and each commit writes them anew).
    zlib_stored: Compress,
    buf: Vec<u8>,
    /// Objects added and not yet written, in the order they were added.
    pending: Vec<(ObjectType, Oid, Vec<u8>)>,
    seen: std::collections::HashSet<Oid>,
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
            pending: Vec::new(),
            seen: Default::default(),
            tmp: format!("idp-tmp-{}-{n}", std::process::id()),
            written: 0,
        }
    }

    /// Adds an object of `kind` with `body` (without git's header) to what [`Self::finish`]
    /// writes; returns its id. Nothing reaches the repository before `finish`.
    pub fn write(&mut self, kind: ObjectType, body: &[u8]) -> Result<Oid> {
        let header = format!("{} {}\0", kind.str(), body.len());
        let mut h = Sha1::new();
        h.update(header.as_bytes());
        h.update(body);
        let oid = Oid::from_bytes(&h.finalize())?;
        if self.seen.insert(oid) {
            self.pending.push((kind, oid, body.to_vec()));
        }
        Ok(oid)
    }

    /// Writes the objects added since the last call: as one pack when there are several and the
    /// repository has few packs, as loose objects otherwise (see [`PACK_AT_LEAST`]).
    pub fn finish(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        if pending.len() >= PACK_AT_LEAST && self.packs()? < MAX_PACKS {
            return self.write_pack(&pending);
        }
        for (kind, oid, body) in &pending {
            self.write_loose(*kind, *oid, body)?;
        }
        Ok(())
    }

    /// How many packs the repository has.
    fn packs(&self) -> Result<usize> {
        match std::fs::read_dir(self.objects.join("pack")) {
            Ok(dir) => Ok(dir
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().as_encoded_bytes().ends_with(b".idx"))
                .count()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// One loose object at `objects/xx/yyyy…`, unless it exists.
    fn write_loose(&mut self, kind: ObjectType, oid: Oid, body: &[u8]) -> Result<()> {
        let hex = oid.to_string();
        let dir = self.objects.join(&hex[..2]);
        let path = dir.join(&hex[2..]);
        if path.exists() {
            return Ok(());
        }
        let header = format!("{} {}\0", kind.str(), body.len());
        self.buf.clear();
        let stored = kind == ObjectType::Tree || body.len() < STORE_BELOW;
        self.deflate(stored, header.as_bytes(), FlushCompress::None)?;
        self.deflate(stored, body, FlushCompress::Finish)?;
        if !dir.exists() {
            std::fs::create_dir_all(&dir)?;
        }
        let buf = std::mem::take(&mut self.buf);
        let placed = self.place(&buf, &path);
        self.buf = buf;
        placed.map_err(|e| Error::provider(format!("cannot write object {hex}")).with_source(e))
    }

    /// Writes `bytes` aside and renames them to `path`, so that a reader never sees half a file.
    fn place(&mut self, bytes: &[u8], path: &std::path::Path) -> std::io::Result<()> {
        self.written += 1;
        let tmp = self.objects.join(format!("{}-{}", self.tmp, self.written));
        let placed = (|| -> std::io::Result<()> {
            let mut f = File::create_new(&tmp)?;
            f.write_all(bytes)?;
            drop(f);
            std::fs::rename(&tmp, path)
        })();
        if placed.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        placed
    }

    /// The objects as one pack (version 2, no deltas) with its index (version 2), placed pack
    /// first: git and libgit2 find packs by their index.
    fn write_pack(&mut self, objects: &[(ObjectType, Oid, Vec<u8>)]) -> Result<()> {
        let mut pack = Vec::with_capacity(objects.iter().map(|o| o.2.len() + 32).sum());
        pack.extend_from_slice(b"PACK");
        pack.extend_from_slice(&2u32.to_be_bytes());
        pack.extend_from_slice(&(objects.len() as u32).to_be_bytes());
        let mut index: Vec<(Oid, u32, u32)> = Vec::with_capacity(objects.len());
        for (kind, oid, body) in objects {
            let offset = u32::try_from(pack.len())
                .ok()
                .filter(|o| *o < 1 << 31)
                .ok_or_else(|| Error::invalid("a change request's objects exceed 2 GiB"))?;
            let code: u8 = match kind {
                ObjectType::Commit => 1,
                ObjectType::Tree => 2,
                ObjectType::Blob => 3,
                _ => return Err(Error::internal("only commits, trees and blobs are packed")),
            };
            // Type and size: 4 bits of size in the first byte, then 7 per byte.
            let mut size = body.len();
            let mut byte = (code << 4) | (size & 0x0f) as u8;
            size >>= 4;
            while size > 0 {
                pack.push(byte | 0x80);
                byte = (size & 0x7f) as u8;
                size >>= 7;
            }
            pack.push(byte);
            self.buf.clear();
            let stored = *kind == ObjectType::Tree || body.len() < STORE_BELOW;
            self.deflate(stored, body, FlushCompress::Finish)?;
            pack.extend_from_slice(&self.buf);
            let crc = crc32fast::hash(&pack[offset as usize..]);
            index.push((*oid, crc, offset));
        }
        let checksum = Sha1::digest(&pack);
        pack.extend_from_slice(&checksum);

        index.sort_by_key(|(oid, ..)| *oid);
        let mut idx = Vec::with_capacity(1072 + index.len() * 28 + 40);
        idx.extend_from_slice(&[0xff, b't', b'O', b'c']);
        idx.extend_from_slice(&2u32.to_be_bytes());
        let mut fanout = [0u32; 256];
        for (oid, ..) in &index {
            fanout[oid.as_bytes()[0] as usize] += 1;
        }
        let mut total = 0u32;
        for n in fanout {
            total += n;
            idx.extend_from_slice(&total.to_be_bytes());
        }
        for (oid, ..) in &index {
            idx.extend_from_slice(oid.as_bytes());
        }
        for (_, crc, _) in &index {
            idx.extend_from_slice(&crc.to_be_bytes());
        }
        for (.., offset) in &index {
            idx.extend_from_slice(&offset.to_be_bytes());
        }
        idx.extend_from_slice(&checksum);
        let idx_sum = Sha1::digest(&idx);
        idx.extend_from_slice(&idx_sum);

        let name = Oid::from_bytes(&checksum)?.to_string();
        let dir = self.objects.join("pack");
        std::fs::create_dir_all(&dir)?;
        let cannot =
            |e: std::io::Error| Error::provider(format!("cannot write pack {name}")).with_source(e);
        self.place(&pack, &dir.join(format!("pack-{name}.pack")))
            .map_err(cannot)?;
        self.place(&idx, &dir.join(format!("pack-{name}.idx")))
            .map_err(cannot)
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
            w.finish().unwrap(); // one object: loose
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
        w.finish().unwrap();
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
        w.finish().unwrap();
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
        w.finish().unwrap();
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
        w.finish().unwrap();
        repo.reference("refs/heads/main", theirs, true, "test")
            .unwrap();
        git(d.path(), &["fsck", "--full", "--strict", "--no-dangling"]);
    }

    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn a_change_request_s_objects_go_into_one_pack_that_git_reads() {
        let d = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(d.path()).unwrap();
        let mut w = ObjectWriter::new(&repo);
        let big: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let bodies: Vec<Vec<u8>> = vec![b"one\n".to_vec(), b"two\n".to_vec(), big, Vec::new()];
        let mut changes: BTreeMap<String, Option<Oid>> = BTreeMap::new();
        for (i, b) in bodies.iter().enumerate() {
            let oid = w.write(ObjectType::Blob, b).unwrap();
            assert_eq!(oid, Oid::hash_object(ObjectType::Blob, b).unwrap());
            changes.insert(format!("dir/f{i}"), Some(oid));
        }
        let changes: BTreeMap<&str, Option<Oid>> =
            changes.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let tree = w.tree(&repo, None, &changes).unwrap().unwrap();
        let sig =
            git2::Signature::new("A U Thor", "a@x", &git2::Time::new(1_764_345_600, 0)).unwrap();
        let commit = w.commit(tree, &[], &sig, &sig, "packed\n").unwrap();
        // Not in the repository until finished.
        assert!(repo.find_commit(commit).is_err());
        w.finish().unwrap();
        assert_eq!(w.packs().unwrap(), 1, "one pack");
        // The same handle (which looked before) and git both read every object.
        let c = repo.find_commit(commit).unwrap();
        let t = c.tree().unwrap();
        for (i, b) in bodies.iter().enumerate() {
            let e = t
                .get_path(std::path::Path::new(&format!("dir/f{i}")))
                .unwrap();
            assert_eq!(repo.find_blob(e.id()).unwrap().content(), &b[..]);
        }
        repo.reference("refs/heads/main", commit, true, "test")
            .unwrap();
        let pack = std::fs::read_dir(d.path().join("objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "idx"))
            .unwrap();
        let verified = git(d.path(), &["verify-pack", "-v", pack.to_str().unwrap()]);
        assert!(verified.contains("ok"), "{verified}");
        git(d.path(), &["fsck", "--full", "--strict", "--no-dangling"]);
        assert_eq!(git(d.path(), &["show", "main:dir/f0"]), "one\n");

        // Once a repo has MAX_PACKS packs, commits go loose (nothing consolidates packs).
        for n in 0..MAX_PACKS {
            for k in 0..PACK_AT_LEAST {
                w.write(ObjectType::Blob, format!("{n}-{k}").as_bytes())
                    .unwrap();
            }
            w.finish().unwrap();
        }
        assert_eq!(w.packs().unwrap(), MAX_PACKS);
        let loose: Vec<Oid> = (0..PACK_AT_LEAST)
            .map(|k| {
                w.write(ObjectType::Blob, format!("loose-{k}").as_bytes())
                    .unwrap()
            })
            .collect();
        w.finish().unwrap();
        assert_eq!(w.packs().unwrap(), MAX_PACKS);
        let hex = loose[0].to_string();
        assert!(
            d.path()
                .join("objects")
                .join(&hex[..2])
                .join(&hex[2..])
                .is_file()
        );
        assert_eq!(repo.find_blob(loose[3]).unwrap().content(), b"loose-3");
    }
}
