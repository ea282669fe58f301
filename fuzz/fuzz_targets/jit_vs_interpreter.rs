//! Fuzz target: a transaction over two generated contracts (valid jumps, calls into
//! themselves and each other, creates, storage, logs; see `revmc_testkit::generate`) ends
//! the same with compiled frames as in revm's interpreter: status, gas used and refunded,
//! output, logs, and every account's balance, nonce, code and storage.

#![no_main]

use libfuzzer_sys::fuzz_target;
use revmc_runtime::OptLevel;
use revmc_runtime::evm::JitCache;
use revmc_testkit::tx::{Case, check};
use std::cell::RefCell;

thread_local! {
    static CACHES: RefCell<[JitCache; 2]> = RefCell::new(
        [OptLevel::O0, OptLevel::O2].map(|level| JitCache::new(level).unwrap())
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&level, data)) = data.split_first() else { return };
    let Some(case) = Case::from_bytes(data) else { return };
    CACHES.with(|caches| {
        let cache = &mut caches.borrow_mut()[usize::from(level & 1)];
        if let Err(diff) = check(&case, cache) {
            panic!("{diff}\n{case:?}");
        }
        // Compiled code is freed per input, so memory stays bounded over long runs.
        cache.clear();
    });
});
