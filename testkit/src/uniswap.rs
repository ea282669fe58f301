//! Uniswap v3 (core and periphery) deployed into a [`Scenario`] from the shared fixtures:
//! a wrapped-ether token, two ERC-20 tokens sorted into the pool's `token0` and `token1`,
//! the factory, the `NonfungiblePositionManager` and the `SwapRouter`, and one pool
//! (created through the manager and initialized at price 1). [`Uniswap`] keeps the
//! addresses and builds the arguments of the calls that add liquidity and swap.
//!
//! Shared by the contract tests and the benchmarks' real workloads.

use crate::contracts::{Expect, Fixtures, Scenario, TIMESTAMP, Token, encode};
use revm::primitives::{Address, U256, keccak256};

/// The pool's fee tier, in hundredths of a basis point (0.3 %, tick spacing 60).
pub const FEE: u32 = 3000;
/// The deadline of every position and swap: an hour after the block's timestamp.
pub const DEADLINE: u64 = TIMESTAMP + 3600;
/// `NonfungiblePositionManager.mint(MintParams)`; arguments from [`Uniswap::mint_args`].
pub const MINT: &str =
    "mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256))";
/// `SwapRouter.exactInputSingle(ExactInputSingleParams)`; arguments from
/// [`Uniswap::swap_args`].
pub const EXACT_INPUT_SINGLE: &str =
    "exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))";
/// `NonfungiblePositionManager.createAndInitializePoolIfNecessary`.
pub const CREATE_AND_INITIALIZE: &str =
    "createAndInitializePoolIfNecessary(address,address,uint24,uint160)";
/// The widest ticks of a full-range position: the extreme ticks (±887272) rounded to
/// multiples of the spacing (60).
pub const FULL_RANGE: (i64, i64) = (-887220, 887220);
/// How much of each pool token [`Uniswap::deploy`] mints to the trader (in wei).
pub const TRADER_TOKENS: u128 = 1_000_000 * 10u128.pow(18);

/// Checks that the fixtures' Uniswap contracts fit together: the factory CREATE2s the pool
/// with the pool's creation code embedded in it, and the periphery computes pool addresses
/// with its `POOL_INIT_CODE_HASH` constant, so both must be the fixtures' `UniswapV3Pool`'s
/// (or the periphery calls an empty address and reverts). `Err` says which does not.
pub fn check_init_code_hash(fixtures: &Fixtures) -> Result<(), String> {
    let pool_code = &fixtures.get("UniswapV3Pool").creation;
    let pool_init_code_hash = keccak256(pool_code);
    let contains = |code: &[u8], part: &[u8]| code.windows(part.len()).any(|w| w == part);
    if !contains(&fixtures.get("UniswapV3Factory").deployed, pool_code) {
        return Err("the factory does not embed the fixtures' UniswapV3Pool creation code".into());
    }
    for periphery in ["NonfungiblePositionManager", "SwapRouter"] {
        if !contains(&fixtures.get(periphery).deployed, pool_init_code_hash.as_slice()) {
            return Err(format!(
                "{periphery}'s POOL_INIT_CODE_HASH is not keccak256 of the UniswapV3Pool \
                 creation code ({pool_init_code_hash})"
            ));
        }
    }
    Ok(())
}

/// A Uniswap v3 deployment in a [`Scenario`]: the addresses its steps create, and the
/// trader that holds and has approved the pool's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uniswap {
    /// The wrapped-ether token the periphery is built with: `WETH9` when the fixtures
    /// have it, otherwise an `ERC20PresetMinterPauser` named "Wrapped Ether".
    pub weth: Address,
    /// Whether [`Self::weth`] is the real `WETH9` (which has `deposit()`).
    pub has_weth: bool,
    /// The pool's first token (the lower address of the two).
    pub token0: Address,
    /// The pool's second token.
    pub token1: Address,
    /// `UniswapV3Factory`.
    pub factory: Address,
    /// `NonfungiblePositionManager`.
    pub manager: Address,
    /// `SwapRouter`.
    pub router: Address,
    /// The `token0`/`token1` pool at [`Self::fee`], at its CREATE2 address.
    pub pool: Address,
    /// The pool's fee tier ([`FEE`]).
    pub fee: u32,
    /// Who was funded with both tokens and approved the manager and the router.
    pub trader: Address,
    /// The index of the step that creates and initializes the pool (it returns the
    /// pool's address).
    pub created: usize,
}

