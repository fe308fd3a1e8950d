//! `META-INF/ibm-partialapp-delete.props`: lists of regexes of files to
//! delete in one scope (spec §2, §9.7).

use regex::Regex;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::model::Scope;

/// The name of a delete list inside a scope.
pub const DELETE_LIST_PATH: &str = "META-INF/ibm-partialapp-delete.props";

/// One pattern of a delete list.
#[derive(Debug, Clone, Serialize)]
pub struct DeletePattern {
    /// 1-based line number in the file.
    pub line: usize,
    /// The pattern as written (trimmed).
    pub pattern: String,
    #[serde(skip)]
    matcher: Matcher,
}

/// How a pattern is matched: most delete lists (all of `diff`'s) list
/// paths, regex-escaped; those are compared as text, without a regex.
/// Real regexes are kept as text and compiled when used, one at a time, so
/// a list's memory never grows with the number of its regexes.
#[derive(Debug, Clone)]
enum Matcher {
    /// The pattern matches exactly this text.
    Literal(String),
    /// A regex (translated to the `regex` crate's syntax); compiled on
    /// first use by [`DeletePattern::matches`] and [`DeletePattern::finds`].
    Regex {
        translated: String,
        compiled: std::sync::OnceLock<Option<Compiled>>,
    },
}

/// A delete-list regex compiled both ways: anchored (Java's `matches`) and
/// not (Java's `find`). Compiled size and search cache are capped, so one
/// pattern costs at most a few MiB however it is written.
#[derive(Debug, Clone)]
pub struct Compiled {
    full: Regex,
    find: Regex,
}

impl Compiled {
    fn new(translated: &str) -> std::result::Result<Compiled, regex::Error> {
        let build = |text: &str| {
            regex::RegexBuilder::new(text)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
        };
        Ok(Compiled {
            full: build(&format!("^(?:{translated})$"))?,
            find: build(translated)?,
        })
    }

    /// Whether the pattern matches the whole of `path`.
    #[must_use]
    pub fn matches(&self, path: &str) -> bool {
        self.full.is_match(path)
    }

    /// Whether the pattern matches somewhere in `path`.
    #[must_use]
    pub fn finds(&self, path: &str) -> bool {
        self.find.is_match(path)
    }
}

/// The compiled size (and search cache) one pattern may take: ordinary path
/// patterns (`.*\.jsp`, `[\w/]+\.class`, `(?i).*\.(bak|tmp)`) need a few KiB;
/// counted repetitions of Unicode classes (`\w{60}`) need megabytes and are
/// refused, naming the line.
const REGEX_SIZE_LIMIT: usize = 256 << 10;

/// Regexes (not plain paths) one delete list may hold: each is matched
/// against every file of its scope.
pub const MAX_REGEX_PATTERNS: usize = 10_000;

impl DeletePattern {
    /// Whether the pattern matches the whole of `path` (Java's `String.matches`).
    #[must_use]
    pub fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Literal(text) => path == text,
            Matcher::Regex { .. } => self.cached().is_some_and(|c| c.matches(path)),
        }
    }

    /// Whether the pattern matches somewhere in `path` (Java's `Matcher.find`).
    #[must_use]
    pub fn finds(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Literal(text) => path.contains(text.as_str()),
            Matcher::Regex { .. } => self.cached().is_some_and(|c| c.finds(path)),
        }
    }

    fn cached(&self) -> Option<&Compiled> {
        match &self.matcher {
            Matcher::Literal(_) => None,
            Matcher::Regex {
                translated,
                compiled,
            } => compiled
                .get_or_init(|| Compiled::new(translated).ok())
                .as_ref(),
        }
    }

    /// The regex compiled afresh (`None` for a plain path), for a caller
    /// that matches many files with it and then drops it: the planner, so
    /// that a list of many regexes holds one compiled at a time.
    ///
    /// # Errors
    /// The pattern compiles too large (checked when the list was parsed).
    pub fn compile(&self) -> std::result::Result<Option<Compiled>, regex::Error> {
        match &self.matcher {
            Matcher::Literal(_) => Ok(None),
            Matcher::Regex { translated, .. } => Compiled::new(translated).map(Some),
        }
    }

    /// The one path the pattern matches, when it is plain (escaped) text.
    #[must_use]
    pub fn literal(&self) -> Option<&str> {
        match &self.matcher {
            Matcher::Literal(text) => Some(text),
            Matcher::Regex { .. } => None,
        }
    }
}

