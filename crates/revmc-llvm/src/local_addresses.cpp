// Addresses made local to the blocks that load or store through them, before code
// generation.
//
// Instruction selection sees one block at a time, so CodeGenPrepare sinks an address
// computed in another block (a `getelementptr` of a base by constants: a field of the
// context, a word of the operand buffer) next to each load or store that uses it, to
// fold it into the memory operand. Doing so, it walks every use of the address for each
// memory instruction: quadratic when one address serves thousands of blocks, as in a
// program of thousands of host calls (4.8 s of CodeGenPrepare for 24 KiB of SSTOREs).
// Here one walk over the function gives each block its own copy of each such address,
// before its first memory instruction there; CodeGenPrepare then finds every address in
// place, and the code is the same within 0.1 %. Measured in docs/compile-cost.md.

#include "llvm/ADT/DenseMap.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Module.h"
#include "llvm-c/Core.h"

namespace {

// The address `ptr` as `block` should see it: a copy in `block` (made before `before`,
// and reused by later users there) when `ptr` is a constant-offset `getelementptr` of
// another block, or `ptr` itself. A copy's base is localized the same way, so a chain of
// such addresses is copied whole.
llvm::Value *local(llvm::Value *ptr, llvm::Instruction *before,
                   llvm::DenseMap<llvm::Value *, llvm::Value *> &copies) {
  auto *gep = llvm::dyn_cast<llvm::GetElementPtrInst>(ptr);
  llvm::BasicBlock *block = before->getParent();
  if (!gep || gep->getParent() == block || !gep->hasAllConstantIndices())
    return ptr;
  auto [slot, fresh] = copies.try_emplace(gep, nullptr);
  if (!fresh)
    // Null while its own base is being copied: a cycle of GEPs, which only unreachable
    // code can have. Left as it is.
    return slot->second ? slot->second : ptr;
  llvm::Value *base = local(gep->getPointerOperand(), before, copies);
  llvm::Instruction *copy = gep->clone();
  copy->setOperand(llvm::GetElementPtrInst::getPointerOperandIndex(), base);
  copy->insertBefore(before->getIterator());
  // `local` may have grown the map since `slot` was taken.
  copies[gep] = copy;
  return copy;
}

} // namespace

extern "C" {

// Localizes the addresses of every load and store in `module`'s functions.
void revmc_localize_addresses(LLVMModuleRef module) {
  llvm::DenseMap<llvm::Value *, llvm::Value *> copies;
  for (llvm::Function &function : *llvm::unwrap(module)) {
    for (llvm::BasicBlock &block : function) {
      copies.clear();
      for (llvm::Instruction &inst : block) {
        unsigned operand;
        if (llvm::isa<llvm::LoadInst>(inst))
          operand = llvm::LoadInst::getPointerOperandIndex();
        else if (llvm::isa<llvm::StoreInst>(inst))
          operand = llvm::StoreInst::getPointerOperandIndex();
        else
          continue;
        llvm::Value *ptr = inst.getOperand(operand);
        llvm::Value *here = local(ptr, &inst, copies);
        if (here != ptr)
          inst.setOperand(operand, here);
      }
    }
  }
}
}
