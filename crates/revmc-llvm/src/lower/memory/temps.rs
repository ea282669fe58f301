//! Storage for the values of a function lowered with every value in memory.
//!
//! - A constant is read from a private global.
//! - A stack read (`SlotGet`, `StackLoad`) whose location is not written before the
//!   value's last use is the location itself: no copy.
//! - A value whose one use stores it to a stack location (`SlotSet`, `StackStore`), which
//!   nothing reads or writes in between, is computed in that location: no copy either.
//! - Any other value used only in its own block lives in a pooled 32-byte temporary from
//!   its definition to its last use; temporaries are reused within a block and across
//!   blocks (nothing local is live at a block's end).
//! - A value used in another block (the translator passes jump targets to the dispatch
//!   blocks it creates) gets a temporary of its own.
//!
//! The plan takes time linear in the function: liveness and the next write of each
//! location come from one backward scan per block.

use revmc_ir::ir::{Function, InstData, Terminator, Value};
use std::collections::HashMap;

/// Where a value lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Storage {
    /// A constant's global.
    Const,
    /// Temporary `n`.
    Temp(u32),
    /// The location it was read from: the stack slot or stack array entry.
    Location,
    /// The location its one use stores it to.
    Forwarded(Location),
}

/// A value's storage while planning, before it is given a temporary.
const UNDECIDED: Storage = Storage::Temp(u32::MAX);

/// Where each value lives.
#[derive(Debug)]
pub(crate) struct TempPlan {
    /// The storage of each value.
    pub(crate) storage: Vec<Storage>,
    /// Number of temporaries.
    pub(crate) count: u32,
    /// Temporaries below this index hold values of one block, reused from block to
    /// block; the others each hold one value read in other blocks.
    pub(crate) local: u32,
}

impl TempPlan {
    /// A plan for no values (the register lowering).
    pub(crate) fn empty() -> Self {
        TempPlan { storage: Vec::new(), count: 0, local: 0 }
    }
}

/// A stack location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Location {
    /// A stack slot.
    Slot(u32),
    /// An entry of the stack array, relative to the current base.
    Stack(i32),
}

/// The location `data` reads, if it is a stack read.
fn read_location(data: &InstData) -> Option<Location> {
    match data {
        InstData::SlotGet(n) => Some(Location::Slot(*n)),
        InstData::StackLoad(n) => Some(Location::Stack(*n)),
        _ => None,
    }
}

/// What `data` writes: a location, or the whole stack array (a host operation writes its
/// top, and moving the base changes what every relative position means).
enum Write {
    None,
    One(Location),
    WholeStack,
}

fn write_of(data: &InstData) -> Write {
    match data {
        InstData::SlotSet(n, _) => Write::One(Location::Slot(*n)),
        InstData::StackStore(n, _) => Write::One(Location::Stack(*n)),
        InstData::AdjustBase(_) | InstData::Host { .. } => Write::WholeStack,
        _ => Write::None,
    }
}

