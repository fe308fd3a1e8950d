//! Bounds on what one input may make earpatch do. Archives are hostile:
//! their declared sizes lie, a few kilobytes can inflate to gigabytes, and
//! entries can overlap. Every zip earpatch opens (the application, its
//! nested modules, updates) is checked against these bounds from its central
//! directory alone, before any entry is inflated; small text inputs
//! (descriptors, manifests, delete lists, `deployment.xml`) have a size cap.
//!
//! This module only holds the numbers and the checks' wording; the checks
//! run where archives are indexed (`source`) and texts are read.

/// The bounds (spec: "treat every archive as hostile").
///
/// ```
/// use ear_core::Limits;
/// let limits = Limits::default().max_ratio(5_000);
/// assert_eq!(limits.max_ratio, 5_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Entries of one zip (default 1,000,000).
    pub max_entries: u64,
    /// The sum of the declared inflated sizes of one zip's entries
    /// (default 64 GiB).
    pub max_inflated: u64,
    /// The largest inflated/compressed ratio of one entry larger than
    /// [`Limits::RATIO_FLOOR`] (default 1,000; deflate's best is about 1,030
    /// on zeros, real files stay far below).
    pub max_ratio: u64,
    /// Bytes of one text input: a descriptor, a manifest, a delete list, a
    /// `deployment.xml` (default 16 MiB).
    pub max_text: u64,
    /// Patterns of one delete list (default 200,000).
    pub max_patterns: usize,
    /// Characters of one delete-list pattern (default 8,192; a path is at
    /// most a few hundred).
    pub max_pattern_len: usize,
}

impl Limits {
    /// Entries up to this inflated size are never refused for their ratio:
    /// small, highly repetitive files are ordinary.
    pub const RATIO_FLOOR: u64 = 1 << 20;

    /// Sets [`Limits::max_entries`].
    #[must_use]
    pub fn max_entries(mut self, n: u64) -> Self {
        self.max_entries = n;
        self
    }

    /// Sets [`Limits::max_inflated`].
    #[must_use]
    pub fn max_inflated(mut self, bytes: u64) -> Self {
        self.max_inflated = bytes;
        self
    }

    /// Sets [`Limits::max_ratio`].
    #[must_use]
    pub fn max_ratio(mut self, ratio: u64) -> Self {
        self.max_ratio = ratio;
        self
    }

    /// Sets [`Limits::max_text`].
    #[must_use]
    pub fn max_text(mut self, bytes: u64) -> Self {
        self.max_text = bytes;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 1_000_000,
            max_inflated: 64 << 30,
            max_ratio: 1_000,
            max_text: 16 << 20,
            max_patterns: 200_000,
            max_pattern_len: 8_192,
        }
    }
}
