//! Jump resolution and stack heights, by abstract interpretation over basic blocks.
//!
//! Each block's entry state is its stack height and an abstract value for each of the
//! top [`WINDOW`] stack entries: either a small set of possible constants (enough to
//! resolve `PUSH tag; JUMP` and the return jumps of internal functions called from a
//! few places) or unknown. States are joined at block entries until a fixpoint.
//!
//! A block reached with different stack heights gets one *variant* per height (solc
//! shares, e.g., its revert blocks between paths of different depth); each variant is
//! translated separately with its own static height. More than [`MAX_VARIANTS`] heights
//! at one block make the program [`Unsupported`](crate::error::Unsupported).
//!
//! A jump whose target is unknown may go to any JUMPDEST; its state flows into every
//! JUMPDEST block. The number of block visits is bounded by [`Limits`].

use super::cfg::Cfg;
use super::opcodes::{OpKind, kind, stack_error};
use crate::bytecode::Decoded;
use crate::error::Unsupported;
use crate::{Limits, SpecId, TranslateError};
use revm_interpreter::bytecode::opcode::{self, OpCode};
use std::collections::VecDeque;

/// Number of top stack entries whose abstract values are tracked.
pub const WINDOW: usize = 32;
/// Largest set of constants an abstract value holds before it becomes unknown.
pub const MAX_TARGETS: usize = 16;
/// Most entry heights (variants) one block may have.
pub const MAX_VARIANTS: usize = 16;

/// An abstract stack value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbsVal {
    /// Any value.
    Unknown,
    /// One of these constants (sorted, unique, at most [`MAX_TARGETS`]).
    Known(Vec<u32>),
}

impl AbsVal {
    fn join(&self, other: &AbsVal) -> AbsVal {
        match (self, other) {
            (AbsVal::Known(a), AbsVal::Known(b)) => {
                let mut v = a.clone();
                v.extend_from_slice(b);
                v.sort_unstable();
                v.dedup();
                if v.len() > MAX_TARGETS { AbsVal::Unknown } else { AbsVal::Known(v) }
            }
            _ => AbsVal::Unknown,
        }
    }
}

/// Abstract state at a program point.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    height: usize,
    /// Top `min(height, WINDOW)` entries, the stack top last.
    top: Vec<AbsVal>,
}

impl State {
    fn pop(&mut self) -> AbsVal {
        self.height -= 1;
        self.top.pop().unwrap_or(AbsVal::Unknown)
    }

    fn push(&mut self, v: AbsVal) {
        self.height += 1;
        self.top.push(v);
        if self.top.len() > WINDOW {
            self.top.remove(0);
        }
    }

    fn peek(&self, depth: usize) -> AbsVal {
        self.top.len().checked_sub(depth + 1).map_or(AbsVal::Unknown, |i| self.top[i].clone())
    }

    /// Joins `other`, of the same height, into `self`; returns whether `self` changed.
    fn join(&mut self, other: &State) -> bool {
        debug_assert_eq!(self.height, other.height);
        // Windows are aligned at the stack top; entries one side does not track are unknown.
        let n = self.top.len().min(other.top.len());
        let mut changed = self.top.len() > n;
        self.top.drain(..self.top.len() - n);
        for (a, b) in self.top.iter_mut().zip(&other.top[other.top.len() - n..]) {
            let j = a.join(b);
            if j != *a {
                *a = j;
                changed = true;
            }
        }
        changed
    }
}

/// Joins `state` into the one of equal height in `states`, or adds it. Returns the index
/// of that state and whether anything changed; `None` if a new height would exceed
/// [`MAX_VARIANTS`].
fn join_into(states: &mut Vec<State>, state: &State) -> Option<(usize, bool)> {
    match states.iter().position(|s| s.height == state.height) {
        Some(i) => Some((i, states[i].join(state))),
        None if states.len() < MAX_VARIANTS => {
            states.push(state.clone());
            Some((states.len() - 1, true))
        }
        None => None,
    }
}

