//! Arbitrary bytes as `META-INF/application.xml` (`Descriptor::parse`) and
//! as a delete list (`DeleteList::parse`); parsed patterns are matched
//! against a few paths.
#![no_main]

use ear_core::{DeleteList, Descriptor, Scope};
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 6] = [
    "a.dat",
    "config/tax/rates.dat",
    "lib/util.jar",
    "META-INF/application.xml",
    "storefront.war/WEB-INF/web.xml",
    "",
];

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = Descriptor::parse(data, "fuzz!META-INF/application.xml") {
        let _ = format!("{d:?}");
    }
    if let Ok(list) = DeleteList::parse(data, "fuzz!META-INF/ibm-partialapp-delete.props", Scope::Application) {
        for p in &list.patterns {
            for path in PATHS {
                let _ = p.matches(path);
                let _ = p.finds(path);
            }
        }
    }
});
