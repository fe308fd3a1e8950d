//! Every file of every scope with its size and SHA-256, and the application's
//! content digest (the reading itself is `scan`).

use std::fmt;
use std::io::Read;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::{Scope, Warning};
use crate::error::{Error, Result};
use crate::path::EntryPath;

/// One file of a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileInfo {
    /// The path inside its scope.
    pub path: EntryPath,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    #[serde(serialize_with = "serialize_hex")]
    pub sha256: [u8; 32],
}

fn serialize_hex<S: serde::Serializer>(
    bytes: &[u8; 32],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hex(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// The files of one scope.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeInventory {
    /// Which scope.
    pub scope: Scope,
    /// Its files, sorted by path.
    pub files: Vec<FileInfo>,
}

impl ScopeInventory {
    /// Total bytes of the scope's files.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// The content of a whole application.
#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    /// The application scope first, then each module in URI order.
    pub scopes: Vec<ScopeInventory>,
    /// Warnings found while reading (nested archives that are not zips, ...),
    /// in addition to [`super::Application::warnings`].
    pub warnings: Vec<Warning>,
}

/// The content digest of an application (spec §1, issue "foundation"):
/// SHA-256 over, for each file of every scope in byte order of its full path,
/// the full path, a NUL byte and the SHA-256 of the file's bytes. Zip
/// metadata (timestamps, compression, entry order) and the form (archive or
/// expanded) do not change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest(pub [u8; 32]);

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex(&self.0))
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for Digest {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let hex = s.strip_prefix("sha256:").unwrap_or(s);
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "{s:?} is not a digest: expected sha256: followed by 64 hex digits"
            ));
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
        }
        Ok(Digest(out))
    }
}

impl Inventory {
    /// The content digest.
    #[must_use]
    pub fn digest(&self) -> Digest {
        let mut hasher = Sha256::new();
        let mut feed = |scope: &Scope, file: &FileInfo| {
            hash_path(&mut hasher, scope, &file.path);
            hasher.update(file.sha256);
        };
        match self.sorted_positions() {
            Some(at) => at.into_iter().for_each(|p| {
                let (scope, file) = self.at(p);
                feed(scope, file);
            }),
            None => self
                .sorted_files_stable()
                .into_iter()
                .for_each(|(scope, file)| feed(scope, file)),
        }
        Digest(hasher.finalize().into())
    }

    /// Every file with its scope, in byte order of the full path, without
    /// building the full paths (300,000 of them would cost tens of MiB).
    /// Files of one full path keep the order of the scopes.
    pub(crate) fn sorted_files(&self) -> Vec<(&Scope, &FileInfo)> {
        match self.sorted_positions() {
            Some(at) => at.into_iter().map(|p| self.at(p)).collect(),
            None => self.sorted_files_stable(),
        }
    }

    /// The files' positions (scope, file) in the order of
    /// [`Inventory::sorted_files`], 8 bytes each (half a pair of references,
    /// and so is the sort's scratch buffer). A stable sort: it finds the
    /// runs the scopes already are, where an unstable one compared paths
    /// twice as much. `None` past 2^32 scopes or files.
    fn sorted_positions(&self) -> Option<Vec<(u32, u32)>> {
        let mut at: Vec<(u32, u32)> =
            Vec::with_capacity(self.scopes.iter().map(|s| s.files.len()).sum());
        for (i, s) in self.scopes.iter().enumerate() {
            let i = u32::try_from(i).ok()?;
            let n = u32::try_from(s.files.len()).ok()?;
            at.extend((0..n).map(|j| (i, j)));
        }
        at.sort_by(|&a, &b| {
            let (sa, fa) = self.at(a);
            let (sb, fb) = self.at(b);
            full_path_bytes(sa, &fa.path).cmp(full_path_bytes(sb, &fb.path))
        });
        Some(at)
    }

    /// The file at a position of [`Inventory::sorted_positions`].
    fn at(&self, (i, j): (u32, u32)) -> (&Scope, &FileInfo) {
        let s = &self.scopes[i as usize];
        (&s.scope, &s.files[j as usize])
    }

    /// [`Inventory::sorted_files`] for more than 2^32 scopes or files.
    fn sorted_files_stable(&self) -> Vec<(&Scope, &FileInfo)> {
        let mut all: Vec<(&Scope, &FileInfo)> = self
            .scopes
            .iter()
            .flat_map(|s| s.files.iter().map(move |f| (&s.scope, f)))
            .collect();
        all.sort_by(|a, b| full_path_bytes(a.0, &a.1.path).cmp(full_path_bytes(b.0, &b.1.path)));
        all
    }