/// The text a translated pattern matches when it has no regex syntax left
/// (only plain characters and escaped punctuation): `a\.b` is `a.b`.
fn literal(translated: &str) -> Option<String> {
    let mut out = String::with_capacity(translated.len());
    let mut chars = translated.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next()?;
                if next.is_ascii_alphanumeric() || next == '_' {
                    return None; // \d, \w, \b, \x41, ...: classes and escapes
                }
                out.push(next);
            }
            c if regex_syntax_char(c) => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// The characters with a meaning in a regex (those `regex::escape` escapes).
fn regex_syntax_char(c: char) -> bool {
    matches!(
        c,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '-'
            | '~'
    )
}

/// A parsed delete list.
#[derive(Debug, Clone, Serialize)]
pub struct DeleteList {
    /// Where the file is, e.g. `fix.zip!webmod.war/META-INF/ibm-partialapp-delete.props`.
    pub location: String,
    /// The scope whose files it deletes.
    pub scope: Scope,
    /// Its patterns, in file order.
    pub patterns: Vec<DeletePattern>,
}

impl DeleteList {
    /// Parses a delete list (spec §9.7): UTF-8, a byte-order mark stripped,
    /// each line trimmed, blank lines and `#` comments skipped; each entry a
    /// regex matched against the whole path relative to `scope`.
    ///
    /// ```
    /// use ear_core::{DeleteList, Scope};
    /// let list = DeleteList::parse(b"# data files\r\n.*\\.dat\r\n\\QAbc$1.class\\E\n", "x.props", Scope::Application)?;
    /// assert!(list.patterns[0].matches("conf/b.dat"));
    /// assert!(!list.patterns[0].matches("conf/b.data"));
    /// assert!(list.patterns[1].matches("Abc$1.class"));
    /// # Ok::<(), ear_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// Not UTF-8, or an entry that is not a valid pattern: the error names
    /// `location`, the line number and the reason.
    pub fn parse(bytes: &[u8], location: &str, scope: Scope) -> Result<DeleteList> {
        DeleteList::parse_with(bytes, location, scope, &Limits::default())
    }

