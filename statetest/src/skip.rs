//! Files the runner does not run, each with the reason. The same in every mode.

/// Why `path` is skipped, if it is.
pub fn reason(path: &std::path::Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?;
    let full = path.to_string_lossy();
    if full.contains("paris/eip7610_create_collision") {
        return Some(COLLISION);
    }
    SKIPS.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
}

const COLLISION: &str =
    "storage pre-exists at a newly created address, which revm's cache state does not model";
const SLOW: &str = "passes but takes minutes";

const SKIPS: &[(&str, &str)] = &[
    ("RevertInCreateInInit.json", COLLISION),
    ("RevertInCreateInInit_Paris.json", COLLISION),
    ("dynamicAccountOverwriteEmpty.json", COLLISION),
    ("dynamicAccountOverwriteEmpty_Paris.json", COLLISION),
    ("RevertInCreateInInitCreate2.json", COLLISION),
    ("RevertInCreateInInitCreate2Paris.json", COLLISION),
    ("create2collisionStorage.json", COLLISION),
    ("create2collisionStorageParis.json", COLLISION),
    ("InitCollision.json", COLLISION),
    ("InitCollisionParis.json", COLLISION),
    ("test_init_collision_create_opcode.json", COLLISION),
    ("ValueOverflow.json", "value does not fit in 256 bits: the JSON is malformed on purpose"),
    ("ValueOverflowParis.json", "value does not fit in 256 bits: the JSON is malformed on purpose"),
    ("Call50000_sha256.json", SLOW),
    ("static_Call50000_sha256.json", SLOW),
    ("loopMul.json", SLOW),
    ("CALLBlake2f_MaxRounds.json", SLOW),
];
