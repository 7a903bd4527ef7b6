//! Policy loading and CEL evaluation: policies come from the fuzzed repo's `policies/`; a run
//! ends with findings or a load error, within the cost budget.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use meshform::gloo::Model;
use meshform::policy;

fuzz_target!(|input: common::FuzzRepo| {
    if let Some(repo) = input.load() {
        let (model, _) = Model::build(&repo);
        let _ = policy::check(&repo, &model, &[], false);
    }
});
