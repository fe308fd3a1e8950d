//! [`EntryPath`]: the one checked type for paths inside an application.

use std::fmt;
use std::sync::Arc;

/// Why a path was refused by [`EntryPath::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathProblem {
    /// The path is empty.
    Empty,
    /// The path starts with `/`.
    Absolute,
    /// The path contains a `\`.
    Backslash,
    /// The path contains a NUL character.
    Nul,
    /// The path starts with a drive letter such as `C:`.
    DriveLetter,
    /// The path has a `.` or `..` component.
    DotComponent,
    /// The path has an empty component (`a//b`) or ends with `/`.
    EmptyComponent,
    /// The name is not valid UTF-8 (a file name on disk).
    NotUtf8,
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathProblem::Empty => "the path is empty",
            PathProblem::Absolute => "the path is absolute (starts with '/')",
            PathProblem::Backslash => "the path contains a backslash",
            PathProblem::Nul => "the path contains a NUL character",
            PathProblem::DriveLetter => "the path starts with a drive letter",
            PathProblem::DotComponent => "the path has a '.' or '..' component",
            PathProblem::EmptyComponent => "the path has an empty component",
            PathProblem::NotUtf8 => "the name is not valid UTF-8",
        })
    }
}

impl std::error::Error for PathProblem {}

/// A relative, `/`-separated path inside an application or a module.
///
/// Every path that enters `ear-core` from an archive, a directory, a
/// descriptor, a delete list or the command line is checked once, here
/// (spec §1): it is not empty, has no leading `/`, no `\`, no NUL, no drive
/// letter, no `.`/`..` and no empty component. Paths are case-sensitive and
/// compare byte-wise, so sorting them gives a stable order.
///
/// The text is shared: a clone costs a reference count, not an allocation
/// (a plan of a million entries clones each path several times).
///
/// ```
/// use ear_core::EntryPath;
/// let p = EntryPath::new("shop.war/WEB-INF/web.xml")?;
/// assert_eq!(p.first_component(), "shop.war");
/// assert!(EntryPath::new("../etc/passwd").is_err());
/// # Ok::<(), ear_core::path::PathProblem>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryPath(Arc<str>);

impl EntryPath {
    /// Checks `path` and wraps it.
    ///
    /// # Errors
    /// The [`PathProblem`] that makes `path` unsafe or ambiguous.
    pub fn new(path: &str) -> Result<Self, PathProblem> {
        if path.is_empty() {
            return Err(PathProblem::Empty);
        }
        if path.contains('\0') {
            return Err(PathProblem::Nul);
        }
        if path.contains('\\') {
            return Err(PathProblem::Backslash);
        }
        if path.starts_with('/') {
            return Err(PathProblem::Absolute);
        }
        let bytes = path.as_bytes();
        if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
            return Err(PathProblem::DriveLetter);
        }
        for component in path.split('/') {
            match component {
                "" => return Err(PathProblem::EmptyComponent),
                "." | ".." => return Err(PathProblem::DotComponent),
                _ => {}
            }
        }
        Ok(EntryPath(path.into()))
    }

    /// The path as a string slice.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `self/child`.
    #[must_use]
    pub fn join(&self, child: &EntryPath) -> EntryPath {
        EntryPath(format!("{}/{}", self.0, child.0).into())
    }

    /// The rest of the path when it lies strictly inside the directory `dir`.
    #[must_use]
    pub fn strip_dir(&self, dir: &EntryPath) -> Option<EntryPath> {
        let rest = self.0.strip_prefix(dir.as_str())?.strip_prefix('/')?;
        Some(EntryPath(rest.into()))
    }

    /// Whether the path lies strictly inside the directory `dir`.
    #[must_use]
    pub fn is_inside(&self, dir: &EntryPath) -> bool {
        self.0.len() > dir.0.len() + 1
            && self.0.starts_with(dir.as_str())
            && self.0.as_bytes()[dir.0.len()] == b'/'
    }

    /// The first component (`shop.war` of `shop.war/index.jsp`).
    #[must_use]
    pub fn first_component(&self) -> &str {
        self.0.split('/').next().unwrap_or(&self.0)
    }

    /// The last component (the file name).
    #[must_use]
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The lower-cased extension of the file name, without the dot.
    #[must_use]
    pub fn extension(&self) -> Option<String> {
        let name = self.file_name();
        let dot = name.rfind('.')?;
        (dot > 0).then(|| name[dot + 1..].to_ascii_lowercase())
    }

    /// The file name without its extension.
    #[must_use]
    pub fn file_stem(&self) -> &str {
        let name = self.file_name();
        match name.rfind('.') {
            Some(dot) if dot > 0 => &name[..dot],
            _ => name,
        }
    }

    /// The parent directories, outermost first (`a`, `a/b` for `a/b/c`).
    pub fn ancestors(&self) -> impl Iterator<Item = &str> {
        self.0.match_indices('/').map(move |(i, _)| &self.0[..i])
    }
}

impl fmt::Display for EntryPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EntryPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl serde::Serialize for EntryPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for EntryPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        EntryPath::new(&s).map_err(|p| serde::de::Error::custom(format!("{s:?}: {p}")))
    }
}

impl AsRef<str> for EntryPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Paths compare as their text, so maps keyed by [`EntryPath`] can be
/// looked up by `&str` (an ancestor folder) without building a path.
impl std::borrow::Borrow<str> for EntryPath {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths() {
        for p in [
            "a",
            "shop.war/WEB-INF/web.xml",
            "Abc$1.class",
            "a b/c..d",
            ".hidden/x",
        ] {
            assert_eq!(
                EntryPath::new(p).map(|e| e.as_str().to_owned()),
                Ok(p.to_owned())
            );
        }
    }

    #[test]
    fn refuses_unsafe_paths() {
        let cases = [
            ("", PathProblem::Empty),
            ("/etc/passwd", PathProblem::Absolute),
            ("a\\b", PathProblem::Backslash),
            ("a\0b", PathProblem::Nul),
            ("C:/x", PathProblem::DriveLetter),
            ("../x", PathProblem::DotComponent),
            ("a/./b", PathProblem::DotComponent),
            ("a/..", PathProblem::DotComponent),
            ("a//b", PathProblem::EmptyComponent),
            ("a/", PathProblem::EmptyComponent),
        ];
        for (p, problem) in cases {
            assert_eq!(EntryPath::new(p), Err(problem), "{p:?}");
        }
    }

    #[test]
    fn components() -> Result<(), PathProblem> {
        let p = EntryPath::new("mods/orders-ejb.JAR")?;
        assert_eq!(p.extension().as_deref(), Some("jar"));
        assert_eq!(p.file_stem(), "orders-ejb");
        assert_eq!(p.ancestors().collect::<Vec<_>>(), ["mods"]);
        let dir = EntryPath::new("mods")?;
        assert!(p.is_inside(&dir));
        assert!(!EntryPath::new("modsx/a")?.is_inside(&dir));
        assert_eq!(p.strip_dir(&dir), Some(EntryPath::new("orders-ejb.JAR")?));
        assert_eq!(EntryPath::new(".profile")?.extension(), None);
        Ok(())
    }
}