/// Where a block's final JUMP / JUMPI goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JumpTarget {
    /// The block does not end in a jump (or halts before reaching it).
    None,
    /// One of these pcs (not necessarily valid destinations).
    Static(Vec<u32>),
    /// Any pc.
    Dynamic,
}

/// Result of the analysis for one block entered with one stack height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Stack height at entry.
    pub entry_height: usize,
    /// Target of the block's final jump.
    pub jump: JumpTarget,
}

/// Result of the analysis for one block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockFacts {
    /// One variant per entry height; empty if the block is unreachable. The first
    /// variant of block 0 is the program entry (height 0).
    pub variants: Vec<Variant>,
}

impl BlockFacts {
    /// Index of the variant entered with `height`.
    pub fn variant(&self, height: usize) -> Option<usize> {
        self.variants.iter().position(|v| v.entry_height == height)
    }
}

/// Jump targets and stack heights of every block.
#[derive(Debug, Clone)]
pub struct JumpAnalysis {
    /// Per-block facts, indexed like [`Cfg::blocks`].
    pub blocks: Vec<BlockFacts>,
    /// Blocks starting with a JUMPDEST, the destinations of dynamic jumps.
    pub jumpdest_blocks: Vec<usize>,
}

impl JumpAnalysis {
    /// Runs the analysis.
    pub fn compute(
        code: &Decoded,
        cfg: &Cfg,
        spec: SpecId,
        limits: &Limits,
    ) -> Result<Self, TranslateError> {
        Analyzer::new(code, cfg, spec).run(limits)
    }
}

struct Analyzer<'a> {
    code: &'a Decoded,
    cfg: &'a Cfg,
    spec: SpecId,
    /// Entry states of each block, one per height.
    entry: Vec<Vec<State>>,
    /// Jump target of each block variant.
    jump: Vec<Vec<JumpTarget>>,
    jumpdest_blocks: Vec<usize>,
    /// States flowing out of unresolved jumps, one per height.
    dynamic: Vec<State>,
    queue: VecDeque<(usize, usize)>,
    queued: std::collections::HashSet<(usize, usize)>,
}

/// Where control goes after a block.
struct Exit {
    state: State,
    fallthrough: bool,
    jump: JumpTarget,
}

impl<'a> Analyzer<'a> {
    fn new(code: &'a Decoded, cfg: &'a Cfg, spec: SpecId) -> Self {
        let n = cfg.blocks.len();
        let jumpdest_blocks =
            (0..n).filter(|&b| code.instrs[cfg.blocks[b].start].op == opcode::JUMPDEST).collect();
        Self {
            code,
            cfg,
            spec,
            entry: vec![Vec::new(); n],
            jump: vec![Vec::new(); n],
            jumpdest_blocks,
            dynamic: Vec::new(),
            queue: VecDeque::new(),
            queued: Default::default(),
        }
    }

    fn run(mut self, limits: &Limits) -> Result<JumpAnalysis, TranslateError> {
        let max_visits = self.cfg.blocks.len().saturating_mul(limits.max_analysis_visits_per_block);
        self.flow_into(0, &State { height: 0, top: Vec::new() })?;
        let mut visits = 0usize;
        while let Some((b, v)) = self.queue.pop_front() {
            self.queued.remove(&(b, v));
            visits += 1;
            if visits > max_visits {
                return Err(TranslateError::LimitExceeded {
                    what: "jump analysis block visits",
                    limit: max_visits,
                });
            }
            let state = self.entry[b][v].clone();
            let Some(exit) = self.simulate(b, state) else {
                self.jump[b][v] = JumpTarget::None;
                continue;
            };
            if exit.fallthrough {
                self.flow_into(b + 1, &exit.state)?;
            }
            match &exit.jump {
                JumpTarget::None => {}
                JumpTarget::Static(pcs) => {
                    for &pc in pcs {
                        if let Some(t) = self.jump_block(pc as usize) {
                            self.flow_into(t, &exit.state)?;
                        }
                    }
                }
                JumpTarget::Dynamic => self.flow_dynamic(&exit.state)?,
            }
            self.jump[b][v] = exit.jump;
        }
        let blocks = self
            .entry
            .iter()
            .zip(self.jump)
            .map(|(states, jumps)| BlockFacts {
                variants: states
                    .iter()
                    .zip(jumps)
                    .map(|(s, jump)| Variant { entry_height: s.height, jump })
                    .collect(),
            })
            .collect();
        Ok(JumpAnalysis { blocks, jumpdest_blocks: self.jumpdest_blocks })
    }

