//! The abstract stack of the jump analysis: a block entry's [`Shape`] and the abstract
//! values of the top stack entries.
//!
//! A shape is either *static* (the absolute height is known: every entry is an SSA slot)
//! or *dynamic* (the entries live in the frame's stack array below a base pointer known
//! only at run time, with a known number of entries in SSA slots above it). Dynamic
//! shapes are how code reached at many stack heights is translated once.

/// Number of top stack entries whose abstract values are tracked.
pub const WINDOW: usize = 32;
/// Largest set of constants an abstract value holds before it becomes unknown: the
/// return addresses of an internal function shared by this many call sites still resolve
/// to a `switch` over them (solc's helpers are called from dozens of places).
pub const MAX_TARGETS: usize = 64;

/// The stack at a block entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// The stack is exactly this many entries high; all of them are SSA slots.
    Static(usize),
    /// The stack is `base + r` entries high for a base known only at run time: entries
    /// below the base are in the frame's stack array, the `r` above it in SSA slots.
    Dynamic(usize),
}

impl Shape {
    /// Number of entries held in SSA slots.
    pub fn slots(self) -> usize {
        match self {
            Shape::Static(n) | Shape::Dynamic(n) => n,
        }
    }

    /// Whether the base is a run-time value.
    pub fn is_dynamic(self) -> bool {
        matches!(self, Shape::Dynamic(_))
    }

    /// The shape at a block's exit, given the height reached relative to the entry
    /// (`height`) and the lowest relative height reached on the way (`low`, at most 0).
    /// A dynamic stack that went below its base moves the base down to that point, so
    /// that every entry above the new base is one the block produced.
    ///
    /// The translator's block builder and the analysis both use this one rule.
    pub fn after(self, height: isize, low: isize) -> Shape {
        match self {
            Shape::Static(_) => Shape::Static(height as usize),
            Shape::Dynamic(_) => Shape::Dynamic((height - low.min(0)) as usize),
        }
    }
}

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
pub(super) struct State {
    /// The shape this state was entered with.
    pub(super) shape: Shape,
    /// Height relative to the entry base: the absolute height for static shapes, the
    /// number of entries above the base for dynamic ones (negative below it).
    pub(super) height: isize,
    /// Lowest `height` reached since entry (dynamic shapes only go below 0).
    pub(super) low: isize,
    /// Top `min(height, WINDOW)` entries, the stack top last (for dynamic shapes, up to
    /// [`WINDOW`] entries whatever the height).
    pub(super) top: Vec<AbsVal>,
}

impl State {
    /// The state at entry of a block with `shape` and these top values.
    pub(super) fn entry(shape: Shape, top: Vec<AbsVal>) -> Self {
        let height = shape.slots() as isize;
        Self { shape, height, low: 0, top }
    }

    /// The state on entry of a successor.
    pub(super) fn exit(&self) -> State {
        State::entry(self.shape.after(self.height, self.low), self.top.clone())
    }

    /// The same values, entered as a dynamic stack with nothing in slots.
    pub(super) fn to_dynamic_base(&self) -> State {
        State::entry(Shape::Dynamic(0), self.top.clone())
    }

    pub(super) fn pop(&mut self) -> AbsVal {
        self.height -= 1;
        self.low = self.low.min(self.height);
        self.top.pop().unwrap_or(AbsVal::Unknown)
    }

    pub(super) fn push(&mut self, v: AbsVal) {
        self.height += 1;
        self.top.push(v);
        if self.top.len() > WINDOW {
            self.top.remove(0);
        }
    }

    pub(super) fn peek(&self, depth: usize) -> AbsVal {
        self.top.len().checked_sub(depth + 1).map_or(AbsVal::Unknown, |i| self.top[i].clone())
    }

    /// Joins `other`, of the same shape, into `self`; returns whether `self` changed.
    pub(super) fn join(&mut self, other: &State) -> bool {
        debug_assert_eq!(self.shape, other.shape);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_exit_moves_the_base_to_the_lowest_point() {
        // Entered with 2 slots, popped 5 (to -3), pushed 1 (to -2).
        assert_eq!(Shape::Dynamic(2).after(-2, -3), Shape::Dynamic(1));
        assert_eq!(Shape::Dynamic(2).after(4, 0), Shape::Dynamic(4));
        assert_eq!(Shape::Static(2).after(4, 0), Shape::Static(4));
    }
}
