//! Jump resolution and stack shapes, by abstract interpretation over basic blocks.
//!
//! Each block's entry state is its stack [`Shape`] and an abstract value for each of the
//! top [`WINDOW`] stack entries: either a small set of possible constants (enough to
//! resolve `PUSH tag; JUMP` and the return jumps of internal functions called from a
//! few places) or unknown. States are joined at block entries until a fixpoint.
//!
//! A block reached with different shapes gets one *variant* per shape (solc shares, e.g.,
//! its revert blocks between paths of different depth); each variant is translated
//! separately. A block reached with more than [`Limits::max_variants`] shapes is
//! *collapsed*: it gets one variant, `Dynamic(0)`, whose entries all live in the frame's
//! stack array below a run-time base, and every edge into it converts its state to that
//! shape. Its successors continue in dynamic shapes with SSA slots above the base. So no
//! program is refused for the shape of its stack.
//!
//! A jump whose target is unknown may go to any JUMPDEST; its state flows into every
//! JUMPDEST block, converted to `Dynamic(0)` once such jumps have more than
//! [`MAX_DISPATCH_SHAPES`] shapes (the translator gives each shape one shared dispatch).
//! The number of block visits is bounded by [`Limits`].

use super::cfg::Cfg;
use super::opcodes::{OpKind, kind, stack_error};
use super::state::State;
pub use super::state::{AbsVal, MAX_TARGETS, Shape, WINDOW};
use crate::bytecode::Decoded;
use crate::{Limits, SpecId, TranslateError};
use revm_interpreter::bytecode::opcode::{self, OpCode};
use std::collections::{HashSet, VecDeque};

/// Joins `state` into the one of equal shape in `states`, or adds it. Returns the index
/// of that state and whether anything changed; `None` if a new shape would exceed
/// `max` variants.
///
/// A block has at most one dynamic variant: a dynamic state joins it with the smaller of
/// the two slot counts (a successor entered with more slots spills the extra ones below
/// the base on the way), so dynamic code is translated once per block.
fn join_into(states: &mut Vec<State>, state: &State, max: usize) -> Option<(usize, bool)> {
    if let Shape::Dynamic(r) = state.shape
        && let Some(i) = states.iter().position(|s| s.shape.is_dynamic())
    {
        let r0 = states[i].shape.slots();
        if r < r0 {
            let mut narrowed = State::entry(state.shape, states[i].top.clone());
            narrowed.join(state);
            states[i] = narrowed;
            return Some((i, true));
        }
        let widened = State::entry(states[i].shape, state.top.clone());
        return Some((i, states[i].join(&widened)));
    }
    match states.iter().position(|s| s.shape == state.shape) {
        Some(i) => Some((i, states[i].join(state))),
        None if states.len() < max => {
            states.push(state.clone());
            Some((states.len() - 1, true))
        }
        None => None,
    }
}

/// One state of the given shape holding the join of every window in `states`.
fn merged(states: &[State], shape: Shape) -> State {
    let mut all = states.iter().map(|s| State::entry(shape, s.top.clone()));
    let mut m = all.next().unwrap_or_else(|| State::entry(shape, Vec::new()));
    for s in all {
        m.join(&s);
    }
    m
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

/// Result of the analysis for one block entered with one shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Stack shape at entry.
    pub shape: Shape,
    /// Target of the block's final jump.
    pub jump: JumpTarget,
}

/// Result of the analysis for one block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockFacts {
    /// One variant per entry shape; empty if the block is unreachable. The first
    /// variant of block 0 is the program entry (`Static(0)`).
    pub variants: Vec<Variant>,
    /// Whether the block was reached with too many shapes: its only variant is
    /// `Dynamic(0)`, and every edge into it converts to that shape.
    pub collapsed: bool,
}

impl BlockFacts {
    /// Index of the variant entered with `shape`.
    pub fn variant(&self, shape: Shape) -> Option<usize> {
        self.variants.iter().position(|v| v.shape == shape)
    }