    /// The block a jump to `pc` enters, if `pc` is a valid destination.
    fn jump_block(&self, pc: usize) -> Option<usize> {
        if !self.code.is_valid_jump(pc) {
            return None;
        }
        let i = self.code.instr_at(pc)?;
        Some(self.cfg.block_of_instr[i] as usize)
    }

    fn flow_into(&mut self, b: usize, state: &State) -> Result<(), TranslateError> {
        let Some((v, changed)) = join_into(&mut self.entry[b], state) else {
            let pc = self.code.instrs[self.cfg.blocks[b].start].pc as usize;
            return Err(Unsupported::TooManyStackHeights { pc, limit: MAX_VARIANTS }.into());
        };
        if self.jump[b].len() <= v {
            self.jump[b].push(JumpTarget::None);
        }
        if changed && self.queued.insert((b, v)) {
            self.queue.push_back((b, v));
        }
        Ok(())
    }

    fn flow_dynamic(&mut self, state: &State) -> Result<(), TranslateError> {
        let Some((i, changed)) = join_into(&mut self.dynamic, state) else {
            return Err(
                Unsupported::TooManyStackHeights { pc: usize::MAX, limit: MAX_VARIANTS }.into()
            );
        };
        if changed {
            let dynamic = self.dynamic[i].clone();
            for j in 0..self.jumpdest_blocks.len() {
                self.flow_into(self.jumpdest_blocks[j], &dynamic)?;
            }
        }
        Ok(())
    }

