//! Fuzz target: a transaction over two generated contracts (valid jumps, calls into
//! themselves and each other, creates, storage, logs; see `revmc_testkit::generate`) ends
//! the same with compiled frames as in revm's interpreter: status, gas used and refunded,
//! output, logs, and every account's balance, nonce, code and storage. The first byte picks
//! the tier, and whether the paths that can only fail are left to the interpreter (as the
//! runtime does) or compiled too; or both tiers as the runtime runs them
//! (`JitCache::tiered`): the first tier recording what the transaction runs without call
//! data or value, then the transaction on the optimizing tier's code of what that ran,
//! and again on the code compiled from the profile its cold frames widened, which it
//! must run without leaving.

#![no_main]

use libfuzzer_sys::fuzz_target;
use revmc_ir::Limits;
use revmc_runtime::OptLevel;
use revmc_runtime::evm::JitCache;
use revmc_testkit::tx::{Case, check};
use std::cell::RefCell;

thread_local! {
    static CACHES: RefCell<[JitCache; 5]> = RefCell::new([
        cache(OptLevel::O0, true),
        cache(OptLevel::O2, true),
        cache(OptLevel::O0, false),
        cache(OptLevel::O2, false),
        JitCache::tiered(OptLevel::O0, OptLevel::O2).unwrap(),
    ]);
}

fn cache(level: OptLevel, interpret_failing_paths: bool) -> JitCache {
    let limits = Limits { interpret_failing_paths, ..Limits::default() };
    JitCache::new(level).unwrap().with_limits(limits)
}

fuzz_target!(|data: &[u8]| {
    let Some((&level, data)) = data.split_first() else { return };
    let Some(case) = Case::from_bytes(data) else { return };
    CACHES.with(|caches| {
        let cache = &mut caches.borrow_mut()[usize::from(level % 5)];
        if level % 5 == 4 {
            // Profiled on the transaction without call data or value; then the case
            // itself runs on the optimizing tier's code of that, leaving to the
            // interpreter where it goes elsewhere.
            let profiled = Case { calldata: Vec::new(), value: 0, ..case.clone() };
            if let Err(diff) = check(&profiled, cache) {
                panic!("first tier: {diff}\n{profiled:?}");
            }
            cache.optimize_what_ran();
            if let Err(diff) = check(&case, cache) {
                panic!("optimized from what ran: {diff}\n{case:?}");
            }
            // Its frames that left the code recorded what they ran in the interpreter:
            // compiled again from that, the case runs without leaving.
            cache.optimize_what_ran();
            match check(&case, cache) {
                Ok(stats) if stats.left_cold > 0 => panic!("left cold: {stats:?}\n{case:?}"),
                Ok(_) => {}
                Err(diff) => panic!("optimized from the widened profile: {diff}\n{case:?}"),
            }
            // What was profiled is all compiled.
            match check(&profiled, cache) {
                Ok(stats) if stats.left_cold > 0 => panic!("left cold: {stats:?}\n{profiled:?}"),
                Ok(_) => {}
                Err(diff) => panic!("optimized from what ran: {diff}\n{profiled:?}"),
            }
        } else if let Err(diff) = check(&case, cache) {
            panic!("{diff}\n{case:?}");
        }
        // Compiled code is freed per input, so memory stays bounded over long runs.
        cache.clear();
    });
});