/// Assigns storage to the values of `func`.
pub(crate) fn plan(func: &Function) -> TempPlan {
    let n = func.values.len();
    // The block and position of each value's definition.
    let mut def_block = vec![usize::MAX; n];
    let mut def_pos = vec![0; n];
    for blk in func.block_ids() {
        for (pos, &inst) in func.block(blk).insts.iter().enumerate() {
            if let Some(v) = func.inst_result(inst) {
                def_block[v.index()] = blk.index();
                def_pos[v.index()] = pos;
            }
        }
    }
    // The last position in its own block at which each value is read, and whether any
    // other block reads it. A terminator reads at the block's length.
    let mut last_use: Vec<Option<usize>> = vec![None; n];
    let mut escapes = vec![false; n];
    let mut uses = vec![0u32; n];
    let mut note = |v: Value, blk: usize, pos: usize| {
        uses[v.index()] += 1;
        if def_block[v.index()] == blk {
            let last = last_use[v.index()].get_or_insert(pos);
            *last = (*last).max(pos);
        } else {
            escapes[v.index()] = true;
        }
    };
    for blk in func.block_ids() {
        let data = func.block(blk);
        for (pos, &inst) in data.insts.iter().enumerate() {
            for v in func.inst(inst).operands() {
                note(v, blk.index(), pos);
            }
        }
        for v in data.term.operands() {
            note(v, blk.index(), data.insts.len());
        }
    }

    let mut storage = vec![UNDECIDED; n];
    // Stack reads that can stay where they are: scanning each block backwards, the next
    // write of a location is known at every read of it.
    let mut next_write: HashMap<Location, usize> = HashMap::new();
    for blk in func.block_ids() {
        let data = func.block(blk);
        next_write.clear();
        // Suspensions and exits write the stack array (operands, spilled slots).
        let mut next_whole_stack = match data.term {
            Terminator::Suspend { .. }
            | Terminator::Exit { .. }
            | Terminator::Interpret { .. }
            | Terminator::InterpretJump { .. } => data.insts.len(),
            _ => usize::MAX,
        };
        for (pos, &inst) in data.insts.iter().enumerate().rev() {
            let inst_data = func.inst(inst);
            if let (Some(v), Some(loc)) = (func.inst_result(inst), read_location(inst_data))
                && !escapes[v.index()]
            {
                let last = last_use[v.index()].unwrap_or(pos);
                let written = next_write.get(&loc).copied().unwrap_or(usize::MAX);
                let clobbered = matches!(loc, Location::Stack(_)) && next_whole_stack <= last;
                if written > last && !clobbered {
                    storage[v.index()] = Storage::Location;
                }
            }
            match write_of(inst_data) {
                Write::None => {}
                Write::One(loc) => {
                    next_write.insert(loc, pos);
                }
                Write::WholeStack => next_whole_stack = pos,
            }
        }
    }

    let defs = Defs { block: &def_block, pos: &def_pos };
    forward_stores(func, &mut storage, &defs, &last_use, &escapes, &uses);

    let mut pool = 0u32;
    let mut own = Vec::new();
    let mut dying: Vec<Vec<Value>> = Vec::new();
    for blk in func.block_ids() {
        let data = func.block(blk);
        let mut free: Vec<u32> = Vec::new();
        let mut next = 0u32;
        dying.clear();
        dying.resize(data.insts.len() + 1, Vec::new());
        for (pos, &inst) in data.insts.iter().enumerate() {
            if let Some(v) = func.inst_result(inst) {
                if matches!(func.inst(inst), InstData::Const(_)) {
                    storage[v.index()] = Storage::Const;
                } else if matches!(storage[v.index()], Storage::Location | Storage::Forwarded(_)) {
                } else if escapes[v.index()] {
                    own.push(v);
                } else {
                    let t = free.pop().unwrap_or_else(|| {
                        next += 1;
                        next - 1
                    });
                    storage[v.index()] = Storage::Temp(t);
                    // The result is allocated before the operands that die here are
                    // released, so it never shares a temporary with them.
                    dying[last_use[v.index()].unwrap_or(pos)].push(v);
                }
            }
            free.extend(dying[pos].drain(..).filter_map(|v| match storage[v.index()] {
                Storage::Temp(t) => Some(t),
                _ => None,
            }));
        }
        pool = pool.max(next);
    }
    let count = pool + own.len() as u32;
    for (i, v) in own.into_iter().enumerate() {
        storage[v.index()] = Storage::Temp(pool + i as u32);
    }
    TempPlan { storage, count, local: pool }
}

/// The block and position of each value's definition.
struct Defs<'a> {
    block: &'a [usize],
    pos: &'a [usize],
}

