//! Reading `META-INF/application.xml`, any version from the J2EE 1.2 DTD to
//! Jakarta EE 11, namespace-agnostic (spec §1, §9.6).

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::ModuleKind;
use crate::path::EntryPath;

/// Where the descriptor lives inside the application.
pub const DESCRIPTOR_PATH: &str = "META-INF/application.xml";

/// One `<module>` element of the descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredModule {
    /// The module URI (`<web-uri>`, `<ejb>`, `<connector>` or `<java>`).
    pub uri: EntryPath,
    /// The kind, from the element and, for `.sar`, the extension (§9.5).
    pub kind: ModuleKind,
    /// `<context-root>` of a web module, as written (trimmed).
    pub context_root: Option<String>,
    /// `<alt-dd>`, when present.
    pub alt_dd: Option<String>,
}

/// The `<library-directory>` setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "path")]
pub enum LibraryDirectory {
    /// No library directory (`<library-directory/>` empty).
    None,
    /// The EAR root itself (`<library-directory>.</library-directory>`).
    Root,
    /// A directory of the application (`lib` by default).
    Dir(EntryPath),
}

impl LibraryDirectory {
    /// The default, `lib`.
    #[must_use]
    pub fn default_lib() -> Self {
        // "lib" is a valid path by construction.
        LibraryDirectory::Dir(EntryPath::new("lib").unwrap_or_else(|_| unreachable!()))
    }

    /// Whether `path` (an application-scope full path) is directly in the library directory.
    #[must_use]
    pub fn holds(&self, path: &EntryPath) -> bool {
        match self {
            LibraryDirectory::None => false,
            LibraryDirectory::Root => !path.as_str().contains('/'),
            LibraryDirectory::Dir(dir) => path
                .strip_dir(dir)
                .is_some_and(|rest| !rest.as_str().contains('/')),
        }
    }

    /// Whether `path` lies anywhere under the library directory (for `Root`: never,
    /// since the whole application would be under it).
    #[must_use]
    pub fn contains(&self, path: &EntryPath) -> bool {
        match self {
            LibraryDirectory::Dir(dir) => path.is_inside(dir),
            LibraryDirectory::None | LibraryDirectory::Root => false,
        }
    }
}

impl std::fmt::Display for LibraryDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LibraryDirectory::None => f.write_str("(none)"),
            LibraryDirectory::Root => f.write_str("(the EAR root)"),
            LibraryDirectory::Dir(dir) => write!(f, "{dir}/"),
        }
    }
}

/// The parsed deployment descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Descriptor {
    /// The `version` attribute of `<application>`, or the DTD's version.
    pub version: Option<String>,
    /// `<display-name>`, trimmed.
    pub display_name: Option<String>,
    /// The modules, in document order.
    pub modules: Vec<DeclaredModule>,
    /// `<library-directory>`; `lib` when absent.
    pub library_directory: LibraryDirectory,
}

impl Descriptor {
    /// Parses descriptor bytes. `location` names the file in errors.
    ///
    /// # Errors
    /// [`Error::Descriptor`] for malformed XML, a missing module URI or an
    /// unsafe URI, with the line number.
    pub fn parse(bytes: &[u8], location: &str) -> Result<Descriptor> {
        Parser { bytes, location }.parse()
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    location: &'a str,
}

/// What the parser has found so far: the open elements and the values.
#[derive(Default)]
struct Found {
    stack: Vec<String>,
    pending: Option<PendingModule>,
    modules: Vec<DeclaredModule>,
    library_directory: Option<LibraryDirectory>,
    display_name: Option<String>,
}

#[derive(Default)]
struct PendingModule {
    kind: Option<ModuleKind>,
    uri: Option<(String, usize)>,
    context_root: Option<String>,
    alt_dd: Option<String>,
    start: usize,
}

impl Parser<'_> {
    fn line_of(&self, pos: usize) -> usize {
        let pos = pos.min(self.bytes.len());
        self.bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1
    }

