//! Helpers shared by the fuzz targets: a per-process scratch folder and a
//! snapshot of a folder tree (to check that nothing changed in it).

pub mod plan_apply;

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

/// A per-process scratch folder `$TMPDIR/earfuzz-TARGET-PID`, created empty.
/// Folders of earlier processes of the same target that are no longer
/// running are removed first (libFuzzer's minimizer starts many processes).
pub fn scratch_dir(target: &str) -> PathBuf {
    let tmp = std::env::temp_dir();
    let prefix = format!("earfuzz-{target}-");
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix(&prefix) {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
    let dir = tmp.join(format!("{prefix}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// What a tree entry is: a folder, a link (target) or a file (length, hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir,
    Link(PathBuf),
    File(u64, u64),
    Other,
}

/// Every entry under `root` (not following links), by path relative to it.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Node> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Node>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            out.insert(rel, Node::Link(std::fs::read_link(&path).unwrap_or_default()));
        } else if ft.is_dir() {
            out.insert(rel, Node::Dir);
            walk(root, &path, out);
        } else if ft.is_file() {
            let bytes = std::fs::read(&path).unwrap_or_default();
            let mut h = DefaultHasher::new();
            bytes.hash(&mut h);
            out.insert(rel, Node::File(meta.len(), h.finish()));
        } else {
            out.insert(rel, Node::Other);
        }
    }
}

/// The names directly in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