    /// The inventory of one scope.
    #[must_use]
    pub fn scope(&self, scope: &Scope) -> Option<&ScopeInventory> {
        self.scopes.iter().find(|s| &s.scope == scope)
    }

    /// The file at `full` (a path from the root), in whichever scope holds
    /// it (the first, in scope order).
    pub(crate) fn find(&self, full: &str) -> Option<&FileInfo> {
        self.scopes.iter().find_map(|s| {
            let rel = rel_in(&s.scope, full)?;
            s.files
                .binary_search_by(|f| f.path.as_str().cmp(rel))
                .ok()
                .map(|i| &s.files[i])
        })
    }

    /// The files lying inside the directory `dir` (a path from the root),
    /// with their paths inside it, sorted. With `take`, when one scope is
    /// exactly `dir`'s module and no other holds a file inside `dir`, its
    /// files move out (the inventory then no longer holds them); otherwise
    /// they are copied.
    pub(crate) fn files_under(&mut self, dir: &EntryPath, take: bool) -> Vec<FileInfo> {
        let inside = format!("{dir}/");
        // Per scope: the range of its files inside `dir`, and what their
        // paths inside `dir` start with (the part of `dir`'s path the scope's
        // own directory lacks is cut, or the scope's directory below `dir`
        // is prepended).
        let mut parts: Vec<(usize, std::ops::Range<usize>, String, usize)> = Vec::new();
        for (i, s) in self.scopes.iter().enumerate() {
            let prefix = match &s.scope {
                Scope::Application => String::new(),
                Scope::Module(uri) => format!("{uri}/"),
            };
            if let Some(rel_prefix) = inside.strip_prefix(prefix.as_str()) {
                let from = s.files.partition_point(|f| f.path.as_str() < rel_prefix);
                let len = s.files[from..]
                    .iter()
                    .take_while(|f| f.path.as_str().starts_with(rel_prefix))
                    .count();
                if len > 0 {
                    parts.push((i, from..from + len, String::new(), rel_prefix.len()));
                }
            } else if let Some(below) = prefix.strip_prefix(inside.as_str())
                && !s.files.is_empty()
            {
                parts.push((i, 0..s.files.len(), below.to_owned(), 0));
            }
        }
        if let [(i, range, add, 0)] = parts.as_slice()
            && take
            && add.is_empty()
            && *range == (0..self.scopes[*i].files.len())
        {
            return std::mem::take(&mut self.scopes[*i].files);
        }
        let mut out = Vec::new();
        for (i, range, add, cut) in &parts {
            for f in &self.scopes[*i].files[range.clone()] {
                let path = if add.is_empty() && *cut == 0 {
                    Some(f.path.clone())
                } else {
                    f.path
                        .as_str()
                        .get(*cut..)
                        .and_then(|rest| EntryPath::new(&format!("{add}{rest}")).ok())
                };
                if let Some(path) = path {
                    out.push(FileInfo {
                        path,
                        size: f.size,
                        sha256: f.sha256,
                    });
                }
            }
        }
        if parts.len() > 1 {
            out.sort_by(|a, b| a.path.cmp(&b.path));
        }
        out
    }
}

/// `full` (a path from the root) as a path inside `scope`, if it lies there.
pub(crate) fn rel_in<'a>(scope: &Scope, full: &'a str) -> Option<&'a str> {
    match scope {
        Scope::Application => Some(full),
        Scope::Module(uri) => full.strip_prefix(uri.as_str())?.strip_prefix('/'),
    }
}

/// The bytes of `scope`'s full path of `rel`, without allocating.
pub(crate) fn full_path_bytes<'a>(
    scope: &'a Scope,
    rel: &'a EntryPath,
) -> impl Iterator<Item = u8> + 'a {
    let prefix: &[u8] = match scope {
        Scope::Application => b"",
        Scope::Module(uri) => uri.as_str().as_bytes(),
    };
    let slash: &[u8] = if prefix.is_empty() { b"" } else { b"/" };
    prefix
        .iter()
        .chain(slash)
        .chain(rel.as_str().as_bytes())
        .copied()
}

/// Feeds the full path of `rel` in `scope`, then a NUL, to `hasher`.
pub(crate) fn hash_path(hasher: &mut Sha256, scope: &Scope, rel: &EntryPath) {
    if let Scope::Module(uri) = scope {
        hasher.update(uri.as_str().as_bytes());
        hasher.update(b"/");
    }
    hasher.update(rel.as_str().as_bytes());
    hasher.update([0u8]);
}