impl Uniswap {
    /// Deploys Uniswap v3 from `deployer`, mints [`TRADER_TOKENS`] of both pool tokens to
    /// `trader`, has `trader` approve the manager and the router for all of them, and
    /// creates the pool through the manager at price 1 (tick 0). Both accounts must be
    /// funded in `s`. Panics if the fixtures do not fit together
    /// ([`check_init_code_hash`]).
    pub fn deploy(
        s: &mut Scenario,
        fixtures: &Fixtures,
        deployer: Address,
        trader: Address,
    ) -> Self {
        check_init_code_hash(fixtures).unwrap_or_else(|e| panic!("{e}"));
        let addr = Token::address;
        // Aave's package ships the canonical WETH9; any ERC-20 would do for these swaps.
        let has_weth = fixtures.has("WETH9");
        let erc20 = &fixtures.get("ERC20PresetMinterPauser").creation;
        let weth = if has_weth {
            s.deploy(deployer, "WETH9", &fixtures.get("WETH9").creation, &[])
        } else {
            s.deploy(
                deployer,
                "ERC20PresetMinterPauser",
                erc20,
                &[Token::string("Wrapped Ether"), Token::string("WETH")],
            )
        };
        let token_a = s.deploy(
            deployer,
            "ERC20PresetMinterPauser",
            erc20,
            &[Token::string("Token A"), Token::string("TKA")],
        );
        let token_b = s.deploy(
            deployer,
            "ERC20PresetMinterPauser",
            erc20,
            &[Token::string("Token B"), Token::string("TKB")],
        );
        let (token0, token1) = (token_a.min(token_b), token_a.max(token_b));
        s.name_account(token0, "token0");
        s.name_account(token1, "token1");
        let factory =
            s.deploy(deployer, "UniswapV3Factory", &fixtures.get("UniswapV3Factory").creation, &[]);
        let manager = s.deploy(
            deployer,
            "NonfungiblePositionManager",
            &fixtures.get("NonfungiblePositionManager").creation,
            // The token descriptor is only used by tokenURI.
            &[addr(factory), addr(weth), addr(Address::ZERO)],
        );
        let router = s.deploy(
            deployer,
            "SwapRouter",
            &fixtures.get("SwapRouter").creation,
            &[addr(factory), addr(weth)],
        );
        let fee = FEE;
        let pool_code = &fixtures.get("UniswapV3Pool").creation;
        let salt = keccak256(encode(&[addr(token0), addr(token1), Token::num(fee.into())]));
        let pool = factory.create2(salt, keccak256(pool_code));
        s.name_contract(pool, "UniswapV3Pool");
        s.name_code(pool_code, "UniswapV3Pool (creation)");

        for token in [token0, token1] {
            s.call(
                deployer,
                token,
                "mint(address,uint256)",
                &[addr(trader), Token::num(TRADER_TOKENS)],
                Expect::Success,
            );
            for spender in [manager, router] {
                s.call(
                    trader,
                    token,
                    "approve(address,uint256)",
                    &[addr(spender), Token::uint(U256::MAX)],
                    Expect::Success,
                );
            }
        }
        let created = s.call(
            trader,
            manager,
            CREATE_AND_INITIALIZE,
            // sqrtPriceX96 = 2^96: price 1, tick 0.
            &[addr(token0), addr(token1), Token::num(fee.into()), Token::uint(U256::from(1) << 96)],
            Expect::Success,
        );
        Self {
            weth,
            has_weth,
            token0,
            token1,
            factory,
            manager,
            router,
            pool,
            fee,
            trader,
            created,
        }
    }

    /// The arguments of [`MINT`]: a position in the pool between ticks `lower` and `upper`
    /// (multiples of 60) adding up to `amount` of each token, no slippage bounds, owned by
    /// `recipient`.
    pub fn mint_args(
        &self,
        lower: i64,
        upper: i64,
        amount: U256,
        recipient: Address,
    ) -> Vec<Token> {
        vec![
            Token::address(self.token0),
            Token::address(self.token1),
            Token::num(self.fee.into()),
            Token::int(lower),
            Token::int(upper),
            Token::uint(amount),
            Token::uint(amount),
            Token::num(0),
            Token::num(0),
            Token::address(recipient),
            Token::num(DEADLINE.into()),
        ]
    }

    /// The arguments of [`EXACT_INPUT_SINGLE`]: swap exactly `amount` of `token_in` for
    /// `token_out` through the pool, with no minimum out and no price limit, paying out
    /// to `recipient`.
    pub fn swap_args(
        &self,
        token_in: Address,
        token_out: Address,
        amount: U256,
        recipient: Address,
    ) -> Vec<Token> {
        vec![
            Token::address(token_in),
            Token::address(token_out),
            Token::num(self.fee.into()),
            Token::address(recipient),
            Token::num(DEADLINE.into()),
            Token::uint(amount),
            Token::num(0),
            Token::num(0),
        ]
    }

    /// The trader mints a position ([`Self::mint_args`]) for itself, which must succeed;
    /// returns the step's index. Its output is `(tokenId, liquidity, amount0, amount1)`.
    pub fn mint(&self, s: &mut Scenario, lower: i64, upper: i64, amount: U256) -> usize {
        let args = self.mint_args(lower, upper, amount, self.trader);
        s.call(self.trader, self.manager, MINT, &args, Expect::Success)
    }

    /// The trader swaps ([`Self::swap_args`]) for itself, which must succeed; returns the
    /// step's index. Its output is the amount of `token_out` received.
    pub fn swap(
        &self,
        s: &mut Scenario,
        token_in: Address,
        token_out: Address,
        amount: U256,
    ) -> usize {
        let args = self.swap_args(token_in, token_out, amount, self.trader);
        s.call(self.trader, self.router, EXACT_INPUT_SINGLE, &args, Expect::Success)
    }
}
