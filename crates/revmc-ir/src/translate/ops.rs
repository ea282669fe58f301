//! The meaning of each opcode, one arm per family.

use super::Translator;
use super::builder::BlockBuilder;
use crate::abi::{Builtin, EnvField};
use crate::analysis::jumps::{JumpTarget, Shape};
use crate::analysis::opcodes::{OpKind, is_suspending, kind, stack_error};
use crate::bytecode::Instr;
use crate::ir::{BinaryOp, InstData, Terminator, UnaryOp};
use crate::{InstructionResult, TranslateError, U256};
use revm_interpreter::bytecode::opcode::{self as op, OpCode};

impl Translator<'_> {
    /// Translates variant `v` of reachable EVM block `b`, and the blocks merged after it.
    pub(super) fn translate_block(&mut self, b: usize, v: usize) -> Result<(), TranslateError> {
        let block = self.ir_blocks[b][v];
        let shape = self.analysis.blocks[b].variants[v].shape;
        let spec = self.func.spec;
        let code = self.code;
        let analysis = self.analysis;
        let mut bb = BlockBuilder::new(&mut self.func, block, shape);
        let dynamic = bb.is_dynamic();
        let (mut b, mut v) = (b, v);
        loop {
            let range = self.cfg.blocks[b];
            for instr in &code.instrs[range.start..range.end] {
                bb.charge(self.gas.table[instr.op as usize] as u64);
                let op_kind = kind(instr.op, spec);
                match op_kind {
                    OpKind::Unknown => {
                        bb.halt(InstructionResult::OpcodeNotFound);
                        return Ok(());
                    }
                    OpKind::NotActivated => {
                        bb.halt(InstructionResult::NotActivated);
                        return Ok(());
                    }
                    OpKind::Host | OpKind::Compute => {}
                }
                if dynamic {
                    // Host operations check their own stack: revm's instruction runs them.
                    if op_kind == OpKind::Compute {
                        bb.check_stack(instr.op);
                    }
                } else if let Some(err) = stack_error(instr.op, bb.height()) {
                    if err == InstructionResult::StackUnderflow && op_kind == OpKind::Host {
                        // revm's host instructions pop in stages and may first fail otherwise
                        // (LOG charges its gas before popping topics; SSTORE and CREATE check
                        // for a static call before popping): let the instruction itself run
                        // on the short stack and report whichever error comes first.
                        bb.close_section();
                        let height = bb.ir_height();
                        let args = (0..bb.height()).map(|_| Some(bb.pop())).collect();
                        bb.ins(InstData::Host { op: instr.op, args, height, outputs: 0 });
                    }
                    bb.halt(err);
                    return Ok(());
                }
                if op_kind == OpKind::Host {
                    let opc = instr.op;
                    let info = OpCode::new(opc).expect("host opcodes are known").info();
                    // Host operations may charge dynamic gas: their static gas is paid first.
                    bb.close_section();
                    let height = bb.ir_height();
                    let args: Vec<_> = (0..info.inputs())
                        .map(|_| if dynamic { bb.pop_lazy() } else { Some(bb.pop()) })
                        .collect();
                    if is_suspending(opc) {
                        self.suspensions += 1;
                        let index = self.suspensions;
                        let resume = if dynamic {
                            // The resumed stack, with the child's result on top, is in the array.
                            bb.flush_to_array(bb.rel_height());
                            Shape::Dynamic(0)
                        } else {
                            // The resumed stack, with the child's result on top, lives in slots.
                            bb.close_section();
                            bb.flush();
                            let live = bb.height() as u32 + 1;
                            bb.func.num_slots = bb.func.num_slots.max(live);
                            Shape::Static(live as usize)
                        };
                        let block = bb.block;
                        bb.terminate(Terminator::Unset);
                        let resume = self.edge(b + 1, resume);
                        let term = Terminator::Suspend { op: opc, args, height, index, resume };
                        self.func.terminate(block, term);
                        return Ok(());
                    }
                    let outputs = info.outputs();
                    if let Some(v) = bb.ins(InstData::Host { op: opc, args, height, outputs }) {
                        bb.push(v);
                    }
                    if opc == op::SELFDESTRUCT {
                        bb.halt(InstructionResult::SelfDestruct);
                        return Ok(());
                    }
                    continue;
                }
                match instr.op {
                    op::JUMP | op::JUMPI => {
                        let target = bb.pop();
                        let cond = (instr.op == op::JUMPI).then(|| bb.pop());
                        let jump = &analysis.blocks[b].variants[v].jump;
                        if *jump == JumpTarget::Dynamic {
                            bb.ins(InstData::SetJumpTarget(target));
                        }
                        bb.close_section();
                        bb.flush();
                        let (block, shape) = (bb.block, bb.exit_shape());
                        let term = self.jump_terminator(target, cond, jump, shape, b + 1);
                        self.func.terminate(block, term);
                        return Ok(());
                    }
                    _ => {
                        if let Some(end) =
                            step(&mut bb, instr, self.gas.exp_per_byte, code.code_len())
                        {
                            match end {
                                End::Halt(r) => bb.halt(r),
                                End::WithStack(r) => bb.exit_with_stack(r),
                            }
                            return Ok(());
                        }
                    }
                }
            }
            // Fell off the end of the block into the next one.
            if self.merged.get(b + 1) == Some(&true) {
                // Its analysis facts are those of the variant this exit enters.
                let entered = analysis.blocks[b + 1].entered_variant(bb.exit_shape());
                (b, v) = (b + 1, entered.expect("the chain is reachable"));
                continue;
            }
            break;
        }
        bb.close_section();
        bb.flush();
        let (block, shape) = (bb.block, bb.exit_shape());
        let next = self.edge(b + 1, shape);
        self.func.terminate(block, Terminator::Jump(next));
        Ok(())
    }
}