/// SHA-256 of everything `reader` yields.
pub(crate) fn sha256_of(reader: &mut dyn Read, location: &str) -> Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| Error::io("cannot read", location, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().into())
}

/// `error: cause: cause` on one line.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> EntryPath {
        EntryPath::new(s).unwrap_or_else(|p| panic!("{s}: {p}"))
    }

    fn file(p: &str, n: u8) -> FileInfo {
        FileInfo {
            path: path(p),
            size: u64::from(n),
            sha256: [n; 32],
        }
    }

    fn inventory(scopes: Vec<(Scope, Vec<FileInfo>)>) -> Inventory {
        Inventory {
            scopes: scopes
                .into_iter()
                .map(|(scope, files)| ScopeInventory { scope, files })
                .collect(),
            warnings: Vec::new(),
        }
    }

    fn names(files: &[FileInfo]) -> Vec<(&str, u64)> {
        files.iter().map(|f| (f.path.as_str(), f.size)).collect()
    }

    #[test]
    fn find_looks_in_every_scope_by_full_path() {
        let inv = inventory(vec![
            (
                Scope::Application,
                vec![file("a.txt", 1), file("w.war/x", 2)],
            ),
            (
                Scope::Module(path("w.war")),
                vec![file("x", 3), file("y", 4)],
            ),
        ]);
        assert_eq!(inv.find("a.txt").map(|f| f.size), Some(1));
        // The first scope holding the path wins, as the digest meets them.
        assert_eq!(inv.find("w.war/x").map(|f| f.size), Some(2));
        assert_eq!(inv.find("w.war/y").map(|f| f.size), Some(4));
        assert_eq!(inv.find("w.war"), None);
        assert_eq!(inv.find("y"), None);
    }

    #[test]
    fn files_under_move_only_a_module_alone_in_its_folder() {
        let module = || {
            (
                Scope::Module(path("w.war")),
                vec![file("b", 2), file("d", 4)],
            )
        };
        // Alone: moved out, and the inventory no longer holds them.
        let mut inv = inventory(vec![(Scope::Application, vec![file("a.txt", 1)]), module()]);
        let taken = inv.files_under(&path("w.war"), true);
        assert_eq!(names(&taken), [("b", 2), ("d", 4)]);
        assert_eq!(inv.find("w.war/b"), None);
        // Not asked to move: copied, still there.
        let mut inv = inventory(vec![module()]);
        let copied = inv.files_under(&path("w.war"), false);
        assert_eq!(names(&copied), [("b", 2), ("d", 4)]);
        assert!(inv.find("w.war/b").is_some());
        // Another scope holds files in the folder, and a module lies below
        // it: all are gathered, sorted, by their path inside it, and
        // nothing moves.
        let mut inv = inventory(vec![
            (
                Scope::Application,
                vec![file("w.war/c", 3), file("w.warx", 9), file("z", 9)],
            ),
            module(),
            (Scope::Module(path("w.war/lib/u.jar")), vec![file("k", 5)]),
        ]);
        let gathered = inv.files_under(&path("w.war"), true);
        assert_eq!(
            names(&gathered),
            [("b", 2), ("c", 3), ("d", 4), ("lib/u.jar/k", 5)]
        );
        assert!(inv.find("w.war/b").is_some() && inv.find("w.war/c").is_some());
        // A folder inside a module scope.
        let mut inv = inventory(vec![(
            Scope::Module(path("lib")),
            vec![
                file("a", 1),
                file("x.jar/m", 2),
                file("x.jar/n", 3),
                file("y", 4),
            ],
        )]);
        assert_eq!(
            names(&inv.files_under(&path("lib/x.jar"), true)),
            [("m", 2), ("n", 3)]
        );
        assert!(inv.files_under(&path("other"), true).is_empty());
    }

    #[test]
    fn the_digest_does_not_depend_on_which_scope_holds_a_path() {
        // The prediction places files by scope of the application before;
        // only the full paths may count.
        let by_module = inventory(vec![
            (Scope::Application, vec![file("a.txt", 1), file("z.txt", 5)]),
            (
                Scope::Module(path("w.war")),
                vec![file("x", 2), file("y", 3)],
            ),
        ]);
        let flat = inventory(vec![(
            Scope::Application,
            vec![
                file("a.txt", 1),
                file("w.war/x", 2),
                file("w.war/y", 3),
                file("z.txt", 5),
            ],
        )]);
        assert_eq!(by_module.digest(), flat.digest());
        let other = inventory(vec![(
            Scope::Application,
            vec![file("a.txt", 1), file("w.war/x", 2), file("w.war/y", 4)],
        )]);
        assert_ne!(flat.digest(), other.digest());
    }
}
