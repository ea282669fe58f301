//! The artifact store's disk I/O and `dlopen`, off the coordinator thread.
//!
//! In AOT mode, promoting a key first tries the store (an evicted program comes back from
//! disk), and a compiled library is written to the store and loaded back. Both can take as
//! long as the disk does; on the coordinator they would hold up every other key's
//! promotion. The coordinator hands them to these threads instead: a load that misses
//! dispatches the compilation from here, and a stored library's result is recorded from
//! here, exactly as the coordinator would.

use super::results;
use super::shared::Shared;
use super::stats::Counters;
use crossbeam_channel::{Sender, unbounded};
use revm::primitives::Bytes;
use revmc_cache::{RuntimeCacheKey, Tier};
use revmc_worker::{CompileKind, Rejected, WorkerResult};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Threads for store I/O: two, so that one slow load does not hold up another key's.
const THREADS: usize = 2;

enum Job {
    /// Load `key`'s artifact, or compile `code` if there is none.
    Load { key: RuntimeCacheKey, code: Bytes },
    /// Persist a compiled library and record the result.
    Persist(Box<WorkerResult>),
}

/// See the module documentation.
pub(crate) struct StoreIo {
    jobs: Option<Sender<Job>>,
    /// Keys with a load queued or running, so that repeated events queue one.
    loading: Arc<Mutex<HashSet<RuntimeCacheKey>>>,
    handles: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl StoreIo {
    pub fn start(shared: &Arc<Shared>) -> Self {
        let (jobs, queue) = unbounded::<Job>();
        let loading = Arc::new(Mutex::new(HashSet::new()));
        let handles = (0..THREADS)
            .filter_map(|i| {
                let (shared, queue, loading) = (shared.clone(), queue.clone(), loading.clone());
                std::thread::Builder::new()
                    .name(format!("revmc-store-{i}"))
                    .spawn(move || {
                        for job in queue {
                            match job {
                                Job::Load { key, code } => {
                                    load_or_compile(&shared, key, &code);
                                    loading.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
                                }
                                Job::Persist(result) => {
                                    results::record(&shared, *result);
                                    collect(&shared);
                                }
                            }
                        }
                    })
                    .map_err(|e| tracing::error!(error = %e, "cannot start a store thread"))
                    .ok()
            })
            .collect();
        Self { jobs: Some(jobs), loading, handles, shared: shared.clone() }
    }

    /// Queues a load of `key` (a compilation of `code` if the store has none), unless one
    /// is queued already.
    pub fn load(&self, key: RuntimeCacheKey, code: &Bytes) {
        if !self.loading.lock().unwrap_or_else(|e| e.into_inner()).insert(key) {
            return;
        }
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job::Load { key, code: code.clone() });
        }
    }

    /// Queues the persistence of a compiled library and the recording of its result.
    /// Without store threads (none could start) it is done here, so that no waiter of
    /// the result is left hanging.
    pub fn persist(&self, result: WorkerResult) {
        let job = Job::Persist(Box::new(result));
        let unsent = match &self.jobs {
            Some(jobs) => jobs.send(job).err().map(|e| e.into_inner()),
            None => Some(job),
        };
        if let Some(Job::Persist(result)) = unsent {
            results::record(&self.shared, *result);
        }
    }

    /// Finishes the queued jobs and joins the threads.
    pub fn finish(mut self) {
        self.jobs = None;
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// A promotion in AOT mode: the store's artifact if it has one, else a compilation.
fn load_or_compile(shared: &Shared, key: RuntimeCacheKey, code: &[u8]) {
    if shared.cache.contains(&key) || shared.load_artifact(key).is_some() {
        return;
    }
    if shared.dispatch(key, code, CompileKind::Aot, Tier::Optimized).1 == Some(Rejected::Full) {
        Counters::bump(&shared.counters.deferred);
    }
}

/// Keeps the store within `Tuning::store_byte_budget` after a library was added.
fn collect(shared: &Shared) {
    let budget = shared.policy.tuning.store_byte_budget;
    let (Some(store), false) = (&shared.store, budget == 0) else {
        return;
    };
    match store.gc(budget) {
        Ok(r) if r.artifacts_removed + r.debris_removed > 0 => tracing::debug!(?r, "store gc"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "store gc"),
    }
}
