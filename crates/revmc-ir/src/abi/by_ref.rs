//! [`BUILTINS_BY_REF`]: each builtin called with its operands by address. The first tier
//! keeps every value in memory; passing addresses spares it the code that copies each
//! operand into the operand buffer at every call site. The copy happens here instead,
//! once, in Rust.

use super::{Builtin, BuiltinFn, BuiltinRefFn, EvmContext, Word};

/// Calls builtin `B` of `ctx`'s table on copies of the words at `a`, `b` and `c`.
unsafe extern "C" fn by_ref<const B: usize>(
    ctx: *mut EvmContext,
    dst: *mut Word,
    a: *const Word,
    b: *const Word,
    c: *const Word,
) -> u8 {
    let builtin = Builtin::ALL[B];
    let mut args = [Word::ZERO; 3];
    // SAFETY: compiled code passes valid word pointers (alignment 8) and a context whose
    // table has `Builtin::COUNT` entries; only the builtin's operands are read.
    unsafe {
        for (slot, p) in args.iter_mut().zip([a, b, c]).take(builtin.arity()) {
            *slot = p.read();
        }
        let f: BuiltinFn = *(*ctx).builtins.add(B);
        let rc = f(ctx, args.as_mut_ptr());
        if builtin.has_result() {
            dst.write(args[0]);
        }
        rc
    }
}

/// The table for [`EvmContext::builtins_by_ref`], in [`Builtin`] order.
pub static BUILTINS_BY_REF: [BuiltinRefFn; Builtin::COUNT] = [
    by_ref::<0>,
    by_ref::<1>,
    by_ref::<2>,
    by_ref::<3>,
    by_ref::<4>,
    by_ref::<5>,
    by_ref::<6>,
    by_ref::<7>,
    by_ref::<8>,
    by_ref::<9>,
    by_ref::<10>,
    by_ref::<11>,
    by_ref::<12>,
    by_ref::<13>,
    by_ref::<14>,
];

const _: () = assert!(Builtin::COUNT == 15, "one entry per builtin");
const _: () = {
    let mut i = 0;
    while i < Builtin::COUNT {
        assert!(Builtin::ALL[i].arity() <= 3, "by-reference builtins take three operands");
        i += 1;
    }
};
