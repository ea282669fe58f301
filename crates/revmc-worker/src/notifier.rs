//! A one-shot slot that synchronous callers wait on until their compilation completes.

use crate::CompileError;
use revmc_cache::CompiledProgram;
use std::sync::{Arc, Condvar, Mutex};

type Outcome = Result<Arc<CompiledProgram>, CompileError>;

/// Completed once with the outcome of a compilation; any number of threads may wait.
#[derive(Debug, Default)]
pub struct Notifier {
    outcome: Mutex<Option<Outcome>>,
    done: Condvar,
}

impl Notifier {
    /// A new, incomplete notifier.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Stores `outcome` and wakes every waiter. Only the first completion counts.
    pub fn complete(&self, outcome: Outcome) {
        let mut slot = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(outcome);
            self.done.notify_all();
        }
    }

    /// Blocks until the notifier is completed, then returns the outcome.
    pub fn wait(&self) -> Outcome {
        let mut slot = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(outcome) = &*slot {
                return outcome.clone();
            }
            slot = self.done.wait(slot).unwrap_or_else(|e| e.into_inner());
        }
    }
}