    /// [`DeleteList::parse`] under `limits`: at most
    /// [`Limits::max_patterns`] patterns of at most
    /// [`Limits::max_pattern_len`] characters each.
    ///
    /// # Errors
    /// As [`DeleteList::parse`], and a list over a limit.
    pub fn parse_with(
        bytes: &[u8],
        location: &str,
        scope: Scope,
        limits: &Limits,
    ) -> Result<DeleteList> {
        let text = std::str::from_utf8(bytes).map_err(|e| Error::DeleteList {
            location: location.to_owned(),
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
            message: "the file is not valid UTF-8".into(),
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut patterns = Vec::new();
        let mut regexes = 0;
        for (i, raw) in text.split('\n').enumerate() {
            let entry = raw.trim();
            if entry.is_empty() || entry.starts_with('#') {
                continue;
            }
            let line = i + 1;
            let err = |message: String| Error::DeleteList {
                location: location.to_owned(),
                line,
                message,
            };
            if entry.chars().count() > limits.max_pattern_len {
                return Err(err(format!(
                    "the pattern is longer than {} characters (the limit); no path is that long",
                    limits.max_pattern_len
                )));
            }
            if patterns.len() == limits.max_patterns {
                return Err(err(format!(
                    "the list has more than {} patterns (the limit); split the update",
                    limits.max_patterns
                )));
            }
            let translated = translate(entry).map_err(&err)?;
            let matcher = match literal(&translated) {
                Some(text) => Matcher::Literal(text),
                None => {
                    regexes += 1;
                    if regexes > MAX_REGEX_PATTERNS {
                        return Err(err(format!(
                            "the list has more than {MAX_REGEX_PATTERNS} regular expressions (the limit; \
                             plain escaped paths do not count); split the update"
                        )));
                    }
                    // Compiled once here to report errors with their line,
                    // then dropped: nothing is kept per regex.
                    Compiled::new(&translated).map_err(|e| err(regex_reason(&e)))?;
                    Matcher::Regex {
                        translated,
                        compiled: std::sync::OnceLock::new(),
                    }
                }
            };
            patterns.push(DeletePattern {
                line,
                pattern: entry.to_owned(),
                matcher,
            });
        }
        Ok(DeleteList {
            location: location.to_owned(),
            scope,
            patterns,
        })
    }
}

/// Escapes `path` so that, as a delete-list entry, it matches exactly itself.
#[must_use]
pub fn escape_path(path: &str) -> String {
    regex::escape(path)
}

/// The last line of the regex crate's (multi-line) message.
fn regex_reason(err: &regex::Error) -> String {
    let text = err.to_string();
    let reason = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(&text)
        .trim();
    let reason = reason.strip_prefix("error: ").unwrap_or(reason);
    format!("invalid pattern: {reason}")
}

/// Translates Java regex syntax to the `regex` crate's: `\Q…\E` quoting
/// becomes escaped text; constructs the engine lacks are refused with a
/// message that says what to write instead.
fn translate(pattern: &str) -> std::result::Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&next) = chars.get(i + 1) else {
                return Err("invalid pattern: a trailing backslash escapes nothing".into());
            };
            match next {
                'Q' => {
                    // Up to the next \E (or the end): linear, whatever the quoting.
                    let start = i + 2;
                    let end = (start..chars.len().saturating_sub(1))
                        .find(|&k| chars[k] == '\\' && chars[k + 1] == 'E');
                    let quoted: String = chars[start..end.unwrap_or(chars.len())].iter().collect();
                    out.push_str(&regex::escape(&quoted));
                    i = end.map_or(chars.len(), |k| k + 2);
                    continue;
                }
                '1'..='9' if !in_class => {
                    return Err(format!(
                        "back-references (\\{next}) are not supported; list the files explicitly"
                    ));
                }
                'k' if chars.get(i + 2) == Some(&'<') => {
                    return Err("named back-references (\\k<…>) are not supported; list the files explicitly".into());
                }
                _ => {
                    out.push(c);
                    out.push(next);
                    i += 2;
                    continue;
                }
            }
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push(c);
                // A ']' right after '[' or '[^' is a literal.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            '(' if chars.get(i + 1) == Some(&'?') => {
                let ahead: String = chars[i + 2..].iter().take(2).collect();
                if ahead.starts_with('=')
                    || ahead.starts_with('!')
                    || ahead == "<="
                    || ahead == "<!"
                {
                    return Err("look-ahead and look-behind ((?=…), (?!…), (?<=…), (?<!…)) are not supported; \
                                write a pattern per file set instead"
                        .into());
                }
                if ahead.starts_with('>') {
                    return Err("atomic groups ((?>…)) are not supported; use a plain group".into());
                }
                out.push(c);
            }
            '+' if i > 0
                && matches!(chars[i - 1], '*' | '+' | '?' | '}')
                && !is_escaped(&chars, i - 1) =>
            {
                return Err(
                    "possessive quantifiers (*+, ++, ?+) are not supported; drop the extra '+'"
                        .into(),
                );
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// Whether the character at `i` is preceded by an odd number of backslashes.
fn is_escaped(chars: &[char], i: usize) -> bool {
    chars[..i].iter().rev().take_while(|&&c| c == '\\').count() % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(text: &str) -> Result<DeleteList> {
        DeleteList::parse(
            text.as_bytes(),
            "fix.zip!META-INF/ibm-partialapp-delete.props",
            Scope::Application,
        )
    }

    #[test]
    fn comments_blank_lines_crlf_and_bom() -> Result<()> {
        let l = list(
            "\u{feff}# comment\r\n\r\n   .*\\.dat  \r\n\t\n  # indented comment\ntools/test.jar",
        )?;
        let lines: Vec<_> = l
            .patterns
            .iter()
            .map(|p| (p.line, p.pattern.as_str()))
            .collect();
        assert_eq!(lines, [(3, ".*\\.dat"), (6, "tools/test.jar")]);
        Ok(())
    }

    #[test]
    fn whole_path_matching() -> Result<()> {
        let l = list(
            ".*.dat\ncom/test/.*\\.jsp\nWEB-INF/test\\.xmi\nAbc\\$.*\n\\QFoo$1[x].class\\E\na\\Qb.c\\Ed",
        )?;
        let p = &l.patterns;
        assert!(p[0].matches("a.dat") && p[0].matches("conf/b.dat") && !p[0].matches("a.dat.bak"));
        assert!(p[0].finds("a.dat.bak"));
        assert!(
            p[1].matches("com/test/x.jsp")
                && p[1].matches("com/test/sub/y.jsp")
                && !p[1].matches("x/com/test/x.jsp")
        );
        assert!(p[2].matches("WEB-INF/test.xmi") && !p[2].matches("WEB-INF/testaxmi"));
        assert!(p[3].matches("Abc$1.class") && !p[3].matches("Abc1.class"));
        assert!(p[4].matches("Foo$1[x].class") && !p[4].matches("Foo$1x.class"));
        assert!(p[5].matches("ab.cd") && !p[5].matches("abxcd"));
        Ok(())
    }

    #[test]
    fn plain_path_with_dollar_is_an_anchor_as_in_java() -> Result<()> {
        // Java: "Abc$1.class".matches("Abc$1.class") is false; so here.
        let l = list("Abc$1.class")?;
        assert!(!l.patterns[0].matches("Abc$1.class"));
        Ok(())
    }

    #[test]
    fn errors_name_file_line_and_reason() {
        let cases = [
            ("ok\n(unclosed", 2, "unclosed group"),
            ("a\nb\n(?=x).*", 3, "look-ahead"),
            ("(?<!x)y", 1, "look-ahead and look-behind"),
            ("(a)\\1", 1, "back-references"),
            ("a*+", 1, "possessive"),
            ("(?>a)", 1, "atomic"),
            ("abc\\", 1, "trailing backslash"),
        ];
        for (text, line, needle) in cases {
            let err = list(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(
                err.contains(&format!(
                    "line {line} of fix.zip!META-INF/ibm-partialapp-delete.props"
                )),
                "{err}"
            );
            assert!(err.contains(needle), "{text}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let err = DeleteList::parse(b"ok\n\xff\xfe", "x.props", Scope::Application)
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("line 2") && e.contains("UTF-8")));
    }

    #[test]
    fn character_classes_are_left_alone() -> Result<()> {
        let l = list("[*+]x\n[]a]\n\\\\1")?;
        assert!(l.patterns[0].matches("+x"));
        assert!(l.patterns[1].matches("]"));
        assert!(l.patterns[2].matches("\\1"));
        Ok(())
    }

    #[test]
    fn escaped_paths_match_only_themselves() -> Result<()> {
        for name in ["Foo$1.class", "a.b[c](d)+e?f*g^h{i}|j k", "x\\y"] {
            let l = list(&escape_path(name))?;
            assert!(l.patterns[0].matches(name), "{name}");
            assert!(!l.patterns[0].matches(&format!("{name}x")));
        }
        Ok(())
    }
}
