// A code generation pipeline built once and run on many modules.
//
// LLVMTargetMachineEmitToMemoryBuffer builds LLVM's legacy code generation pass manager
// (some 80 passes) for every module, which is most of the cost of compiling a small
// program. Here one pass manager, bound to one growable buffer, is kept per compiler and
// run on each module in turn: llc's -compile-twice runs a pass manager twice the same
// way, and the AsmPrinter resets its streamer at the end of every module.

#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassTimingInfo.h"
#include "llvm/Pass.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm-c/TargetMachine.h"

#include <cstddef>
#include <new>

namespace {
struct Codegen {
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream stream;
  llvm::legacy::PassManager passes;
  Codegen() : stream(buffer) {}
};
} // namespace

extern "C" {

// A pipeline emitting object files for `tm`, or null if the target cannot emit them.
// `tm` must outlive the pipeline.
void *revmc_codegen_new(LLVMTargetMachineRef tm) {
  auto *machine = reinterpret_cast<llvm::TargetMachine *>(tm);
  auto *codegen = new (std::nothrow) Codegen();
  if (!codegen)
    return nullptr;
  if (machine->addPassesToEmitFile(codegen->passes, codegen->stream, nullptr,
                                   llvm::CodeGenFileType::ObjectFile,
                                   /*DisableVerify=*/true)) {
    delete codegen;
    return nullptr;
  }
  return codegen;
}

// Runs the pipeline on `module`; the object is at `*data` for `*len` bytes until the
// next run or the pipeline's disposal.
void revmc_codegen_run(void *codegen, LLVMModuleRef module, const char **data,
                       size_t *len) {
  auto *c = static_cast<Codegen *>(codegen);
  c->buffer.clear();
  c->passes.run(*llvm::unwrap(module));
  // With `REVMC_LLVM_ARGS=-time-passes`, each module's pass times go to stderr now: the
  // pipeline lives as long as its compiler, so they would otherwise never be printed.
  if (llvm::TimePassesIsEnabled)
    llvm::reportAndResetTimings();
  *data = c->buffer.data();
  *len = c->buffer.size();
}

void revmc_codegen_dispose(void *codegen) { delete static_cast<Codegen *>(codegen); }
}
