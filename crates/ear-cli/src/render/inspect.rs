//! The `inspect` report: the JSON document (`earpatch.inspect/v1`) built
//! from an opened application and its inventory, and its text and Markdown
//! forms.
//!
//! Pure: reads the application's model and inventory (already in memory),
//! never the file system; never prints.

use std::fmt::Write as _;

use ear_core::{Application, Inventory, LibraryDirectory, Scope, Storage, Warning};
use serde::Serialize;

use super::{human_bytes, json, plural, warnings};
use crate::cli::Format;

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    application: AppInfo,
    descriptor: Option<DescriptorInfo<'a>>,
    library_directory: Option<String>,
    modules: Vec<ModuleInfo<'a>>,
    application_scope: ScopeTotals,
    standalone: bool,
    warnings: Vec<Warning>,
}

#[derive(Serialize)]
struct AppInfo {
    path: String,
    form: ear_core::Form,
    digest: String,
    files: usize,
    bytes: u64,
}

#[derive(Serialize)]
struct DescriptorInfo<'a> {
    path: &'static str,
    version: Option<&'a str>,
    display_name: Option<&'a str>,
}

#[derive(Serialize)]
struct ModuleInfo<'a> {
    uri: &'a str,
    kind: ear_core::ModuleKind,
    context_root: Option<&'a str>,
    alt_dd: Option<&'a str>,
    storage: Storage,
    declared: bool,
    files: usize,
    bytes: u64,
}

#[derive(Serialize)]
struct ScopeTotals {
    files: usize,
    bytes: u64,
}

/// Renders the inspection of `app` in `format`.
pub fn render(
    app: &Application,
    inventory: &Inventory,
    format: Format,
) -> Result<String, serde_json::Error> {
    let report = build(app, inventory);
    Ok(match format {
        Format::Json => json(&report)?,
        Format::Text => text(&report),
        Format::Markdown => markdown(&report),
    })
}

fn build<'a>(app: &'a Application, inventory: &Inventory) -> Report<'a> {
    let totals = |scope: &Scope| {
        inventory
            .scope(scope)
            .map_or(ScopeTotals { files: 0, bytes: 0 }, |s| ScopeTotals {
                files: s.files.len(),
                bytes: s.bytes(),
            })
    };
    let modules = app
        .modules()
        .iter()
        .map(|m| {
            let t = totals(&Scope::Module(m.uri.clone()));
            ModuleInfo {
                uri: m.uri.as_str(),
                kind: m.kind,
                context_root: m.context_root.as_deref(),
                alt_dd: m.alt_dd.as_deref(),
                storage: m.storage,
                declared: m.declared,
                files: t.files,
                bytes: t.bytes,
            }
        })
        .collect();
    let mut warnings: Vec<Warning> = app
        .warnings()
        .iter()
        .chain(&inventory.warnings)
        .cloned()
        .collect();
    warnings.dedup();
    Report {
        schema: "earpatch.inspect/v1",
        application: AppInfo {
            path: app.path().display().to_string(),
            form: app.form(),
            digest: inventory.digest().to_string(),
            files: inventory.scopes.iter().map(|s| s.files.len()).sum(),
            bytes: inventory
                .scopes
                .iter()
                .map(ear_core::ScopeInventory::bytes)
                .sum(),
        },
        descriptor: app.descriptor().map(|d| DescriptorInfo {
            path: ear_core::model::DESCRIPTOR_PATH,
            version: d.version.as_deref(),
            display_name: d.display_name.as_deref(),
        }),
        library_directory: match app.library_directory() {
            LibraryDirectory::None => None,
            LibraryDirectory::Root => Some(String::new()),
            LibraryDirectory::Dir(d) => Some(d.to_string()),
        },
        modules,
        application_scope: totals(&Scope::Application),
        standalone: app.is_standalone_module(),
        warnings,
    }
}

fn text(r: &Report<'_>) -> String {
    let mut out = String::new();
    let a = &r.application;
    let _ = writeln!(
        out,
        "{} ({}, {}, {})",
        a.path,
        a.form,
        plural(a.files, "file", "files"),
        human_bytes(a.bytes)
    );
    let _ = writeln!(out, "  digest             {}", a.digest);
    let descriptor = match &r.descriptor {
        Some(d) => format!(
            "{}{}{}",
            d.path,
            d.version
                .map(|v| format!(" (version {v})"))
                .unwrap_or_default(),
            d.display_name
                .map(|n| format!(" \"{n}\""))
                .unwrap_or_default()
        ),
        None if r.standalone => "none (a standalone module archive)".to_owned(),
        None => "none: modules found by naming conventions".to_owned(),
    };
    let _ = writeln!(out, "  descriptor         {descriptor}");
    let lib = match &r.library_directory {
        None => "none".to_owned(),
        Some(d) if d.is_empty() => "the EAR root".to_owned(),
        Some(d) => format!("{d}/"),
    };
    let _ = writeln!(out, "  library directory  {lib}");
    let _ = writeln!(
        out,
        "  application scope  {}, {}",
        plural(r.application_scope.files, "file", "files"),
        human_bytes(r.application_scope.bytes)
    );
    let _ = writeln!(out, "\nmodules ({})", r.modules.len());
    let width = r.modules.iter().map(|m| m.uri.len()).max().unwrap_or(0);
    let root_width = r
        .modules
        .iter()
        .map(|m| m.context_root.map_or(0, str::len))
        .max()
        .unwrap_or(0);
    for m in &r.modules {
        let mut detail = match m.storage {
            Storage::Missing => "MISSING".to_owned(),
            _ => format!(
                "{}, {}",
                plural(m.files, "file", "files"),
                human_bytes(m.bytes)
            ),
        };
        if m.storage == Storage::Directory {
            detail.push_str(", directory");
        }
        if !m.declared {
            detail.push_str(", by convention");
        }
        let _ = writeln!(
            out,
            "  {:<9} {:<width$}  {:<root_width$}  {detail}",
            m.kind.to_string(),
            m.uri,
            m.context_root.unwrap_or("")
        );
        if let Some(dd) = m.alt_dd {
            let _ = writeln!(out, "  {:<9} {:<width$}  alt-dd {dd}", "", "");
        }
    }
    warnings(&mut out, &r.warnings, Format::Text, false);
    out
}

fn markdown(r: &Report<'_>) -> String {
    let mut out = String::new();
    let a = &r.application;
    let _ = writeln!(out, "### `{}` ({})\n", a.path, a.form);
    let _ = writeln!(
        out,
        "Digest `{}`, {}, {}.\n",
        a.digest,
        plural(a.files, "file", "files"),
        human_bytes(a.bytes)
    );
    let _ = writeln!(
        out,
        "| module | kind | context root | files | bytes |\n|---|---|---|---:|---:|"
    );
    for m in &r.modules {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            m.uri,
            m.kind,
            m.context_root.unwrap_or(""),
            m.files,
            m.bytes
        );
    }
    warnings(&mut out, &r.warnings, Format::Markdown, false);
    out
}
