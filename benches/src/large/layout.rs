//! Which files the generated application has, and how each file's bytes are
//! made. Both forms (archive and expanded) and the update are written from
//! these lists, so they agree by construction.

use std::fmt::Write as _;
use std::io::{self, Cursor, Write as _};

use zip::ZipWriter;

use super::LargeSpec;
use super::content::{Flavour, Prng, fill_body, size_of};

/// Jars nested in each web module under `WEB-INF/lib/`.
const NESTED_JARS: usize = 3;
/// Classes in each nested jar.
const NESTED_JAR_CLASSES: usize = 30;
/// Classes in each `lib/utilN.jar`.
const UTIL_JAR_CLASSES: usize = 40;
/// JSPs under `pages/old/` in each web module (what the update deletes).
pub(crate) const OLD_PAGES: usize = 4;
/// Files of a web module that do not depend on `files_per_web_module`.
const WEB_FIXED_FILES: usize = 3 + NESTED_JARS + OLD_PAGES;
/// Files of an EJB module that do not depend on `files_per_ejb`.
const EJB_FIXED_FILES: usize = 2;

const PACKAGES: [&str; 5] = ["web", "service", "model", "util", "dao"];
const WEB_CLASSES: [&str; 8] = [
    "Controller",
    "Service",
    "Entity",
    "Helper",
    "Repository",
    "Filter",
    "Listener",
    "Dto",
];
const EJB_CLASSES: [&str; 5] = ["Bean", "Local", "Entity", "Dao", "Util"];
/// Classes per package directory.
const CLASSES_PER_PACKAGE: usize = 40;
/// JSPs per `pages/secN/` directory.
const PAGES_PER_SECTION: usize = 50;

const MANIFEST: &str = "Manifest-Version: 1.0\r\nCreated-By: earpatch gen-large\r\n\r\n";

/// Where a file's bytes come from.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// Fixed text (manifests and descriptors).
    Text(String),
    /// Pseudo-random bytes of this flavour, sized around `file_bytes`.
    Generated(Flavour),
    /// A jar of generated class files.
    Jar {
        /// How many classes it holds.
        classes: usize,
    },
}

/// One file of a scope.
#[derive(Debug, Clone)]
pub(crate) struct FileEntry {
    /// The path inside the scope.
    pub(crate) path: String,
    /// How its bytes are made.
    pub(crate) content: Content,
}

impl FileEntry {
    fn new(path: String, content: Content) -> FileEntry {
        FileEntry { path, content }
    }

    /// Whether the entry is a jar kept stored (uncompressed) inside a module.
    pub(crate) fn is_nested_jar(&self) -> bool {
        matches!(self.content, Content::Jar { .. })
    }
}

/// The kind of a generated module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModuleKind {
    Web,
    Ejb,
}

/// One generated module.
#[derive(Debug, Clone)]
pub(crate) struct ModuleEntry {
    /// `wN.war` or `ejbN.jar`.
    pub(crate) uri: String,
    /// Web or EJB.
    pub(crate) kind: ModuleKind,
    /// N, from 1.
    pub(crate) number: usize,
}

impl ModuleEntry {
    /// The module's files, in archive order.
    pub(crate) fn files(&self, spec: &LargeSpec) -> Vec<FileEntry> {
        match self.kind {
            ModuleKind::Web => web_files(self.number, spec.files_per_web_module),
            ModuleKind::Ejb => ejb_files(self.number, spec.files_per_ejb),
        }
    }
}

/// The modules: `w1.war ..` then `ejb1.jar ..`.
pub(crate) fn modules(spec: &LargeSpec) -> Vec<ModuleEntry> {
    let web = (1..=spec.web_modules).map(|n| ModuleEntry {
        uri: format!("w{n}.war"),
        kind: ModuleKind::Web,
        number: n,
    });
    let ejb = (1..=spec.ejb_modules).map(|n| ModuleEntry {
        uri: format!("ejb{n}.jar"),
        kind: ModuleKind::Ejb,
        number: n,
    });
    web.chain(ejb).collect()
}

/// Number of `config/appN.dat` files.
pub(crate) fn config_dats(spec: &LargeSpec) -> usize {
    4 * spec.lib_jars.max(1)
}

/// Number of `config/legacy/oldN.dat` files (what the update deletes).
fn legacy_dats(spec: &LargeSpec) -> usize {
    (config_dats(spec) / 4).max(2)
}

