//! Real production contracts run, not only compile: OpenZeppelin's ERC-20 and ERC-721
//! presets and Uniswap v3 (core and periphery) are deployed from their creation code and
//! driven through a transaction sequence, once in revm's interpreter and once with every
//! frame's code compiled on first sight; results and final state must be equal, and every
//! contract that ran must have run compiled.
//!
//! The fixtures live outside the repository (`../shared/fixtures`); without them each test
//! prints `SKIPPED: …` and passes.

use revm::context_interface::result::ExecutionResult;
use revm::primitives::U256;
use revmc_runtime::OptLevel;
use revmc_runtime::evm::JitCache;
use revmc_testkit::contracts::{
    ALICE, BOB, CAROL, Checked, DEPLOYER, Expect, Fixtures, Scenario, Token, check, decode_string,
    ether, revert_reason, word, word_address, word_int,
};
use revmc_testkit::uniswap::{FULL_RANGE, Uniswap};

/// Runs `scenario` both ways at O2 (what a node runs), panicking on the first difference,
/// and prints the interpreter's gas per step and which codes compiled.
fn run_both_ways(scenario: &Scenario) -> Checked {
    let mut cache = JitCache::new(OptLevel::O2).expect("JIT compiler");
    let checked = check(scenario, &mut cache).unwrap_or_else(|e| panic!("{e}"));
    println!("{}", checked.report());
    checked
}

/// The revert message of step `i`, which must have reverted.
fn reason(checked: &Checked, i: usize) -> String {
    match checked.interpreted.result(i) {
        ExecutionResult::Revert { output, .. } => revert_reason(output).unwrap_or_default(),
        other => panic!("step {i} did not revert: {other:?}"),
    }
}

#[test]
fn erc20_preset_minter_pauser() {
    let Some(fixtures) = Fixtures::load() else { return };
    let mut s = Scenario::with_four_accounts();
    let token = s.deploy(
        DEPLOYER,
        "ERC20PresetMinterPauser",
        &fixtures.get("ERC20PresetMinterPauser").creation,
        &[Token::string("Differential Token"), Token::string("DIFF")],
    );
    let addr = Token::address;
    let amount = |n| Token::uint(ether(n));
    s.call(DEPLOYER, token, "mint(address,uint256)", &[addr(ALICE), amount(1000)], Expect::Success);
    s.call(ALICE, token, "transfer(address,uint256)", &[addr(BOB), amount(100)], Expect::Success);
    s.call(ALICE, token, "approve(address,uint256)", &[addr(CAROL), amount(50)], Expect::Success);
    let transfer_from = "transferFrom(address,address,uint256)";
    s.call(CAROL, token, transfer_from, &[addr(ALICE), addr(CAROL), amount(30)], Expect::Success);
    let allowance = s.call(
        BOB,
        token,
        "allowance(address,address)",
        &[addr(ALICE), addr(CAROL)],
        Expect::Success,
    );
    let overdraft = s.call(
        BOB,
        token,
        "transfer(address,uint256)",
        &[addr(ALICE), amount(101)],
        Expect::Revert,
    );
    let over_allowance =
        s.call(CAROL, token, transfer_from, &[addr(ALICE), addr(BOB), amount(21)], Expect::Revert);
    let not_minter =
        s.call(ALICE, token, "mint(address,uint256)", &[addr(ALICE), amount(1)], Expect::Revert);
    s.call(DEPLOYER, token, "pause()", &[], Expect::Success);
    let paused =
        s.call(ALICE, token, "transfer(address,uint256)", &[addr(BOB), amount(1)], Expect::Revert);
    s.call(DEPLOYER, token, "unpause()", &[], Expect::Success);
    s.call(ALICE, token, "transfer(address,uint256)", &[addr(BOB), amount(1)], Expect::Success);
    let balances: Vec<usize> = [ALICE, BOB, CAROL]
        .map(|who| s.call(DEPLOYER, token, "balanceOf(address)", &[addr(who)], Expect::Success))
        .into();
    let supply = s.call(DEPLOYER, token, "totalSupply()", &[], Expect::Success);
    let name = s.call(DEPLOYER, token, "name()", &[], Expect::Success);

    let checked = run_both_ways(&s);
    let run = &checked.interpreted;
    assert_eq!(word(run.output(allowance), 0), ether(20));
    assert_eq!(reason(&checked, overdraft), "ERC20: transfer amount exceeds balance");
    assert_eq!(reason(&checked, over_allowance), "ERC20: insufficient allowance");
    assert!(reason(&checked, not_minter).contains("must have minter role"), "{not_minter}");
    assert_eq!(reason(&checked, paused), "ERC20Pausable: token transfer while paused");
    let got: Vec<U256> = balances.iter().map(|&i| word(run.output(i), 0)).collect();
    assert_eq!(got, [ether(1000 - 100 - 30 - 1), ether(101), ether(30)]);
    assert_eq!(word(run.output(supply), 0), ether(1000));
    assert_eq!(decode_string(run.output(name)), "Differential Token");
    checked.assert_all_compiled(&["ERC20PresetMinterPauser (creation)", "ERC20PresetMinterPauser"]);
}

