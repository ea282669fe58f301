//! The AOT compiler: IR → position-independent object → shared library, linked by the
//! system C compiler driver (`cc -shared`).
//!
//! The library exports the EVM function and `revmc_abi_version` (a `u32`), which the
//! loader checks before trusting the function. It needs nothing from the host binary:
//! builtins come through the context's table.

use crate::{LlvmError, OptLevel, PhaseTimes, opt};
use inkwell::targets::TargetMachine;
use inkwell::values::BasicValue;
use revmc_ir::abi::ABI_VERSION;
use revmc_ir::ir::Function;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Name of the exported `u32` holding the ABI version the library was compiled for.
pub const ABI_VERSION_SYMBOL: &str = "revmc_abi_version";

/// The linker driver: `cc` on PATH, or `$REVMC_CC`.
fn linker() -> String {
    std::env::var("REVMC_CC").unwrap_or_else(|_| "cc".into())
}

/// A linked shared library, in memory.
#[derive(Debug, Clone)]
pub struct SharedLibrary {
    /// The library file's bytes.
    pub bytes: Vec<u8>,
    /// The exported EVM function.
    pub symbol: String,
    /// Time per phase; `link` is the linker run.
    pub phases: PhaseTimes,
}

/// Compiles IR functions into shared libraries for this host.
#[derive(Debug)]
pub struct AotCompiler {
    machine: TargetMachine,
    opt_level: OptLevel,
    /// Whether the first tier copies a word in one 32-byte move (the host has AVX).
    wide_copies: bool,
    link_timeout: Duration,
}

/// How long the linker may run before it is killed and the compilation fails.
pub const DEFAULT_LINK_TIMEOUT: Duration = Duration::from_secs(30);

impl AotCompiler {
    /// A compiler for the host CPU at `opt_level`.
    pub fn new(opt_level: OptLevel) -> Result<Self, LlvmError> {
        let machine = opt::host_target_machine(opt_level)?;
        Ok(Self {
            wide_copies: opt::has_32_byte_vectors(&machine),
            machine,
            opt_level,
            link_timeout: DEFAULT_LINK_TIMEOUT,
        })
    }

    /// The same compiler, killing a linker run that takes longer than `timeout`.
    pub fn with_link_timeout(self, timeout: Duration) -> Self {
        Self { link_timeout: timeout, ..self }
    }

    /// The optimization level.
    pub fn opt_level(&self) -> OptLevel {
        self.opt_level
    }

    /// Compiles `func` into a shared library exporting it as `symbol`.
    pub fn compile(&self, func: &Function, symbol: &str) -> Result<SharedLibrary, LlvmError> {
        stacker::grow(crate::jit::COMPILE_STACK, || self.compile_on_this_stack(func, symbol))
    }

    /// Compiles `func` into a relocatable object defining `symbol` (what is linked into
    /// the shared library), for inspection.
    pub fn compile_object(&self, func: &Function, symbol: &str) -> Result<Vec<u8>, LlvmError> {
        stacker::grow(crate::jit::COMPILE_STACK, || {
            let mut phases = PhaseTimes::default();
            Ok(self.object(func, symbol, &mut phases)?.as_slice().to_vec())
        })
    }

    fn object(
        &self,
        func: &Function,
        symbol: &str,
        phases: &mut PhaseTimes,
    ) -> Result<inkwell::memory_buffer::MemoryBuffer<'static>, LlvmError> {
        let level = self.opt_level;
        // AOT code is optimized: first-tier splitting, at the default cost, only applies
        // to an O0 library made for inspection.
        let options =
            crate::lower::LowerOptions { wide_copies: self.wide_copies, ..Default::default() };
        crate::object::emit_object(
            func,
            symbol,
            &self.machine,
            None,
            level,
            &options,
            phases,
            |module| {
                let cx = module.get_context();
                let i32t = cx.i32_type();
                let g = module.add_global(i32t, None, ABI_VERSION_SYMBOL);
                g.set_initializer(&i32t.const_int(ABI_VERSION as u64, false).as_basic_value_enum());
                g.set_constant(true);
                Ok(())
            },
        )
    }

    fn compile_on_this_stack(
        &self,
        func: &Function,
        symbol: &str,
    ) -> Result<SharedLibrary, LlvmError> {
        let mut phases = PhaseTimes::default();
        let object = self.object(func, symbol, &mut phases)?;
        let t = Instant::now();
        let bytes = link(object.as_slice(), self.link_timeout)?;
        phases.link = t.elapsed();
        Ok(SharedLibrary { bytes, symbol: symbol.to_string(), phases })
    }
}

/// Links one object into a shared library with `cc -shared`, killing the linker if it runs
/// past `timeout` (a wedged toolchain must not hold a worker forever).
fn link(object: &[u8], timeout: Duration) -> Result<Vec<u8>, LlvmError> {
    let io = |what: &str, e: std::io::Error| LlvmError::Link(format!("{what}: {e}"));
    let dir = tempfile::tempdir().map_err(|e| io("temporary directory", e))?;
    let (obj, lib) = (dir.path().join("evm.o"), dir.path().join("evm.so"));
    let errors = dir.path().join("stderr");
    std::fs::File::create(&obj)
        .and_then(|mut f| f.write_all(object))
        .map_err(|e| io("writing the object", e))?;
    let stderr = std::fs::File::create(&errors).map_err(|e| io("creating a log", e))?;
    let cc = linker();
    // Output goes to a file, not a pipe: a pipe could fill while we poll.
    let mut child = Command::new(&cc)
        .args(["-shared", "-nostartfiles", "-Wl,--build-id=none", "-o"])
        .arg(&lib)
        .arg(&obj)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| io(&format!("running `{cc}` (install a C toolchain, e.g. gcc)"), e))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| io(&format!("waiting for `{cc}`"), e))? {
            Some(status) => break status,
            None if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(LlvmError::Link(format!("`{cc} -shared` timed out after {timeout:?}")));
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    };
    if !status.success() {
        let log = std::fs::read_to_string(&errors).unwrap_or_default();
        return Err(LlvmError::Link(format!("`{cc} -shared` failed: {}", log.trim())));
    }
    std::fs::read(&lib).map_err(|e| io("reading the library", e))
}

/// Identifies the code this process generates: target triple, CPU and its features.
/// Artifacts built for another target id must not be loaded here.
pub fn host_target_id() -> String {
    let _ = opt::init_native_target();
    let triple = TargetMachine::get_default_triple();
    let cpu = TargetMachine::get_host_cpu_name();
    let features = TargetMachine::get_host_cpu_features();
    format!(
        "{}/{}/{}",
        triple.as_str().to_string_lossy(),
        cpu.to_string_lossy(),
        features.to_string_lossy()
    )
}

/// What built this compiler: a hash over the sources of the translator, the ABI, the
/// lowering and the pipeline (made at build time), and LLVM's version. Any change to
/// them changes the id, so an artifact key made with it never matches code compiled by
/// another build.
pub fn build_id() -> String {
    let (mut major, mut minor, mut patch) = (0, 0, 0);
    // SAFETY: the three pointers are valid for writes of one `u32` each.
    unsafe { llvm_sys::core::LLVMGetVersion(&mut major, &mut minor, &mut patch) };
    format!("{}-llvm{major}.{minor}.{patch}", env!("REVMC_SOURCE_HASH"))
}