/// Marks `Forwarded` the values computed where their one use stores them. A value `v`
/// defined at `p` and stored to location `l` at `q` qualifies if, in between, nothing
/// reads or writes `l` (for the stack array: no host operation or base move either), and
/// no value read in place from `l` is still live after `p`. The definition reads its
/// operands before writing its result, so it may itself read `l`.
fn forward_stores(
    func: &Function,
    storage: &mut [Storage],
    defs: &Defs<'_>,
    last_use: &[Option<usize>],
    escapes: &[bool],
    uses: &[u32],
) {
    // Per location, for the positions scanned so far: the last read, the last write,
    // and the end of the longest-lived in-place read.
    let mut last_read: HashMap<Location, usize> = HashMap::new();
    let mut last_write: HashMap<Location, usize> = HashMap::new();
    let mut busy_until: HashMap<Location, usize> = HashMap::new();
    for blk in func.block_ids() {
        let data = func.block(blk);
        last_read.clear();
        last_write.clear();
        busy_until.clear();
        let mut last_whole_stack = None;
        for (q, &inst) in data.insts.iter().enumerate() {
            let inst_data = func.inst(inst);
            if let Some(loc) = read_location(inst_data) {
                last_read.insert(loc, q);
                let v = func.inst_result(inst).expect("a stack read has a result");
                if storage[v.index()] == Storage::Location {
                    let end = last_use[v.index()].unwrap_or(q);
                    let busy = busy_until.entry(loc).or_insert(end);
                    *busy = (*busy).max(end);
                }
            }
            match write_of(inst_data) {
                Write::None => {}
                Write::WholeStack => last_whole_stack = Some(q),
                Write::One(loc) => {
                    let v = match inst_data {
                        InstData::SlotSet(_, v) | InstData::StackStore(_, v) => *v,
                        _ => unreachable!("only stores write one location"),
                    };
                    let p = defs.pos[v.index()];
                    let computed = func.constant(v).is_none() && storage[v.index()] == UNDECIDED;
                    let local = defs.block[v.index()] == blk.index() && !escapes[v.index()];
                    let after_p =
                        |m: &HashMap<Location, usize>| m.get(&loc).is_some_and(|&x| x > p);
                    let stack_moved = matches!(loc, Location::Stack(_))
                        && last_whole_stack.is_some_and(|x| x > p);
                    if computed
                        && local
                        && uses[v.index()] == 1
                        && !after_p(&last_read)
                        && !after_p(&last_write)
                        && !after_p(&busy_until)
                        && !stack_moved
                    {
                        storage[v.index()] = Storage::Forwarded(loc);
                    }
                    last_write.insert(loc, q);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use revmc_ir::ir::{BinaryOp, Height, UnaryOp};
    use revmc_ir::{InstructionResult, SpecId};

    fn exit() -> Terminator {
        Terminator::Exit { result: InstructionResult::Stop, stack_len: Height::Abs(2) }
    }

    #[test]
    fn a_read_stays_in_place_only_until_its_location_is_written() {
        let mut f = Function::new(SpecId::CANCUN);
        let b = f.create_block(Some(0));
        // v0 = slot 0, read after slot 0 is overwritten: it must be copied out first.
        let v0 = f.append(b, InstData::SlotGet(0)).unwrap();
        let v1 = f.append(b, InstData::SlotGet(1)).unwrap();
        f.append(b, InstData::SlotSet(0, v1));
        let v2 = f.append(b, InstData::Unary(UnaryOp::Not, v0)).unwrap();
        // v3 = slot 1, read before anything writes slot 1: read in place.
        let v3 = f.append(b, InstData::SlotGet(1)).unwrap();
        let v4 = f.append(b, InstData::Binary(BinaryOp::Add, v3, v2)).unwrap();
        f.append(b, InstData::SlotSet(1, v4));
        f.terminate(b, exit());
        let plan = plan(&f);
        assert!(matches!(plan.storage[v0.index()], Storage::Temp(_)));
        assert_eq!(plan.storage[v1.index()], Storage::Location);
        assert_eq!(plan.storage[v3.index()], Storage::Location);
        // v4's one use stores it to slot 1, which only its own operand reads: computed
        // there. v2 is read by v4, so it is not forwarded anywhere.
        assert_eq!(plan.storage[v4.index()], Storage::Forwarded(Location::Slot(1)));
        assert!(matches!(plan.storage[v2.index()], Storage::Temp(_)));
    }

    #[test]
    fn a_result_is_not_computed_where_a_live_value_still_is() {
        let mut f = Function::new(SpecId::CANCUN);
        let b = f.create_block(Some(0));
        // v0 = slot 0 in place; v1 = not v0 is stored to slot 0 while v0 is still needed
        // (by v2): computing v1 in slot 0 would clobber v0.
        let v0 = f.append(b, InstData::SlotGet(0)).unwrap();
        let v1 = f.append(b, InstData::Unary(UnaryOp::Not, v0)).unwrap();
        let v2 = f.append(b, InstData::Binary(BinaryOp::Xor, v0, v0)).unwrap();
        f.append(b, InstData::SlotSet(0, v1));
        f.append(b, InstData::SlotSet(1, v2));
        f.terminate(b, exit());
        let plan = plan(&f);
        assert!(matches!(plan.storage[v1.index()], Storage::Temp(_)));
        assert_eq!(plan.storage[v2.index()], Storage::Forwarded(Location::Slot(1)));
        // A stack entry read in place does not survive a host operation.
        let mut f = Function::new(SpecId::CANCUN);
        let b = f.create_block(Some(0));
        let v0 = f.append(b, InstData::StackLoad(-1)).unwrap();
        f.append(b, InstData::Host { op: 0x54, args: vec![], height: Height::Rel(0), outputs: 0 });
        f.append(b, InstData::StackStore(0, v0));
        f.terminate(b, exit());
        assert!(matches!(plan_of(&f, v0), Storage::Temp(_)));
    }

    fn plan_of(f: &Function, v: Value) -> Storage {
        plan(f).storage[v.index()]
    }

    #[test]
    fn temporaries_are_reused_once_their_values_die() {
        let mut f = Function::new(SpecId::CANCUN);
        let b = f.create_block(Some(0));
        let mut last = f.append(b, InstData::SlotGet(0)).unwrap();
        for _ in 0..100 {
            last = f.append(b, InstData::Unary(UnaryOp::Not, last)).unwrap();
        }
        f.append(b, InstData::SlotSet(1, last));
        f.terminate(b, exit());
        // A chain of 100 values, each dead once the next is computed: two temporaries.
        assert!(plan(&f).count <= 2, "{}", plan(&f).count);
    }
}