#[test]
fn erc721_preset_minter_pauser_auto_id() {
    let Some(fixtures) = Fixtures::load() else { return };
    let mut s = Scenario::with_four_accounts();
    let nft = s.deploy(
        DEPLOYER,
        "ERC721PresetMinterPauserAutoId",
        &fixtures.get("ERC721PresetMinterPauserAutoId").creation,
        &[
            Token::string("Differential Collectible"),
            Token::string("DCOL"),
            Token::string("https://example.com/token/"),
        ],
    );
    let (addr, id) = (Token::address, Token::num);
    // Token ids count from 0.
    s.call(DEPLOYER, nft, "mint(address)", &[addr(ALICE)], Expect::Success);
    s.call(DEPLOYER, nft, "mint(address)", &[addr(BOB)], Expect::Success);
    let transfer_from = "transferFrom(address,address,uint256)";
    s.call(ALICE, nft, transfer_from, &[addr(ALICE), addr(CAROL), id(0)], Expect::Success);
    let safe_transfer_from = "safeTransferFrom(address,address,uint256)";
    s.call(BOB, nft, safe_transfer_from, &[addr(BOB), addr(ALICE), id(1)], Expect::Success);
    s.call(CAROL, nft, "approve(address,uint256)", &[addr(BOB), id(0)], Expect::Success);
    // Bob moves Carol's token as its approved operator; Carol, no longer its owner, cannot
    // take it back.
    s.call(BOB, nft, transfer_from, &[addr(CAROL), addr(BOB), id(0)], Expect::Success);
    let former_owner =
        s.call(CAROL, nft, transfer_from, &[addr(BOB), addr(CAROL), id(0)], Expect::Revert);
    let uri = s.call(ALICE, nft, "tokenURI(uint256)", &[id(0)], Expect::Success);
    let owners: Vec<usize> =
        [0, 1].map(|t| s.call(ALICE, nft, "ownerOf(uint256)", &[id(t)], Expect::Success)).into();
    let nonexistent = s.call(ALICE, nft, "ownerOf(uint256)", &[id(7)], Expect::Revert);
    let alice_balance = s.call(ALICE, nft, "balanceOf(address)", &[addr(ALICE)], Expect::Success);
    let by_index = "tokenOfOwnerByIndex(address,uint256)";
    let alice_token = s.call(ALICE, nft, by_index, &[addr(ALICE), id(0)], Expect::Success);
    let supply = s.call(ALICE, nft, "totalSupply()", &[], Expect::Success);

    let checked = run_both_ways(&s);
    let run = &checked.interpreted;
    assert_eq!(reason(&checked, former_owner), "ERC721: caller is not token owner or approved");
    assert_eq!(decode_string(run.output(uri)), "https://example.com/token/0");
    assert_eq!(word_address(run.output(owners[0]), 0), BOB);
    assert_eq!(word_address(run.output(owners[1]), 0), ALICE);
    assert_eq!(reason(&checked, nonexistent), "ERC721: invalid token ID");
    assert_eq!(word(run.output(alice_balance), 0), U256::from(1));
    assert_eq!(word(run.output(alice_token), 0), U256::from(1));
    assert_eq!(word(run.output(supply), 0), U256::from(2));
    checked.assert_all_compiled(&[
        "ERC721PresetMinterPauserAutoId (creation)",
        "ERC721PresetMinterPauserAutoId",
    ]);
}