/// The application-scope files, in archive order.
pub(crate) fn application_files(spec: &LargeSpec) -> Vec<FileEntry> {
    let mut files = vec![
        FileEntry::new(
            "META-INF/MANIFEST.MF".into(),
            Content::Text(MANIFEST.into()),
        ),
        FileEntry::new(
            "META-INF/application.xml".into(),
            Content::Text(application_xml(&modules(spec))),
        ),
    ];
    files.extend((0..spec.lib_jars).map(|k| {
        FileEntry::new(
            format!("lib/util{k}.jar"),
            Content::Jar {
                classes: UTIL_JAR_CLASSES,
            },
        )
    }));
    files.extend((0..config_dats(spec)).map(|k| {
        FileEntry::new(
            format!("config/app{k}.dat"),
            Content::Generated(Flavour::Dat),
        )
    }));
    files.extend((0..legacy_dats(spec)).map(|k| {
        FileEntry::new(
            format!("config/legacy/old{k}.dat"),
            Content::Generated(Flavour::Dat),
        )
    }));
    files
}

fn application_xml(modules: &[ModuleEntry]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <application xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\"\n             \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n             \
         xsi:schemaLocation=\"http://xmlns.jcp.org/xml/ns/javaee http://xmlns.jcp.org/xml/ns/javaee/application_7.xsd\"\n             \
         version=\"7\">\n  <display-name>Large generated application</display-name>\n",
    );
    for module in modules {
        match module.kind {
            ModuleKind::Web => {
                let _ = write!(
                    xml,
                    "  <module>\n    <web>\n      <web-uri>{}</web-uri>\n      \
                     <context-root>/w{}</context-root>\n    </web>\n  </module>\n",
                    module.uri, module.number
                );
            }
            ModuleKind::Ejb => {
                let _ = write!(
                    xml,
                    "  <module>\n    <ejb>{}</ejb>\n  </module>\n",
                    module.uri
                );
            }
        }
    }
    xml.push_str("  <library-directory>lib</library-directory>\n</application>\n");
    xml
}

fn web_class_path(n: usize, k: usize) -> String {
    let p = k / CLASSES_PER_PACKAGE;
    format!(
        "WEB-INF/classes/com/acme/w{n}/{}{p}/{}{k}.class",
        PACKAGES[p % PACKAGES.len()],
        WEB_CLASSES[k % WEB_CLASSES.len()]
    )
}

/// The files of web module `wN.war` with about `total` files.
fn web_files(n: usize, total: usize) -> Vec<FileEntry> {
    let rest = total.saturating_sub(WEB_FIXED_FILES);
    let classes = rest * 45 / 100;
    let pages = rest / 4;
    let statics = rest - classes - pages;

    let mut files = Vec::with_capacity(WEB_FIXED_FILES + rest);
    files.push(FileEntry::new(
        "META-INF/MANIFEST.MF".into(),
        Content::Text(MANIFEST.into()),
    ));
    files.push(FileEntry::new(
        "WEB-INF/web.xml".into(),
        Content::Text(web_xml(n, classes)),
    ));
    files.push(FileEntry::new(
        "index.jsp".into(),
        Content::Generated(Flavour::Jsp),
    ));
    files.extend((0..NESTED_JARS).map(|k| {
        FileEntry::new(
            format!("WEB-INF/lib/w{n}-lib{k}.jar"),
            Content::Jar {
                classes: NESTED_JAR_CLASSES,
            },
        )
    }));
    files.extend((0..OLD_PAGES).map(|k| {
        FileEntry::new(
            format!("pages/old/legacy{k}.jsp"),
            Content::Generated(Flavour::Jsp),
        )
    }));
    files.extend(
        (0..classes)
            .map(|k| FileEntry::new(web_class_path(n, k), Content::Generated(Flavour::Class))),
    );
    files.extend((0..pages).map(|k| {
        FileEntry::new(
            format!("pages/sec{}/page{k}.jsp", k / PAGES_PER_SECTION),
            Content::Generated(Flavour::Jsp),
        )
    }));
    files.extend((0..statics).map(|k| {
        let (path, flavour) = match k % 4 {
            0 => (format!("static/css/style{k}.css"), Flavour::Css),
            1 => (format!("static/js/app{k}.js"), Flavour::Js),
            2 => (format!("static/img/pic{k}.png"), Flavour::Png),
            _ => (format!("static/html/help{k}.html"), Flavour::Html),
        };
        FileEntry::new(path, Content::Generated(flavour))
    }));
    files
}