    /// The variant an edge leaving with `shape` enters, if the analysis found the block
    /// reachable that way: the one of that shape, or a dynamic one with fewer slots (the
    /// only variant of a collapsed block is `Dynamic(0)`).
    pub fn entered_variant(&self, shape: Shape) -> Option<usize> {
        let shape = if self.collapsed { Shape::Dynamic(0) } else { shape };
        entered(self.variants.iter().map(|v| v.shape), shape)
    }
}

/// Among `shapes` (at most one of them dynamic), the index of the one an edge leaving
/// with `shape` enters: `shape` itself, or for a dynamic one the dynamic shape with fewer
/// slots.
fn entered(shapes: impl Iterator<Item = Shape>, shape: Shape) -> Option<usize> {
    let mut dynamic = None;
    for (i, s) in shapes.enumerate() {
        if s == shape {
            return Some(i);
        }
        if let (Shape::Dynamic(r0), Shape::Dynamic(r)) = (s, shape)
            && r0 <= r
        {
            dynamic = Some(i);
        }
    }
    dynamic
}

/// Jump targets and stack shapes of every block.
#[derive(Debug, Clone)]
pub struct JumpAnalysis {
    /// Per-block facts, indexed like [`Cfg::blocks`].
    pub blocks: Vec<BlockFacts>,
    /// Blocks starting with a JUMPDEST, the destinations of dynamic jumps.
    pub jumpdest_blocks: Vec<usize>,
    /// The shapes unresolved jumps enter JUMPDESTs with.
    pub dispatch_shapes: Vec<Shape>,
}

/// Most shapes unresolved jumps keep before they all enter as `Dynamic(0)`: each shape
/// gives every JUMPDEST a variant.
pub const MAX_DISPATCH_SHAPES: usize = 2;

/// Most times the analysis restarts after a block collapses.
const MAX_RESTARTS: usize = 64;

impl JumpAnalysis {
    /// Runs the analysis.
    ///
    /// When a block collapses, the states it had before flowed on and left variants
    /// downstream that no path reaches any more; worse, they count against the variant
    /// bound of the blocks they reached and would make those collapse too. So the
    /// analysis restarts with the collapsed block known from the start, up to
    /// `MAX_RESTARTS` times and while the restarts have used fewer block visits than one
    /// run may; past that, blocks collapse in place (sound, but some code may get dynamic
    /// shapes it did not need).
    pub fn compute(
        code: &Decoded,
        cfg: &Cfg,
        spec: SpecId,
        limits: &Limits,
    ) -> Result<Self, TranslateError> {
        let mut collapsed = vec![false; cfg.blocks.len()];
        // Restarts share one budget of block visits with the first run, so that hostile
        // code cannot make the analysis quadratic: once it is spent, blocks collapse in place.
        let budget = cfg.blocks.len().saturating_mul(limits.max_analysis_visits_per_block);
        let mut spent = 0usize;
        for restarts in 0.. {
            let mut analyzer = Analyzer::new(code, cfg, spec, limits, collapsed);
            analyzer.restart_on_collapse = restarts < MAX_RESTARTS && spent < budget;
            let run = analyzer.run()?;
            spent = spent.saturating_add(analyzer.visits);
            match run {
                Run::Done => return Ok(analyzer.finish()),
                Run::Collapsed(b) => {
                    collapsed = analyzer.collapsed;
                    collapsed[b] = true;
                }
            }
        }
        unreachable!("the loop returns")
    }

    /// The shape an unresolved jump leaving with `shape` enters its target with.
    pub fn dispatch_shape(&self, shape: Shape) -> Shape {
        entered(self.dispatch_shapes.iter().copied(), shape)
            .map_or(Shape::Dynamic(0), |i| self.dispatch_shapes[i])
    }
}

/// How a run of the analysis ended.
enum Run {
    /// At a fixpoint.
    Done,
    /// Block `b` must collapse; the run stopped there.
    Collapsed(usize),
}

