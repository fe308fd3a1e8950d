//! Arbitrary bytes as `fix.zip`: `Update::partial`, then `Plan::new` against
//! the sample application (archive form, written once per process).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use ear_core::{Application, Plan, PlanOptions, Update};
use libfuzzer_sys::fuzz_target;

struct Env {
    dir: PathBuf,
    app: Application,
}

static ENV: OnceLock<Env> = OnceLock::new();

fn env() -> &'static Env {
    ENV.get_or_init(|| {
        let dir = earpatch_fuzz::scratch_dir("partial_update");
        let ear = dir.join("shop.ear");
        std::fs::write(&ear, ear_fixtures::sample::shop_ear()).expect("write shop.ear");
        let app = Application::open(&ear).expect("open the sample");
        Env { dir, app }
    })
}

fuzz_target!(|data: &[u8]| {
    let env = env();
    let zip = env.dir.join("fix.zip");
    std::fs::write(&zip, data).expect("write fix.zip");
    let Ok(update) = Update::partial(&zip) else {
        return;
    };
    let _ = update.kind();
    if let Ok(plan) = Plan::new(&env.app, &update, &PlanOptions::default()) {
        let _ = plan.is_noop();
        for c in plan.effective_changes() {
            let _ = format!("{} {} {:?} {} {}", c.op, c.path, c.rule, c.effect, c.scope);
        }
        let _ = format!("{:?}", plan);
    }
});
