//! Partial updates with many entries into one module, and the folder checks
//! every entry goes through, on both forms of the application.

use std::path::{Path, PathBuf};

use ear_core::{Application, Op, Plan, PlanOptions, Update, WarningCode};
use ear_fixtures::{ZipBuilder, write_expanded, zip_of};

type R<T = ()> = Result<T, Box<dyn std::error::Error>>;

const APP_XML: &str = r#"<application version="7"><module><web><web-uri>w.war</web-uri><context-root>/w</context-root></web></module></application>"#;

/// An application with one web module holding `files`, in both forms.
fn both_forms(dir: &Path, files: &[(&str, &[u8])]) -> R<[PathBuf; 2]> {
    let war = zip_of(files);
    let ear = ZipBuilder::new()
        .file("META-INF/application.xml", APP_XML)
        .file("w.war", war)
        .finish();
    let archive = dir.join("app.ear");
    std::fs::write(&archive, &ear)?;
    let expanded = dir.join("app");
    write_expanded(&ear, &expanded, &["w.war"])?;
    Ok([archive, expanded])
}

fn plan(app: &Path, update: &Path) -> ear_core::Result<Plan> {
    Plan::new(
        &Application::open(app)?,
        &Update::partial(update)?,
        &PlanOptions::default().digest(false),
    )
}

#[test]
fn a_file_over_a_folder_is_refused_even_when_a_sibling_sorts_between() -> R {
    let dir = tempfile::tempdir()?;
    // `css/a-b.css` and `css/a.txt` sort between `css/a` and `css/a/x.css`.
    let apps = both_forms(
        dir.path(),
        &[
            ("WEB-INF/web.xml", b"<web-app/>"),
            ("css/a-b.css", b"x"),
            ("css/a.txt", b"t"),
            ("css/a/x.css", b"y"),
        ],
    )?;
    let over_folder = dir.path().join("over-folder.zip");
    std::fs::write(&over_folder, zip_of(&[("w.war/css/a", b"a file")]))?;
    let under_file = dir.path().join("under-file.zip");
    std::fs::write(&under_file, zip_of(&[("w.war/css/a.txt/b", b"a file")]))?;
    for app in &apps {
        let err = plan(app, &over_folder)
            .err()
            .ok_or("a file over a folder was planned")?;
        let text = err.to_string();
        assert!(
            text.contains("w.war/css/a is a directory")
                && text.contains("over-folder.zip!w.war/css/a"),
            "{}: {text}",
            app.display()
        );
        let err = plan(app, &under_file)
            .err()
            .ok_or("a file under a file was planned")?;
        assert!(
            err.to_string().contains("w.war/css/a.txt is a file"),
            "{}: {err}",
            app.display()
        );
    }
    Ok(())
}

#[test]
fn many_entries_into_one_module_with_a_delete_list() -> R {
    let dir = tempfile::tempdir()?;
    let apps = both_forms(
        dir.path(),
        &[
            ("WEB-INF/web.xml", b"<web-app/>"),
            ("css/old.css", b"old"),
            ("css/kept.css", b"kept"),
            ("gen/d0001/f0001005.txt", b"before"),
        ],
    )?;
    const N: usize = 5_000;
    let mut zip = ZipBuilder::new();
    for i in 0..N {
        let path = format!("w.war/gen/d{:04}/f{i:07}.txt", i / 1000);
        zip = zip.file(&path, format!("file {i}"));
    }
    // `css/.*` matches an old file and one this update writes; `gen/.*5\.txt`
    // only files it writes.
    zip = zip.file("w.war/css/kept.css", "kept").file(
        "w.war/META-INF/ibm-partialapp-delete.props",
        "css/(old|kept)\\.css\ngen/d000[0-4]/f.*5\\.txt\n",
    );
    let update = dir.path().join("many.zip");
    std::fs::write(&update, zip.finish())?;
    let mut results = Vec::new();
    for app in &apps {
        let plan = plan(app, &update)?;
        let ops: Vec<(String, Op)> = plan
            .changes
            .iter()
            .map(|c| (c.path.to_string(), c.op))
            .collect();
        let count = |op: Op| ops.iter().filter(|(_, o)| *o == op).count();
        assert_eq!(count(Op::Add), N - 1, "{}", app.display());
        assert_eq!(count(Op::Replace), 1, "gen/d0001/f0001005.txt changes");
        assert_eq!(count(Op::Unchanged), 1, "css/kept.css is shipped as it is");
        assert_eq!(
            ops.iter()
                .filter(|(_, o)| *o == Op::Delete)
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>(),
            ["w.war/css/old.css"],
            "a delete list never deletes what the update writes"
        );
        assert!(plan.changes.iter().all(|c| c.scope.as_str() == "w.war"));
        assert_eq!(
            plan.warnings.iter().map(|w| w.code).collect::<Vec<_>>(),
            [WarningCode::DeletePatternDeletesNothing],
            "{:?}",
            plan.warnings
        );
        results.push(ops);
    }
    assert_eq!(results[0], results[1], "both forms plan the same");
    Ok(())
}