struct Analyzer<'a> {
    code: &'a Decoded,
    cfg: &'a Cfg,
    spec: SpecId,
    limits: &'a Limits,
    /// Entry states of each block, one per shape.
    entry: Vec<Vec<State>>,
    /// Jump target of each block variant.
    jump: Vec<Vec<JumpTarget>>,
    /// Blocks whose only variant is `Dynamic(0)`.
    collapsed: Vec<bool>,
    jumpdest_blocks: Vec<usize>,
    /// States flowing out of unresolved jumps, one per shape.
    dynamic: Vec<State>,
    queue: VecDeque<(usize, usize)>,
    queued: HashSet<(usize, usize)>,
    /// Whether a new collapse stops the run (see [`JumpAnalysis::compute`]).
    restart_on_collapse: bool,
    /// The block that must collapse, once one has.
    restart: Option<usize>,
    /// Block visits so far.
    visits: usize,
}

/// Where control goes after a block.
struct Exit {
    state: State,
    fallthrough: bool,
    jump: JumpTarget,
}

impl<'a> Analyzer<'a> {
    fn new(
        code: &'a Decoded,
        cfg: &'a Cfg,
        spec: SpecId,
        limits: &'a Limits,
        collapsed: Vec<bool>,
    ) -> Self {
        let n = cfg.blocks.len();
        let jumpdest_blocks =
            (0..n).filter(|&b| code.instrs[cfg.blocks[b].start].op == opcode::JUMPDEST).collect();
        Self {
            code,
            cfg,
            spec,
            limits,
            entry: vec![Vec::new(); n],
            jump: vec![Vec::new(); n],
            collapsed,
            jumpdest_blocks,
            dynamic: Vec::new(),
            queue: VecDeque::new(),
            queued: Default::default(),
            restart_on_collapse: false,
            restart: None,
            visits: 0,
        }
    }

    fn run(&mut self) -> Result<Run, TranslateError> {
        let max_visits =
            self.cfg.blocks.len().saturating_mul(self.limits.max_analysis_visits_per_block);
        self.flow_into(0, &State::entry(Shape::Static(0), Vec::new()));
        while let Some((b, v)) = self.queue.pop_front() {
            if let Some(b) = self.restart {
                return Ok(Run::Collapsed(b));
            }
            self.queued.remove(&(b, v));
            // A collapse replaces a block's states: older queue entries may be stale.
            if v >= self.entry[b].len() {
                continue;
            }
            self.visits += 1;
            if self.visits > max_visits {
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
                self.flow_into(b + 1, &exit.state);
            }
            match &exit.jump {
                JumpTarget::None => {}
                JumpTarget::Static(pcs) => {
                    for &pc in pcs {
                        if let Some(t) = self.jump_block(pc as usize) {
                            self.flow_into(t, &exit.state);
                        }
                    }
                }
                JumpTarget::Dynamic => self.flow_dynamic(&exit.state),
            }
            // The block may have collapsed while flowing into itself.
            if let Some(j) = self.jump[b].get_mut(v) {
                *j = exit.jump;
            }
        }
        Ok(match self.restart {
            Some(b) => Run::Collapsed(b),
            None => Run::Done,
        })
    }

    fn finish(self) -> JumpAnalysis {
        let blocks = (self.entry.iter().zip(self.jump).zip(self.collapsed))
            .map(|((states, jumps), collapsed)| BlockFacts {
                variants: states
                    .iter()
                    .zip(jumps)
                    .map(|(s, jump)| Variant { shape: s.shape, jump })
                    .collect(),
                collapsed,
            })
            .collect();
        let dispatch_shapes = self.dynamic.iter().map(|s| s.shape).collect();
        JumpAnalysis { blocks, jumpdest_blocks: self.jumpdest_blocks, dispatch_shapes }
    }

    /// The block a jump to `pc` enters, if `pc` is a valid destination.
    fn jump_block(&self, pc: usize) -> Option<usize> {
        if !self.code.is_valid_jump(pc) {
            return None;
        }
        let i = self.code.instr_at(pc)?;
        Some(self.cfg.block_of_instr[i] as usize)
    }

    fn enqueue(&mut self, b: usize, v: usize) {
        if self.queued.insert((b, v)) {
            self.queue.push_back((b, v));
        }
    }

