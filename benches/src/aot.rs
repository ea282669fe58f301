//! AOT programs for benchmarks: compiled to a shared library, linked, put in a temporary
//! artifact store and loaded back through the store's verification, as a node would.

use anyhow::bail;
use revmc_llvm::{AotCompiler, OptLevel};
use revmc_runtime::evm::ProgramSource;
use revmc_runtime::store::{
    ArtifactBuild, ArtifactKey, ArtifactStore, FsStore, Loaded, options_hash,
};
use revmc_runtime::{CompiledProgram, RuntimeCacheKey};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An AOT compiler with an empty temporary store; a [`ProgramSource`] that compiles on
/// first sight.
#[derive(Debug)]
pub struct Aot {
    compiler: AotCompiler,
    store: FsStore,
    _dir: tempfile::TempDir,
    build: ArtifactBuild,
    limits: revmc_ir::Limits,
    programs: HashMap<RuntimeCacheKey, Option<Arc<CompiledProgram>>>,
    /// Compilations that failed, with their errors.
    pub failures: Vec<(RuntimeCacheKey, String)>,
    /// Time spent compiling, linking, storing and loading.
    pub compile_time: Duration,
}

impl Aot {
    /// An AOT compiler at `level` translating under `limits`, with an empty temporary store.
    pub fn new(level: OptLevel, limits: revmc_ir::Limits) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        Ok(Self {
            compiler: AotCompiler::new(level)?,
            store: FsStore::open(dir.path())?,
            _dir: dir,
            build: ArtifactBuild {
                target: revmc_llvm::host_target_id(),
                build_id: revmc_llvm::build_id(),
                opt_level: level as u8,
                options_hash: options_hash(&format!("{limits:?}")),
            },
            limits,
            programs: HashMap::new(),
            failures: Vec::new(),
            compile_time: Duration::ZERO,
        })
    }

    /// Compiles `code` (whose key is `key`), persists it and loads it back.
    fn load(&self, key: RuntimeCacheKey, code: &[u8]) -> anyhow::Result<CompiledProgram> {
        let artifact = ArtifactKey::new(key, &self.build);
        let symbol = format!("bench_{}", artifact.id());
        let (library, _) =
            revmc_worker::compile_aot(&self.compiler, &symbol, code, key.spec_id, &self.limits)?;
        self.store.store(&artifact, &library.bytes, &library.symbol)?;
        match self.store.load(&artifact)? {
            Loaded::Hit(program) => Ok(program),
            other => bail!("the stored library did not load: {other:?}"),
        }
    }
}

impl ProgramSource for Aot {
    fn program(&mut self, key: RuntimeCacheKey, code: &[u8]) -> Option<Arc<CompiledProgram>> {
        if let Some(p) = self.programs.get(&key) {
            return p.clone();
        }
        let start = Instant::now();
        let program = match self.load(key, code) {
            Ok(p) => Some(Arc::new(p)),
            Err(e) => {
                self.failures.push((key, format!("{e:#}")));
                None
            }
        };
        self.compile_time += start.elapsed();
        self.programs.insert(key, program.clone());
        program
    }
}