/// How an instruction ends its block.
enum End {
    Halt(InstructionResult),
    WithStack(InstructionResult),
}

/// Translates one non-jump instruction. Returns how it ends the block, if it does.
fn step(
    bb: &mut BlockBuilder<'_>,
    instr: &Instr,
    exp_per_byte: u64,
    code_len: usize,
) -> Option<End> {
    use InstructionResult as R;
    let opc = instr.op;
    if let Some(field) = EnvField::of_opcode(opc) {
        let v = bb.val(InstData::Env(field));
        bb.push(v);
        return None;
    }
    match opc {
        op::STOP => return Some(End::WithStack(R::Stop)),
        op::INVALID => return Some(End::Halt(R::InvalidFEOpcode)),
        op::RETURN | op::REVERT => {
            bb.close_section();
            let offset = bb.pop();
            let len = bb.pop();
            bb.ins(InstData::Call(Builtin::SetOutput, vec![offset, len]));
            return Some(End::WithStack(if opc == op::RETURN { R::Return } else { R::Revert }));
        }
        op::JUMPDEST => {}

        // Stack.
        op::PUSH0..=op::PUSH32 => {
            let v = bb.konst(instr.imm);
            bb.push(v);
        }
        op::POP => {
            bb.pop();
        }
        op::DUP1..=op::DUP16 => {
            let v = bb.peek((opc - op::DUP1) as usize);
            bb.push(v);
        }
        op::SWAP1..=op::SWAP16 => bb.swap((opc - op::SWAP1 + 1) as usize),

        // Arithmetic, comparison and bitwise.
        op::ISZERO | op::NOT | op::CLZ => {
            let unop = match opc {
                op::ISZERO => UnaryOp::IsZero,
                op::NOT => UnaryOp::Not,
                _ => UnaryOp::Clz,
            };
            let a = bb.pop();
            let v = bb.val(InstData::Unary(unop, a));
            bb.push(v);
        }
        op::DIV | op::SDIV | op::MOD | op::SMOD | op::ADDMOD | op::MULMOD => {
            let builtin = match opc {
                op::DIV => Builtin::Div,
                op::SDIV => Builtin::SDiv,
                op::MOD => Builtin::Mod,
                op::SMOD => Builtin::SMod,
                op::ADDMOD => Builtin::AddMod,
                _ => Builtin::MulMod,
            };
            let args = (0..builtin.arity()).map(|_| bb.pop()).collect();
            let v = bb.val(InstData::Arith(builtin, args));
            bb.push(v);
        }
        op::EXP => {
            bb.close_section();
            let base = bb.pop();
            let exponent = bb.pop();
            bb.ins(InstData::ChargeExpGas { exponent, per_byte: exp_per_byte });
            let v = bb.val(InstData::Arith(Builtin::Exp, vec![base, exponent]));
            bb.push(v);
        }
        op::ADD..=op::SIGNEXTEND | op::LT..=op::SAR => {
            let binop = match opc {
                op::ADD => BinaryOp::Add,
                op::MUL => BinaryOp::Mul,
                op::SUB => BinaryOp::Sub,
                op::SIGNEXTEND => BinaryOp::SignExtend,
                op::LT => BinaryOp::Lt,
                op::GT => BinaryOp::Gt,
                op::SLT => BinaryOp::Slt,
                op::SGT => BinaryOp::Sgt,
                op::EQ => BinaryOp::Eq,
                op::AND => BinaryOp::And,
                op::OR => BinaryOp::Or,
                op::XOR => BinaryOp::Xor,
                op::BYTE => BinaryOp::Byte,
                op::SHL => BinaryOp::Shl,
                op::SHR => BinaryOp::Shr,
                op::SAR => BinaryOp::Sar,
                _ => unreachable!("opcode {opc:#x} handled above"),
            };
            let a = bb.pop();
            let b = bb.pop();
            let v = bb.val(InstData::Binary(binop, a, b));
            bb.push(v);
        }

        // Hashing and memory.
        op::KECCAK256 => {
            bb.close_section();
            let offset = bb.pop();
            let len = bb.pop();
            let v = bb.ins(InstData::Call(Builtin::Keccak256, vec![offset, len])).expect("result");
            bb.push(v);
        }
        op::MLOAD => {
            bb.close_section();
            let offset = bb.pop();
            let width = bb.konst(U256::from(32));
            bb.ins(InstData::Call(Builtin::MemoryExpand, vec![offset, width]));
            let v = bb.val(InstData::MLoad(offset));
            bb.push(v);
        }
        op::MSTORE | op::MSTORE8 => {
            bb.close_section();
            let offset = bb.pop();
            let value = bb.pop();
            let width: u8 = if opc == op::MSTORE { 32 } else { 1 };
            let w = bb.konst(U256::from(width));
            bb.ins(InstData::Call(Builtin::MemoryExpand, vec![offset, w]));
            bb.ins(InstData::MStore { offset, value, width });
        }
        op::MSIZE => {
            let v = bb.val(InstData::MSize);
            bb.push(v);
        }
        op::MCOPY | op::CALLDATACOPY | op::CODECOPY => {
            bb.close_section();
            let builtin = match opc {
                op::MCOPY => Builtin::MCopy,
                op::CALLDATACOPY => Builtin::CallDataCopy,
                _ => Builtin::CodeCopy,
            };
            let args = (0..3).map(|_| bb.pop()).collect();
            bb.ins(InstData::Call(builtin, args));
        }

        // Call data, code and machine state.
        op::CALLDATALOAD => {
            let offset = bb.pop();
            let v = bb.ins(InstData::Call(Builtin::CallDataLoad, vec![offset])).expect("result");
            bb.push(v);
        }
        op::CALLDATASIZE => {
            let v = bb.val(InstData::CallDataSize);
            bb.push(v);
        }
        op::CODESIZE => {
            let v = bb.konst(U256::from(code_len));
            bb.push(v);
        }
        op::PC => {
            let v = bb.konst(U256::from(instr.pc));
            bb.push(v);
        }
        op::GAS => {
            bb.close_section();
            let v = bb.val(InstData::Gas);
            bb.push(v);
        }
        _ => unreachable!("opcode {opc:#x} is classified as compute but not translated"),
    }
    None
}