    fn flow_into(&mut self, b: usize, state: &State) {
        let joined = if self.collapsed[b] {
            join_into(&mut self.entry[b], &state.to_dynamic_base(), usize::MAX)
        } else {
            join_into(&mut self.entry[b], state, self.limits.max_variants)
        };
        match joined {
            Some((v, changed)) => {
                if self.jump[b].len() <= v {
                    self.jump[b].push(JumpTarget::None);
                }
                if changed {
                    self.enqueue(b, v);
                }
            }
            None if self.restart_on_collapse => {
                self.restart.get_or_insert(b);
            }
            None => {
                // Too many shapes: one dynamic variant from now on.
                let mut states = std::mem::take(&mut self.entry[b]);
                states.push(state.clone());
                self.collapsed[b] = true;
                self.entry[b] = vec![merged(&states, Shape::Dynamic(0))];
                self.jump[b] = vec![JumpTarget::None];
                self.enqueue(b, 0);
            }
        }
    }

    /// Unresolved jumps enter every JUMPDEST with their own shape while they have at
    /// most [`MAX_DISPATCH_SHAPES`] shapes between them; past that, with the whole stack
    /// in the array (`Dynamic(0)`). The translator gives each shape one shared dispatch.
    fn flow_dynamic(&mut self, state: &State) {
        let joined = join_into(&mut self.dynamic, state, MAX_DISPATCH_SHAPES)
            .or_else(|| join_into(&mut self.dynamic, &state.to_dynamic_base(), usize::MAX));
        let Some((i, true)) = joined else { return };
        let dynamic = self.dynamic[i].clone();
        for j in 0..self.jumpdest_blocks.len() {
            self.flow_into(self.jumpdest_blocks[j], &dynamic);
        }
    }

