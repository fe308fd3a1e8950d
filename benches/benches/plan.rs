//! Planning a 50-file update with 2 delete lists against a large application
//! (issue: plan in under 0.5 s on the ~1 GB / 300,000-file application,
//! because only the touched modules are read).
//!
//! `cargo bench -p ear-bench --bench plan` (set `EARPATCH_BENCH_PRESET=medium`
//! for the ~100 MB application).

use criterion::{Criterion, criterion_group, criterion_main};
use ear_core::{Application, Plan, PlanOptions, Update};

fn plan(c: &mut Criterion) {
    let preset = std::env::var("EARPATCH_BENCH_PRESET").unwrap_or_else(|_| "full".to_owned());
    let dir = ear_bench::data::inputs(&preset, false).expect("generate benchmark inputs");
    let (ear, zip) = (dir.join("app.ear"), dir.join("update.zip"));
    let mut group = c.benchmark_group(format!("plan-{preset}"));
    group.sample_size(10);
    group.bench_function("open+plan (no digest)", |b| {
        b.iter(|| {
            let app = Application::open(&ear).expect("open");
            let update = Update::partial(&zip).expect("update");
            let plan =
                Plan::new(&app, &update, &PlanOptions::default().digest(false)).expect("plan");
            assert!(!plan.changes.is_empty());
            plan
        });
    });
    group.bench_function("open only (baseline)", |b| {
        b.iter(|| Application::open(&ear).expect("open"))
    });
    group.finish();
}

criterion_group!(benches, plan);
criterion_main!(benches);