    fn error(&self, pos: usize, message: impl Into<String>) -> Error {
        Error::Descriptor {
            location: format!("{} line {}", self.location, self.line_of(pos)),
            message: message.into(),
        }
    }

    fn parse(&self) -> Result<Descriptor> {
        let decoded = String::from_utf8_lossy(self.bytes);
        let decoded = decoded.strip_prefix('\u{feff}').unwrap_or(&decoded);
        let mut reader = Reader::from_str(decoded);
        reader.config_mut().trim_text(false);
        let mut found = Found::default();
        let mut text = String::new();
        let mut version = None;
        let mut dtd_version = None;
        let mut saw_root = false;
        let mut buf = Vec::new();
        loop {
            let pos = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let event = reader
                .read_event_into(&mut buf)
                .map_err(|e| self.error(pos, e.to_string()))?;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let is_empty = matches!(event, Event::Empty(_));
                    let name = e.local_name().as_ref().to_owned();
                    if found.stack.is_empty() {
                        if name != "application" {
                            return Err(self.error(
                                pos,
                                format!("the root element is <{name}>, expected <application>"),
                            ));
                        }
                        saw_root = true;
                        for attr in e.attributes().flatten() {
                            if attr.key.local_name().as_ref() == "version" {
                                version = Some(attr.value.trim().to_owned());
                            }
                        }
                    }
                    if found.stack.len() == 1 && name == "module" {
                        found.pending = Some(PendingModule {
                            start: pos,
                            ..PendingModule::default()
                        });
                    }
                    found.stack.push(name);
                    text.clear();
                    if is_empty {
                        self.end_element(&mut found, &text, pos)?;
                    }
                }
                Event::Text(t) => {
                    text.push_str(&t.xml10_content());
                }
                Event::GeneralRef(r) => {
                    let name: &str = r.as_ref();
                    let resolved = match name {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => char_reference(name),
                    };
                    let Some(c) = resolved else {
                        return Err(self.error(
                            pos,
                            format!(
                                "&{name}; is neither a predefined entity nor a character reference; write the \
                                 character itself"
                            ),
                        ));
                    };
                    text.push(c);
                }
                Event::CData(c) => text.push_str(c.as_ref()),
                Event::End(_) => {
                    self.end_element(&mut found, &text, pos)?;
                    text.clear();
                }
                Event::DocType(d) => {
                    let d: &str = d.as_ref();
                    // "-//Sun Microsystems, Inc.//DTD J2EE Application 1.3//EN"
                    if let Some(i) = d.find("DTD J2EE Application ") {
                        let rest = &d[i + "DTD J2EE Application ".len()..];
                        dtd_version = rest.split("//").next().map(|v| v.trim().to_owned());
                    }
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        if !saw_root {
            return Err(self.error(self.bytes.len(), "no <application> element"));
        }
        if !found.stack.is_empty() {
            return Err(self.error(
                self.bytes.len(),
                format!("<{}> is never closed", found.stack.join("><")),
            ));
        }
        Ok(Descriptor {
            version: version.or(dtd_version),
            display_name: found.display_name,
            modules: found.modules,
            library_directory: found
                .library_directory
                .unwrap_or_else(LibraryDirectory::default_lib),
        })
    }

    fn end_element(&self, found: &mut Found, text: &str, pos: usize) -> Result<()> {
        let Found {
            stack,
            pending,
            modules,
            library_directory,
            display_name,
        } = found;
        let Some(name) = stack.pop() else {
            return Ok(());
        };
        let value = text.trim();
        let parent = stack.last().map(String::as_str);
        let depth = stack.len();
        match (depth, parent, name.as_str()) {
            (1, Some("application"), "library-directory") => {
                *library_directory = Some(match value {
                    "" => LibraryDirectory::None,
                    "." | "./" => LibraryDirectory::Root,
                    dir => {
                        LibraryDirectory::Dir(EntryPath::new(dir.trim_end_matches('/')).map_err(
                            |p| self.error(pos, format!("library directory {dir:?}: {p}")),
                        )?)
                    }
                });
            }
            (1, Some("application"), "display-name") if display_name.is_none() => {
                *display_name = Some(value.split_whitespace().collect::<Vec<_>>().join(" "));
            }
            (2, Some("module"), "ejb" | "connector" | "java") => {
                if let Some(m) = pending.as_mut() {
                    m.kind = Some(match name.as_str() {
                        "ejb" => ModuleKind::Ejb,
                        "connector" => ModuleKind::Connector,
                        _ => ModuleKind::Client,
                    });
                    m.uri = Some((value.to_owned(), pos));
                }
            }
            (2, Some("module"), "web") => {
                if let Some(m) = pending.as_mut() {
                    m.kind = Some(ModuleKind::Web);
                }
            }
            (2, Some("module"), "alt-dd") => {
                if let Some(m) = pending.as_mut() {
                    m.alt_dd = Some(value.to_owned());
                }
            }
            (3, Some("web"), "web-uri") => {
                if let Some(m) = pending.as_mut() {
                    m.uri = Some((value.to_owned(), pos));
                }
            }
            (3, Some("web"), "context-root") => {
                if let Some(m) = pending.as_mut() {
                    m.context_root = Some(value.to_owned());
                }
            }
            (1, Some("application"), "module") => {
                if let Some(m) = pending.take() {
                    let start = m.start;
                    let module = self.finish_module(m)?;
                    if modules.iter().any(|d| d.uri == module.uri) {
                        return Err(self.error(
                            start,
                            format!(
                                "module {} is declared twice; a server would deploy one of them, so remove the \
                                 other <module> element",
                                module.uri
                            ),
                        ));
                    }
                    modules.push(module);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish_module(&self, m: PendingModule) -> Result<DeclaredModule> {
        let Some(kind) = m.kind else {
            return Err(self.error(
                m.start,
                "<module> has none of <web>, <ejb>, <connector>, <java>",
            ));
        };
        let Some((uri, pos)) = m.uri.filter(|(u, _)| !u.is_empty()) else {
            return Err(self.error(m.start, format!("<module> of kind {kind} has no URI")));
        };
        let path = EntryPath::new(&uri)
            .map_err(|p| self.error(pos, format!("module URI {uri:?}: {p}")))?;
        let kind = if path.extension().as_deref() == Some("sar") {
            ModuleKind::Sip
        } else {
            kind
        };
        if path.first_component() == "META-INF" {
            return Err(self.error(
                pos,
                format!("module URI {uri:?}: META-INF holds the application's own descriptors, never a module"),
            ));
        }
        Ok(DeclaredModule {
            uri: path,
            kind,
            context_root: m.context_root,
            alt_dd: m.alt_dd,
        })
    }
}

/// The character of a reference `#46` or `#x2E` (the text between `&` and `;`).
fn char_reference(name: &str) -> Option<char> {
    let number = name.strip_prefix('#')?;
    let code = match number.strip_prefix('x') {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => number.parse().ok()?,
    };
    char::from_u32(code).filter(|c| *c != '\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_j2ee13_dtd_descriptor() -> Result<()> {
        let xml = br#"<?xml version="1.0"?>
<!DOCTYPE application PUBLIC "-//Sun Microsystems, Inc.//DTD J2EE Application 1.3//EN" "http://java.sun.com/dtd/application_1_3.dtd">
<application>
  <display-name>demo
     app</display-name>
  <module><web><web-uri>shop.war</web-uri><context-root>/shop</context-root></web></module>
  <module><ejb>ejb/orders.jar</ejb><alt-dd>dd/ejb.xml</alt-dd></module>
  <module><connector>x.sar</connector></module>
  <module><java>client.jar</java></module>
</application>"#;
        let d = Descriptor::parse(xml, "application.xml")?;
        assert_eq!(d.version.as_deref(), Some("1.3"));
        assert_eq!(d.display_name.as_deref(), Some("demo app"));
        let kinds: Vec<_> = d.modules.iter().map(|m| (m.uri.as_str(), m.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("shop.war", ModuleKind::Web),
                ("ejb/orders.jar", ModuleKind::Ejb),
                ("x.sar", ModuleKind::Sip),
                ("client.jar", ModuleKind::Client)
            ]
        );
        assert_eq!(d.modules[0].context_root.as_deref(), Some("/shop"));
        assert_eq!(d.modules[1].alt_dd.as_deref(), Some("dd/ejb.xml"));
        assert_eq!(d.library_directory, LibraryDirectory::default_lib());
        Ok(())
    }

    #[test]
    fn loose_descriptors_are_refused_naming_the_line() {
        let parse = |modules: &str| {
            Descriptor::parse(
                format!("<application>\n{modules}\n</application>").as_bytes(),
                "a.xml",
            )
            .map(|d| {
                d.modules
                    .iter()
                    .map(|m| m.uri.to_string())
                    .collect::<Vec<_>>()
            })
            .map_err(|e| e.to_string())
        };
        // A character reference is decoded, not dropped.
        assert_eq!(
            parse("<module><web><web-uri>shop&#46;war</web-uri></web></module>"),
            Ok(vec!["shop.war".to_owned()])
        );
        assert_eq!(
            parse("<module><web><web-uri>shop&#x2E;war</web-uri></web></module>"),
            Ok(vec!["shop.war".to_owned()])
        );
        let unknown = parse("<module><web><web-uri>shop&dot;war</web-uri></web></module>");
        assert!(unknown.is_err_and(|e| e.contains("line 2") && e.contains("&dot;")));
        let twice = parse(
            "<module><web><web-uri>a.war</web-uri><context-root>/a</context-root></web></module>\n\
             <module><web><web-uri>a.war</web-uri><context-root>/b</context-root></web></module>",
        );
        assert!(twice.is_err_and(|e| e.contains("line 3") && e.contains("declared twice")));
        let meta_inf = parse("<module><web><web-uri>META-INF</web-uri></web></module>");
        assert!(meta_inf.is_err_and(|e| e.contains("META-INF holds")));
    }

    #[test]
    fn library_directory_forms() -> Result<()> {
        let parse = |inner: &str| {
            Descriptor::parse(
                format!(r#"<application xmlns="https://jakarta.ee/xml/ns/jakartaee" version="10">{inner}</application>"#)
                    .as_bytes(),
                "a.xml",
            )
        };
        assert_eq!(
            parse("<library-directory/>")?.library_directory,
            LibraryDirectory::None
        );
        assert_eq!(
            parse("<library-directory>.</library-directory>")?.library_directory,
            LibraryDirectory::Root
        );
        assert_eq!(
            parse("<library-directory> APP-INF/lib </library-directory>")?.library_directory,
            LibraryDirectory::Dir(EntryPath::new("APP-INF/lib").map_err(|_| unreachable!())?)
        );
        assert_eq!(
            parse("<!-- <library-directory/> -->")?.library_directory,
            LibraryDirectory::default_lib()
        );
        assert_eq!(parse("")?.version.as_deref(), Some("10"));
        Ok(())
    }

    #[test]
    fn errors_name_the_line() {
        let err = Descriptor::parse(
            b"<application>\n<module>\n<ejb>../x.jar</ejb></module></application>",
            "app.xml",
        )
        .map(|_| ())
        .map_err(|e| e.to_string());
        let Err(message) = err else {
            panic!("expected an error")
        };
        assert!(message.contains("app.xml line 3"), "{message}");
        assert!(message.contains("'..'"), "{message}");
        let err =
            Descriptor::parse(b"<application>\n<module></application>", "app.xml").map(|_| ());
        assert!(err.is_err());
        let err = Descriptor::parse(b"<web-app/>", "app.xml").map(|_| ());
        assert!(err.is_err());
    }
}
