//! Registering an added module in `META-INF/application.xml`, keeping the
//! rest of the file byte for byte (spec §2). A pure function of the old
//! bytes: it reads and writes no file.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

use crate::error::{Error, Result};
use crate::model::ModuleKind;

/// Elements that come after the `<module>` elements in every schema version.
const AFTER_MODULES: [&str; 16] = [
    "security-role",
    "library-directory",
    "env-entry",
    "ejb-ref",
    "ejb-local-ref",
    "service-ref",
    "resource-ref",
    "resource-env-ref",
    "message-destination-ref",
    "persistence-context-ref",
    "persistence-unit-ref",
    "message-destination",
    "data-source",
    "jms-connection-factory",
    "jms-destination",
    "mail-session",
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Inserts a `<module>` element for `uri` after the last existing one (or
/// where modules belong), with the root element's namespace prefix and the
/// file's indentation. Every other byte is kept.
///
/// # Errors
/// The descriptor is not UTF-8 or not well-formed.
pub(crate) fn register_module(
    bytes: &[u8],
    location: &str,
    uri: &str,
    kind: ModuleKind,
    context_root: Option<&str>,
) -> Result<Vec<u8>> {
    let err = |message: String| Error::Descriptor {
        location: location.to_owned(),
        message,
    };
    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let text = std::str::from_utf8(&bytes[bom..])
        .map_err(|_| err("cannot register the module: the descriptor is not UTF-8".into()))?;
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    let mut prefix = String::new();
    let mut last_module_end = None;
    let mut last_module_start = None;
    let mut first_after = None;
    let mut root_end = None;
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|e| err(e.to_string()))?;
        let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match event {
            Event::Start(e) => {
                let name = e.name();
                let local = e.local_name();
                if depth == 0 {
                    let full: &str = name.as_ref();
                    if let Some((p, _)) = full.split_once(':') {
                        prefix = format!("{p}:");
                    }
                }
                if depth == 1 && local.as_ref() == "module" {
                    last_module_start = Some(before);
                }
                if depth == 1 && first_after.is_none() && AFTER_MODULES.contains(&local.as_ref()) {
                    first_after = Some(before);
                }
                depth += 1;
            }
            Event::Empty(e)
                if depth == 1
                    && first_after.is_none()
                    && AFTER_MODULES.contains(&e.local_name().as_ref()) =>
            {
                first_after = Some(before);
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if depth == 1 && e.local_name().as_ref() == "module" {
                    last_module_end = Some(after);
                }
                if depth == 0 {
                    root_end = Some(before);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let Some(root_end) = root_end else {
        return Err(err(
            "cannot register the module: no closing </application>".into()
        ));
    };
    // The indentation of the line where modules start (or two spaces).
    let line_indent = |pos: usize| -> String {
        let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
        text[line_start..pos]
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect()
    };
    let indent = last_module_start.map_or_else(|| "  ".to_owned(), line_indent);
    let indent = if indent.is_empty() {
        "  ".to_owned()
    } else {
        indent
    };
    // The indentation step: how much deeper the last module's first child sits.
    let child_indent = last_module_start.and_then(|start| {
        let line = start + text[start..].find('\n')? + 1;
        Some(
            text[line..]
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect::<String>(),
        )
    });
    let unit = match child_indent {
        Some(child) if child.len() > indent.len() && child.starts_with(indent.as_str()) => {
            child[indent.len()..].to_owned()
        }
        _ if indent.contains('\t') => "\t".to_owned(),
        _ => "  ".to_owned(),
    };
    let unit = unit.as_str();
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let p = &prefix;
    let body = match kind {
        ModuleKind::Web => {
            let root = context_root.map(escape).unwrap_or_default();
            format!(
                "<{p}web>{newline}{indent}{unit}{unit}<{p}web-uri>{}</{p}web-uri>{newline}{indent}{unit}{unit}<{p}context-root>{root}</{p}context-root>{newline}{indent}{unit}</{p}web>",
                escape(uri)
            )
        }
        ModuleKind::Ejb => format!("<{p}ejb>{}</{p}ejb>", escape(uri)),
        ModuleKind::Client => format!("<{p}java>{}</{p}java>", escape(uri)),
        ModuleKind::Connector | ModuleKind::Sip => {
            format!("<{p}connector>{}</{p}connector>", escape(uri))
        }
    };
    let element = format!("<{p}module>{newline}{indent}{unit}{body}{newline}{indent}</{p}module>");
    let (at, insert) = match (last_module_end, first_after) {
        (Some(end), _) => (end, format!("{newline}{indent}{element}")),
        (None, Some(pos)) => (pos, format!("{element}{newline}{}", line_indent(pos))),
        (None, None) => (root_end, format!("{indent}{element}{newline}")),
    };
    let mut out = Vec::with_capacity(bytes.len() + insert.len());
    out.extend_from_slice(&bytes[..bom + at]);
    out.extend_from_slice(insert.as_bytes());
    out.extend_from_slice(&bytes[bom + at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Descriptor;

    fn register(xml: &str, uri: &str, kind: ModuleKind, root: Option<&str>) -> String {
        let out = register_module(xml.as_bytes(), "application.xml", uri, kind, root)
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn inserts_after_the_last_module_keeping_everything_else() {
        let xml = "<?xml version=\"1.0\"?>\n<!-- keep me -->\n<application xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"7\">\n    <display-name>x</display-name>\n    <module>\n        <ejb>a.jar</ejb>\n    </module>\n    <library-directory>lib</library-directory>\n</application>\n";
        let out = register(xml, "new.war", ModuleKind::Web, Some("/new"));
        let d = Descriptor::parse(out.as_bytes(), "x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.modules.len(), 2);
        assert_eq!(d.modules[1].uri.as_str(), "new.war");
        assert_eq!(d.modules[1].context_root.as_deref(), Some("/new"));
        // Removing the inserted text gives the original back.
        let inserted = out.len() - xml.len();
        let pos = xml
            .find("</module>")
            .map(|i| i + "</module>".len())
            .unwrap_or(0);
        assert_eq!(format!("{}{}", &out[..pos], &out[pos + inserted..]), xml);
        assert!(out.contains("\n    <module>\n        <web>\n"), "{out}");
    }

    #[test]
    fn prefixed_root_and_no_modules() {
        let xml = "<j2ee:application xmlns:j2ee=\"http://java.sun.com/xml/ns/j2ee\" version=\"1.4\">\r\n  <j2ee:library-directory>lib</j2ee:library-directory>\r\n</j2ee:application>";
        let out = register(xml, "e.jar", ModuleKind::Ejb, None);
        assert!(out.contains("<j2ee:module>\r\n"), "{out}");
        assert!(out.contains("<j2ee:ejb>e.jar</j2ee:ejb>"), "{out}");
        let d = Descriptor::parse(out.as_bytes(), "x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.modules.len(), 1);
        assert!(out.find("<j2ee:module>") < out.find("<j2ee:library-directory>"));
        let err = register_module(b"<application/>", "x", "c.jar", ModuleKind::Client, None);
        assert!(
            err.is_err(),
            "an empty root element is reported, not silently left alone"
        );
    }

    #[test]
    fn rejects_non_utf8() {
        assert!(
            register_module(
                b"<application>\xff</application>",
                "x",
                "a.war",
                ModuleKind::Web,
                None
            )
            .is_err()
        );
    }
}
