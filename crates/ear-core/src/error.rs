//! The one error type of `ear-core`.

use std::path::PathBuf;

use crate::path::PathProblem;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `ear-core`.
///
/// Each variant names the file, entry or line it concerns, so that the
/// message alone tells an operator what to fix. Messages are lower-case and
/// carry no trailing period; callers print the source chain after them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operation was cancelled through its [`crate::Progress`] handle,
    /// before the application changed; what it had written (temporary
    /// files, staged files, the undo bundle and record) was removed.
    #[error("cancelled before the application changed; nothing was left behind")]
    Cancelled,
    /// A file or directory could not be read or written.
    #[error("{action} {path}")]
    Io {
        /// What was being done ("cannot read", "cannot create", ...).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The application path is neither a zip archive nor a directory.
    #[error("{path} is not an application: {reason}")]
    NotAnApplication {
        /// The path given.
        path: PathBuf,
        /// Why it cannot be opened.
        reason: String,
    },
    /// A zip archive (or a nested one) is broken or unsupported.
    #[error("cannot read zip archive {location}")]
    Zip {
        /// The archive: a file path, or `outer.ear!inner.war` for a nested one.
        location: String,
        /// What is wrong with it (the zip reader's or writer's words).
        #[source]
        source: ZipProblem,
    },
    /// An entry name breaks the path rules of spec §1.
    #[error("unsafe entry name {entry:?} in {container}: {problem}")]
    UnsafePath {
        /// The archive, directory or list the name comes from.
        container: String,
        /// The name as found.
        entry: String,
        /// What is wrong with it.
        problem: PathProblem,
    },
    /// `META-INF/application.xml` (or another descriptor) cannot be read.
    #[error("invalid descriptor {location}: {message}")]
    Descriptor {
        /// File and line, e.g. `shop.ear!META-INF/application.xml line 12`.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A delete list has an entry that is not a valid pattern.
    #[error("line {line} of {location}: {message}")]
    DeleteList {
        /// The delete list, e.g. `fix.zip!webmod.war/META-INF/ibm-partialapp-delete.props`.
        location: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The update cannot be applied to this application as it is.
    #[error("{location}: {message}")]
    Refused {
        /// The update entry, flag or file concerned.
        location: String,
        /// Why, and what to do instead.
        message: String,
    },
    /// One module lies inside another one; the spec refuses such applications.
    #[error("module {inner} lies inside module {outer}; nested modules are not allowed")]
    NestedModule {
        /// The enclosing module URI.
        outer: String,
        /// The enclosed module URI.
        inner: String,
    },
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn refused(location: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Refused {
            location: location.into(),
            message: message.into(),
        }
    }

    pub(crate) fn zip(location: impl Into<String>, source: zip::result::ZipError) -> Self {
        Error::Zip {
            location: location.into(),
            source: ZipProblem(source),
        }
    }
}

/// What the zip library reported about a broken or unsupported archive. Its
/// text is the message; the library's own error type stays private, so that
/// embedding `ear-core` does not tie a program to a version of it.
#[derive(Debug)]
pub struct ZipProblem(zip::result::ZipError);

impl std::fmt::Display for ZipProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for ZipProblem {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // An I/O error under the zip error is part of the chain; the zip
        // error itself is this value.
        match &self.0 {
            zip::result::ZipError::Io(e) => Some(e),
            _ => None,
        }
    }
}