    /// Runs block `b` abstractly; `None` if it halts. In a dynamic shape stack errors
    /// are run-time checks, so only static shapes halt on them here.
    fn simulate(&self, b: usize, mut st: State) -> Option<Exit> {
        let block = self.cfg.blocks[b];
        let dynamic = st.shape.is_dynamic();
        for instr in &self.code.instrs[block.start..block.end] {
            let op = instr.op;
            match kind(op, self.spec) {
                OpKind::Unknown | OpKind::NotActivated => return None,
                OpKind::Host | OpKind::Compute => {}
            }
            if !dynamic && stack_error(op, st.height as usize).is_some() {
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
                    return Some(Exit { state: st.exit(), fallthrough: op == opcode::JUMPI, jump });
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
            if dynamic && super::opcodes::is_suspending(op) {
                // A dynamic frame resumes with its whole stack in the array.
                return Some(Exit {
                    state: st.to_dynamic_base(),
                    fallthrough: true,
                    jump: JumpTarget::None,
                });
            }
        }
        let fallthrough = self.cfg.falls_through(self.code, self.spec, b);
        Some(Exit { state: st.exit(), fallthrough, jump: JumpTarget::None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze(code: &[u8]) -> Result<(Decoded, Cfg, JumpAnalysis), TranslateError> {
        analyze_with(code, &Limits::default())
    }

    fn analyze_with(
        code: &[u8],
        limits: &Limits,
    ) -> Result<(Decoded, Cfg, JumpAnalysis), TranslateError> {
        let d = Decoded::new(code);
        let cfg = Cfg::compute(&d, SpecId::CANCUN);
        let a = JumpAnalysis::compute(&d, &cfg, SpecId::CANCUN, limits)?;
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
            [Variant { shape: Shape::Static(1), jump: JumpTarget::Static(vec![6, 15]) }]
        );
    }

    #[test]
    fn a_block_reached_with_two_heights_gets_two_variants() {
        // PUSH1 0; PUSH1 7; JUMPI; PUSH1 1; JUMPDEST(7); STOP: heights 0 and 1 at pc 7.
        let code = [0x60, 0x00, 0x60, 0x07, 0x57, 0x60, 0x01, 0x5b, 0x00];
        let (d, cfg, a) = analyze(&code).unwrap();
        let b = cfg.block_of_instr[d.instr_at(7).unwrap()] as usize;
        let mut shapes: Vec<_> = a.blocks[b].variants.iter().map(|v| v.shape).collect();
        shapes.sort();
        assert_eq!(shapes, [Shape::Static(0), Shape::Static(1)]);
    }

    #[test]
    fn too_many_heights_collapse_into_one_dynamic_variant() {
        // A loop pushing one more item per iteration back to its own JUMPDEST.
        // 0: JUMPDEST; PC; PUSH1 0; JUMP
        let code = [0x5b, 0x58, 0x60, 0x00, 0x56];
        let (_, _, a) = analyze(&code).unwrap();
        let facts = &a.blocks[0];
        assert!(facts.collapsed);
        // The loop re-enters its own collapsed head: one variant, the stack in the array.
        assert_eq!(
            facts.variants,
            [Variant { shape: Shape::Dynamic(0), jump: JumpTarget::Static(vec![0]) }]
        );
        let entered = facts.entered_variant(Shape::Static(3)).unwrap();
        assert_eq!(facts.variants[entered].shape, Shape::Dynamic(0));
    }

    #[test]
    fn a_shared_function_collapses_and_its_body_keeps_relative_slots() {
        // 8 call sites at heights 0..8 call a function at F that pushes two values, adds
        // them, pops and returns: with 4 variants at most, F collapses, and the body after
        // its entry block is entered with a dynamic shape holding the values it pushed.
        let mut code = Vec::new();
        let calls = 8;
        let f_pc = calls * 9 - 1;
        for i in 0..calls as u8 {
            // PUSH1 ret; PUSH2 F; JUMP; JUMPDEST(ret); PUSH1 i (one more entry each time)
            let ret = code.len() as u8 + 6;
            code.extend([0x60, ret, 0x61, 0, f_pc as u8, 0x56, 0x5b, 0x60, i]);
        }
        code.truncate(code.len() - 2);
        code.push(0x00); // STOP after the last return
        assert_eq!(code.len(), f_pc);
        // F: JUMPDEST; PUSH1 1; PUSH1 2; PUSH1 G; JUMP; G: JUMPDEST; ADD; POP; JUMP
        let g = f_pc + 8;
        code.extend([0x5b, 0x60, 1, 0x60, 2, 0x60, g as u8, 0x56, 0x5b, 0x01, 0x50, 0x56]);
        let limits = Limits { max_variants: 4, ..Limits::default() };
        let (d, cfg, a) = analyze_with(&code, &limits).unwrap();
        let block_at = |pc| cfg.block_of_instr[d.instr_at(pc).unwrap()] as usize;
        assert!(a.blocks[block_at(f_pc)].collapsed, "{:?}", a.blocks);
        assert_eq!(a.blocks[block_at(f_pc)].variants[0].shape, Shape::Dynamic(0));
        let body = &a.blocks[block_at(g)];
        assert!(!body.collapsed);
        assert_eq!(body.variants.len(), 1);
        assert_eq!(body.variants[0].shape, Shape::Dynamic(2));
        // The return still resolves to the 8 return sites, each entered dynamically.
        let JumpTarget::Static(targets) = &body.variants[0].jump else { panic!() };
        assert_eq!(targets.len(), calls);
        let ret = block_at(targets[3] as usize);
        assert_eq!(a.blocks[ret].variants[0].shape, Shape::Dynamic(0));
    }

    #[test]
    fn dynamic_jump_reaches_every_jumpdest() {
        // CALLDATASIZE; JUMP; JUMPDEST; STOP; JUMPDEST; STOP
        let code = [0x36, 0x56, 0x5b, 0x00, 0x5b, 0x00];
        let (_, _, a) = analyze(&code).unwrap();
        assert_eq!(a.blocks[0].variants[0].jump, JumpTarget::Dynamic);
        assert!(a.jumpdest_blocks.iter().all(|&b| a.blocks[b].variant(Shape::Static(0)).is_some()));
    }
}