    /// Runs block `b` abstractly; `None` if it halts.
    fn simulate(&self, b: usize, mut st: State) -> Option<Exit> {
        let block = self.cfg.blocks[b];
        for instr in &self.code.instrs[block.start..block.end] {
            let op = instr.op;
            match kind(op, self.spec) {
                OpKind::Unknown | OpKind::NotActivated => return None,
                OpKind::Host | OpKind::Compute => {}
            }
            if stack_error(op, st.height).is_some() {
                return None;
            }
            match op {
                opcode::PUSH0..=opcode::PUSH32 => st.push(match u32::try_from(instr.imm) {
                    Ok(v) => AbsVal::Known(vec![v]),
                    Err(_) => AbsVal::Unknown,
                }),
                opcode::PC => st.push(AbsVal::Known(vec![instr.pc])),
                opcode::DUP1..=opcode::DUP16 => {
                    let v = st.peek((op - opcode::DUP1) as usize);
                    st.push(v);
                }
                opcode::SWAP1..=opcode::SWAP16 => {
                    let n = (op - opcode::SWAP1 + 1) as usize;
                    let len = st.top.len();
                    if n < len {
                        st.top.swap(len - 1, len - 1 - n);
                    } else if let Some(top) = st.top.last_mut() {
                        *top = AbsVal::Unknown;
                    }
                }
                opcode::JUMP | opcode::JUMPI => {
                    let target = st.pop();
                    if op == opcode::JUMPI {
                        st.pop();
                    }
                    let jump = match target {
                        AbsVal::Known(pcs) => JumpTarget::Static(pcs),
                        AbsVal::Unknown => JumpTarget::Dynamic,
                    };
                    return Some(Exit { state: st, fallthrough: op == opcode::JUMPI, jump });
                }
                _ => {
                    let info = OpCode::new(op).expect("known opcode").info();
                    for _ in 0..info.inputs() {
                        st.pop();
                    }
                    for _ in 0..info.outputs() {
                        st.push(AbsVal::Unknown);
                    }
                }
            }
            if super::opcodes::is_terminal(op, self.spec) {
                return None;
            }
        }
        let fallthrough = self.cfg.falls_through(self.code, self.spec, b);
        Some(Exit { state: st, fallthrough, jump: JumpTarget::None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze(code: &[u8]) -> Result<(Decoded, Cfg, JumpAnalysis), TranslateError> {
        let d = Decoded::new(code);
        let cfg = Cfg::compute(&d, SpecId::CANCUN);
        let a = JumpAnalysis::compute(&d, &cfg, SpecId::CANCUN, &Limits::default())?;
        Ok((d, cfg, a))
    }

    #[test]
    fn resolves_return_address_through_a_shared_function() {
        // Two call sites of a function at pc 12 that returns via a pushed address.
        //  0: PUSH1 6; PUSH1 12; JUMP          (call, returns to 6)
        //  5: INVALID
        //  6: JUMPDEST; PUSH1 13 ... see bytes
        let code = [
            0x60, 0x06, 0x60, 0x0c, 0x56, // 0: push 6, push 12, jump
            0xfe, // 5
            0x5b, 0x60, 0x0f, 0x60, 0x0c, 0x56, // 6: jumpdest, push 15, push 12, jump
            0x5b, 0x56, // 12: jumpdest; jump (return)
            0xfe, // 14
            0x5b, 0x00, // 15: jumpdest; stop
        ];
        let (d, cfg, a) = analyze(&code).unwrap();
        let ret = d.instr_at(12).map(|i| cfg.block_of_instr[i] as usize).unwrap();
        assert_eq!(
            a.blocks[ret].variants,
            [Variant { entry_height: 1, jump: JumpTarget::Static(vec![6, 15]) }]
        );
    }

    #[test]
    fn a_block_reached_with_two_heights_gets_two_variants() {
        // PUSH1 0; PUSH1 7; JUMPI; PUSH1 1; JUMPDEST(7); STOP: heights 0 and 1 at pc 7.
        let code = [0x60, 0x00, 0x60, 0x07, 0x57, 0x60, 0x01, 0x5b, 0x00];
        let (d, cfg, a) = analyze(&code).unwrap();
        let b = cfg.block_of_instr[d.instr_at(7).unwrap()] as usize;
        let mut heights: Vec<_> = a.blocks[b].variants.iter().map(|v| v.entry_height).collect();
        heights.sort();
        assert_eq!(heights, [0, 1]);
    }

    #[test]
    fn too_many_heights_are_unsupported() {
        // A loop pushing one more item per iteration back to its own JUMPDEST.
        // 0: JUMPDEST; PC; PUSH1 0; JUMP
        let code = [0x5b, 0x58, 0x60, 0x00, 0x56];
        let err = analyze(&code).unwrap_err();
        assert!(
            matches!(
                err,
                TranslateError::Unsupported(Unsupported::TooManyStackHeights { pc: 0, .. })
            ),
            "{err}"
        );
    }

    #[test]
    fn dynamic_jump_reaches_every_jumpdest() {
        // CALLDATASIZE; JUMP; JUMPDEST; STOP; JUMPDEST; STOP
        let code = [0x36, 0x56, 0x5b, 0x00, 0x5b, 0x00];
        let (_, _, a) = analyze(&code).unwrap();
        assert_eq!(a.blocks[0].variants[0].jump, JumpTarget::Dynamic);
        assert!(a.jumpdest_blocks.iter().all(|&b| a.blocks[b].variant(0).is_some()));
    }
}
