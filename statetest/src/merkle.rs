//! The post-state root and logs hash a state test expects.

use alloy_trie::{TrieAccount, root::state_root_unhashed, root::storage_root_unhashed};
use revm::database::PlainAccount;
use revm::primitives::{Address, B256, Log, keccak256};

/// keccak256 of the RLP list of `logs`.
pub fn log_rlp_hash(logs: &[Log]) -> B256 {
    let mut out = Vec::with_capacity(alloy_rlp::list_length(logs));
    alloy_rlp::encode_list(logs, &mut out);
    keccak256(&out)
}

/// The state trie root of `accounts`.
pub fn state_root<'a>(accounts: impl IntoIterator<Item = (Address, &'a PlainAccount)>) -> B256 {
    state_root_unhashed(accounts.into_iter().map(|(address, acc)| {
        let storage =
            acc.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (B256::from(*k), *v));
        let account = TrieAccount {
            nonce: acc.info.nonce,
            balance: acc.info.balance,
            storage_root: storage_root_unhashed(storage),
            code_hash: acc.info.code_hash,
        };
        (address, account)
    }))
}