fn web_xml(n: usize, classes: usize) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <web-app xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"3.1\">\n  \
         <display-name>w{n}</display-name>\n"
    );
    // Declare the controllers among the first classes as servlets.
    for k in (0..classes.min(64)).filter(|k| k % WEB_CLASSES.len() == 0) {
        let class = web_class_path(n, k);
        let fqcn = class
            .trim_start_matches("WEB-INF/classes/")
            .trim_end_matches(".class")
            .replace('/', ".");
        let _ = write!(
            xml,
            "  <servlet>\n    <servlet-name>s{k}</servlet-name>\n    \
             <servlet-class>{fqcn}</servlet-class>\n  </servlet>\n  \
             <servlet-mapping>\n    <servlet-name>s{k}</servlet-name>\n    \
             <url-pattern>/s{k}/*</url-pattern>\n  </servlet-mapping>\n"
        );
    }
    xml.push_str(
        "  <welcome-file-list><welcome-file>index.jsp</welcome-file></welcome-file-list>\n</web-app>\n",
    );
    xml
}

fn ejb_class_path(n: usize, k: usize) -> String {
    let p = k / CLASSES_PER_PACKAGE;
    format!(
        "com/acme/ejb{n}/{}{p}/{}{k}.class",
        PACKAGES[p % PACKAGES.len()],
        EJB_CLASSES[k % EJB_CLASSES.len()]
    )
}

/// The files of EJB module `ejbN.jar` with about `total` files.
fn ejb_files(n: usize, total: usize) -> Vec<FileEntry> {
    let classes = total.saturating_sub(EJB_FIXED_FILES);
    let mut files = Vec::with_capacity(EJB_FIXED_FILES + classes);
    files.push(FileEntry::new(
        "META-INF/MANIFEST.MF".into(),
        Content::Text(MANIFEST.into()),
    ));
    files.push(FileEntry::new(
        "META-INF/ejb-jar.xml".into(),
        Content::Text(ejb_jar_xml(n, classes)),
    ));
    files.extend(
        (0..classes)
            .map(|k| FileEntry::new(ejb_class_path(n, k), Content::Generated(Flavour::Class))),
    );
    files
}

fn ejb_jar_xml(n: usize, classes: usize) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <ejb-jar xmlns=\"http://xmlns.jcp.org/xml/ns/javaee\" version=\"3.2\">\n  <enterprise-beans>\n",
    );
    for k in (0..classes.min(50)).filter(|k| k % EJB_CLASSES.len() == 0) {
        let fqcn = ejb_class_path(n, k)
            .trim_end_matches(".class")
            .replace('/', ".");
        let _ = write!(
            xml,
            "    <session>\n      <ejb-name>Bean{k}</ejb-name>\n      \
             <ejb-class>{fqcn}</ejb-class>\n      <session-type>Stateless</session-type>\n    </session>\n"
        );
    }
    xml.push_str("  </enterprise-beans>\n</ejb-jar>\n");
    xml
}

/// Replaces `out` with the bytes of the file at `full_path` (its path from
/// the EAR root) whose content is `content`, at `revision` (0 in the
/// application, 1 in the update).
pub(crate) fn render(
    spec: &LargeSpec,
    full_path: &str,
    content: &Content,
    revision: u64,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    match content {
        Content::Text(text) => {
            out.clear();
            out.extend_from_slice(text.as_bytes());
        }
        Content::Generated(flavour) => {
            let mut rng = Prng::for_file(spec.seed, full_path, revision);
            let size = size_of(&mut rng, spec.file_bytes);
            fill_body(&mut rng, *flavour, size, out);
        }
        Content::Jar { classes } => {
            let jar = jar_bytes(spec, full_path, *classes, revision)?;
            out.clear();
            out.extend_from_slice(&jar);
        }
    }
    Ok(())
}

/// A jar of `classes` generated classes, built in memory (a jar is at most
/// `classes * file_bytes * 3/2` bytes before compression).
fn jar_bytes(
    spec: &LargeSpec,
    full_path: &str,
    classes: usize,
    revision: u64,
) -> io::Result<Vec<u8>> {
    let stem = full_path
        .rsplit('/')
        .next()
        .unwrap_or(full_path)
        .trim_end_matches(".jar")
        .replace(|c: char| !c.is_ascii_alphanumeric(), "_");
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("META-INF/MANIFEST.MF", super::entry_options(false))?;
    zip.write_all(MANIFEST.as_bytes())?;
    let mut buf = Vec::new();
    for k in 0..classes {
        let name = format!("com/acme/{stem}/C{k}.class");
        let mut rng = Prng::for_file(spec.seed, &format!("{full_path}!/{name}"), revision);
        let size = size_of(&mut rng, spec.file_bytes);
        fill_body(&mut rng, Flavour::Class, size, &mut buf);
        zip.start_file(name, super::entry_options(false))?;
        zip.write_all(&buf)?;
    }
    Ok(zip.finish()?.into_inner())
}