/// Uniswap v3: WETH9, two ERC-20 tokens, the factory, the position manager and the swap
/// router; a pool created through the manager, a full-range position, swaps both ways, a
/// narrow position, and a swap large enough to cross the narrow position's lower tick.
#[test]
fn uniswap_v3_positions_and_swaps() {
    let Some(fixtures) = Fixtures::load() else { return };
    let mut s = Scenario::new();
    s.fund(DEPLOYER, "deployer");
    s.fund(ALICE, "alice");
    let addr = Token::address;
    let uni = Uniswap::deploy(&mut s, &fixtures, DEPLOYER, ALICE);
    let Uniswap { weth, has_weth, token0, token1, factory, manager, pool, fee, .. } = uni;

    let deposit = has_weth.then(|| {
        s.call_with_value(ALICE, weth, ether(2), "deposit()", &[], Expect::Success);
        s.call(ALICE, weth, "balanceOf(address)", &[addr(ALICE)], Expect::Success)
    });
    let get_pool = s.call(
        ALICE,
        factory,
        "getPool(address,address,uint24)",
        &[addr(token0), addr(token1), Token::num(fee.into())],
        Expect::Success,
    );
    let (lower, upper) = FULL_RANGE;
    let wide = uni.mint(&mut s, lower, upper, ether(1000));
    let swap01 = uni.swap(&mut s, token0, token1, ether(1));
    let swap10 = uni.swap(&mut s, token1, token0, ether(1));
    // ±600 ticks (about ±6 % in price) around the current price.
    let narrow = uni.mint(&mut s, -600, 600, ether(100));
    let liquidity_before = s.call(ALICE, pool, "liquidity()", &[], Expect::Success);
    // About 130 token0 move the price to tick -600; 300 take it well past it.
    let crossing = uni.swap(&mut s, token0, token1, ether(300));
    let slot0 = s.call(ALICE, pool, "slot0()", &[], Expect::Success);
    let liquidity_after = s.call(ALICE, pool, "liquidity()", &[], Expect::Success);
    let positions = s.call(ALICE, manager, "balanceOf(address)", &[addr(ALICE)], Expect::Success);

    let checked = run_both_ways(&s);
    let run = &checked.interpreted;
    if let Some(weth_balance) = deposit {
        assert_eq!(word(run.output(weth_balance), 0), ether(2), "WETH9 deposit");
    }
    assert_eq!(word_address(run.output(uni.created), 0), pool, "the manager's pool address");
    assert_eq!(word_address(run.output(get_pool), 0), pool, "the factory's pool address");
    // mint returns (tokenId, liquidity, amount0, amount1).
    assert_eq!(word(run.output(wide), 0), U256::from(1));
    assert_eq!(word(run.output(narrow), 0), U256::from(2));
    let wide_liquidity = word(run.output(wide), 1);
    let narrow_liquidity = word(run.output(narrow), 1);
    assert!(word(run.output(wide), 2) > U256::ZERO && word(run.output(wide), 3) > U256::ZERO);
    for i in [swap01, swap10, crossing] {
        assert!(word(run.output(i), 0) > U256::ZERO, "step {i} swapped nothing");
    }
    assert_eq!(word(run.output(liquidity_before), 0), wide_liquidity + narrow_liquidity);
    // slot0 = (sqrtPriceX96, tick, …): the price crossed the narrow position's lower tick,
    // so only the full-range liquidity is left in range.
    let tick = word_int(run.output(slot0), 1);
    assert!(tick < -600, "tick {tick} did not cross -600");
    println!("pool tick after the crossing swap: {tick}");
    assert_eq!(word(run.output(liquidity_after), 0), wide_liquidity);
    assert_eq!(word(run.output(positions), 0), U256::from(2));
    let weth_codes: &[&str] = if has_weth { &["WETH9 (creation)", "WETH9"] } else { &[] };
    checked.assert_all_compiled(
        &[
            weth_codes,
            &[
                "ERC20PresetMinterPauser (creation)",
                "ERC20PresetMinterPauser",
                "UniswapV3Factory (creation)",
                "UniswapV3Factory",
                "UniswapV3Pool (creation)",
                "UniswapV3Pool",
                "NonfungiblePositionManager (creation)",
                "NonfungiblePositionManager",
                "SwapRouter (creation)",
                "SwapRouter",
            ],
        ]
        .concat(),
    );
}
